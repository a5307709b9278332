#include "DialogPlacement.h"

#include <QWidget>

namespace magpie::ui {

void centreOnParentWindow(QWidget *dialog)
{
    if (!dialog || !dialog->parentWidget())
        return;
    const QWidget *owner = dialog->parentWidget()->window();
    dialog->ensurePolished();
    QSize size = dialog->size();
    if (!dialog->testAttribute(Qt::WA_Resized))
        size = dialog->sizeHint().expandedTo(dialog->minimumSize());
    const QRect frame = owner->frameGeometry();
    QRect r(QPoint(0, 0), size);
    r.moveCenter(frame.center());
    dialog->move(r.topLeft());
}

} // namespace magpie::ui
