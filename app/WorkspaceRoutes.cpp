#include "WorkspaceRoutes.h"

#include "ApiReplies.h"
#include "Executor.h"
#include "Query.h"
#include "http/Router.h"

#include <QJsonArray>

namespace magpie {

using http::HttpRequest;
using http::HttpResponder;
using http::HttpResponse;

namespace {
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

HttpResponse noWorkspace(const QString &id)
{
    return api::notFound(QStringLiteral("no workspace with id '%1'").arg(id));
}
} // namespace

void WorkspaceRoutes::install(http::Router &router)
{
    router.add("GET", QStringLiteral("/api/v1/workspaces"), [this](HttpRequest &, HttpResponder r) { list(r); });
    router.add("GET", QStringLiteral("/api/v1/workspaces/{id}"), [this](HttpRequest &q, HttpResponder r) { get(q.args.at(0), r); });
    router.add("DELETE", QStringLiteral("/api/v1/workspaces/{id}"), [this](HttpRequest &q, HttpResponder r) { remove(q.args.at(0), r); });
    router.add("GET", QStringLiteral("/api/v1/workspaces/{id}/files"),
               [this](HttpRequest &q, HttpResponder r) { listFiles(q.args.at(0), q, r); });
    router.add("GET", QStringLiteral("/api/v1/workspaces/{id}/file"),
               [this](HttpRequest &q, HttpResponder r) { readFile(q.args.at(0), q, r); });
    router.add("GET", QStringLiteral("/api/v1/workspaces/{id}/usage"),
               [this](HttpRequest &q, HttpResponder r) { diskUsage(q.args.at(0), q, r); });
}

void WorkspaceRoutes::list(HttpResponder r)
{
    QJsonArray arr;
    for (const WorkspaceState &w : m_exec.workspaces())
        arr.append(w.toJson());
    r.send(api::json(200, QJsonObject{{QStringLiteral("workspaces"), arr}}));
}

void WorkspaceRoutes::get(const QString &id, HttpResponder r)
{
    if (auto bad = api::checkWorkspaceId(id))
        return r.send(std::move(*bad));
    const auto w = m_exec.workspace(id);
    if (!w)
        return r.send(noWorkspace(id));
    r.send(api::json(200, w->toJson()));
}

void WorkspaceRoutes::remove(const QString &id, HttpResponder r)
{
    if (auto bad = api::checkWorkspaceId(id))
        return r.send(std::move(*bad));
    ExecError e;
    if (!m_exec.deleteWorkspace(id, &e))
        return r.send(api::error(e));
    r.send(api::json(200, QJsonObject{{QStringLiteral("deleted"), id}}));
}

void WorkspaceRoutes::listFiles(const QString &id, const HttpRequest &request, HttpResponder r)
{
    if (auto bad = api::checkWorkspaceId(id))
        return r.send(std::move(*bad));
    const Query q(request.query);
    ExecError e;
    const auto rel = Executor::normaliseWorkspacePath(q.value(QStringLiteral("path")), &e);
    if (!rel)
        return r.send(api::error(e, QStringLiteral("path")));
    if (!m_exec.workspace(id))
        return r.send(noWorkspace(id));
    const QString path = *rel;
    m_exec.listFiles(id, path, [r, id, path](std::optional<ExecError> err, QList<FileEntry> entries) mutable {
        if (err)
            return r.send(api::error(*err));
        QJsonArray arr;
        for (const FileEntry &f : entries)
            arr.append(entryJson(f, true));
        r.send(api::json(200, QJsonObject{{QStringLiteral("workspace_id"), id},
                                          {QStringLiteral("path"), path},
                                          {QStringLiteral("entries"), arr}}));
    });
}

void WorkspaceRoutes::readFile(const QString &id, const HttpRequest &request, HttpResponder r)
{
    if (auto bad = api::checkWorkspaceId(id))
        return r.send(std::move(*bad));
    const Query q(request.query);
    ExecError e;
    const auto rel = Executor::normaliseWorkspacePath(q.value(QStringLiteral("path")), &e);
    if (!rel)
        return r.send(api::error(e, QStringLiteral("path")));
    if (rel->isEmpty())
        return r.send(api::error(api::kInvalidStatus, QStringLiteral("invalid_path"),
                                 QStringLiteral("path must name a file in the workspace, e.g. ?path=data/out.txt"), QStringLiteral("path")));
    if (!m_exec.workspace(id))
        return r.send(noWorkspace(id));
    const QString path = *rel;
    m_exec.readFile(id, path, [r, path](std::optional<ExecError> err, QByteArray data) mutable {
        if (err)
            return r.send(api::error(*err));
        HttpResponse resp(200, QByteArrayLiteral("application/octet-stream"), std::move(data));
        resp.addHeader(QByteArrayLiteral("Content-Disposition"), contentDisposition(path));
        resp.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
        r.send(std::move(resp));
    });
}

void WorkspaceRoutes::diskUsage(const QString &id, const HttpRequest &request, HttpResponder r)
{
    if (auto bad = api::checkWorkspaceId(id))
        return r.send(std::move(*bad));
    const Query q(request.query);
    QString err;
    const auto limit = q.integer(QStringLiteral("limit"), 1, kMaxListLimit, kDefaultListLimit, &err);
    if (!limit)
        return r.send(api::invalid(err, QStringLiteral("limit")));
    if (!m_exec.workspace(id))
        return r.send(noWorkspace(id));
    m_exec.diskUsage(id, int(*limit), [r, id](std::optional<ExecError> e, QList<FileEntry> entries) mutable {
        if (e)
            return r.send(api::error(*e));
        QJsonArray arr;
        for (const FileEntry &f : entries)
            arr.append(entryJson(f, false));
        r.send(api::json(200, QJsonObject{{QStringLiteral("workspace_id"), id}, {QStringLiteral("entries"), arr}}));
    });
}

} // namespace magpie
