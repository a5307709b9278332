#include "HttpApi.h"

#include "ApiKey.h"
#include "ApiReplies.h"
#include "Executor.h"
#include "JobRoutes.h"
#include "LogWaiters.h"
#include "WorkspaceLifecycleRoutes.h"
#include "WorkspaceRoutes.h"
#include "http/HttpServer.h"

#include <QLoggingCategory>

#ifndef MAGPIE_VERSION
#define MAGPIE_VERSION "0.1.0"
#endif

Q_LOGGING_CATEGORY(lcHttp, "magpie.http", QtWarningMsg)

namespace magpie {

using http::HttpRequest;
using http::HttpResponder;
using http::HttpResponse;

namespace {
// The key check, made from the request head (before any body is read). A 401 says nothing
// about whether the job or workspace named in the path exists.
std::optional<HttpResponse> checkKey(const QByteArray &key, const HttpRequest &request)
{
    const QByteArray auth = request.header("authorization").trimmed();
    static const QByteArray scheme("bearer ");
    if (auth.isEmpty())
        return api::error(401, QStringLiteral("unauthorized"),
                          QStringLiteral("missing API key: send 'Authorization: Bearer <key>' (the key is in the data folder's api-key file or MAGPIE_API_KEY)"));
    if (auth.size() <= scheme.size() || auth.left(scheme.size()).toLower() != scheme ||
        !ApiKey::equals(key, auth.mid(scheme.size()).trimmed()))
        return api::error(401, QStringLiteral("unauthorized"), QStringLiteral("wrong API key"));
    return std::nullopt;
}
} // namespace

HttpApi::HttpApi(Executor &executor, QByteArray apiKey, QObject *parent)
    : HttpApi(executor, std::move(apiKey), http::HttpLimits(), parent)
{
}

HttpApi::HttpApi(Executor &executor, QByteArray apiKey, const http::HttpLimits &limits, QObject *parent)
    : QObject(parent), m_exec(executor), m_key(std::move(apiKey)), m_logs(std::make_unique<LogWaiters>(executor)),
      m_jobs(std::make_unique<JobRoutes>(executor, *m_logs)), m_workspaces(std::make_unique<WorkspaceRoutes>(executor)),
      m_server(std::make_unique<http::HttpServer>(m_router, limits))
{
    setupRoutes();
    m_server->setGate([this](const HttpRequest &request, const http::RouteOptions &) { return checkKey(m_key, request); });
    m_server->setNotFound([](const HttpRequest &request) {
        qCDebug(lcHttp) << "no route:" << request.method << request.path;
        return api::notFound(QStringLiteral("no such route: %1 %2 (see docs/api.md)")
                                 .arg(QString::fromLatin1(request.method.left(16)), QString::fromUtf8(request.path.left(200))));
    });
}

HttpApi::~HttpApi()
{
    close();
    m_server.reset(); // connections go before the routes they call
}

QString HttpApi::version()
{
    return QStringLiteral(MAGPIE_VERSION);
}

void HttpApi::setupRoutes()
{
    http::RouteOptions open;
    open.needsAuth = false;
    open.maxBodyBytes = 0;
    m_router.add("GET", QStringLiteral("/api/v1/health"), [](HttpRequest &, HttpResponder r) {
        r.send(api::json(200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}, {QStringLiteral("version"), version()}}));
    }, open);
    m_router.add("GET", QStringLiteral("/api/v1/pool"), [this](HttpRequest &, HttpResponder r) {
        r.send(api::json(200, m_exec.pool().toJson()));
    });
    m_jobs->install(m_router);
    m_workspaces->install(m_router);
    WorkspaceLifecycleRoutes::installInto(m_exec, m_router); // issue 11
}

bool HttpApi::listen(const QHostAddress &address, quint16 port, QString *err)
{
    if (!address.isLoopback()) {
        *err = QStringLiteral("refusing to listen on %1: the API is only served on loopback addresses (127.0.0.1 or ::1)")
                   .arg(address.toString());
        return false;
    }
    if (!m_server->listen(address, port, err))
        return false;
    m_address = address;
    m_port = m_server->port();
    return true;
}

void HttpApi::close()
{
    if (m_server)
        m_server->close();
    m_port = 0;
    if (m_logs)
        m_logs->answerAll();
}

QString HttpApi::url() const
{
    if (m_address.protocol() == QAbstractSocket::IPv6Protocol)
        return QStringLiteral("http://[%1]:%2").arg(m_address.toString()).arg(m_port);
    return QStringLiteral("http://%1:%2").arg(m_address.toString()).arg(m_port);
}

int HttpApi::openConnections() const
{
    return m_server ? m_server->connectionCount() : 0;
}

} // namespace magpie
