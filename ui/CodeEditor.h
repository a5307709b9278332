// CodeEditor.h — a plain-text editor for scripts: monospace, line numbers, the current line
// highlighted, Tab inserts four spaces. Ctrl+Enter is left to the window (it runs the job).
#pragma once

#include <QPlainTextEdit>

namespace magpie::ui {

class LineNumberArea;

class CodeEditor : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit CodeEditor(QWidget *parent = nullptr);

    int lineNumberAreaWidth() const;
    void paintLineNumbers(QPaintEvent *event);

signals:
    // Ctrl+Enter / Ctrl+Return was pressed inside the editor.
    void runRequested();

protected:
    void resizeEvent(QResizeEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;

private:
    void updateLineNumberAreaWidth();
    void updateLineNumberArea(const QRect &rect, int dy);
    void highlightCurrentLine();

    LineNumberArea *m_lineNumbers;
};

} // namespace magpie::ui
