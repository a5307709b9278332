// CappedLog.h — an append-only diagnostics file with a size cap: once `cap` bytes are written,
// one marker line says so and everything after it is counted but dropped. Used for a job's
// vm.log (QEMU's command line, agent LOG lines, the console tail), whose content the guest
// partly controls.
#pragma once

#include <QByteArray>
#include <QString>

namespace magpie {

class CappedLog
{
public:
    static constexpr qint64 kDefaultCap = 1024 * 1024;

    explicit CappedLog(QString path = QString(), qint64 cap = kDefaultCap);
    void setPath(const QString &path); // re-reads the size already on disk
    QString path() const { return m_path; }
    bool isEmpty() const { return m_path.isEmpty(); }

    void append(const QByteArray &data);
    // Appends the end of `data` that still fits, after a line saying how much was left out.
    void appendTail(const QByteArray &header, const QByteArray &data);
    qint64 written() const { return m_written; }
    qint64 dropped() const { return m_dropped; }
    qint64 remaining() const { return qMax<qint64>(0, m_cap - m_written); }

private:
    void write(const QByteArray &data);
    QString m_path;
    qint64 m_cap;
    qint64 m_written = 0;
    qint64 m_dropped = 0;
    bool m_marked = false;
};

} // namespace magpie
