#include "OutputDocument.h"

namespace magpie::ui {

namespace {
constexpr quint32 kErrBit = 0x80000000u;
}

OutputDocument::OutputDocument(QObject *parent)
    : QObject(parent)
{
}

void OutputDocument::appendBytes(int stream, const QByteArray &data)
{
    lines(stream).append(data);
}

void OutputDocument::place(int stream, int line)
{
    m_order.append((stream == 2 ? kErrBit : 0u) | quint32(line));
    m_placed[stream] = line + 1;
    ++m_orderRevision;
}

void OutputDocument::addRecords(const QList<LogIndexRecord> &records)
{
    for (const LogIndexRecord &r : records) {
        if (r.stream != 1 && r.stream != 2)
            continue;
        if (!m_pending.isEmpty()) {
            m_pending.append(r);
            continue;
        }
        OutputLines &l = lines(r.stream);
        const qint64 k = m_recorded[r.stream];
        if (k >= l.count() && !l.full()) {
            m_pending.append(r); // its bytes come in a later batch
            continue;
        }
        ++m_recorded[r.stream];
        if (k >= l.count())
            continue; // past what the view keeps
        l.setTime(int(k), r.timeMs);
        if (k == m_placed[r.stream])
            place(r.stream, int(k));
    }
}

void OutputDocument::endBatch()
{
    if (!m_pending.isEmpty()) {
        const QList<LogIndexRecord> again = std::exchange(m_pending, {});
        addRecords(again);
        m_pending.clear(); // records of lines that do not exist: a damaged index, ignored
    }
    for (int s : {1, 2})
        for (int k = m_placed[s]; k < lines(s).count(); ++k)
            place(s, k);
    emit changed();
}

void OutputDocument::finish()
{
    m_out.finish();
    m_err.finish();
    m_pending.clear();
    endBatch();
}

void OutputDocument::clear()
{
    m_out.clear();
    m_err.clear();
    m_styles.clear();
    m_order = QList<quint32>();
    m_pending.clear();
    for (int s : {0, 1, 2}) {
        m_recorded[s] = 0;
        m_placed[s] = 0;
    }
    ++m_orderRevision;
    emit changed();
}

int OutputDocument::rowCount(View view) const
{
    switch (view) {
    case View::Stdout: return m_out.count();
    case View::Stderr: return m_err.count();
    case View::Combined: break;
    }
    return int(m_order.size());
}

OutputDocument::Row OutputDocument::row(View view, int r) const
{
    switch (view) {
    case View::Stdout: return {1, r};
    case View::Stderr: return {2, r};
    case View::Combined: break;
    }
    const quint32 v = r >= 0 && r < m_order.size() ? m_order[r] : 0;
    return {v & kErrBit ? 2 : 1, int(v & ~kErrBit)};
}

int OutputDocument::maxLength(View view) const
{
    switch (view) {
    case View::Stdout: return m_out.maxLength();
    case View::Stderr: return m_err.maxLength();
    case View::Combined: break;
    }
    return qMax(m_out.maxLength(), m_err.maxLength());
}

QString OutputDocument::plainText(View view) const
{
    if (view == View::Stdout)
        return m_out.plainText();
    if (view == View::Stderr)
        return m_err.plainText();
    QString out;
    const int n = rowCount(view);
    for (int r = 0; r < n; ++r) {
        const Row rw = row(view, r);
        out += lines(rw.stream).text(rw.line);
        const bool last = r + 1 == n;
        const OutputLines &l = lines(rw.stream);
        if (!last || (!l.isOpen(rw.line) && (rw.line + 1 < l.count() || l.lastTerminated())))
            out += QLatin1Char('\n');
    }
    return out;
}

} // namespace magpie::ui
