#include "LogView.h"

#include <QFontDatabase>
#include <QScrollBar>
#include <QTextCursor>

namespace magpie::ui {

LogView::LogView(QWidget *parent)
    : QPlainTextEdit(parent)
{
    setReadOnly(true);
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setUndoRedoEnabled(false);
    setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    setMaximumBlockCount(200000); // very long outputs keep their last 200 000 lines on screen
}

bool LogView::isFollowing() const
{
    const QScrollBar *sb = verticalScrollBar();
    return sb->value() >= sb->maximum() - 1;
}

void LogView::scrollToEnd()
{
    verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void LogView::appendText(const QString &text)
{
    if (text.isEmpty())
        return;
    const bool follow = isFollowing();
    QScrollBar *hsb = horizontalScrollBar();
    const int h = hsb->value();
    QTextCursor c(document());
    c.movePosition(QTextCursor::End);
    c.insertText(text);
    hsb->setValue(h);
    if (follow)
        scrollToEnd();
}

void LogView::clearLog()
{
    clear();
}

} // namespace magpie::ui
