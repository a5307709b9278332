// StreamTail.h — the tail of one stream of a job's output as lines of text, for the `logs` of
// GET /jobs/{id}/status (stdout's lines, then stderr's). The JSON form of GET /jobs/{id}/logs,
// which interleaves both streams in arrival order with each line's own time, reads the per-line
// index instead (LogIndex::readLines).
//
// Bounded: only the tail of a stream is read (at most maxBytes, at most maxLines lines); what
// was left out is counted so callers can say so.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace magpie {

class Executor;

struct TextLine {
    int stream = 1;       // 1 stdout, 2 stderr
    qint64 offset = 0;    // where the line starts in its stream
    QString text;         // without the line break (invalid UTF-8 replaced)
};

struct LogTail {
    QList<TextLine> lines;
    qint64 omittedBytes = 0;  // bytes before the first line shown
    qint64 totalBytes = 0;    // bytes in the stream's log file
};

class StreamTail
{
public:
    static constexpr int kMaxLines = 1000;
    static constexpr qint64 kMaxBytes = 256 * 1024;

    // Splits `data`, read from byte `dataOffset` of a stream of `totalBytes`, into lines. When
    // dataOffset > 0 the first, partial line is dropped; only the last `maxLines` are kept.
    static LogTail split(const QByteArray &data, qint64 dataOffset, qint64 totalBytes, int stream, int maxLines = kMaxLines);
    // Reads the tail of a job's stream through the executor and splits it.
    static LogTail tail(const Executor &executor, const QString &requestId, int stream, int maxLines = kMaxLines,
                        qint64 maxBytes = kMaxBytes);
};

} // namespace magpie
