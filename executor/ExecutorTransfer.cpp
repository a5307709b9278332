// ExecutorTransfer.cpp — files in and out of a workspace (issue 11): upload a file, delete a
// file or folder, export /workspace as a .tar.gz, import one as a new workspace. Each runs as a
// small guest script (resources/guest/ops/) through the workspace's FIFO queue; uploads and
// imports are streamed to the script's stdin from a file on the host, exports from its stdout to
// a file, so nothing large is held in memory.
#include "Executor.h"

#include "ExecutorLifecycleSupport.h"
#include "Tools.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QProcess>
#include <QtConcurrent>

namespace magpie {

using namespace lifecycle;

// ---------------------------------------------------------------- files

void Executor::writeFile(const QString &workspaceId, const QString &path, const QByteArray &data, OpDone done)
{
    if (data.size() > maxUploadBytes())
        return done(false, err(413, QStringLiteral("payload_too_large"), QStringLiteral("the file is %1 bytes; the limit is %2").arg(data.size()).arg(maxUploadBytes())), {});
    const QString dir = m_cfg.dataDir + QStringLiteral("/runs");
    QDir().mkpath(dir);
    const QString spool = dir + QStringLiteral("/upload-%1-%2").arg(++m_opSeq).arg(workspaceId.left(63));
    QFile f(spool);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(data) != data.size()) {
        QFile::remove(spool);
        return done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot spool the upload to %1").arg(spool)), {});
    }
    f.close();
    writeFileFromPath(workspaceId, path, spool, std::move(done));
}

void Executor::writeFileFromPath(const QString &workspaceId, const QString &path, const QString &spooledFile, OpDone done)
{
    auto fail = [&](const ExecError &e) {
        QFile::remove(spooledFile);
        done(false, e, {});
    };
    ExecError e;
    const auto rel = WorkspaceOps::normalisePath(path, &e);
    if (!rel)
        return fail(e);
    if (rel->isEmpty())
        return fail(err(400, QStringLiteral("invalid_path"), QStringLiteral("path must name a file in the workspace, e.g. ?path=data/in.csv"), QStringLiteral("path")));
    const qint64 bytes = QFileInfo(spooledFile).size();
    if (bytes > maxUploadBytes())
        return fail(err(413, QStringLiteral("payload_too_large"), QStringLiteral("the file is %1 bytes; the limit is %2").arg(bytes).arg(maxUploadBytes())));
    if (auto bad = checkExisting(workspaceId))
        return fail(*bad);
    const QString spool = spooledFile;
    TaskPtr t = newOp(workspaceId, QStringLiteral("write"));
    t->opSpec.script = WorkspaceOps::script(QStringLiteral("write.sh"));
    t->opSpec.env = {{QStringLiteral("MAGPIE_PATH"), *rel}};
    t->opSpec.stdinPath = spool;
    t->opSpec.createWorkspace = true; // a workspace whose first job has not run gets its disk now
    t->opSpec.workspaceSizeGb = m_workspaces->get(workspaceId)->sizeGb;
    t->onEnd = [spool] { QFile::remove(spool); };
    const QString shown = *rel;
    t->opDone = [this, done, shown, bytes, workspaceId](const VmResult &r, const QByteArray &, const QByteArray &errText) {
        if (!succeeded(r))
            return done(false, guestOpError(r, errText, shown), {});
        emit workspacesChanged();
        done(true, kNoError, {{QStringLiteral("workspace_id"), workspaceId}, {QStringLiteral("path"), shown}, {QStringLiteral("size"), double(bytes)}});
    };
    enqueue(t);
}

void Executor::deleteFile(const QString &workspaceId, const QString &path, OpDone done)
{
    ExecError e;
    const auto rel = WorkspaceOps::normalisePath(path, &e);
    if (!rel)
        return done(false, e, {});
    if (rel->isEmpty())
        return done(false, err(400, QStringLiteral("invalid_path"), QStringLiteral("the workspace root cannot be deleted; name a file or folder in it"), QStringLiteral("path")), {});
    if (auto bad = checkExisting(workspaceId))
        return done(false, *bad, {});
    TaskPtr t = newOp(workspaceId, QStringLiteral("delete"));
    t->opNeedsDisk = true; // no disk yet: nothing to delete
    t->opNoDiskExit = 4;
    t->opSpec.script = WorkspaceOps::script(QStringLiteral("delete.sh"));
    t->opSpec.env = {{QStringLiteral("MAGPIE_PATH"), *rel}};
    const QString shown = *rel;
    t->opDone = [this, done, shown, workspaceId](const VmResult &r, const QByteArray &, const QByteArray &errText) {
        if (!succeeded(r))
            return done(false, guestOpError(r, errText, shown), {});
        emit workspacesChanged();
        done(true, kNoError, {{QStringLiteral("workspace_id"), workspaceId}, {QStringLiteral("deleted"), shown}});
    };
    enqueue(t);
}

// ---------------------------------------------------------------- export, import

void Executor::exportWorkspace(const QString &workspaceId, const QString &targetTarGz, OpDone done)
{
    if (auto bad = checkExisting(workspaceId))
        return done(false, *bad, {});
    auto out = std::make_shared<QFile>(targetTarGz);
    if (!out->open(QIODevice::WriteOnly | QIODevice::Truncate))
        return done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot write %1: %2").arg(targetTarGz, out->errorString())), {});
    TaskPtr t = newOp(workspaceId, QStringLiteral("export"));
    t->opSpec.script = WorkspaceOps::script(QStringLiteral("export.sh"));
    t->opSpec.createWorkspace = true;
    t->opSpec.workspaceSizeGb = m_workspaces->get(workspaceId)->sizeGb;
    t->opOutFile = out;
    t->opDone = [done, targetTarGz, workspaceId](const VmResult &r, const QByteArray &, const QByteArray &errText) {
        if (!succeeded(r)) {
            QFile::remove(targetTarGz);
            return done(false, guestOpError(r, errText, QString()), {});
        }
        done(true, kNoError, {{QStringLiteral("workspace_id"), workspaceId}, {QStringLiteral("bytes"), double(QFileInfo(targetTarGz).size())}});
    };
    enqueue(t);
}

namespace {
// Lists the archive's member names on the host (GNU tar, names kept as stored with -P) and
// rejects absolute paths and "..". Empty string: acceptable.
QString validateArchive(const QString &archive)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.start(findTool(QStringLiteral("tar")).isEmpty() ? QStringLiteral("tar") : findTool(QStringLiteral("tar")),
            {QStringLiteral("--quoting-style=escape"), QStringLiteral("-tPzf"), archive});
    if (!p.waitForStarted(10000))
        return QStringLiteral("cannot run tar on the host to check the archive");
    QByteArray pending;
    int entries = 0;
    QString bad;
    auto check = [&](const QByteArray &line) {
        if (line.isEmpty() || !bad.isEmpty())
            return;
        ++entries;
        const QString name = QString::fromUtf8(line);
        if (name.startsWith(QLatin1Char('/')))
            bad = QStringLiteral("the archive holds an absolute path: '%1'").arg(name.left(200));
        for (const QString &part : name.split(QLatin1Char('/')))
            if (part == QLatin1String(".."))
                bad = QStringLiteral("the archive holds a path with '..': '%1'").arg(name.left(200));
    };
    while (p.state() != QProcess::NotRunning || p.bytesAvailable() > 0) {
        if (p.bytesAvailable() <= 0)
            p.waitForReadyRead(1000);
        pending += p.readAllStandardOutput();
        int nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
            check(pending.left(nl));
            pending.remove(0, nl + 1);
        }
        if (p.state() == QProcess::NotRunning && p.bytesAvailable() <= 0)
            break;
    }
    p.waitForFinished(600000);
    check(pending);
    if (!bad.isEmpty())
        return bad;
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return QStringLiteral("not a readable .tar.gz archive: %1").arg(QString::fromUtf8(p.readAllStandardError()).trimmed().left(300));
    return QString();
}
} // namespace

void Executor::importWorkspace(const QString &newId, int sizeGb, const QString &archiveTarGz, OpDone done)
{
    QString why;
    if (!WorkspaceStore::isValidId(newId, &why))
        return done(false, err(400, QStringLiteral("invalid_workspace_id"), why, QStringLiteral("id")), {});
    if (!WorkspaceStore::isValidSize(sizeGb, &why))
        return done(false, err(422, QStringLiteral("invalid_request"), why.replace(QStringLiteral("workspace_size_gb"), QStringLiteral("size_gb")), QStringLiteral("size_gb")), {});
    if (m_workspaces->exists(newId))
        return done(false, err(409, QStringLiteral("conflict"), QStringLiteral("workspace '%1' exists already").arg(newId)), {});
    if (!QFileInfo(archiveTarGz).isFile())
        return done(false, err(400, QStringLiteral("invalid_archive"), QStringLiteral("no archive at %1").arg(archiveTarGz)), {});
    auto *watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, newId, sizeGb, archiveTarGz, done] {
        const QString bad = watcher->result();
        watcher->deleteLater();
        if (!bad.isEmpty())
            return done(false, err(400, QStringLiteral("invalid_archive"), bad), {});
        if (m_workspaces->exists(newId)) // made meanwhile
            return done(false, err(409, QStringLiteral("conflict"), QStringLiteral("workspace '%1' exists already").arg(newId)), {});
        const QString e = m_workspaces->addRecord(newId, sizeGb);
        if (!e.isEmpty())
            return done(false, err(500, QStringLiteral("internal"), e), {});
        emit workspacesChanged();
        TaskPtr t = newOp(newId, QStringLiteral("import"));
        t->opSpec.script = WorkspaceOps::script(QStringLiteral("import.sh"));
        t->opSpec.stdinPath = archiveTarGz;
        t->opSpec.createWorkspace = true;
        t->opSpec.workspaceSizeGb = sizeGb;
        t->opDone = [this, done, newId, sizeGb](const VmResult &r, const QByteArray &, const QByteArray &errText) {
            if (!succeeded(r)) {
                if (m_scheduler.waitingFor(newId) == 0)
                    m_workspaces->remove(newId);
                emit workspacesChanged();
                return done(false, guestOpError(r, errText, QString()), {});
            }
            emit workspacesChanged();
            done(true, kNoError, {{QStringLiteral("id"), newId}, {QStringLiteral("size_gb"), sizeGb}});
        };
        enqueue(t);
    });
    watcher->setFuture(QtConcurrent::run([archiveTarGz] { return validateArchive(archiveTarGz); }));
}

} // namespace magpie
