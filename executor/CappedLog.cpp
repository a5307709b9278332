#include "CappedLog.h"

#include <QFile>
#include <QFileInfo>

namespace magpie {

CappedLog::CappedLog(QString path, qint64 cap)
    : m_cap(cap)
{
    setPath(path);
}

void CappedLog::setPath(const QString &path)
{
    m_path = path;
    m_written = path.isEmpty() ? 0 : QFileInfo(path).size();
    m_marked = m_written >= m_cap;
}

void CappedLog::write(const QByteArray &data)
{
    QFile f(m_path);
    if (!f.open(QIODevice::Append))
        return;
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    m_written += f.write(data);
}

void CappedLog::append(const QByteArray &data)
{
    if (m_path.isEmpty() || data.isEmpty())
        return;
    const qint64 room = remaining();
    if (data.size() <= room) {
        write(data);
        return;
    }
    if (room > 0)
        write(data.left(room));
    m_dropped += data.size() - room;
    if (!m_marked) {
        m_marked = true;
        QFile f(m_path);
        if (f.open(QIODevice::Append))
            f.write(QByteArrayLiteral("\n[magpie: vm.log truncated: it reached ") + QByteArray::number(m_cap) +
                    QByteArrayLiteral(" bytes; later diagnostics are dropped]\n"));
    }
}

void CappedLog::appendTail(const QByteArray &header, const QByteArray &data)
{
    if (m_path.isEmpty())
        return;
    const qint64 room = remaining() - header.size() - 80;
    if (room <= 0) {
        append(header); // marks the cap when it is reached
        m_dropped += data.size();
        return;
    }
    if (data.size() <= room) {
        append(header + data);
        return;
    }
    append(header + QByteArrayLiteral("[magpie: ") + QByteArray::number(data.size() - room) +
           QByteArrayLiteral(" earlier bytes left out]\n") + data.right(room));
}

} // namespace magpie
