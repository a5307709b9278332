#include "HttpServer.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcHttpServer, "magpie.http.server", QtWarningMsg)

namespace magpie::http {

HttpServer::HttpServer(const Router &router, HttpLimits limits, QObject *parent) : QObject(parent)
{
    m_ctx.router = &router;
    m_ctx.limits = limits;
}

HttpServer::~HttpServer()
{
    close();
    abortConnections();
}

void HttpServer::setGate(std::function<std::optional<HttpResponse>(const HttpRequest &, const RouteOptions &)> gate)
{
    m_ctx.gate = std::move(gate);
}

void HttpServer::setNotFound(std::function<HttpResponse(const HttpRequest &)> notFound)
{
    m_ctx.notFound = std::move(notFound);
}

bool HttpServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    close();
    auto *tcp = new QTcpServer(this);
    if (!tcp->listen(address, port)) {
        if (error)
            *error = QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(tcp->errorString());
        delete tcp;
        return false;
    }
    connect(tcp, &QTcpServer::newConnection, this, &HttpServer::onNewConnection);
    m_tcp = tcp;
    return true;
}

void HttpServer::close()
{
    if (!m_tcp)
        return;
    m_tcp->close();
    m_tcp->deleteLater();
    m_tcp = nullptr;
}

void HttpServer::abortConnections()
{
    const auto all = m_connections.values();
    for (HttpConnection *c : all)
        c->abort();
}

bool HttpServer::isListening() const
{
    return m_tcp && m_tcp->isListening();
}

quint16 HttpServer::port() const
{
    return m_tcp ? m_tcp->serverPort() : 0;
}

void HttpServer::onNewConnection()
{
    while (m_tcp && m_tcp->hasPendingConnections()) {
        QTcpSocket *socket = m_tcp->nextPendingConnection();
        if (!socket)
            break;
        if (int(m_connections.size()) >= m_ctx.limits.maxConnections) {
            // Refused: a short answer, no reading, closed. (The client may see a reset instead
            // when it had already sent its request; either way it is not served.)
            ++m_refused;
            qCDebug(lcHttpServer) << "refusing a connection:" << m_connections.size() << "open";
            const QByteArray body = QJsonDocument(QJsonObject{
                {QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), QStringLiteral("unavailable")},
                                                      {QStringLiteral("message"),
                                                       QStringLiteral("too many connections (at most %1 at once)").arg(m_ctx.limits.maxConnections)}}}})
                                        .toJson(QJsonDocument::Compact);
            socket->setParent(this);
            socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                          QByteArray::number(body.size()) + "\r\n\r\n" + body);
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            socket->disconnectFromHost();
            if (socket->state() == QAbstractSocket::UnconnectedState)
                socket->deleteLater();
            continue;
        }
        auto *c = new HttpConnection(socket, m_ctx, this);
        m_connections.insert(c);
        connect(c, &HttpConnection::finished, this, [this, c] { m_connections.remove(c); });
    }
}

} // namespace magpie::http
