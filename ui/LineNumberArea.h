// LineNumberArea.h — the gutter of CodeEditor that shows line numbers.
#pragma once

#include <QWidget>

namespace magpie::ui {

class CodeEditor;

class LineNumberArea : public QWidget
{
    Q_OBJECT
public:
    explicit LineNumberArea(CodeEditor *editor);
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    CodeEditor *m_editor;
};

} // namespace magpie::ui
