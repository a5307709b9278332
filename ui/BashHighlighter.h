// BashHighlighter.h — syntax colouring for bash scripts: comments, strings (also across lines),
// keywords, builtins, variables and $(…), numbers, here-document bodies. Colours follow the
// palette (light or dark).
#pragma once

#include <QRegularExpression>
#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace magpie::ui {

class BashHighlighter : public QSyntaxHighlighter
{
    Q_OBJECT
public:
    explicit BashHighlighter(QTextDocument *document);
    // Re-reads the colours from the application palette (after a theme change).
    void updateColours();

protected:
    void highlightBlock(const QString &text) override;

private:
    enum State { Normal = 0, InDouble = 1, InSingle = 2, InHeredoc = 3 }; // InHeredoc + hash of the terminator
    QTextCharFormat m_keyword, m_builtin, m_comment, m_string, m_variable, m_number, m_operator, m_heredoc;
    QRegularExpression m_wordRe, m_varRe, m_numberRe, m_heredocStartRe;
};

} // namespace magpie::ui
