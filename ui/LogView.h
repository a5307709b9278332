// LogView.h — a read-only monospace view of a job's output stream. New text is appended at
// the end; the view follows it while the user is at the bottom and stops following as soon
// as they scroll up (scrolling back to the bottom resumes).
#pragma once

#include <QPlainTextEdit>

namespace magpie::ui {

class LogView : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit LogView(QWidget *parent = nullptr);

    void appendText(const QString &text);
    void clearLog();
    // Whether the view is at the bottom and follows new output.
    bool isFollowing() const;
    void scrollToEnd();
};

} // namespace magpie::ui
