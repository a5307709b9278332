// GuestImageSetup.h — where this copy of Magpie Desktop finds the guest image builder, the
// agent it packs and the folder it writes, for the window's "Build now":
//   * run from the build tree: packaging/guest/build-image.sh of the source tree, the agent
//     built beside the app, and $MAGPIE_GUEST_DIR or the build tree's guest/ folder;
//   * installed: <prefix>/share/magpie-desktop/guest-builder/build-image.sh with its agent
//     beside it, writing <prefix>/share/magpie-desktop/guest (or $MAGPIE_GUEST_DIR).
#pragma once

#include "ImageSetup.h"

namespace magpie {

ui::ImageSetup guestImageSetup();

} // namespace magpie
