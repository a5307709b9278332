#include "QmpClient.h"

#include "LocalSockets.h"

#include <QJsonDocument>
#include <QLocalServer>
#include <QLocalSocket>

namespace magpie {

QmpClient::QmpClient(QString socketPath, QObject *parent)
    : QObject(parent), m_path(std::move(socketPath))
{
    m_commandTimer.setSingleShot(true);
    connect(&m_commandTimer, &QTimer::timeout, this, [this] {
        if (m_sent == 0 || m_queue.isEmpty())
            return;
        Pending p = m_queue.takeFirst();
        --m_sent;
        // The monitor answers in order: a late answer would be taken for the next command's.
        // Give up on this connection.
        const QString why = QStringLiteral("QEMU's monitor did not answer '%1' within %2 ms").arg(p.command).arg(p.timeoutMs);
        if (p.done)
            p.done(why, {});
        failPending(why);
    });
}

bool QmpClient::listen(QString *error)
{
    QLocalServer::removeServer(m_path);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(m_path)) {
        *error = QStringLiteral("cannot listen on %1: %2").arg(m_path, m_server->errorString());
        return false;
    }
    connect(m_server, &QLocalServer::newConnection, this, &QmpClient::onNewConnection);
    return true;
}

void QmpClient::onNewConnection()
{
    QLocalSocket *s = takeFirstConnection(m_server, m_sock);
    if (!s)
        return;
    m_sock = s;
    connect(m_sock, &QLocalSocket::readyRead, this, &QmpClient::onReadyRead);
    connect(m_sock, &QLocalSocket::disconnected, this, [this] { failPending(QStringLiteral("QEMU's monitor closed the connection")); });
    m_server->close(); // nobody else gets in
    // Not waiting for the greeting nor for each answer: the monitor reads what waits in the
    // socket once it has greeted, and answers in order (each round trip costs a starting QEMU
    // several milliseconds).
    m_sock->write("{\"execute\":\"qmp_capabilities\"}\n");
    sendNext();
}

void QmpClient::execute(const QString &command, const QJsonObject &arguments, Done done, int timeoutMs)
{
    enqueue(command, arguments, [done = std::move(done)](const QString &err, const QJsonValue &v) {
        if (done)
            done(err, v.toObject());
    }, timeoutMs);
}

void QmpClient::executeForArray(const QString &command, DoneArray done, int timeoutMs)
{
    enqueue(command, {}, [done = std::move(done)](const QString &err, const QJsonValue &v) {
        if (done)
            done(err, v.toArray());
    }, timeoutMs);
}

void QmpClient::enqueue(const QString &command, const QJsonObject &arguments, std::function<void(const QString &, const QJsonValue &)> done,
                        int timeoutMs)
{
    QJsonObject o{{QStringLiteral("execute"), command}};
    if (!arguments.isEmpty())
        o.insert(QStringLiteral("arguments"), arguments);
    m_queue.append({command, QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n', std::move(done), timeoutMs});
    sendNext();
}

void QmpClient::sendNext()
{
    if (!m_sock || m_sock->state() != QLocalSocket::ConnectedState || m_handshakeFailed)
        return;
    if (m_sent < m_queue.size()) {
        for (qsizetype i = m_sent; i < m_queue.size(); ++i)
            m_sock->write(m_queue.at(i).json);
        m_sent = m_queue.size();
        m_sock->flush();
    }
    armTimer();
}

// The oldest command sent is timed from when the monitor is ready or its predecessor answered.
void QmpClient::armTimer()
{
    if (m_ready && m_sent > 0 && !m_commandTimer.isActive())
        m_commandTimer.start(m_queue.first().timeoutMs);
}

void QmpClient::failPending(const QString &why)
{
    m_commandTimer.stop();
    m_sent = 0;
    const auto queue = std::move(m_queue);
    m_queue.clear();
    for (const Pending &p : queue)
        if (p.done)
            p.done(why, {});
    if (m_ready || m_greeted) {
        m_ready = false;
        m_greeted = false;
        if (m_sock)
            m_sock->abort();
    }
}

void QmpClient::onReadyRead()
{
    m_buf += m_sock->readAll();
    if (m_buf.size() > 4 * 1024 * 1024) { // a monitor line is never this long
        m_buf.clear();
        failPending(QStringLiteral("QEMU's monitor sent an oversized message"));
        return;
    }
    qsizetype nl;
    while ((nl = m_buf.indexOf('\n')) >= 0) {
        const QByteArray line = m_buf.left(nl);
        m_buf.remove(0, nl + 1);
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        if (o.contains(QStringLiteral("QMP"))) { // greeting (qmp_capabilities went out already)
            m_greeted = true;
            continue;
        }
        if (o.contains(QStringLiteral("event"))) {
            emit event(o.value(QStringLiteral("event")).toString(), o.value(QStringLiteral("data")).toObject());
            continue;
        }
        const bool isError = o.contains(QStringLiteral("error"));
        if (!m_ready) {
            if (isError) {
                m_handshakeFailed = true;
                emit failed(QStringLiteral("QEMU's monitor refused the handshake"));
                failPending(QStringLiteral("QEMU's monitor refused the handshake"));
                return;
            }
            m_ready = true;
            emit ready();
            armTimer();
            continue;
        }
        if (m_sent == 0 || m_queue.isEmpty())
            continue;
        m_commandTimer.stop();
        Pending p = m_queue.takeFirst();
        --m_sent;
        const QString err = isError ? o.value(QStringLiteral("error")).toObject().value(QStringLiteral("desc")).toString() : QString();
        if (p.done)
            p.done(isError && err.isEmpty() ? QStringLiteral("unknown QMP error") : err, o.value(QStringLiteral("return")));
        armTimer();
    }
}

} // namespace magpie
