#include "WorkspaceOps.h"

#include "WorkspaceStore.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace magpie {

namespace {
// Maps a failed workspace operation to an error for the caller.
std::optional<ExecError> opError(const VmResult &r, const QByteArray &err, const QString &what, const QString &path)
{
    if (r.outcome == VmResult::Exited && r.exitCode == 0)
        return std::nullopt;
    if (r.outcome == VmResult::Exited) {
        switch (r.exitCode) {
        case 3: return execError(400, QStringLiteral("invalid_path"), QStringLiteral("path '%1' leads outside the workspace").arg(path));
        case 4: return execError(404, QStringLiteral("not_found"), QStringLiteral("no such file or folder in the workspace: '%1'").arg(path));
        case 5: return execError(404, QStringLiteral("not_found"), QStringLiteral("'%1' is not a %2").arg(path, what));
        case 6: return execError(413, QStringLiteral("payload_too_large"), QStringLiteral("'%1' is larger than %2 bytes").arg(path).arg(WorkspaceOps::maxFileBytes()));
        default: break;
        }
    }
    const QString msg = r.error.isEmpty() ? QString::fromUtf8(err).trimmed().left(500) : r.error;
    return execError(500, QStringLiteral("internal"), QStringLiteral("the workspace operation failed: %1").arg(msg));
}
} // namespace

WorkspaceOps::WorkspaceOps(WorkspaceStore &store, Enqueue enqueue)
    : m_store(store), m_enqueue(std::move(enqueue))
{
}

QString WorkspaceOps::script(const QString &name)
{
    QFile f(QStringLiteral(":/guest-ops/") + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("magpie: the guest operation script %s is missing from the build", qPrintable(name));
    return QString::fromUtf8(f.readAll());
}

QList<FileEntry> WorkspaceOps::parseEntries(const QByteArray &json)
{
    QList<FileEntry> out;
    const QJsonArray arr = QJsonDocument::fromJson(json).array();
    for (const QJsonValue &v : arr) {
        const QJsonObject o = v.toObject();
        FileEntry e;
        e.name = o.value(QStringLiteral("name")).toString();
        e.path = o.value(QStringLiteral("path")).toString();
        e.type = o.value(QStringLiteral("type")).toString();
        e.size = static_cast<qint64>(o.value(QStringLiteral("size")).toDouble());
        e.modifiedAt = o.value(QStringLiteral("modified_at")).toString();
        out.append(e);
    }
    return out;
}

std::optional<QString> WorkspaceOps::normalisePath(const QString &path, ExecError *error)
{
    auto no = [error](const QString &m) -> std::optional<QString> {
        if (error)
            *error = execError(400, QStringLiteral("invalid_path"), m, QStringLiteral("path"));
        return std::nullopt;
    };
    if (path.contains(QChar(0)))
        return no(QStringLiteral("path must not contain NUL characters"));
    if (path.size() > 4096)
        return no(QStringLiteral("path is too long"));
    const QString lower = path.toLower();
    for (const char *enc : {"%2e", "%2f", "%5c", "%00", "%25"})
        if (lower.contains(QLatin1String(enc)))
            return no(QStringLiteral("path '%1' contains an encoded form (%2); send the plain path relative to the workspace").arg(path, QLatin1String(enc)));
    if (path == QLatin1String("/") || path.isEmpty() || path == QLatin1String("."))
        return QString();
    if (path.startsWith(QLatin1Char('/')) || path.startsWith(QLatin1Char('~')))
        return no(QStringLiteral("path '%1' is absolute; give it relative to the workspace root, e.g. 'data/file.txt'").arg(path));
    QStringList parts;
    for (const QString &p : path.split(QLatin1Char('/'), Qt::SkipEmptyParts)) {
        if (p == QLatin1String("."))
            continue;
        if (p == QLatin1String(".."))
            return no(QStringLiteral("path '%1' uses '..'; it must stay inside the workspace").arg(path));
        parts << p;
    }
    return parts.join(QLatin1Char('/'));
}

std::optional<ExecError> WorkspaceOps::checkWorkspace(const QString &id) const
{
    QString why;
    if (!WorkspaceStore::isValidId(id, &why))
        return execError(400, QStringLiteral("invalid_workspace_id"), why, QStringLiteral("workspace_id"));
    if (!m_store.exists(id))
        return execError(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1'").arg(id));
    return std::nullopt;
}

void WorkspaceOps::enqueueScript(const QString &id, const QString &scriptName, const QList<QPair<QString, QString>> &env,
                                 Task::OpDone done, int noDiskExit, const QByteArray &noDiskOut)
{
    auto t = std::make_shared<Task>();
    t->kind = Task::Op;
    t->id = QStringLiteral("op-%1-%2").arg(++m_seq).arg(id);
    t->workspaceId = id;
    t->opSpec.kind = TaskSpec::Script;
    t->opSpec.id = t->id;
    t->opSpec.isJob = false;
    t->opSpec.name = scriptName;
    t->opSpec.workspaceId = id;
    t->opSpec.script = script(scriptName);
    t->opSpec.env = env;
    t->opSpec.timeoutSec = 300;
    t->opSpec.vcpus = 1;
    t->opSpec.memoryMb = 512;
    t->opDone = std::move(done);
    t->opNoDiskExit = noDiskExit;
    t->opNoDiskOut = noDiskOut;
    m_enqueue(t);
}

void WorkspaceOps::listFiles(const QString &id, const QString &path, EntriesDone done)
{
    ExecError e;
    const auto rel = normalisePath(path, &e);
    if (!rel)
        return done(e, {});
    if (auto bad = checkWorkspace(id))
        return done(bad, {});
    const QString shown = *rel;
    enqueueScript(id, QStringLiteral("list.py"), {{QStringLiteral("MAGPIE_PATH"), *rel}},
                  [done, shown](const VmResult &r, const QByteArray &out, const QByteArray &err) {
                      if (auto e = opError(r, err, QStringLiteral("folder"), shown))
                          return done(e, {});
                      done(std::nullopt, parseEntries(out));
                  },
                  rel->isEmpty() ? 0 : 4, "[]");
}

void WorkspaceOps::readFile(const QString &id, const QString &path, BytesDone done)
{
    ExecError e;
    const auto rel = normalisePath(path, &e);
    if (!rel)
        return done(e, {});
    if (rel->isEmpty())
        return done(execError(400, QStringLiteral("invalid_path"),
                              QStringLiteral("path must name a file in the workspace, e.g. ?path=data/out.txt"), QStringLiteral("path")),
                    {});
    if (auto bad = checkWorkspace(id))
        return done(bad, {});
    const QString shown = *rel;
    enqueueScript(id, QStringLiteral("read.sh"),
                  {{QStringLiteral("MAGPIE_PATH"), *rel}, {QStringLiteral("MAGPIE_MAX"), QString::number(maxFileBytes())}},
                  [done, shown](const VmResult &r, const QByteArray &out, const QByteArray &err) {
                      if (auto e = opError(r, err, QStringLiteral("file"), shown))
                          return done(e, {});
                      done(std::nullopt, out);
                  });
}

void WorkspaceOps::diskUsage(const QString &id, int limit, EntriesDone done)
{
    if (auto bad = checkWorkspace(id))
        return done(bad, {});
    enqueueScript(id, QStringLiteral("usage.py"), {{QStringLiteral("MAGPIE_LIMIT"), QString::number(qBound(1, limit, 1000))}},
                  [done](const VmResult &r, const QByteArray &out, const QByteArray &err) {
                      if (auto e = opError(r, err, QStringLiteral("folder"), QString()))
                          return done(e, {});
                      done(std::nullopt, parseEntries(out));
                  },
                  0, "[]");
}

} // namespace magpie
