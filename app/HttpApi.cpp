#include "HttpApi.h"

#include "ApiKey.h"
#include "Executor.h"
#include "JobRecord.h"
#include "JobRequest.h"
#include "WorkspaceStore.h"

#include <QDeadlineTimer>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QPointer>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

#ifndef MAGPIE_VERSION
#define MAGPIE_VERSION "0.1.0"
#endif

Q_LOGGING_CATEGORY(lcHttp, "magpie.http", QtWarningMsg)

namespace magpie {

using Method = QHttpServerRequest::Method;
using StatusCode = QHttpServerResponder::StatusCode;

// A responder kept until an answer is ready. QHttpServerResponder holds a plain pointer to its
// socket, and QtHttpServer deletes the socket when the client hangs up, so the socket is
// watched here and nothing is written once it is gone.
struct HttpApi::Reply {
    explicit Reply(QHttpServerResponder &&r) : responder(std::move(r)), socket(responder.socket()) {}
    bool alive() const { return !sent && socket && socket->state() == QAbstractSocket::ConnectedState; }
    void send(QHttpServerResponse &&response)
    {
        if (!alive())
            return;
        sent = true;
        response.write(std::move(responder));
        socket->flush(); // hand the bytes to the kernel now (matters when the app is about to stop)
    }
    QHttpServerResponder responder;
    QPointer<QTcpSocket> socket;
    bool sent = false;
};

struct HttpApi::Waiter {
    quint64 id = 0;
    QString jobId;
    int stream = 1;
    qint64 offset = 0;
    std::shared_ptr<Reply> reply;
    QTimer *timer = nullptr;
    QMetaObject::Connection socketGone;
};

namespace {

QHttpServerResponse json(int status, const QJsonObject &o)
{
    QHttpServerResponse r(QByteArrayLiteral("application/json"), QJsonDocument(o).toJson(QJsonDocument::Compact),
                          static_cast<StatusCode>(status));
    r.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    return r;
}

QHttpServerResponse error(int status, const QString &code, const QString &message, const QString &field = QString())
{
    QJsonObject e{{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
    if (!field.isEmpty())
        e.insert(QStringLiteral("field"), field);
    QHttpServerResponse r = json(status, QJsonObject{{QStringLiteral("error"), e}});
    if (status == 401)
        r.addHeader(QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"magpie-desktop\""));
    return r;
}

QHttpServerResponse error(const ExecError &e)
{
    return error(e.httpStatus, e.code.isEmpty() ? QStringLiteral("internal") : e.code, e.message);
}

QHttpServerResponse badRequest(const QString &message, const QString &field = QString())
{
    return error(400, QStringLiteral("invalid_request"), message, field);
}

QHttpServerResponse notFound(const QString &message)
{
    return error(404, QStringLiteral("not_found"), message);
}

void send(QHttpServerResponder &&responder, QHttpServerResponse &&response)
{
    response.write(std::move(responder));
}

QString methodName(Method m)
{
    switch (m) {
    case Method::Get: return QStringLiteral("GET");
    case Method::Put: return QStringLiteral("PUT");
    case Method::Delete: return QStringLiteral("DELETE");
    case Method::Post: return QStringLiteral("POST");
    case Method::Head: return QStringLiteral("HEAD");
    case Method::Options: return QStringLiteral("OPTIONS");
    case Method::Patch: return QStringLiteral("PATCH");
    case Method::Connect: return QStringLiteral("CONNECT");
    case Method::Trace: return QStringLiteral("TRACE");
    default: return QStringLiteral("UNKNOWN");
    }
}

QByteArray header(const QHttpServerRequest &request, const QByteArray &name)
{
    for (const auto &h : request.headers())
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return QByteArray();
}

// The query of a request as name -> value, each value percent-decoded exactly once ('+'
// stands for a space, as in HTML forms; send %2B for a plus sign). The first occurrence of a
// name wins.
class Query
{
public:
    explicit Query(const QUrl &url)
    {
        const QByteArray q = url.query(QUrl::FullyEncoded).toLatin1();
        for (const QByteArray &part : q.split('&')) {
            if (part.isEmpty())
                continue;
            const int eq = part.indexOf('=');
            QByteArray name = eq < 0 ? part : part.left(eq);
            QByteArray value = eq < 0 ? QByteArray() : part.mid(eq + 1);
            name.replace('+', ' ');
            value.replace('+', ' ');
            const QString n = QString::fromUtf8(QByteArray::fromPercentEncoding(name));
            if (!m_items.contains(n))
                m_items.insert(n, QString::fromUtf8(QByteArray::fromPercentEncoding(value)));
        }
    }
    bool has(const QString &name) const { return m_items.contains(name); }
    QString value(const QString &name) const { return m_items.value(name); }

    // An integer parameter within [min, max]; `def` when absent. nullopt with *err otherwise.
    std::optional<qint64> integer(const QString &name, qint64 min, qint64 max, qint64 def, QString *err) const
    {
        if (!has(name))
            return def;
        const QString v = value(name);
        static const QRegularExpression re(QStringLiteral("^[+-]?[0-9]{1,15}$"));
        bool ok = re.match(v).hasMatch();
        const qint64 n = ok ? v.toLongLong(&ok) : 0;
        if (!ok || n < min || n > max) {
            const QString range = max >= (qint64(1) << 52) ? QStringLiteral("%1 or more").arg(min)
                                                             : QStringLiteral("from %1 to %2").arg(min).arg(max);
            *err = QStringLiteral("%1 must be a whole number %2 (got '%3')").arg(name, range, v.left(64));
            return std::nullopt;
        }
        return n;
    }

private:
    QHash<QString, QString> m_items;
};

std::optional<QHttpServerResponse> checkWorkspaceId(const QString &id)
{
    QString why;
    if (WorkspaceStore::isValidId(id, &why))
        return std::nullopt;
    return error(400, QStringLiteral("invalid_workspace_id"), why.isEmpty() ? QStringLiteral("'%1' is not a valid workspace id").arg(id.left(80)) : why,
                 QStringLiteral("workspace_id"));
}

QJsonObject entryJson(const FileEntry &e, bool withTime)
{
    QJsonObject o{
        {QStringLiteral("name"), e.name},
        {QStringLiteral("path"), e.path},
        {QStringLiteral("type"), e.type},
        {QStringLiteral("size"), double(e.size)},
    };
    if (withTime)
        o.insert(QStringLiteral("modified_at"), e.modifiedAt.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(e.modifiedAt));
    return o;
}

// Content-Disposition for a download: an ASCII fallback name plus the exact UTF-8 name (RFC 6266).
QByteArray contentDisposition(const QString &path)
{
    QString name = path.section(QLatin1Char('/'), -1);
    if (name.isEmpty())
        name = QStringLiteral("download");
    QByteArray ascii;
    for (QChar c : name) {
        const ushort u = c.unicode();
        ascii += (u >= 0x20 && u < 0x7f && u != '"' && u != '\\' && u != ';' && u != '%') ? char(u) : '_';
    }
    return QByteArrayLiteral("attachment; filename=\"") + ascii + QByteArrayLiteral("\"; filename*=UTF-8''") +
           name.toUtf8().toPercentEncoding();
}

} // namespace

HttpApi::HttpApi(Executor &executor, QByteArray apiKey, QObject *parent)
    : QObject(parent), m_exec(executor), m_key(std::move(apiKey)), m_server(new QHttpServer(this))
{
    setupRoutes();
    connect(&m_exec, &Executor::jobOutput, this, [this](const QString &id, int, const QByteArray &) { checkWaiters(id); });
    connect(&m_exec, &Executor::jobChanged, this, [this](const QString &id) { checkWaiters(id); });
    m_pollTimer.setInterval(1000);
    connect(&m_pollTimer, &QTimer::timeout, this, [this] {
        const auto all = m_waiters.values();
        for (const auto &w : all)
            tryAnswer(w, false);
    });
}

HttpApi::~HttpApi()
{
    close();
}

QString HttpApi::version()
{
    return QStringLiteral(MAGPIE_VERSION);
}

bool HttpApi::listen(const QHostAddress &address, quint16 port, QString *err)
{
    if (!address.isLoopback()) {
        *err = QStringLiteral("refusing to listen on %1: the API is only served on loopback addresses (127.0.0.1 or ::1)")
                   .arg(address.toString());
        return false;
    }
    auto *tcp = new QTcpServer(this);
    if (!tcp->listen(address, port)) {
        *err = QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(tcp->errorString());
        delete tcp;
        return false;
    }
    m_server->bind(tcp);
    m_address = address;
    m_port = tcp->serverPort();
    return true;
}

void HttpApi::close()
{
    for (QTcpServer *s : m_server->servers())
        s->close();
    m_port = 0;
    m_pollTimer.stop();
    const auto all = m_waiters.values();
    for (const auto &w : all)
        tryAnswer(w, true);
}

QString HttpApi::url() const
{
    if (m_address.protocol() == QAbstractSocket::IPv6Protocol)
        return QStringLiteral("http://[%1]:%2").arg(m_address.toString()).arg(m_port);
    return QStringLiteral("http://%1:%2").arg(m_address.toString()).arg(m_port);
}

bool HttpApi::admit(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    qCDebug(lcHttp) << methodName(request.method()) << request.url().toString(QUrl::FullyEncoded);
    const QByteArray auth = header(request, QByteArrayLiteral("Authorization")).trimmed();
    static const QByteArray scheme("bearer ");
    if (auth.isEmpty()) {
        send(std::move(responder), error(401, QStringLiteral("unauthorized"),
                                         QStringLiteral("missing API key: send 'Authorization: Bearer <key>' (the key is in the data folder's api-key file or MAGPIE_API_KEY)")));
        return false;
    }
    if (auth.size() <= scheme.size() || auth.left(scheme.size()).toLower() != scheme ||
        !ApiKey::equals(m_key, auth.mid(scheme.size()).trimmed())) {
        send(std::move(responder), error(401, QStringLiteral("unauthorized"), QStringLiteral("wrong API key")));
        return false;
    }
    if (request.body().size() > kMaxBodyBytes) {
        send(std::move(responder), error(413, QStringLiteral("payload_too_large"),
                                         QStringLiteral("the request body is %1 bytes; the limit is %2 bytes (2 MiB)")
                                             .arg(request.body().size()).arg(kMaxBodyBytes)));
        return false;
    }
    return true;
}

void HttpApi::setupRoutes()
{
    using Req = const QHttpServerRequest &;
    using Resp = QHttpServerResponder &&;

    m_server->route("/api/v1/health", Method::Get, [](Req, Resp responder) {
        send(std::move(responder), json(200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")},
                                                         {QStringLiteral("version"), version()}}));
    });
    m_server->route("/api/v1/jobs", Method::Get, [this](Req request, Resp responder) {
        if (admit(request, responder))
            getJobs(request, std::move(responder));
    });
    m_server->route("/api/v1/jobs", Method::Post, [this](Req request, Resp responder) {
        if (admit(request, responder))
            postJob(request, std::move(responder));
    });
    m_server->route("/api/v1/jobs/<arg>", Method::Get, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            getJob(id, std::move(responder));
    });
    m_server->route("/api/v1/jobs/<arg>/cancel", Method::Post, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            cancelJob(id, std::move(responder));
    });
    m_server->route("/api/v1/jobs/<arg>/logs", Method::Get, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            getLogs(id, request, std::move(responder));
    });
    m_server->route("/api/v1/workspaces", Method::Get, [this](Req request, Resp responder) {
        if (admit(request, responder))
            getWorkspaces(std::move(responder));
    });
    m_server->route("/api/v1/workspaces/<arg>", Method::Get, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            getWorkspace(id, std::move(responder));
    });
    m_server->route("/api/v1/workspaces/<arg>", Method::Delete, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            deleteWorkspace(id, std::move(responder));
    });
    m_server->route("/api/v1/workspaces/<arg>/files", Method::Get, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            listFiles(id, request, std::move(responder));
    });
    m_server->route("/api/v1/workspaces/<arg>/file", Method::Get, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            readFile(id, request, std::move(responder));
    });
    m_server->route("/api/v1/workspaces/<arg>/usage", Method::Get, [this](const QString &id, Req request, Resp responder) {
        if (admit(request, responder))
            diskUsage(id, request, std::move(responder));
    });
    m_server->route("/api/v1/pool", Method::Get, [this](Req request, Resp responder) {
        if (admit(request, responder))
            getPool(std::move(responder));
    });
    m_server->setMissingHandler([](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        qCDebug(lcHttp) << "no route:" << methodName(request.method()) << request.url().path();
        send(std::move(responder), notFound(QStringLiteral("no such route: %1 %2 (see docs/api.md)")
                                                .arg(methodName(request.method()), request.url().path(QUrl::FullyEncoded).left(200))));
    });
}

// ---------------------------------------------------------------- jobs

void HttpApi::getJobs(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const Query q(request.url());
    JobFilter f;
    QString err;
    const auto limit = q.integer(QStringLiteral("limit"), 1, kMaxListLimit, kDefaultListLimit, &err);
    if (!limit)
        return send(std::move(responder), badRequest(err, QStringLiteral("limit")));
    const auto offset = q.integer(QStringLiteral("offset"), 0, std::numeric_limits<int>::max(), 0, &err);
    if (!offset)
        return send(std::move(responder), badRequest(err, QStringLiteral("offset")));
    f.limit = int(*limit);
    f.offset = int(*offset);
    const QString status = q.value(QStringLiteral("status"));
    if (!status.isEmpty()) {
        JobStatus s;
        if (!parseStatus(status, &s))
            return send(std::move(responder),
                        badRequest(QStringLiteral("status must be one of queued, running, completed, failed, cancelled, timed_out (got '%1')")
                                       .arg(status.left(64)),
                                   QStringLiteral("status")));
        f.status = s;
    }
    f.workspaceId = q.value(QStringLiteral("workspace_id"));
    if (!f.workspaceId.isEmpty())
        if (auto bad = checkWorkspaceId(f.workspaceId))
            return send(std::move(responder), std::move(*bad));
    const JobPage page = m_exec.jobs(f);
    QJsonArray arr;
    for (const JobRecord &j : page.jobs)
        arr.append(j.toJson(false));
    send(std::move(responder), json(200, QJsonObject{{QStringLiteral("jobs"), arr},
                                                     {QStringLiteral("total"), page.total},
                                                     {QStringLiteral("limit"), f.limit},
                                                     {QStringLiteral("offset"), f.offset}}));
}

void HttpApi::postJob(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const QByteArray body = request.body();
    if (body.trimmed().isEmpty())
        return send(std::move(responder),
                    badRequest(QStringLiteral("the request body is empty; send a JSON object such as {\"script\": \"echo hello\"}")));
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError)
        return send(std::move(responder),
                    badRequest(QStringLiteral("the request body is not valid JSON: %1 at byte %2").arg(pe.errorString()).arg(pe.offset)));
    if (!doc.isObject())
        return send(std::move(responder),
                    badRequest(QStringLiteral("the request body must be a JSON object such as {\"script\": \"echo hello\"}, not %1")
                                   .arg(doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a bare value"))));
    RequestError re;
    auto jr = JobRequest::fromJson(doc.object(), &re);
    if (!jr)
        return send(std::move(responder), error(re.httpStatus, re.code, re.message, re.field));
    jr->source = QStringLiteral("api");
    ExecError ee;
    const auto rec = m_exec.submit(*jr, &ee);
    if (!rec)
        return send(std::move(responder), error(ee));
    QHttpServerResponse r = json(202, rec->toJson(true));
    r.addHeader(QByteArrayLiteral("Location"), QByteArrayLiteral("/api/v1/jobs/") + rec->requestId.toUtf8());
    send(std::move(responder), std::move(r));
}

void HttpApi::getJob(const QString &id, QHttpServerResponder &&responder)
{
    const auto j = m_exec.job(id);
    if (!j)
        return send(std::move(responder), notFound(QStringLiteral("no job with request_id '%1'").arg(id.left(80))));
    send(std::move(responder), json(200, j->toJson(true)));
}

void HttpApi::cancelJob(const QString &id, QHttpServerResponder &&responder)
{
    ExecError e;
    if (!m_exec.cancel(id, &e))
        return send(std::move(responder), error(e));
    const auto j = m_exec.job(id);
    if (!j)
        return send(std::move(responder), notFound(QStringLiteral("no job with request_id '%1'").arg(id.left(80))));
    send(std::move(responder), json(200, j->toJson(true)));
}

void HttpApi::getLogs(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    const Query q(request.url());
    int stream = 1;
    if (q.has(QStringLiteral("stream"))) {
        const QString s = q.value(QStringLiteral("stream"));
        if (s == QLatin1String("stdout"))
            stream = 1;
        else if (s == QLatin1String("stderr"))
            stream = 2;
        else
            return send(std::move(responder),
                        badRequest(QStringLiteral("stream must be stdout or stderr (got '%1')").arg(s.left(64)), QStringLiteral("stream")));
    }
    QString err;
    const auto offset = q.integer(QStringLiteral("offset"), 0, qint64(1) << 53, 0, &err);
    if (!offset)
        return send(std::move(responder), badRequest(err, QStringLiteral("offset")));
    const auto wait = q.integer(QStringLiteral("wait"), 0, kMaxWaitSec, 0, &err);
    if (!wait)
        return send(std::move(responder), badRequest(err, QStringLiteral("wait")));
    if (!m_exec.job(id))
        return send(std::move(responder), notFound(QStringLiteral("no job with request_id '%1'").arg(id.left(80))));

    auto w = std::make_shared<Waiter>();
    w->id = ++m_nextWaiter;
    w->jobId = id;
    w->stream = stream;
    w->offset = *offset;
    w->reply = std::make_shared<Reply>(std::move(responder));
    if (*wait == 0) {
        tryAnswer(w, true);
        return;
    }
    if (tryAnswer(w, false))
        return;
    // Hold the request until output arrives, the job finishes or the wait is over.
    m_waiters.insert(w->id, w);
    w->timer = new QTimer(this);
    w->timer->setSingleShot(true);
    const quint64 wid = w->id;
    connect(w->timer, &QTimer::timeout, this, [this, wid] {
        if (auto it = m_waiters.find(wid); it != m_waiters.end())
            tryAnswer(it.value(), true);
    });
    w->timer->start(int(*wait) * 1000);
    if (w->reply->socket)
        w->socketGone = connect(w->reply->socket, &QObject::destroyed, this, [this, wid] { dropWaiter(wid); });
    if (!m_pollTimer.isActive())
        m_pollTimer.start();
}

bool HttpApi::tryAnswer(const std::shared_ptr<Waiter> &w, bool force)
{
    if (!w->reply->alive()) {
        dropWaiter(w->id);
        return true;
    }
    // The status is read before the log, so a finished job's log is complete when read.
    const auto job = m_exec.job(w->jobId);
    if (!job) {
        w->reply->send(notFound(QStringLiteral("no job with request_id '%1'").arg(w->jobId)));
        dropWaiter(w->id);
        return true;
    }
    const bool finished = isFinished(job->status);
    const LogChunk chunk = m_exec.readLog(w->jobId, w->stream, w->offset, kMaxLogChunk);
    if (!force && !finished && chunk.data.isEmpty())
        return false;
    const qint64 next = chunk.offset + chunk.data.size();
    QHttpServerResponse r(QByteArrayLiteral("application/octet-stream"), chunk.data, StatusCode::Ok);
    r.addHeader(QByteArrayLiteral("X-Magpie-Offset"), QByteArray::number(chunk.offset));
    r.addHeader(QByteArrayLiteral("X-Magpie-Next-Offset"), QByteArray::number(next));
    r.addHeader(QByteArrayLiteral("X-Magpie-Job-Status"), statusName(job->status).toUtf8());
    if (finished && next >= chunk.size)
        r.addHeader(QByteArrayLiteral("X-Magpie-Complete"), QByteArrayLiteral("true"));
    r.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    w->reply->send(std::move(r));
    dropWaiter(w->id);
    return true;
}

void HttpApi::checkWaiters(const QString &jobId)
{
    if (m_waiters.isEmpty())
        return;
    QList<std::shared_ptr<Waiter>> mine;
    for (const auto &w : std::as_const(m_waiters))
        if (w->jobId == jobId)
            mine.append(w);
    for (const auto &w : mine)
        tryAnswer(w, false);
}

void HttpApi::dropWaiter(quint64 id)
{
    const auto w = m_waiters.take(id);
    if (!w)
        return;
    if (w->timer)
        w->timer->deleteLater();
    disconnect(w->socketGone);
    if (m_waiters.isEmpty())
        m_pollTimer.stop();
}

// ---------------------------------------------------------------- workspaces

void HttpApi::getWorkspaces(QHttpServerResponder &&responder)
{
    QJsonArray arr;
    for (const WorkspaceState &w : m_exec.workspaces())
        arr.append(w.toJson());
    send(std::move(responder), json(200, QJsonObject{{QStringLiteral("workspaces"), arr}}));
}

void HttpApi::getWorkspace(const QString &id, QHttpServerResponder &&responder)
{
    if (auto bad = checkWorkspaceId(id))
        return send(std::move(responder), std::move(*bad));
    const auto w = m_exec.workspace(id);
    if (!w)
        return send(std::move(responder), notFound(QStringLiteral("no workspace with id '%1'").arg(id)));
    send(std::move(responder), json(200, w->toJson()));
}

void HttpApi::deleteWorkspace(const QString &id, QHttpServerResponder &&responder)
{
    if (auto bad = checkWorkspaceId(id))
        return send(std::move(responder), std::move(*bad));
    ExecError e;
    if (!m_exec.deleteWorkspace(id, &e))
        return send(std::move(responder), error(e));
    send(std::move(responder), json(200, QJsonObject{{QStringLiteral("deleted"), id}}));
}

void HttpApi::listFiles(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    if (auto bad = checkWorkspaceId(id))
        return send(std::move(responder), std::move(*bad));
    const Query q(request.url());
    ExecError e;
    const auto rel = Executor::normaliseWorkspacePath(q.value(QStringLiteral("path")), &e);
    if (!rel)
        return send(std::move(responder), error(e.httpStatus, e.code, e.message, QStringLiteral("path")));
    if (!m_exec.workspace(id))
        return send(std::move(responder), notFound(QStringLiteral("no workspace with id '%1'").arg(id)));
    auto reply = std::make_shared<Reply>(std::move(responder));
    const QString path = *rel;
    m_exec.listFiles(id, path, [reply, id, path](std::optional<ExecError> err, QList<FileEntry> entries) {
        if (err)
            return reply->send(error(*err));
        QJsonArray arr;
        for (const FileEntry &f : entries)
            arr.append(entryJson(f, true));
        reply->send(json(200, QJsonObject{{QStringLiteral("workspace_id"), id},
                                          {QStringLiteral("path"), path},
                                          {QStringLiteral("entries"), arr}}));
    });
}

void HttpApi::readFile(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    if (auto bad = checkWorkspaceId(id))
        return send(std::move(responder), std::move(*bad));
    const Query q(request.url());
    ExecError e;
    const auto rel = Executor::normaliseWorkspacePath(q.value(QStringLiteral("path")), &e);
    if (!rel)
        return send(std::move(responder), error(e.httpStatus, e.code, e.message, QStringLiteral("path")));
    if (rel->isEmpty())
        return send(std::move(responder), error(400, QStringLiteral("invalid_path"),
                                                QStringLiteral("path must name a file in the workspace, e.g. ?path=data/out.txt"),
                                                QStringLiteral("path")));
    if (!m_exec.workspace(id))
        return send(std::move(responder), notFound(QStringLiteral("no workspace with id '%1'").arg(id)));
    auto reply = std::make_shared<Reply>(std::move(responder));
    const QString path = *rel;
    m_exec.readFile(id, path, [reply, path](std::optional<ExecError> err, QByteArray data) {
        if (err)
            return reply->send(error(*err));
        QHttpServerResponse r(QByteArrayLiteral("application/octet-stream"), std::move(data), StatusCode::Ok);
        r.addHeader(QByteArrayLiteral("Content-Disposition"), contentDisposition(path));
        r.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
        reply->send(std::move(r));
    });
}

void HttpApi::diskUsage(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    if (auto bad = checkWorkspaceId(id))
        return send(std::move(responder), std::move(*bad));
    const Query q(request.url());
    QString err;
    const auto limit = q.integer(QStringLiteral("limit"), 1, kMaxListLimit, kDefaultListLimit, &err);
    if (!limit)
        return send(std::move(responder), badRequest(err, QStringLiteral("limit")));
    if (!m_exec.workspace(id))
        return send(std::move(responder), notFound(QStringLiteral("no workspace with id '%1'").arg(id)));
    auto reply = std::make_shared<Reply>(std::move(responder));
    m_exec.diskUsage(id, int(*limit), [reply, id](std::optional<ExecError> err, QList<FileEntry> entries) {
        if (err)
            return reply->send(error(*err));
        QJsonArray arr;
        for (const FileEntry &f : entries)
            arr.append(entryJson(f, false));
        reply->send(json(200, QJsonObject{{QStringLiteral("workspace_id"), id}, {QStringLiteral("entries"), arr}}));
    });
}

void HttpApi::getPool(QHttpServerResponder &&responder)
{
    send(std::move(responder), json(200, m_exec.pool().toJson()));
}

} // namespace magpie
