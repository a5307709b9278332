// DialogPlacement.h — dialogs open centred on the window they belong to (the main window),
// also on the offscreen platform and without a window manager, where Qt's own placement
// may leave them at the screen's corner.
#pragma once

class QWidget;

namespace magpie::ui {

// Moves `dialog` (sized already) so that its centre is the centre of its parent's window,
// kept on that window's screen. Does nothing without a parent.
void centreOnParentWindow(QWidget *dialog);

} // namespace magpie::ui
