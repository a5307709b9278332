#include "BashHighlighter.h"

#include "UiFormat.h"

#include <QGuiApplication>
#include <QHash>
#include <QSet>
#include <QTextDocument>

namespace magpie::ui {

namespace {
const QSet<QString> &keywords()
{
    static const QSet<QString> k{
        QStringLiteral("if"), QStringLiteral("then"), QStringLiteral("else"), QStringLiteral("elif"), QStringLiteral("fi"),
        QStringLiteral("for"), QStringLiteral("while"), QStringLiteral("until"), QStringLiteral("do"), QStringLiteral("done"),
        QStringLiteral("case"), QStringLiteral("esac"), QStringLiteral("in"), QStringLiteral("function"), QStringLiteral("select"),
        QStringLiteral("time"), QStringLiteral("return"), QStringLiteral("break"), QStringLiteral("continue"),
        QStringLiteral("local"), QStringLiteral("export"), QStringLiteral("readonly"), QStringLiteral("declare"),
        QStringLiteral("typeset"), QStringLiteral("set"), QStringLiteral("unset"), QStringLiteral("shift"),
        QStringLiteral("exit"), QStringLiteral("trap"), QStringLiteral("source"), QStringLiteral("exec"), QStringLiteral("eval")};
    return k;
}

const QSet<QString> &builtins()
{
    static const QSet<QString> b{
        QStringLiteral("echo"), QStringLiteral("printf"), QStringLiteral("read"), QStringLiteral("cd"), QStringLiteral("pwd"),
        QStringLiteral("test"), QStringLiteral("true"), QStringLiteral("false"), QStringLiteral("cat"), QStringLiteral("ls"),
        QStringLiteral("mkdir"), QStringLiteral("rm"), QStringLiteral("cp"), QStringLiteral("mv"), QStringLiteral("grep"),
        QStringLiteral("sed"), QStringLiteral("awk"), QStringLiteral("curl"), QStringLiteral("git"), QStringLiteral("python3"),
        QStringLiteral("python"), QStringLiteral("npm"), QStringLiteral("make"), QStringLiteral("tar"), QStringLiteral("wc"),
        QStringLiteral("sleep"), QStringLiteral("touch"), QStringLiteral("find"), QStringLiteral("head"), QStringLiteral("tail"),
        QStringLiteral("sort"), QStringLiteral("uniq"), QStringLiteral("df"), QStringLiteral("du"), QStringLiteral("chmod"),
        QStringLiteral("wait"), QStringLiteral("kill"), QStringLiteral("xargs"), QStringLiteral("tee"), QStringLiteral("env")};
    return b;
}
} // namespace

BashHighlighter::BashHighlighter(QTextDocument *document)
    : QSyntaxHighlighter(document),
      m_wordRe(QStringLiteral("[A-Za-z_][A-Za-z0-9_.-]*")),
      m_varRe(QStringLiteral("\\$(\\{[^}]*\\}|\\(\\(?|[A-Za-z_][A-Za-z0-9_]*|[0-9#?@*$!-])")),
      m_numberRe(QStringLiteral("\\b[0-9]+\\b")),
      m_heredocStartRe(QStringLiteral("<<-?\\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\\1"))
{
    updateColours();
}

void BashHighlighter::updateColours()
{
    const QPalette pal = QGuiApplication::palette();
    const bool dark = isDark(pal);
    m_keyword.setForeground(dark ? QColor(0xc6, 0x8a, 0xff) : QColor(0x83, 0x1f, 0xb8));
    m_keyword.setFontWeight(QFont::Bold);
    m_builtin.setForeground(dark ? QColor(0x66, 0xc2, 0xff) : QColor(0x00, 0x5c, 0xc5));
    m_comment.setForeground(dark ? QColor(0x8b, 0x94, 0x9e) : QColor(0x6a, 0x73, 0x7d));
    m_comment.setFontItalic(true);
    m_string.setForeground(dark ? QColor(0xa5, 0xd6, 0x7f) : QColor(0x0a, 0x7a, 0x2f));
    m_heredoc = m_string;
    m_variable.setForeground(dark ? QColor(0xff, 0xb8, 0x6c) : QColor(0xb3, 0x4d, 0x00));
    m_number.setForeground(dark ? QColor(0x79, 0xc0, 0xff) : QColor(0x09, 0x5a, 0x9e));
    m_operator.setForeground(dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xc0, 0x1c, 0x28));
    rehighlight();
}

void BashHighlighter::highlightBlock(const QString &text)
{
    int state = previousBlockState();
    if (state < 0)
        state = Normal;
    int i = 0;
    const int n = int(text.size());

    if (state >= InHeredoc) {
        // Inside a here-document: the state is InHeredoc + a hash of its terminator word.
        setFormat(0, n, m_heredoc);
        if (InHeredoc + int(qHash(text.trimmed()) & 0xffffff) == state) {
            setFormat(0, n, m_keyword);
            setCurrentBlockState(Normal);
        } else {
            setCurrentBlockState(state);
        }
        return;
    }

    // Colours a quoted string from `start` (the opening quote, or 0 when the string began on an
    // earlier line) by scanning from `scan`. Returns the index after the closing quote, or -1
    // when the string goes on past this line.
    auto finishString = [&](QChar quote, int start, int scan, const QTextCharFormat &fmt) -> int {
        int j = scan;
        while (j < n) {
            if (quote == QLatin1Char('"') && text.at(j) == QLatin1Char('\\') && j + 1 < n) {
                j += 2;
                continue;
            }
            if (text.at(j) == quote)
                break;
            ++j;
        }
        if (j >= n) {
            setFormat(start, n - start, fmt);
            return -1;
        }
        setFormat(start, j + 1 - start, fmt);
        return j + 1;
    };
    auto colourVariablesIn = [&](int from, int to) {
        auto it = m_varRe.globalMatch(text.mid(from, to - from));
        while (it.hasNext()) {
            const auto m = it.next();
            setFormat(from + int(m.capturedStart()), int(m.capturedLength()), m_variable);
        }
    };

    if (state == InDouble || state == InSingle) {
        const QChar q = state == InDouble ? QLatin1Char('"') : QLatin1Char('\'');
        const int end = finishString(q, 0, 0, m_string);
        if (end < 0) {
            if (state == InDouble)
                colourVariablesIn(0, n);
            setCurrentBlockState(state);
            return;
        }
        if (state == InDouble)
            colourVariablesIn(0, end);
        i = end;
    }

    int heredocState = Normal;
    while (i < n) {
        const QChar c = text.at(i);
        if (c == QLatin1Char('#') && (i == 0 || text.at(i - 1).isSpace() || text.at(i - 1) == QLatin1Char(';'))) {
            setFormat(i, n - i, m_comment);
            break;
        }
        if (c == QLatin1Char('"') || c == QLatin1Char('\'')) {
            const int end = finishString(c, i, i + 1, m_string);
            if (end < 0) {
                if (c == QLatin1Char('"'))
                    colourVariablesIn(i, n);
                setCurrentBlockState(c == QLatin1Char('"') ? InDouble : InSingle);
                return;
            }
            if (c == QLatin1Char('"'))
                colourVariablesIn(i, end);
            i = end;
            continue;
        }
        if (c == QLatin1Char('$')) {
            const auto m = m_varRe.match(text, i, QRegularExpression::NormalMatch, QRegularExpression::AnchorAtOffsetMatchOption);
            if (m.hasMatch()) {
                setFormat(i, int(m.capturedLength()), m_variable);
                i += int(m.capturedLength());
                continue;
            }
        }
        if (c == QLatin1Char('<') && i + 1 < n && text.at(i + 1) == QLatin1Char('<')) {
            const auto m = m_heredocStartRe.match(text, i, QRegularExpression::NormalMatch, QRegularExpression::AnchorAtOffsetMatchOption);
            if (m.hasMatch()) {
                setFormat(i, int(m.capturedLength()), m_operator);
                heredocState = InHeredoc + int(qHash(m.captured(2)) & 0xffffff);
                i += int(m.capturedLength());
                continue;
            }
        }
        if (c.isLetter() || c == QLatin1Char('_')) {
            const auto m = m_wordRe.match(text, i, QRegularExpression::NormalMatch, QRegularExpression::AnchorAtOffsetMatchOption);
            const int len = m.hasMatch() ? int(m.capturedLength()) : 1;
            const QString word = text.mid(i, len);
            const bool commandPosition = i + len >= n || text.at(i + len) != QLatin1Char('=');
            if (keywords().contains(word))
                setFormat(i, len, m_keyword);
            else if (commandPosition && builtins().contains(word))
                setFormat(i, len, m_builtin);
            i += len;
            continue;
        }
        if (c.isDigit() && (i == 0 || !text.at(i - 1).isLetterOrNumber())) {
            int j = i;
            while (j < n && text.at(j).isDigit())
                ++j;
            if (j >= n || !text.at(j).isLetter())
                setFormat(i, j - i, m_number);
            i = j;
            continue;
        }
        if (c == QLatin1Char('|') || c == QLatin1Char('&') || c == QLatin1Char(';') || c == QLatin1Char('>') || c == QLatin1Char('<')) {
            setFormat(i, 1, m_operator);
        }
        ++i;
    }
    setCurrentBlockState(heredocState);
}

} // namespace magpie::ui
