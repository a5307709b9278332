// OutputViewAccessible.cpp — see OutputViewAccessible.h.
#include "OutputViewAccessible.h"

#include "OutputView.h"

#include <QAccessibleWidget>

namespace magpie::ui {

namespace {

class OutputViewAccessible : public QAccessibleWidget, public QAccessibleTextInterface
{
public:
    explicit OutputViewAccessible(OutputView *view)
        : QAccessibleWidget(view, QAccessible::EditableText)
    {
    }

    void *interface_cast(QAccessible::InterfaceType t) override
    {
        if (t == QAccessible::TextInterface)
            return static_cast<QAccessibleTextInterface *>(this);
        return QAccessibleWidget::interface_cast(t);
    }

    QAccessible::State state() const override
    {
        QAccessible::State s = QAccessibleWidget::state();
        s.readOnly = true;
        s.multiLine = true;
        s.selectableText = true;
        return s;
    }

    QString text(QAccessible::Text t) const override
    {
        if (t == QAccessible::Value)
            return shown();
        QString s = QAccessibleWidget::text(t);
        if (t == QAccessible::Name && s.isEmpty())
            s = QStringLiteral("Job output");
        return s;
    }

    // The text interface, over the rows on screen.
    QString text(int start, int end) const override
    {
        const QString s = shown();
        start = qBound(0, start, int(s.size()));
        end = end < 0 ? int(s.size()) : qBound(start, end, int(s.size()));
        return s.mid(start, end - start);
    }
    int characterCount() const override { return int(shown().size()); }
    void selection(int, int *startOffset, int *endOffset) const override { *startOffset = *endOffset = 0; }
    int selectionCount() const override { return 0; }
    void addSelection(int, int) override {}
    void removeSelection(int) override {}
    void setSelection(int, int, int) override {}
    int cursorPosition() const override { return 0; }
    void setCursorPosition(int) override {}
    QRect characterRect(int) const override { return {}; }
    int offsetAtPoint(const QPoint &) const override { return -1; }
    void scrollToSubstring(int, int) override {}
    QString attributes(int offset, int *startOffset, int *endOffset) const override
    {
        *startOffset = *endOffset = offset;
        return {};
    }

private:
    OutputView *view() const { return static_cast<OutputView *>(widget()); }

    QString shown() const
    {
        OutputView *v = view();
        const int first = v->firstVisibleRow();
        const int last = v->lastVisibleRow();
        if (first < 0 || last < first)
            return {};
        QStringList rows;
        for (int r = first; r <= last && r < v->rowCount(); ++r)
            rows << v->rowText(r);
        return rows.join(QLatin1Char('\n'));
    }
};

QAccessibleInterface *factory(const QString &className, QObject *object)
{
    if (className == QLatin1String(OutputView::staticMetaObject.className()) && object && object->isWidgetType())
        return new OutputViewAccessible(static_cast<OutputView *>(object));
    return nullptr;
}

} // namespace

void installOutputViewAccessibility()
{
    static const bool installed = [] {
        QAccessible::installFactory(factory);
        return true;
    }();
    (void)installed;
}

} // namespace magpie::ui
