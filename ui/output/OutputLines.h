// OutputLines.h — one output stream as the view shows it: an AnsiParser's finished lines packed
// into one text buffer and one list of colour runs (16 bytes per line plus its characters),
// the line still being written (read from the parser), and when each line arrived (set from
// lines.idx records; -1 until known).
// Bounds: at most kMaxLines lines and kMaxChars characters are kept (a flood of empty lines
// or a tab-expanded 10 MiB stays within ~100 MB); past either, one note line says so and the
// rest is counted (linesSeen) but not kept — "Save output…" as raw still has every byte.
#pragma once

#include "AnsiParser.h"
#include "StyleTable.h"

#include <QList>
#include <QString>
#include <QStringView>

namespace magpie::ui {

class OutputLines : private AnsiParser::Sink
{
public:
    struct Run {
        quint32 start;  // character in the line
        quint32 length;
        quint32 style;  // StyleTable id, never 0 (gaps between runs are the default style)
    };

    static constexpr int kMaxLines = 2000000;
    static constexpr qsizetype kMaxChars = 32 * 1024 * 1024;

    explicit OutputLines(StyleTable &styles);
    OutputLines(const OutputLines &) = delete;
    OutputLines &operator=(const OutputLines &) = delete;

    void append(const char *data, qsizetype size);
    void append(const QByteArray &data) { append(data.constData(), data.size()); }
    void finish();   // end of the stream: the open line is kept as it is, unterminated
    void clear();

    // Lines kept, the open one (and the note when full) included.
    int count() const;
    QStringView text(int line) const;
    int length(int line) const { return int(text(line).size()); }
    QList<Run> runs(int line) const;
    qint64 time(int line) const;
    void setTime(int line, qint64 ms);
    bool isOpen(int line) const;
    // Whether the last line ended with '\n'.
    bool lastTerminated() const { return m_lastTerminated; }
    bool full() const { return m_full; }
    qint64 linesSeen() const { return m_seen; }
    int maxLength() const;
    // Changes whenever anything shown changes.
    quint64 revision() const { return m_revision + m_parser.revision(); }
    QString plainText() const;
    const StyleTable &styles() const { return m_styles; }

private:
    struct Line {
        quint32 text;  // start in m_text
        quint32 runs;  // start in m_runs
        qint64 time;
    };
    void lineStarted() override;
    void lineFinished(QStringView text, const quint32 *styles, bool terminated) override;
    void store(QStringView text, const quint32 *styles, qint64 time);
    bool hasOpenLine() const { return !m_full && m_parser.lineOpen(); }

    StyleTable &m_styles;
    AnsiParser m_parser;
    QString m_text;
    QList<Run> m_runs;
    QList<Line> m_lines;
    qint64 m_openTime = -1;
    qint64 m_seen = 0;
    int m_maxLength = 0;
    bool m_full = false;
    bool m_lastTerminated = false;
    quint64 m_revision = 0;
};

} // namespace magpie::ui
