// Theme.h — the application's look: "system" (the style and palette it started with), "light"
// (Fusion, its standard palette) or "dark" (Fusion with a dark palette that keeps the status
// colours readable).
#pragma once

#include <QString>

namespace magpie::ui {

void applyTheme(const QString &theme);

} // namespace magpie::ui
