// LogView.h — the output view used in the job details (an OutputView: lazily painted, ANSI
// colours, collapsed progress lines, follow, selection, search). Built alone it owns a
// document and shows what appendText() gives it as one stream; built over a shared
// OutputDocument it shows one of its views (both streams, stdout or stderr).
#pragma once

#include "output/OutputView.h"

namespace magpie::ui {

class LogView : public OutputView
{
    Q_OBJECT
public:
    explicit LogView(QWidget *parent = nullptr);
    LogView(OutputDocument *document, OutputDocument::View view, QWidget *parent = nullptr);

    // Feeds the text (as UTF-8) to the document's stdout, as if the job had written it.
    void appendText(const QString &text);
    void appendBytes(const QByteArray &bytes);
    void clearLog();
};

} // namespace magpie::ui
