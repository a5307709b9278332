// ConsoleCapture.h — the VM's serial console, read through a unix socket that QEMU connects to.
// It keeps only the last kKeepBytes (the tail is what explains a failed boot) and counts the
// rest, so a guest writing to /dev/ttyS0 without end costs the host neither disk nor memory.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

class QLocalServer;
class QLocalSocket;

namespace magpie {

class ConsoleCapture : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kKeepBytes = 1024 * 1024;

    explicit ConsoleCapture(QObject *parent = nullptr);
    ~ConsoleCapture() override;
    // Listens at `path` (removing a stale socket there). False with *error when it cannot.
    bool listen(const QString &path, QString *error);
    void close();
    QByteArray tail() const;          // the last kKeepBytes at most
    qint64 totalBytes() const { return m_total; }

private:
    void onReadyRead();
    QLocalServer *m_server = nullptr;
    QLocalSocket *m_sock = nullptr;
    QByteArray m_buf;                 // grows to 2 x kKeepBytes, then keeps its last kKeepBytes
    qint64 m_total = 0;
};

} // namespace magpie
