// MessageBox.h — every question and notice the window shows goes through here, so that tests can
// answer the next one without a dialog (setNextAnswer, one shot, like KeePassXC's
// MessageBox::setNextAnswer) and read what it said (lastText). Without an answer set, a real
// QMessageBox opens, modal, centred on its parent window.
#pragma once

#include <QMessageBox>
#include <QString>

namespace magpie::ui {

class MessageBox
{
public:
    // What the user picked. Action is the box's own named button ("Delete “ws”", "Delete").
    enum Answer { NoAnswer, Ok, Yes, No, Cancel, Action };

    // Yes or No (the default) for a question.
    static Answer question(QWidget *parent, const QString &title, const QString &text,
                           const QString &informative = QString());
    // A warning naming what is at stake, with one button for the action and Cancel (the
    // default). Action when the user picked the action.
    static Answer confirm(QWidget *parent, const QString &objectName, const QString &title, const QString &text,
                          const QString &informative, const QString &actionLabel);
    static void warning(QWidget *parent, const QString &title, const QString &text, const QString &informative = QString());
    static void information(QWidget *parent, const QString &title, const QString &text, const QString &informative = QString());

    // Test seam: the next box is not shown; it returns `answer` at once (Ok for a notice).
    static void setNextAnswer(Answer answer);
    // Title, text and informative text of the last box asked for (shown or answered), one per line.
    static QString lastText();
    // How many boxes were asked for since the program started.
    static int count();

private:
    static Answer show(QWidget *parent, QMessageBox::Icon icon, const QString &objectName, const QString &title,
                       const QString &text, const QString &informative, QMessageBox::StandardButtons buttons,
                       const QString &actionLabel, Answer fallback);
};

} // namespace magpie::ui
