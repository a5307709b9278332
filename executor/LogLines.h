// LogLines.h — a job's output as lines, for the JSON views of the logs (GET /jobs/{id}/logs
// without stream/offset/wait, and the `logs` of GET /jobs/{id}/status). This is the one place
// output is split into lines: the per-line timestamp index (issue 16) plugs in here, by filling
// LogLine::timestamp from each line's byte offset in its stream. Until then `timestamp` stays
// empty and callers show an approximate time.
//
// Bounded: only the tail of a stream is read (at most maxBytes, at most maxLines lines); what
// was left out is counted so callers can say so.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace magpie {

class Executor;

struct LogLine {
    int stream = 1;       // 1 stdout, 2 stderr
    qint64 offset = 0;    // where the line starts in its stream
    QString text;         // without the line break (invalid UTF-8 replaced)
    QString timestamp;    // ISO-8601 when known (issue 16), else empty
};

struct LogTail {
    QList<LogLine> lines;
    qint64 omittedBytes = 0;  // bytes before the first line shown
    qint64 totalBytes = 0;    // bytes in the stream's log file
};

class LogLines
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
