#include "OutputLines.h"

namespace magpie::ui {

OutputLines::OutputLines(StyleTable &styles)
    : m_styles(styles), m_parser(styles, *this)
{
}

void OutputLines::append(const char *data, qsizetype size)
{
    if (size > 0)
        m_parser.feed(data, size);
}

void OutputLines::finish()
{
    m_parser.finish();
    ++m_revision;
}

void OutputLines::clear()
{
    m_parser.reset();
    m_text = QString();
    m_runs = QList<Run>();
    m_lines = QList<Line>();
    m_openTime = -1;
    m_seen = 0;
    m_maxLength = 0;
    m_full = false;
    m_lastTerminated = false;
    ++m_revision;
}

int OutputLines::count() const
{
    return int(m_lines.size()) + (hasOpenLine() ? 1 : 0);
}

bool OutputLines::isOpen(int line) const
{
    return hasOpenLine() && line == m_lines.size();
}

QStringView OutputLines::text(int line) const
{
    if (line >= 0 && line < m_lines.size()) {
        const qsizetype from = m_lines[line].text;
        const qsizetype to = line + 1 < m_lines.size() ? m_lines[line + 1].text : m_text.size();
        return QStringView(m_text).mid(from, to - from);
    }
    if (isOpen(line))
        return m_parser.openText();
    return {};
}

QList<OutputLines::Run> OutputLines::runs(int line) const
{
    if (line >= 0 && line < m_lines.size()) {
        const qsizetype from = m_lines[line].runs;
        const qsizetype to = line + 1 < m_lines.size() ? m_lines[line + 1].runs : m_runs.size();
        return m_runs.mid(from, to - from);
    }
    QList<Run> out;
    if (!isOpen(line))
        return out;
    const QList<quint32> &st = m_parser.openStyles();
    for (qsizetype i = 0; i < st.size();) {
        qsizetype j = i + 1;
        while (j < st.size() && st[j] == st[i])
            ++j;
        if (st[i] != 0)
            out.append({quint32(i), quint32(j - i), st[i]});
        i = j;
    }
    return out;
}

qint64 OutputLines::time(int line) const
{
    if (line >= 0 && line < m_lines.size())
        return m_lines[line].time;
    return isOpen(line) ? m_openTime : -1;
}

void OutputLines::setTime(int line, qint64 ms)
{
    if (line >= 0 && line < m_lines.size())
        m_lines[line].time = ms;
    else if (isOpen(line))
        m_openTime = ms;
    else
        return;
    ++m_revision;
}

int OutputLines::maxLength() const
{
    return hasOpenLine() ? qMax(m_maxLength, int(m_parser.openText().size())) : m_maxLength;
}

void OutputLines::lineStarted()
{
    ++m_seen;
    m_openTime = -1;
}

void OutputLines::lineFinished(QStringView text, const quint32 *styles, bool terminated)
{
    if (m_full)
        return;
    m_lastTerminated = terminated;
    if (m_lines.size() + 2 > kMaxLines || m_text.size() + text.size() > kMaxChars) {
        const QString note = QStringLiteral("[magpie: this view keeps %1 lines / %2 characters of a stream; "
                                            "the rest is in the log file (Save output… as raw writes all of it)]")
                                 .arg(kMaxLines)
                                 .arg(kMaxChars);
        const QList<quint32> none(note.size(), 0);
        store(note, none.constData(), m_openTime);
        m_full = true;
        m_lastTerminated = true;
        return;
    }
    store(text, styles, m_openTime);
    m_openTime = -1;
}

void OutputLines::store(QStringView text, const quint32 *styles, qint64 time)
{
    m_lines.append({quint32(m_text.size()), quint32(m_runs.size()), time});
    m_text.append(text);
    for (qsizetype i = 0; i < text.size();) {
        qsizetype j = i + 1;
        while (j < text.size() && styles[j] == styles[i])
            ++j;
        if (styles[i] != 0)
            m_runs.append({quint32(i), quint32(j - i), styles[i]});
        i = j;
    }
    m_maxLength = qMax(m_maxLength, int(text.size()));
    ++m_revision;
}

QString OutputLines::plainText() const
{
    QString out;
    out.reserve(m_text.size() + m_lines.size() + (hasOpenLine() ? m_parser.openText().size() : 0));
    for (int i = 0; i < m_lines.size(); ++i) {
        out += text(i);
        if (i + 1 < m_lines.size() || hasOpenLine() || m_lastTerminated)
            out += QLatin1Char('\n');
    }
    if (hasOpenLine())
        out += m_parser.openText();
    return out;
}

} // namespace magpie::ui
