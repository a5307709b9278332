// BuildImageCommand.h — `magpie-desktop --build-image NAME`: builds a guest image profile
// (ImageRegistry: a built-in recipe or the user's <data folder>/images/recipes/NAME.conf) with
// the guest image builder, printing its progress. A profile other than base is built into a
// temporary folder beside <data folder>/images/NAME and renamed into place only when the build
// succeeded, so a failing recipe leaves the existing image untouched.
#pragma once

#include <QString>

namespace magpie {

// Returns the process exit code (0 built, 1 failed, 2 unknown profile).
int buildImageCommand(const QString &name, const QString &dataDir);

} // namespace magpie
