// OutputOptions.h — how the output panes of one job details show their text (wrap, line
// numbers, the time column), shared by the panes so that a choice made in one tab holds in the
// others.
#pragma once

#include "OutputView.h"

#include <QObject>

namespace magpie::ui {

class OutputOptions : public QObject
{
    Q_OBJECT
public:
    explicit OutputOptions(QObject *parent = nullptr) : QObject(parent) {}

    bool wrap() const { return m_wrap; }
    bool lineNumbers() const { return m_lineNumbers; }
    OutputView::TimeMode timeMode() const { return m_timeMode; }
    void setWrap(bool on);
    void setLineNumbers(bool on);
    void setTimeMode(OutputView::TimeMode mode);
    void applyTo(OutputView *view) const;

signals:
    void changed();

private:
    bool m_wrap = false;
    bool m_lineNumbers = true;
    OutputView::TimeMode m_timeMode = OutputView::TimeMode::Off;
};

} // namespace magpie::ui
