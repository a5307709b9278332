#include "StreamTail.h"

#include "Executor.h"

namespace magpie {

LogTail StreamTail::split(const QByteArray &data, qint64 dataOffset, qint64 totalBytes, int stream, int maxLines)
{
    LogTail t;
    t.totalBytes = totalBytes;
    qsizetype pos = 0;
    if (dataOffset > 0) {
        // The first line began before what was read: drop its end.
        const qsizetype nl = data.indexOf('\n');
        pos = nl < 0 ? data.size() : nl + 1;
    }
    while (pos < data.size()) {
        qsizetype nl = data.indexOf('\n', pos);
        const qsizetype end = nl < 0 ? data.size() : nl;
        QByteArray line = data.mid(pos, end - pos);
        if (line.endsWith('\r'))
            line.chop(1);
        t.lines.append(TextLine{stream, dataOffset + pos, QString::fromUtf8(line)});
        pos = nl < 0 ? data.size() : nl + 1;
    }
    if (t.lines.size() > maxLines)
        t.lines.remove(0, t.lines.size() - maxLines);
    t.omittedBytes = t.lines.isEmpty() ? totalBytes : t.lines.first().offset;
    return t;
}

LogTail StreamTail::tail(const Executor &executor, const QString &requestId, int stream, int maxLines, qint64 maxBytes)
{
    // An offset past the end is answered from the end: that gives the size.
    const qint64 size = executor.readLog(requestId, stream, std::numeric_limits<qint64>::max() / 2, 0).size;
    const qint64 from = qMax<qint64>(0, size - maxBytes);
    const LogChunk c = executor.readLog(requestId, stream, from, maxBytes);
    return split(c.data, c.offset, c.size, stream, maxLines);
}

} // namespace magpie
