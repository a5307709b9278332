#include "WorkspaceLifecycleRoutes.h"

#include "ApiReplies.h"
#include "Executor.h"
#include "Query.h"
#include "http/HttpLimits.h"
#include "http/Router.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>
#include <memory>

namespace magpie {

using http::HttpRequest;
using http::HttpResponder;
using http::HttpResponse;

namespace {
// Errors keep the Executor's status: 400 for a bad name, path or archive (issue 11), 404, 409,
// 413, 422 (a size that is not larger), 500.
HttpResponse fail(const ExecError &e)
{
    return HttpResponse::error(e.httpStatus, e.code.isEmpty() ? QStringLiteral("internal") : e.code, e.message, e.field);
}

HttpResponse badName(const QString &value, const QString &field)
{
    QString why;
    WorkspaceStore::isValidId(value, &why);
    return HttpResponse::error(400, field == QLatin1String("name") ? QStringLiteral("invalid_name") : QStringLiteral("invalid_workspace_id"),
                               why.replace(QStringLiteral("workspace_id"), field), field);
}

// The body as a JSON object; an empty body is {} when `emptyOk`. nullopt with the 400 in *bad.
std::optional<QJsonObject> bodyObject(const HttpRequest &q, bool emptyOk, std::optional<HttpResponse> *bad)
{
    if (q.body.trimmed().isEmpty()) {
        if (emptyOk)
            return QJsonObject();
        *bad = api::badBody(QStringLiteral("the request body is empty; send a JSON object"));
        return std::nullopt;
    }
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(q.body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        *bad = api::badBody(pe.error != QJsonParseError::NoError
                                ? QStringLiteral("the request body is not valid JSON: %1 at byte %2").arg(pe.errorString()).arg(pe.offset)
                                : QStringLiteral("the request body must be a JSON object"));
        return std::nullopt;
    }
    return doc.object();
}

// A whole number field; nullopt with *bad (422) when it is not one.
std::optional<int> intField(const QJsonObject &o, const QString &key, int def, std::optional<HttpResponse> *bad)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return def;
    const double d = v.toDouble(-1e18);
    if (!v.isDouble() || d != double(qint64(d)) || d < -1e9 || d > 1e9) {
        *bad = api::invalid(QStringLiteral("%1 must be a whole number").arg(key), key);
        return std::nullopt;
    }
    return int(d);
}

std::optional<QString> stringField(const QJsonObject &o, const QString &key, std::optional<HttpResponse> *bad)
{
    const QJsonValue v = o.value(key);
    if (!v.isString()) {
        *bad = HttpResponse::error(400, QStringLiteral("invalid_request"), QStringLiteral("%1 is required (a string)").arg(key), key);
        return std::nullopt;
    }
    return v.toString();
}

// A string field that must be a valid workspace or snapshot name; nullopt with *bad otherwise.
std::optional<QString> idField(const QJsonObject &o, const QString &key, std::optional<HttpResponse> *bad)
{
    const auto v = stringField(o, key, bad);
    if (v && !WorkspaceStore::isValidId(*v)) {
        *bad = badName(*v, key);
        return std::nullopt;
    }
    return v;
}

// Answers `done` callbacks with a status on success.
OpDone answer(HttpResponder r, int okStatus)
{
    return [r, okStatus](bool ok, const ExecError &e, const QJsonObject &info) mutable {
        r.send(ok ? api::json(okStatus, info) : fail(e));
    };
}
} // namespace

qint64 WorkspaceLifecycleRoutes::maxUploadBody() { return Executor::maxUploadBytes(); }
qint64 WorkspaceLifecycleRoutes::maxImportBody() { return LifecycleLimits::kMaxImportBytes + (1LL << 20); }

void WorkspaceLifecycleRoutes::installInto(Executor &executor, http::Router &router)
{
    // The routes live as long as the router's handlers: they share this one instance.
    std::make_shared<WorkspaceLifecycleRoutes>(executor)->install(router);
}

QString WorkspaceLifecycleRoutes::spoolDir() const
{
    const QString dir = m_exec.dataDir() + QStringLiteral("/runs");
    QDir().mkpath(dir);
    return dir;
}

void WorkspaceLifecycleRoutes::install(http::Router &router)
{
    const QString ws = QStringLiteral("/api/v1/workspaces/{id}");
    router.add("GET", ws + QStringLiteral("/snapshots"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->listSnapshots(q.args.at(0), r); });
    router.add("POST", ws + QStringLiteral("/snapshots"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->takeSnapshot(q.args.at(0), q, r); });
    router.add("POST", ws + QStringLiteral("/snapshots/{name}/restore"),
               [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->restoreSnapshot(q.args.at(0), q.args.at(1), r); });
    router.add("DELETE", ws + QStringLiteral("/snapshots/{name}"),
               [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->deleteSnapshot(q.args.at(0), q.args.at(1), r); });
    router.add("POST", QStringLiteral("/api/v1/jobs/{id}/rollback"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->rollback(q.args.at(0), q, r); });
    router.add("GET", QStringLiteral("/api/v1/jobs/{id}/changes"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->changes(q.args.at(0), r); });
    router.add("POST", ws + QStringLiteral("/clone"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->clone(q.args.at(0), q, r); });
    router.add("PATCH", ws, [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->grow(q.args.at(0), q, r); });
    router.add("POST", QStringLiteral("/api/v1/workspaces"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->create(q, r); });
    router.add("DELETE", ws + QStringLiteral("/file"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->deleteFile(q.args.at(0), q, r); });
    router.add("GET", ws + QStringLiteral("/export"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->exportTar(q.args.at(0), r); });

    // Large bodies, to a file in the data folder; the key is checked before a byte is read.
    http::RouteOptions upload;
    upload.maxBodyBytes = maxUploadBody();
    upload.bodyToFile = true;
    upload.tempDir = spoolDir();
    router.add("PUT", ws + QStringLiteral("/file"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->upload(q.args.at(0), q, r); }, upload);
    http::RouteOptions import = upload;
    import.maxBodyBytes = maxImportBody();
    router.add("POST", ws + QStringLiteral("/import"), [s = shared_from_this()](HttpRequest &q, HttpResponder r) { s->importTar(q.args.at(0), q, r); }, import);
}

// ---------------------------------------------------------------- snapshots

void WorkspaceLifecycleRoutes::listSnapshots(const QString &id, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    m_exec.snapshots(id, [r, id](std::optional<QList<SnapshotInfo>> list, const ExecError &e) mutable {
        if (!list)
            return r.send(fail(e));
        QJsonArray arr;
        for (const SnapshotInfo &s : *list)
            arr.append(s.toJson());
        r.send(api::json(200, QJsonObject{{QStringLiteral("workspace_id"), id}, {QStringLiteral("snapshots"), arr}}));
    });
}

void WorkspaceLifecycleRoutes::takeSnapshot(const QString &id, const HttpRequest &q, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    std::optional<HttpResponse> bad;
    const auto o = bodyObject(q, false, &bad);
    if (!o)
        return r.send(std::move(*bad));
    const auto name = idField(*o, QStringLiteral("name"), &bad);
    if (!name)
        return r.send(std::move(*bad));
    m_exec.takeSnapshot(id, *name, [r, id, name = *name](bool ok, const ExecError &e, const QJsonObject &) mutable {
        r.send(ok ? api::json(201, QJsonObject{{QStringLiteral("workspace_id"), id}, {QStringLiteral("name"), name}}) : fail(e));
    });
}

void WorkspaceLifecycleRoutes::restoreSnapshot(const QString &id, const QString &name, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    if (!WorkspaceStore::isValidId(name))
        return r.send(badName(name, QStringLiteral("name")));
    m_exec.restoreSnapshot(id, name, answer(r, 200));
}

void WorkspaceLifecycleRoutes::deleteSnapshot(const QString &id, const QString &name, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    if (!WorkspaceStore::isValidId(name))
        return r.send(badName(name, QStringLiteral("name")));
    m_exec.deleteSnapshot(id, name, answer(r, 200));
}

// ---------------------------------------------------------------- jobs

void WorkspaceLifecycleRoutes::rollback(const QString &jobId, const HttpRequest &q, HttpResponder r)
{
    std::optional<HttpResponse> bad;
    const auto o = bodyObject(q, true, &bad);
    if (!o)
        return r.send(std::move(*bad));
    const QJsonValue force = o->value(QStringLiteral("force"));
    if (!force.isUndefined() && !force.isNull() && !force.isBool())
        return r.send(api::invalid(QStringLiteral("force must be true or false"), QStringLiteral("force")));
    m_exec.rollbackJob(jobId, force.toBool(false), answer(r, 200));
}

void WorkspaceLifecycleRoutes::changes(const QString &jobId, HttpResponder r)
{
    ExecError e;
    const auto c = m_exec.jobChanges(jobId, &e);
    if (!c)
        return r.send(fail(e));
    QJsonObject o = c->toJson();
    o.insert(QStringLiteral("request_id"), jobId);
    r.send(api::json(200, o));
}

// ---------------------------------------------------------------- clone, grow, create

void WorkspaceLifecycleRoutes::clone(const QString &id, const HttpRequest &q, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    std::optional<HttpResponse> bad;
    const auto o = bodyObject(q, false, &bad);
    if (!o)
        return r.send(std::move(*bad));
    const auto target = idField(*o, QStringLiteral("id"), &bad);
    if (!target)
        return r.send(std::move(*bad));
    m_exec.cloneWorkspace(id, *target, answer(r, 201));
}

void WorkspaceLifecycleRoutes::grow(const QString &id, const HttpRequest &q, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    std::optional<HttpResponse> bad;
    const auto o = bodyObject(q, false, &bad);
    if (!o)
        return r.send(std::move(*bad));
    if (!o->contains(QStringLiteral("size_gb")))
        return r.send(HttpResponse::error(400, QStringLiteral("invalid_request"), QStringLiteral("size_gb is required (the only field that can change)"), QStringLiteral("size_gb")));
    const auto size = intField(*o, QStringLiteral("size_gb"), 0, &bad);
    if (!size)
        return r.send(std::move(*bad));
    m_exec.growWorkspace(id, *size, answer(r, 200));
}

void WorkspaceLifecycleRoutes::create(const HttpRequest &q, HttpResponder r)
{
    std::optional<HttpResponse> bad;
    const auto o = bodyObject(q, false, &bad);
    if (!o)
        return r.send(std::move(*bad));
    const auto id = idField(*o, QStringLiteral("id"), &bad);
    if (!id)
        return r.send(std::move(*bad));
    const auto size = intField(*o, QStringLiteral("size_gb"), WorkspaceStore::kDefaultSizeGb, &bad);
    if (!size)
        return r.send(std::move(*bad));
    m_exec.createWorkspace(*id, *size, answer(r, 201));
}

// ---------------------------------------------------------------- files

void WorkspaceLifecycleRoutes::upload(const QString &id, HttpRequest &q, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    const Query query(q.query);
    if (!query.has(QStringLiteral("path")))
        return r.send(HttpResponse::error(400, QStringLiteral("invalid_path"), QStringLiteral("send ?path=<file in the workspace>"), QStringLiteral("path")));
    const QString spool = spoolDir() + QStringLiteral("/upload-%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    if (q.bodyFilePath().isEmpty()) { // no body at all: an empty file
        QFile f(spool);
        if (!f.open(QIODevice::WriteOnly))
            return r.send(HttpResponse::error(500, QStringLiteral("internal"), QStringLiteral("cannot create %1").arg(spool)));
    } else {
        QString err;
        if (!q.takeBodyFile(spool, &err))
            return r.send(HttpResponse::error(500, QStringLiteral("internal"), err));
    }
    m_exec.writeFileFromPath(id, query.value(QStringLiteral("path")), spool, answer(r, 201));
}

void WorkspaceLifecycleRoutes::deleteFile(const QString &id, const HttpRequest &q, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    const Query query(q.query);
    if (!query.has(QStringLiteral("path")))
        return r.send(HttpResponse::error(400, QStringLiteral("invalid_path"), QStringLiteral("send ?path=<file or folder in the workspace>"), QStringLiteral("path")));
    m_exec.deleteFile(id, query.value(QStringLiteral("path")), answer(r, 200));
}

// ---------------------------------------------------------------- export, import

namespace {
// Streams a finished export file to the client, then deletes it.
struct FileStream : QObject {
    QFile file;
    HttpResponder r;
    void pump()
    {
        while (r.streaming() && r.pendingBytes() < http::HttpLimits().streamLowWater) {
            const QByteArray piece = file.read(256 * 1024);
            if (piece.isEmpty()) {
                r.end();
                return finish();
            }
            if (!r.write(piece))
                return finish();
        }
        if (!r.streaming())
            finish();
    }
    void finish()
    {
        file.close();
        file.remove();
        deleteLater();
    }
};
} // namespace

void WorkspaceLifecycleRoutes::exportTar(const QString &id, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    const QString target = spoolDir() + QStringLiteral("/export-%1.tar.gz").arg(QUuid::createUuid().toString(QUuid::Id128));
    m_exec.exportWorkspace(id, target, [r, id, target](bool ok, const ExecError &e, const QJsonObject &) mutable {
        if (!ok)
            return r.send(fail(e));
        auto *s = new FileStream;
        s->file.setFileName(target);
        s->r = r;
        if (!s->file.open(QIODevice::ReadOnly)) {
            r.send(HttpResponse::error(500, QStringLiteral("internal"), QStringLiteral("cannot read the export")));
            return s->finish();
        }
        HttpResponse head(200, QByteArrayLiteral("application/gzip"), {});
        head.addHeader(QByteArrayLiteral("Content-Disposition"), QByteArrayLiteral("attachment; filename=\"") + id.toUtf8() + QByteArrayLiteral(".tar.gz\""));
        head.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
        if (!r.beginStream(std::move(head)))
            return s->finish();
        r.onWritable(s, [s] { s->pump(); });
        r.onGone(s, [s] { s->finish(); });
        s->pump();
    });
}

void WorkspaceLifecycleRoutes::importTar(const QString &id, HttpRequest &q, HttpResponder r)
{
    if (!WorkspaceStore::isValidId(id))
        return r.send(badName(id, QStringLiteral("workspace_id")));
    const Query query(q.query);
    QString err;
    const auto size = query.integer(QStringLiteral("size_gb"), 1, WorkspaceStore::kMaxSizeGb, WorkspaceStore::kDefaultSizeGb, &err);
    if (!size)
        return r.send(api::invalid(err, QStringLiteral("size_gb")));
    if (q.bodyFilePath().isEmpty())
        return r.send(HttpResponse::error(400, QStringLiteral("invalid_archive"), QStringLiteral("send the .tar.gz as the request body")));
    const QString spool = spoolDir() + QStringLiteral("/import-%1.tar.gz").arg(QUuid::createUuid().toString(QUuid::Id128));
    if (!q.takeBodyFile(spool, &err))
        return r.send(HttpResponse::error(500, QStringLiteral("internal"), err));
    m_exec.importWorkspace(id, int(*size), spool, [r, spool](bool ok, const ExecError &e, const QJsonObject &info) mutable {
        QFile::remove(spool);
        r.send(ok ? api::json(201, info) : fail(e));
    });
}

} // namespace magpie
