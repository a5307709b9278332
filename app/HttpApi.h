// HttpApi.h — the local JSON API (docs/api.md) on loopback only, served by our own bounded
// HTTP/1.1 front (app/http/): the route, the body limit and the API key are decided from the
// request head before any body is read. Both the headless server and the desktop window serve
// the API through this class.
//
// Every route except GET /api/v1/health needs `Authorization: Bearer <KEY>`; errors are
// {"error": {"code", "message", "field"?}}. Everything runs on the thread that owns the
// Executor (the main thread). Requests that wait — log long-polls (`wait=S`) and workspace file
// operations, which boot a VM through the workspace's queue — keep their responder and answer
// later from the event loop; a client that hangs up meanwhile is simply dropped.
//
// The routes live in JobRoutes, WorkspaceRoutes and LogWaiters; this class wires them, checks
// the key and answers health, pool and unknown routes.
#pragma once

#include "http/HttpLimits.h"
#include "http/Router.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <memory>

namespace magpie {

class Executor;
class JobRoutes;
class LogWaiters;
class WorkspaceRoutes;
namespace http { class HttpServer; }

class HttpApi : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kMaxBodyBytes = http::RouteOptions::kDefaultMaxBody; // 413 above it

    HttpApi(Executor &executor, QByteArray apiKey, QObject *parent = nullptr);
    HttpApi(Executor &executor, QByteArray apiKey, const http::HttpLimits &limits, QObject *parent = nullptr);
    ~HttpApi() override;

    // Listens on a loopback address (port 0: a free port). False with *error when the address
    // is not a loopback one or the port cannot be bound.
    bool listen(const QHostAddress &address, quint16 port, QString *error);
    // Stops accepting connections and answers held log requests now.
    void close();
    bool isListening() const { return m_port != 0; }
    quint16 port() const { return m_port; }
    QString url() const; // e.g. http://127.0.0.1:8123
    int openConnections() const;

    static QString version(); // the app version reported by /api/v1/health

private:
    void setupRoutes();

    Executor &m_exec;
    QByteArray m_key;
    http::Router m_router;
    std::unique_ptr<LogWaiters> m_logs;
    std::unique_ptr<JobRoutes> m_jobs;
    std::unique_ptr<WorkspaceRoutes> m_workspaces;
    std::unique_ptr<http::HttpServer> m_server;
    QHostAddress m_address;
    quint16 m_port = 0;
};

} // namespace magpie
