#include "JobRoutes.h"

#include "ApiReplies.h"
#include "Executor.h"
#include "LogWaiters.h"
#include "Query.h"
#include "http/Router.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace magpie {

using http::HttpRequest;
using http::HttpResponder;
using http::HttpResponse;

void JobRoutes::install(http::Router &router)
{
    router.add("GET", QStringLiteral("/api/v1/jobs"), [this](HttpRequest &q, HttpResponder r) { list(q, r); });
    router.add("POST", QStringLiteral("/api/v1/jobs"), [this](HttpRequest &q, HttpResponder r) { submit(q, r); });
    router.add("GET", QStringLiteral("/api/v1/jobs/{id}"), [this](HttpRequest &q, HttpResponder r) { get(q.args.at(0), r); });
    router.add("POST", QStringLiteral("/api/v1/jobs/{id}/cancel"), [this](HttpRequest &q, HttpResponder r) { cancel(q.args.at(0), r); });
    router.add("GET", QStringLiteral("/api/v1/jobs/{id}/logs"), [this](HttpRequest &q, HttpResponder r) { logs(q.args.at(0), q, r); });
}

void JobRoutes::list(const HttpRequest &request, HttpResponder r)
{
    const Query q(request.query);
    JobFilter f;
    QString err;
    const auto limit = q.integer(QStringLiteral("limit"), 1, kMaxListLimit, kDefaultListLimit, &err);
    if (!limit)
        return r.send(api::invalid(err, QStringLiteral("limit")));
    const auto offset = q.integer(QStringLiteral("offset"), 0, std::numeric_limits<int>::max(), 0, &err);
    if (!offset)
        return r.send(api::invalid(err, QStringLiteral("offset")));
    f.limit = int(*limit);
    f.offset = int(*offset);
    const QString status = q.value(QStringLiteral("status"));
    if (!status.isEmpty()) {
        JobStatus s;
        if (!parseStatus(status, &s))
            return r.send(api::invalid(QStringLiteral("status must be one of queued, running, completed, failed, cancelled, timed_out (got '%1')")
                                           .arg(status.left(64)),
                                       QStringLiteral("status")));
        f.status = s;
    }
    f.workspaceId = q.value(QStringLiteral("workspace_id"));
    if (!f.workspaceId.isEmpty())
        if (auto bad = api::checkWorkspaceId(f.workspaceId))
            return r.send(std::move(*bad));
    const JobPage page = m_exec.jobs(f);
    QJsonArray arr;
    for (const JobRecord &j : page.jobs)
        arr.append(j.toJson(false));
    r.send(api::json(200, QJsonObject{{QStringLiteral("jobs"), arr},
                                      {QStringLiteral("total"), page.total},
                                      {QStringLiteral("limit"), f.limit},
                                      {QStringLiteral("offset"), f.offset}}));
}

void JobRoutes::submit(const HttpRequest &request, HttpResponder r)
{
    const QByteArray &body = request.body;
    if (body.trimmed().isEmpty())
        return r.send(api::badBody(QStringLiteral("the request body is empty; send a JSON object such as {\"script\": \"echo hello\"}")));
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError)
        return r.send(api::badBody(QStringLiteral("the request body is not valid JSON: %1 at byte %2").arg(pe.errorString()).arg(pe.offset)));
    if (!doc.isObject())
        return r.send(api::badBody(QStringLiteral("the request body must be a JSON object such as {\"script\": \"echo hello\"}, not %1")
                                       .arg(doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a bare value"))));
    RequestError re;
    auto jr = JobRequest::fromJson(doc.object(), &re);
    if (!jr)
        return r.send(api::error(re.httpStatus, re.code, re.message, re.field));
    jr->source = QStringLiteral("api");
    ExecError ee;
    const auto rec = m_exec.submit(*jr, &ee);
    if (!rec)
        return r.send(api::error(ee));
    HttpResponse resp = api::json(202, rec->toJson(true));
    resp.addHeader(QByteArrayLiteral("Location"), QByteArrayLiteral("/api/v1/jobs/") + rec->requestId.toUtf8());
    r.send(std::move(resp));
}

void JobRoutes::get(const QString &id, HttpResponder r)
{
    const auto j = m_exec.job(id);
    if (!j)
        return r.send(api::jobNotFound(id));
    r.send(api::json(200, j->toJson(true)));
}

void JobRoutes::cancel(const QString &id, HttpResponder r)
{
    ExecError e;
    if (!m_exec.cancel(id, &e))
        return r.send(api::error(e));
    const auto j = m_exec.job(id);
    if (!j)
        return r.send(api::jobNotFound(id));
    r.send(api::json(200, j->toJson(true)));
}

void JobRoutes::logs(const QString &id, const HttpRequest &request, HttpResponder r)
{
    const Query q(request.query);
    int stream = 1;
    if (q.has(QStringLiteral("stream"))) {
        const QString s = q.value(QStringLiteral("stream"));
        if (s == QLatin1String("stdout"))
            stream = 1;
        else if (s == QLatin1String("stderr"))
            stream = 2;
        else
            return r.send(api::invalid(QStringLiteral("stream must be stdout or stderr (got '%1')").arg(s.left(64)), QStringLiteral("stream")));
    }
    QString err;
    const auto offset = q.integer(QStringLiteral("offset"), 0, qint64(1) << 53, 0, &err);
    if (!offset)
        return r.send(api::invalid(err, QStringLiteral("offset")));
    const auto wait = q.integer(QStringLiteral("wait"), 0, LogWaiters::kMaxWaitSec, 0, &err);
    if (!wait)
        return r.send(api::invalid(err, QStringLiteral("wait")));
    if (!m_exec.job(id))
        return r.send(api::jobNotFound(id));
    m_logs.serve(id, stream, *offset, int(*wait), r);
}

} // namespace magpie
