#include "JobRoutes.h"

#include "ApiReplies.h"
#include "CloudCompat.h"
#include "Executor.h"
#include "LogWaiters.h"
#include "Query.h"
#include "Tools.h"
#include "http/Router.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

namespace magpie {

using http::HttpRequest;
using http::HttpResponder;
using http::HttpResponse;

namespace {
// Where in a batch a bad field is: "jobs[2]" for the job itself, "jobs[2].script" for one of its fields.
QString batchField(const QString &at, const QString &field)
{
    return field.isEmpty() ? at : at + QLatin1Char('.') + field;
}

// The body as a JSON document, or the 400 to answer (empty, not JSON).
std::optional<HttpResponse> parseBody(const QByteArray &body, QJsonDocument *doc, const char *example)
{
    if (body.trimmed().isEmpty())
        return api::badBody(QStringLiteral("the request body is empty; send a JSON object such as %1").arg(QLatin1String(example)));
    QJsonParseError pe{};
    *doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError)
        return api::badBody(QStringLiteral("the request body is not valid JSON: %1 at byte %2").arg(pe.errorString()).arg(pe.offset));
    return std::nullopt;
}

// An ISO-8601 time parameter, normalised to the stored form; nullopt with *err when invalid.
std::optional<QString> timeParam(const Query &q, const QString &name, QString *err)
{
    if (!q.has(name) || q.value(name).isEmpty())
        return QString();
    const QString v = q.value(name);
    QDateTime t = QDateTime::fromString(v, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(v, Qt::ISODate);
    if (!t.isValid()) {
        *err = QStringLiteral("%1 must be an ISO-8601 time such as 2026-12-01T07:46:24Z (got '%2')").arg(name, v.left(64));
        return std::nullopt;
    }
    return isoUtc(t);
}
} // namespace

void JobRoutes::install(http::Router &router)
{
    router.add("GET", QStringLiteral("/api/v1/jobs"), [this](HttpRequest &q, HttpResponder r) { list(q, r); });
    router.add("POST", QStringLiteral("/api/v1/jobs"), [this](HttpRequest &q, HttpResponder r) { submit(q, r); });
    http::RouteOptions batch;
    batch.maxBodyBytes = kMaxBatchBody;
    router.add("POST", QStringLiteral("/api/v1/jobs:batch"), [this](HttpRequest &q, HttpResponder r) { submitBatch(q, r); }, batch);
    router.add("GET", QStringLiteral("/api/v1/jobs/{id}"), [this](HttpRequest &q, HttpResponder r) { get(q.args.at(0), r); });
    router.add("GET", QStringLiteral("/api/v1/jobs/{id}/details"), [this](HttpRequest &q, HttpResponder r) { get(q.args.at(0), r); });
    router.add("GET", QStringLiteral("/api/v1/jobs/{id}/status"), [this](HttpRequest &q, HttpResponder r) { status(q.args.at(0), r); });
    router.add("DELETE", QStringLiteral("/api/v1/jobs/{id}"), [this](HttpRequest &q, HttpResponder r) { remove(q.args.at(0), r); });
    router.add("POST", QStringLiteral("/api/v1/jobs/{id}/cancel"), [this](HttpRequest &q, HttpResponder r) { cancel(q.args.at(0), r); });
    router.add("GET", QStringLiteral("/api/v1/jobs/{id}/logs"), [this](HttpRequest &q, HttpResponder r) { logs(q.args.at(0), q, r); });

    // Magpie Cloud calls with no local meaning: 501, never a 404 its SDK reads as "job not found".
    const QList<std::tuple<QByteArray, QString, QString>> cloudOnly{
        {"GET", QStringLiteral("/api/v1/jobs/{id}/vm-info"), QStringLiteral("VM info of a running job")},
        {"GET", QStringLiteral("/api/v1/jobs/{id}/ssh"), QStringLiteral("SSH into a job's VM")},
        {"POST", QStringLiteral("/api/v1/jobs/{id}/ssh"), QStringLiteral("SSH into a job's VM")},
        {"PUT", QStringLiteral("/api/v1/jobs/{id}"), QStringLiteral("Updating a job")},
        {"POST", QStringLiteral("/api/v1/jobs/{id}/run"), QStringLiteral("Re-running a job by id")},
        {"GET", QStringLiteral("/api/v1/job-templates"), QStringLiteral("Job templates")},
        {"POST", QStringLiteral("/api/v1/job-templates"), QStringLiteral("Job templates")},
        {"GET", QStringLiteral("/api/v1/job-templates/{id}"), QStringLiteral("Job templates")},
        {"PUT", QStringLiteral("/api/v1/job-templates/{id}"), QStringLiteral("Job templates")},
        {"DELETE", QStringLiteral("/api/v1/job-templates/{id}"), QStringLiteral("Job templates")},
        {"POST", QStringLiteral("/api/v1/job-templates/{id}/run"), QStringLiteral("Job templates")},
        {"GET", QStringLiteral("/api/v1/proxy-targets"), QStringLiteral("Proxy targets")},
        {"POST", QStringLiteral("/api/v1/proxy-targets"), QStringLiteral("Proxy targets")},
        {"GET", QStringLiteral("/api/v1/proxy-targets/{id}"), QStringLiteral("Proxy targets")},
        {"PUT", QStringLiteral("/api/v1/proxy-targets/{id}"), QStringLiteral("Proxy targets")},
        {"DELETE", QStringLiteral("/api/v1/proxy-targets/{id}"), QStringLiteral("Proxy targets")},
    };
    for (const auto &[method, pattern, what] : cloudOnly) {
        const QString w = what;
        router.add(method, pattern, [w](HttpRequest &, HttpResponder r) { r.send(api::notSupported(w)); });
    }
}

void JobRoutes::list(const HttpRequest &request, HttpResponder r)
{
    const Query q(request.query);
    JobFilter f;
    QString err;
    const bool paged = q.has(QStringLiteral("page")) || q.has(QStringLiteral("page_size"));
    const bool cursor = q.has(QStringLiteral("cursor")) && !q.value(QStringLiteral("cursor")).isEmpty();
    if (paged && (q.has(QStringLiteral("limit")) || q.has(QStringLiteral("offset"))))
        return r.send(api::invalid(QStringLiteral("use page/page_size or limit/offset, not both"), QStringLiteral("page")));
    if (cursor && (paged || q.has(QStringLiteral("offset"))))
        return r.send(api::invalid(QStringLiteral("cursor continues a listing by itself: do not send offset or page with it"),
                                   QStringLiteral("cursor")));
    if (paged) {
        const auto size = q.integer(QStringLiteral("page_size"), 1, kMaxListLimit, kDefaultPageSize, &err);
        if (!size)
            return r.send(api::invalid(err, QStringLiteral("page_size")));
        const auto page = q.integer(QStringLiteral("page"), 1, std::numeric_limits<int>::max() / kMaxListLimit, 1, &err);
        if (!page)
            return r.send(api::invalid(err, QStringLiteral("page")));
        f.limit = int(*size);
        f.offset = int((*page - 1) * *size);
    } else {
        const auto limit = q.integer(QStringLiteral("limit"), 1, kMaxListLimit, kDefaultListLimit, &err);
        if (!limit)
            return r.send(api::invalid(err, QStringLiteral("limit")));
        const auto offset = q.integer(QStringLiteral("offset"), 0, std::numeric_limits<int>::max(), 0, &err);
        if (!offset)
            return r.send(api::invalid(err, QStringLiteral("offset")));
        f.limit = int(*limit);
        f.offset = int(*offset);
    }
    if (cursor) {
        const auto c = q.integer(QStringLiteral("cursor"), 1, qint64(1) << 53, 0, &err);
        if (!c)
            return r.send(api::invalid(QStringLiteral("cursor must be a next_cursor value from an earlier answer (got '%1')")
                                           .arg(q.value(QStringLiteral("cursor")).left(64)),
                                       QStringLiteral("cursor")));
        f.beforeSeq = *c;
    }
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
    const auto from = timeParam(q, QStringLiteral("created_after"), &err);
    if (!from)
        return r.send(api::invalid(err, QStringLiteral("created_after")));
    const auto before = timeParam(q, QStringLiteral("created_before"), &err);
    if (!before)
        return r.send(api::invalid(err, QStringLiteral("created_before")));
    f.createdFrom = *from;
    f.createdBefore = *before;
    f.scriptChars = kListScriptChars;
    // count=false: no total (null). Totals of workspace/status filters are kept counts; a time
    // window or a name is counted row by row, which a client scrolling by cursor can skip.
    const QString count = q.value(QStringLiteral("count"));
    if (!count.isEmpty() && count != QLatin1String("true") && count != QLatin1String("false"))
        return r.send(api::invalid(QStringLiteral("count must be true or false (got '%1')").arg(count.left(16)), QStringLiteral("count")));
    f.withTotal = count != QLatin1String("false");

    const JobPage page = m_exec.jobs(f);
    QJsonArray arr;
    for (JobRecord j : page.jobs) {
        if (j.script.size() > kListScriptChars) { // a running job's record comes whole from memory
            j.script.truncate(kListScriptChars);
            j.scriptTruncated = true;
        }
        arr.append(j.toJson(true));
    }
    r.send(api::json(200, QJsonObject{{QStringLiteral("jobs"), arr},
                                      {QStringLiteral("total"), f.withTotal ? QJsonValue(page.total) : QJsonValue(QJsonValue::Null)},
                                      {QStringLiteral("limit"), f.limit},
                                      {QStringLiteral("offset"), f.offset},
                                      {QStringLiteral("page"), f.offset / f.limit + 1},
                                      {QStringLiteral("page_size"), f.limit},
                                      {QStringLiteral("next_cursor"), page.nextCursor ? QJsonValue(QString::number(page.nextCursor))
                                                                                      : QJsonValue(QJsonValue::Null)}}));
}

void JobRoutes::submit(const HttpRequest &request, HttpResponder r)
{
    QJsonDocument doc;
    if (auto bad = parseBody(request.body, &doc, "{\"script\": \"echo hello\"}"))
        return r.send(std::move(*bad));
    if (!doc.isObject())
        return r.send(api::badBody(QStringLiteral("the request body must be a JSON object such as {\"script\": \"echo hello\"}, not %1%2")
                                       .arg(doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a bare value"),
                                            doc.isArray() ? QStringLiteral(" (POST /api/v1/jobs:batch takes many jobs)") : QString())));
    RequestError re;
    auto jr = JobRequest::fromJson(doc.object(), &re);
    if (!jr)
        return r.send(api::error(re.httpStatus, re.code, re.message, re.field));
    jr->source = QStringLiteral("api");
    ExecError ee;
    const auto rec = m_exec.submit(*jr, &ee);
    if (!rec)
        return r.send(api::error(ee));
    // The official Magpie Cloud SDK reads this reply as a JobRun whose `status` must be one of its
    // states (not_started, in_progress, …): the reply carries that, and our own status beside it.
    QJsonObject body = rec->toJson(true);
    body.insert(QStringLiteral("job_status"), statusName(rec->status));
    body.insert(QStringLiteral("status"), cloud::status(*rec));
    HttpResponse resp = api::json(202, body);
    resp.addHeader(QByteArrayLiteral("Location"), QByteArrayLiteral("/api/v1/jobs/") + rec->requestId.toUtf8());
    r.send(std::move(resp));
}

void JobRoutes::submitBatch(const HttpRequest &request, HttpResponder r)
{
    QJsonDocument doc;
    if (auto bad = parseBody(request.body, &doc, "{\"jobs\": [{\"script\": \"echo hello\"}]}"))
        return r.send(std::move(*bad));
    QJsonArray items;
    if (doc.isArray())
        items = doc.array();
    else if (doc.isObject() && doc.object().value(QStringLiteral("jobs")).isArray())
        items = doc.object().value(QStringLiteral("jobs")).toArray();
    else
        return r.send(api::badBody(QStringLiteral("the request body must be {\"jobs\": [job, ...]} or a JSON array of jobs")));
    if (items.isEmpty())
        return r.send(api::invalid(QStringLiteral("jobs is empty: send 1 to %1 jobs").arg(kMaxBatch), QStringLiteral("jobs")));
    if (items.size() > kMaxBatch)
        return r.send(api::invalid(QStringLiteral("%1 jobs in one batch; the limit is %2").arg(items.size()).arg(kMaxBatch), QStringLiteral("jobs")));
    QList<JobRequest> requests;
    requests.reserve(items.size());
    for (int i = 0; i < items.size(); ++i) {
        const QString at = QStringLiteral("jobs[%1]").arg(i);
        if (!items.at(i).isObject())
            return r.send(api::invalid(QStringLiteral("%1 must be a job object such as {\"script\": \"echo hello\"}").arg(at), at));
        RequestError re;
        auto jr = JobRequest::fromJson(items.at(i).toObject(), &re);
        if (!jr)
            return r.send(api::error(re.httpStatus, re.code, at + QStringLiteral(": ") + re.message, batchField(at, re.field)));
        jr->source = QStringLiteral("api");
        requests.append(std::move(*jr));
    }
    ExecError ee;
    int failed = -1;
    const auto recs = m_exec.submitMany(requests, &ee, &failed);
    if (!recs) {
        if (failed >= 0) {
            const QString at = QStringLiteral("jobs[%1]").arg(failed);
            ee.message = at + QStringLiteral(": ") + ee.message;
            ee.field = batchField(at, ee.field);
        }
        return r.send(api::error(ee));
    }
    QJsonArray ids;
    for (const JobRecord &j : *recs)
        ids.append(j.requestId);
    r.send(api::json(202, QJsonObject{{QStringLiteral("request_ids"), ids}, {QStringLiteral("count"), int(recs->size())}}));
}

void JobRoutes::get(const QString &id, HttpResponder r)
{
    const auto j = m_exec.job(id);
    if (!j)
        return r.send(api::jobNotFound(id));
    r.send(api::json(200, j->toJson(true)));
}

void JobRoutes::status(const QString &id, HttpResponder r)
{
    const auto j = m_exec.job(id);
    if (!j)
        return r.send(api::jobNotFound(id));
    r.send(api::json(200, cloud::statusObject(*j, m_exec)));
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

void JobRoutes::remove(const QString &id, HttpResponder r)
{
    ExecError e;
    if (!m_exec.deleteJob(id, &e))
        return r.send(api::error(e));
    r.send(api::json(200, QJsonObject{{QStringLiteral("deleted"), id}}));
}

void JobRoutes::logs(const QString &id, const HttpRequest &request, HttpResponder r)
{
    const Query q(request.query);
    // No stream, offset or wait: the JSON lines (what Magpie Cloud's SDK asks for). Any of
    // them: raw bytes of one stream (stdout by default), as before.
    const bool raw = q.has(QStringLiteral("stream")) || q.has(QStringLiteral("offset")) || q.has(QStringLiteral("wait"));
    if (!raw) {
        const auto j = m_exec.job(id);
        if (!j)
            return r.send(api::jobNotFound(id));
        return r.send(api::json(200, QJsonObject{{QStringLiteral("request_id"), id},
                                                 {QStringLiteral("status"), cloud::status(*j)},
                                                 {QStringLiteral("logs"), cloud::logEntries(*j, m_exec)}}));
    }
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
