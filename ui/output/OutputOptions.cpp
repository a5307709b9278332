#include "OutputOptions.h"

namespace magpie::ui {

void OutputOptions::setWrap(bool on)
{
    if (on == m_wrap)
        return;
    m_wrap = on;
    emit changed();
}

void OutputOptions::setLineNumbers(bool on)
{
    if (on == m_lineNumbers)
        return;
    m_lineNumbers = on;
    emit changed();
}

void OutputOptions::setTimeMode(OutputView::TimeMode mode)
{
    if (mode == m_timeMode)
        return;
    m_timeMode = mode;
    emit changed();
}

void OutputOptions::applyTo(OutputView *view) const
{
    view->setWrap(m_wrap);
    view->setLineNumbers(m_lineNumbers);
    view->setTimeMode(m_timeMode);
}

} // namespace magpie::ui
