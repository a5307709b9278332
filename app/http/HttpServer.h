// HttpServer.h — a small HTTP/1.1 server on QTcpServer with the bounds of HttpLimits: at most
// maxConnections at once (the rest are answered 503 and closed), and per connection the limits
// HttpConnection enforces (head size and time, body limit per route, body rate, write stalls).
// Routes, their options and the gate (API key check) are decided from the request head before
// any body is read. Everything runs in the thread that owns the server.
#pragma once

#include "HttpConnection.h"
#include "HttpLimits.h"
#include "Router.h"

#include <QHostAddress>
#include <QObject>
#include <QSet>

class QTcpServer;

namespace magpie::http {

class HttpServer : public QObject
{
    Q_OBJECT
public:
    explicit HttpServer(const Router &router, HttpLimits limits = HttpLimits(), QObject *parent = nullptr);
    ~HttpServer() override;

    void setGate(std::function<std::optional<HttpResponse>(const HttpRequest &, const RouteOptions &)> gate);
    void setNotFound(std::function<HttpResponse(const HttpRequest &)> notFound);

    // Listens on address:port (0: a free port). False with *error when the port cannot be bound.
    bool listen(const QHostAddress &address, quint16 port, QString *error);
    // Stops accepting; open connections finish what they are doing.
    void close();
    // Closes every open connection now.
    void abortConnections();
    bool isListening() const;
    quint16 port() const;
    int connectionCount() const { return int(m_connections.size()); }
    int refusedCount() const { return m_refused; }
    const HttpLimits &limits() const { return m_ctx.limits; }

private:
    void onNewConnection();

    ConnectionContext m_ctx;
    QTcpServer *m_tcp = nullptr;
    QSet<HttpConnection *> m_connections;
    int m_refused = 0;
};

} // namespace magpie::http
