#include "MessageBox.h"

#include "DialogPlacement.h"

#include <QPushButton>

namespace magpie::ui {

namespace {
MessageBox::Answer g_next = MessageBox::NoAnswer;
QString g_last;
int g_count = 0;
} // namespace

void MessageBox::setNextAnswer(Answer answer)
{
    g_next = answer;
}

QString MessageBox::lastText()
{
    return g_last;
}

int MessageBox::count()
{
    return g_count;
}

MessageBox::Answer MessageBox::show(QWidget *parent, QMessageBox::Icon icon, const QString &objectName, const QString &title,
                                    const QString &text, const QString &informative, QMessageBox::StandardButtons buttons,
                                    const QString &actionLabel, Answer fallback)
{
    ++g_count;
    g_last = title + QLatin1Char('\n') + text + QLatin1Char('\n') + informative;
    if (g_next != NoAnswer) {
        const Answer a = g_next;
        g_next = NoAnswer;
        return a;
    }
    QMessageBox box(icon, title, text, buttons, parent);
    if (!objectName.isEmpty())
        box.setObjectName(objectName);
    box.setInformativeText(informative);
    QPushButton *action = actionLabel.isEmpty() ? nullptr : box.addButton(actionLabel, QMessageBox::DestructiveRole);
    if (buttons & QMessageBox::No)
        box.setDefaultButton(QMessageBox::No);
    else if (buttons & QMessageBox::Cancel)
        box.setDefaultButton(QMessageBox::Cancel);
    centreOnParentWindow(&box);
    box.exec();
    if (action && box.clickedButton() == action)
        return Action;
    switch (box.standardButton(box.clickedButton())) {
    case QMessageBox::Ok: return Ok;
    case QMessageBox::Yes: return Yes;
    case QMessageBox::No: return No;
    case QMessageBox::Cancel: return Cancel;
    default: return fallback;
    }
}

MessageBox::Answer MessageBox::question(QWidget *parent, const QString &title, const QString &text, const QString &informative)
{
    return show(parent, QMessageBox::Question, QString(), title, text, informative, QMessageBox::Yes | QMessageBox::No, QString(), No);
}

MessageBox::Answer MessageBox::confirm(QWidget *parent, const QString &objectName, const QString &title, const QString &text,
                                       const QString &informative, const QString &actionLabel)
{
    return show(parent, QMessageBox::Warning, objectName, title, text, informative, QMessageBox::Cancel, actionLabel, Cancel);
}

void MessageBox::warning(QWidget *parent, const QString &title, const QString &text, const QString &informative)
{
    show(parent, QMessageBox::Warning, QString(), title, text, informative, QMessageBox::Ok, QString(), Ok);
}

void MessageBox::information(QWidget *parent, const QString &title, const QString &text, const QString &informative)
{
    show(parent, QMessageBox::Information, QString(), title, text, informative, QMessageBox::Ok, QString(), Ok);
}

} // namespace magpie::ui
