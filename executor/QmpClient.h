// QmpClient.h — a minimal QEMU Machine Protocol client over a unix socket: listens on it before
// QEMU starts (QEMU connects as it starts: no polling for its socket), negotiates capabilities
// and runs commands in order — written at once (pipelined: the monitor answers in order), even
// before its greeting — each answered by a callback within a timeout; asynchronous
// events (BLOCK_IO_ERROR, STOP, …) are passed on as a signal.
#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>
#include <functional>

class QLocalServer;
class QLocalSocket;

namespace magpie {

class QmpClient : public QObject
{
    Q_OBJECT
public:
    // The callback gets an empty string on success, else QEMU's error description (or that
    // the command timed out or the monitor went away).
    using Done = std::function<void(const QString &error, const QJsonObject &result)>;
    static constexpr int kDefaultCommandTimeoutMs = 10000;

    explicit QmpClient(QString socketPath, QObject *parent = nullptr);
    // Before QEMU starts; QEMU is told to connect to socketPath (see QemuCommand).
    bool listen(QString *error);
    bool isReady() const { return m_ready; }
    void execute(const QString &command, const QJsonObject &arguments, Done done, int timeoutMs = kDefaultCommandTimeoutMs);
    // For the commands that return a list (query-block, …); no arguments.
    using DoneArray = std::function<void(const QString &error, const QJsonArray &result)>;
    void executeForArray(const QString &command, DoneArray done, int timeoutMs = kDefaultCommandTimeoutMs);

signals:
    void ready();
    void failed(const QString &error);
    void event(const QString &name, const QJsonObject &data);

private:
    void onNewConnection();
    void onReadyRead();
    void sendNext();
    void armTimer();
    void enqueue(const QString &command, const QJsonObject &arguments, std::function<void(const QString &, const QJsonValue &)> done,
                 int timeoutMs);
    void failPending(const QString &why);
    QString m_path;
    QLocalServer *m_server = nullptr;
    QLocalSocket *m_sock = nullptr;
    QTimer m_commandTimer;
    bool m_greeted = false;
    bool m_ready = false;
    bool m_handshakeFailed = false;
    qsizetype m_sent = 0; // the first m_sent commands of m_queue are written, waiting for answers
    QByteArray m_buf;
    struct Pending {
        QString command;
        QByteArray json;
        std::function<void(const QString &, const QJsonValue &)> done;
        int timeoutMs = kDefaultCommandTimeoutMs;
    };
    QList<Pending> m_queue;
};

} // namespace magpie
