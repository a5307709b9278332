#include "LogView.h"

namespace magpie::ui {

LogView::LogView(QWidget *parent)
    : OutputView(new OutputDocument, OutputDocument::View::Stdout, parent)
{
    document()->setParent(this);
}

LogView::LogView(OutputDocument *document, OutputDocument::View view, QWidget *parent)
    : OutputView(document, view, parent)
{
}

void LogView::appendText(const QString &text)
{
    appendBytes(text.toUtf8());
}

void LogView::appendBytes(const QByteArray &bytes)
{
    if (bytes.isEmpty() || !document())
        return;
    document()->appendBytes(1, bytes);
    document()->endBatch();
}

void LogView::clearLog()
{
    if (document())
        document()->clear();
}

} // namespace magpie::ui
