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
        if (!m_inFlight || m_queue.isEmpty())
            return;
        Pending p = m_queue.takeFirst();
        m_inFlight = false;
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
    if (!m_ready || m_inFlight || m_queue.isEmpty())
        return;
    m_inFlight = true;
    m_sock->write(m_queue.first().json);
    m_sock->flush();
    m_commandTimer.start(m_queue.first().timeoutMs);
}

void QmpClient::failPending(const QString &why)
{
    m_commandTimer.stop();
    m_inFlight = false;
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
        if (o.contains(QStringLiteral("QMP"))) { // greeting
            m_greeted = true;
            m_sock->write("{\"execute\":\"qmp_capabilities\"}\n");
            continue;
        }
        if (o.contains(QStringLiteral("event"))) {
            emit event(o.value(QStringLiteral("event")).toString(), o.value(QStringLiteral("data")).toObject());
            continue;
        }
        const bool isError = o.contains(QStringLiteral("error"));
        if (!m_ready) {
            if (isError) {
                emit failed(QStringLiteral("QEMU's monitor refused the handshake"));
                return;
            }
            m_ready = true;
            emit ready();
            sendNext();
            continue;
        }
        if (!m_inFlight || m_queue.isEmpty())
            continue;
        m_commandTimer.stop();
        Pending p = m_queue.takeFirst();
        m_inFlight = false;
        const QString err = isError ? o.value(QStringLiteral("error")).toObject().value(QStringLiteral("desc")).toString() : QString();
        if (p.done)
            p.done(isError && err.isEmpty() ? QStringLiteral("unknown QMP error") : err, o.value(QStringLiteral("return")));
        sendNext();
    }
}

} // namespace magpie
