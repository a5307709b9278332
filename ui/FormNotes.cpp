#include "FormNotes.h"

#include "UiFormat.h"

#include <QLabel>

namespace magpie::ui {

QLabel *formNote(QWidget *parent, const QString &text, const char *objectName)
{
    auto *l = new QLabel(text, parent);
    if (objectName)
        l->setObjectName(QLatin1String(objectName));
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

void showFormError(QLabel *label, const QString &text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
    QPalette p = label->palette();
    p.setColor(QPalette::WindowText, statusColor(JobStatus::Failed, label->parentWidget()->palette()));
    label->setPalette(p);
}

} // namespace magpie::ui
