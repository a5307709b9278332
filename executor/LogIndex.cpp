#include "LogIndex.h"

#include <QFile>
#include <QFileInfo>
#include <QtEndian>
#include <algorithm>
#include <cstring>

namespace magpie {

namespace {
const char *streamFile(int stream)
{
    return stream == 2 ? "stderr.log" : "stdout.log";
}

QString streamPath(const QString &dir, int stream)
{
    return dir + QLatin1Char('/') + QLatin1String(streamFile(stream));
}

void encode(char *p, qint64 timeMs, qint64 offset, int stream)
{
    qToLittleEndian<qint64>(timeMs, p);
    quint64 off = quint64(offset) & 0xFFFFFFFFFFFFull;
    for (int i = 0; i < 6; ++i)
        p[8 + i] = char((off >> (8 * i)) & 0xFF);
    p[14] = char(stream);
    p[15] = 0;
}

bool decode(const char *p, LogIndexRecord *r)
{
    r->timeMs = qFromLittleEndian<qint64>(p);
    quint64 off = 0;
    for (int i = 0; i < 6; ++i)
        off |= quint64(uchar(p[8 + i])) << (8 * i);
    r->offset = qint64(off);
    r->stream = uchar(p[14]);
    return r->stream == 1 || r->stream == 2;
}

// One line as the reader sees it before its text is read.
struct Span {
    qint64 timeMs;
    qint64 start;
    qint64 end; // exclusive, the '\n' not included
    int stream;
    bool exact;
};

// Appends the lines of `path` that start at or after `from` (a line start) to `out`.
void scanLines(const QString &path, qint64 from, qint64 size, qint64 timeMs, int stream, QList<Span> *out)
{
    QFile f(path);
    if (from >= size || !f.open(QIODevice::ReadOnly) || !f.seek(from))
        return;
    qint64 lineStart = from;
    qint64 pos = from;
    while (pos < size) {
        const QByteArray buf = f.read(qMin<qint64>(1 << 20, size - pos));
        if (buf.isEmpty())
            break;
        const char *b = buf.constData();
        const char *e = b + buf.size();
        for (const char *p = b; (p = static_cast<const char *>(memchr(p, '\n', e - p))); ++p) {
            const qint64 nl = pos + (p - b);
            out->append({timeMs, lineStart, nl, stream, false});
            lineStart = nl + 1;
        }
        pos += buf.size();
    }
    if (lineStart < size)
        out->append({timeMs, lineStart, size, stream, false});
}
} // namespace

QString LogIndex::indexPath(const QString &logDir)
{
    return logDir + QStringLiteral("/lines.idx");
}

bool LogIndex::recordLines(const QString &logDir, int stream, qint64 offset, const QByteArray &bytes, qint64 nowMs)
{
    if (bytes.isEmpty() || (stream != 1 && stream != 2))
        return true;
    bool startsLine = offset == 0;
    if (!startsLine) {
        QFile s(streamPath(logDir, stream));
        char prev = 0;
        if (!s.open(QIODevice::ReadOnly) || !s.seek(offset - 1) || s.read(&prev, 1) != 1)
            return false;
        startsLine = prev == '\n';
    }
    QFile f(indexPath(logDir));
    if (!f.open(QIODevice::ReadWrite))
        return false;
    qint64 size = f.size();
    if (size % kRecordSize) { // a record torn by a crash: drop it so the rest stays aligned
        size -= size % kRecordSize;
        if (!f.resize(size))
            return false;
    }
    qint64 room = kMaxRecords - size / kRecordSize;
    if (room <= 0)
        return true; // the cap: later lines are not indexed (see the header)
    QByteArray out;
    auto add = [&](qint64 at) {
        const qsizetype n = out.size();
        out.resize(n + kRecordSize);
        encode(out.data() + n, nowMs, offset + at, stream);
        --room;
    };
    if (startsLine)
        add(0);
    const char *b = bytes.constData();
    const char *e = b + bytes.size();
    for (const char *p = b; room > 0 && (p = static_cast<const char *>(memchr(p, '\n', e - p))); ++p)
        if (p + 1 < e)
            add(p + 1 - b);
    if (out.isEmpty())
        return true;
    return f.seek(size) && f.write(out) == out.size();
}

qint64 LogIndex::recordCount(const QString &logDir)
{
    return QFileInfo(indexPath(logDir)).size() / kRecordSize;
}

QList<LogIndexRecord> LogIndex::readRecords(const QString &logDir, qint64 first, qint64 max)
{
    QList<LogIndexRecord> out;
    QFile f(indexPath(logDir));
    if (first < 0 || max <= 0 || !f.open(QIODevice::ReadOnly))
        return out;
    const qint64 count = qMin(f.size() / kRecordSize, kMaxRecords);
    if (first >= count || !f.seek(first * kRecordSize))
        return out;
    const QByteArray data = f.read(qMin(max, count - first) * kRecordSize);
    out.reserve(data.size() / kRecordSize);
    for (qsizetype i = 0; i + kRecordSize <= data.size(); i += kRecordSize) {
        LogIndexRecord r;
        if (decode(data.constData() + i, &r))
            out.append(r);
    }
    return out;
}

LogLines LogIndex::readLines(const QString &logDir, const LogLinesQuery &q)
{
    LogLines res;
    if (q.maxEntries < 1 || q.maxEntries > kMaxQueryEntries || q.maxBytes < 1 || q.first < 0 || (q.streams & 3) == 0) {
        res.ok = false;
        res.error = QStringLiteral("bad query: maxEntries 1..%1, maxBytes >= 1, first >= 0, streams 1..3").arg(kMaxQueryEntries);
        return res;
    }
    qint64 size[3] = {0, QFileInfo(streamPath(logDir, 1)).size(), QFileInfo(streamPath(logDir, 2)).size()};
    const bool haveIndex = QFileInfo::exists(indexPath(logDir));

    // Recorded lines, in arrival order. A line ends where the next line of its stream starts.
    QList<Span> spans;
    qint64 lastStart[3] = {-1, -1, -1};
    qint64 lastTime = 0;
    if (haveIndex) {
        const QList<LogIndexRecord> recs = readRecords(logDir);
        spans.reserve(recs.size());
        int lastSpan[3] = {-1, -1, -1};
        for (const LogIndexRecord &r : recs) {
            if (r.offset <= lastStart[r.stream] || r.offset >= size[r.stream])
                continue; // out of order or past the file: not ours to trust
            if (lastSpan[r.stream] >= 0)
                spans[lastSpan[r.stream]].end = r.offset - 1;
            lastSpan[r.stream] = int(spans.size());
            lastStart[r.stream] = r.offset;
            lastTime = qMax(lastTime, r.timeMs);
            spans.append({r.timeMs, r.offset, size[r.stream], r.stream, true});
        }
        // The last recorded line of each stream ends at its '\n'; lines after it have no record.
        QList<Span> tail;
        for (int s : {1, 2}) {
            if (lastSpan[s] < 0) {
                scanLines(streamPath(logDir, s), 0, size[s], lastTime, s, &tail);
                continue;
            }
            QList<Span> rest;
            scanLines(streamPath(logDir, s), lastStart[s], size[s], lastTime, s, &rest);
            if (!rest.isEmpty()) {
                spans[lastSpan[s]].end = rest.first().end;
                tail.append(rest.mid(1));
            }
        }
        spans.append(tail);
    } else {
        for (int s : {1, 2})
            scanLines(streamPath(logDir, s), 0, size[s],
                      QFileInfo(streamPath(logDir, s)).lastModified().toMSecsSinceEpoch(), s, &spans);
    }
    if ((q.streams & 3) != 3)
        spans.erase(std::remove_if(spans.begin(), spans.end(), [&](const Span &sp) { return !(q.streams & sp.stream); }),
                    spans.end());

    // The window: whole entries within maxEntries and maxBytes, at least one.
    res.total = spans.size();
    qint64 from = 0, to = 0, bytes = 0;
    if (q.fromTail) {
        to = res.total;
        from = to;
        while (from > 0 && to - from < q.maxEntries) {
            const qint64 len = spans[from - 1].end - spans[from - 1].start;
            if (to - from > 0 && bytes + len > q.maxBytes)
                break;
            bytes += len;
            --from;
        }
    } else {
        from = qMin(q.first, res.total);
        to = from;
        while (to < res.total && to - from < q.maxEntries) {
            const qint64 len = spans[to].end - spans[to].start;
            if (to - from > 0 && bytes + len > q.maxBytes)
                break;
            bytes += len;
            ++to;
        }
    }
    res.first = from;

    // Each stream's lines in the window are consecutive in its file: one read per stream.
    QByteArray data[3];
    qint64 base[3] = {0, 0, 0};
    for (int s : {1, 2}) {
        qint64 lo = -1, hi = -1;
        for (qint64 i = from; i < to; ++i)
            if (spans[i].stream == s) {
                if (lo < 0)
                    lo = spans[i].start;
                hi = spans[i].start + qMin(spans[i].end - spans[i].start, q.maxBytes);
            }
        if (lo < 0)
            continue;
        QFile f(streamPath(logDir, s));
        if (!f.open(QIODevice::ReadOnly) || !f.seek(lo)) {
            res.ok = false;
            res.error = QStringLiteral("cannot read %1: %2").arg(f.fileName(), f.errorString());
            return res;
        }
        base[s] = lo;
        data[s] = f.read(hi - lo);
    }
    res.entries.reserve(to - from);
    for (qint64 i = from; i < to; ++i) {
        const Span &sp = spans[i];
        LogLine l;
        l.timestampMs = sp.timeMs;
        l.stream = sp.stream;
        l.length = sp.end - sp.start;
        l.exactTime = sp.exact;
        l.text = data[sp.stream].mid(sp.start - base[sp.stream], qMin(l.length, q.maxBytes));
        res.entries.append(std::move(l));
    }
    return res;
}

} // namespace magpie
