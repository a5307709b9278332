// FindBar.h — the search row under an output view: the text to find, "3 of 17", previous and
// next, close. Enter or F3 goes to the next match, Shift+Enter or Shift+F3 to the previous one,
// Escape closes the bar.
#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QToolButton;

namespace magpie::ui {

class FindBar : public QWidget
{
    Q_OBJECT
public:
    explicit FindBar(QWidget *parent = nullptr);

    QLineEdit *edit() const { return m_edit; }
    QLabel *countLabel() const { return m_count; }
    QToolButton *nextButton() const { return m_next; }
    QToolButton *previousButton() const { return m_prev; }
    QToolButton *closeButton() const { return m_close; }
    // Shows the bar with the text selected and focused.
    void open();
    void setCount(int count, int current, bool capped);

signals:
    void textChanged(const QString &text);
    void next();
    void previous();
    void closed();

protected:
    bool eventFilter(QObject *watched, QEvent *e) override;

private:
    QLineEdit *m_edit;
    QLabel *m_count;
    QToolButton *m_prev, *m_next, *m_close;
};

} // namespace magpie::ui
