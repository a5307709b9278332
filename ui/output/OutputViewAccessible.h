// OutputViewAccessible.h — what assistive technology (screen readers, AT-SPI test drivers) sees
// of an OutputView: a read-only text whose content is the rows on screen, so a 10 MiB output
// is never copied over the accessibility bus. installOutputViewAccessibility() registers the
// factory once; OutputView calls it.
#pragma once

namespace magpie::ui {

void installOutputViewAccessibility();

} // namespace magpie::ui
