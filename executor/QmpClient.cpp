#include "QmpClient.h"

#include <QJsonDocument>
#include <QLocalSocket>

namespace magpie {

QmpClient::QmpClient(QString socketPath, QObject *parent)
    : QObject(parent), m_path(std::move(socketPath))
{
    m_retry.setInterval(50);
    connect(&m_retry, &QTimer::timeout, this, &QmpClient::tryConnect);
}

void QmpClient::connectToQemu(int timeoutMs)
{
    m_attemptsLeft = qMax(1, timeoutMs / 50);
    tryConnect();
}

void QmpClient::tryConnect()
{
    m_retry.stop();
    if (m_sock)
        m_sock->deleteLater();
    m_sock = new QLocalSocket(this);
    connect(m_sock, &QLocalSocket::readyRead, this, &QmpClient::onReadyRead);
    connect(m_sock, &QLocalSocket::errorOccurred, this, [this, s = m_sock](QLocalSocket::LocalSocketError) {
        if (s != m_sock || m_greeted)
            return;
        if (--m_attemptsLeft > 0)
            m_retry.start();
        else
            emit failed(QStringLiteral("cannot connect to QEMU's monitor at %1: %2").arg(m_path, s->errorString()));
    });
    m_sock->connectToServer(m_path);
}

void QmpClient::execute(const QString &command, const QJsonObject &arguments, Done done)
{
    QJsonObject o{{QStringLiteral("execute"), command}};
    if (!arguments.isEmpty())
        o.insert(QStringLiteral("arguments"), arguments);
    m_queue.append({QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n', std::move(done)});
    sendNext();
}

void QmpClient::sendNext()
{
    if (!m_ready || m_inFlight || m_queue.isEmpty())
        return;
    m_inFlight = true;
    m_sock->write(m_queue.first().json);
    m_sock->flush();
}

void QmpClient::onReadyRead()
{
    m_buf += m_sock->readAll();
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
        if (o.contains(QStringLiteral("event")))
            continue;
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
        Pending p = m_queue.takeFirst();
        m_inFlight = false;
        const QString err = isError ? o.value(QStringLiteral("error")).toObject().value(QStringLiteral("desc")).toString() : QString();
        if (p.done)
            p.done(isError && err.isEmpty() ? QStringLiteral("unknown QMP error") : err, o.value(QStringLiteral("return")).toObject());
        sendNext();
    }
}

} // namespace magpie
