// LogIndex.h — when each line of a job's output arrived, kept beside the raw streams in
// <logs>/<request_id>/lines.idx, so stdout.log and stderr.log stay byte-exact (the 10 MiB cap
// applies to them unchanged).
//
// Format: fixed 16-byte little-endian records appended in arrival order, no header:
//   bytes 0..7   arrival time, ms since the Unix epoch (int64), taken by the host
//   bytes 8..13  offset of the line's first byte in its stream file (48 bits)
//   byte  14     stream: 1 stdout, 2 stderr
//   byte  15     0 (reserved)
// A record is written when the first byte of a line reaches the kept file (offset 0, or the
// byte after a '\n'), so every kept line — the truncation marker's too — has exactly one record,
// in the order the host received them across both streams.
// Bound: at most kMaxRecords records (8 MiB), whatever the script prints (a flood of one-byte
// lines stops being indexed there). Lines that start after the cap have no record: the reader
// returns them after the recorded ones (stdout's, then stderr's) with the last recorded time and
// `exactTime` false. A folder without lines.idx (a job from before the index) reads the same
// way, with the stream file's modification time.
//
// THE reader (for the HTTP logs route's JSON form {timestamp, level, message} and the GUI's
// "Save output"), interleaving both streams in arrival order:
//
//   static LogLines LogIndex::readLines(const QString &logDir, const LogLinesQuery &query);
//
//   struct LogLinesQuery { int streams = 3;            // bit 1 stdout, bit 2 stderr
//                          qint64 first = 0;           // entry to start at (ignored with fromTail)
//                          bool fromTail = false;      // the last maxEntries entries instead
//                          int maxEntries = 1000;      // 1..kMaxQueryEntries
//                          qint64 maxBytes = 1 MiB; }  // text bytes in one answer (>= 1)
//   struct LogLine  { qint64 timestampMs; int stream; QByteArray text; qint64 length; bool exactTime; }
//                     text: the line's raw bytes (escape codes intact) without its '\n', cut to
//                     maxBytes when longer (length is the whole line's size then)
//   struct LogLines { QList<LogLine> entries; qint64 first; qint64 total; bool ok; QString error; }
//                     entries[i] is entry first+i of total; ask again from first+entries.size().
// At least one entry comes back while any is left, so paging always moves on.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace magpie {

struct LogIndexRecord {
    qint64 timeMs = 0;
    qint64 offset = 0;
    int stream = 1;
};

struct LogLinesQuery {
    int streams = 3;
    qint64 first = 0;
    bool fromTail = false;
    int maxEntries = 1000;
    qint64 maxBytes = 1024 * 1024;
};

struct LogLine {
    qint64 timestampMs = 0;
    int stream = 1;
    QByteArray text;
    qint64 length = 0;
    bool exactTime = true;
};

struct LogLines {
    QList<LogLine> entries;
    qint64 first = 0;
    qint64 total = 0;
    bool ok = true;
    QString error;
};

class LogIndex
{
public:
    static constexpr int kRecordSize = 16;
    static constexpr qint64 kMaxRecords = 512 * 1024;
    static constexpr int kMaxQueryEntries = 100000;

    static QString indexPath(const QString &logDir);

    // Writer, called by JobStore::appendOutput after `bytes` were appended to the stream file at
    // `offset`: one record per line that starts inside `bytes`, stamped `nowMs`. False when the
    // index could not be written (the stream file is unaffected either way).
    static bool recordLines(const QString &logDir, int stream, qint64 offset, const QByteArray &bytes, qint64 nowMs);

    // Records from index `first` on, at most `max` (torn or out-of-order records are skipped).
    static QList<LogIndexRecord> readRecords(const QString &logDir, qint64 first = 0, qint64 max = kMaxRecords);
    static qint64 recordCount(const QString &logDir);

    static LogLines readLines(const QString &logDir, const LogLinesQuery &query);
};

} // namespace magpie
