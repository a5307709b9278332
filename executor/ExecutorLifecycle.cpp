// ExecutorLifecycle.cpp — the Executor's workspace lifecycle (issue 11): snapshots, restore,
// roll back a job, what a job changed, create, clone, grow (files in and out of a workspace —
// upload, delete, export, import — are in ExecutorTransfer.cpp). Disk-file work runs as DiskOp tasks (WorkspaceDisk, on the host) and file work as small
// guest scripts (resources/guest/ops/), both through the workspace's FIFO queue, so nothing here
// ever runs beside a job on the same workspace.
#include "Executor.h"

#include "Backend.h"
#include "ExecutorLifecycleSupport.h"
#include "Tools.h"
#include "WorkspaceDisk.h"

#include <QDir>
#include <QFile>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlQuery>
#include <QtConcurrent>

namespace magpie {

using namespace lifecycle;

// ---------------------------------------------------------------- plumbing

std::optional<ExecError> Executor::checkExisting(const QString &workspaceId) const
{
    QString why;
    if (!WorkspaceStore::isValidId(workspaceId, &why))
        return err(400, QStringLiteral("invalid_workspace_id"), why, QStringLiteral("workspace_id"));
    if (!m_workspaces || !m_workspaces->exists(workspaceId))
        return err(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1'").arg(workspaceId));
    return std::nullopt;
}

TaskPtr Executor::newOp(const QString &workspaceId, const QString &what)
{
    auto t = std::make_shared<Task>();
    t->kind = Task::Op;
    t->id = QStringLiteral("op-%1-%2-%3").arg(what).arg(++m_opSeq).arg(workspaceId);
    t->workspaceId = workspaceId;
    t->opNeedsDisk = false;
    t->opSpec.id = t->id;
    t->opSpec.isJob = false;
    t->opSpec.name = what;
    t->opSpec.workspaceId = workspaceId;
    t->opSpec.vcpus = 1;
    t->opSpec.memoryMb = 512;
    t->opSpec.timeoutSec = 3600;
    t->opSpec.network = false;
    return t;
}

void Executor::enqueueDiskOp(const QString &workspaceId, const QString &op, const QJsonObject &args, DiskOpDone done)
{
    TaskPtr t = newOp(workspaceId, op);
    t->opSpec.kind = TaskSpec::DiskOp;
    t->opSpec.diskOp = op;
    t->opSpec.diskOpArgs = args;
    t->opDone = [done](const VmResult &r, const QByteArray &out, const QByteArray &errText) {
        if (!done)
            return;
        if (r.outcome != VmResult::Exited)
            return done(1, {}, r.error.isEmpty() ? QStringLiteral("the disk operation did not run") : r.error);
        done(r.exitCode, QJsonDocument::fromJson(out).object(), QString::fromUtf8(errText).trimmed());
    };
    enqueue(t);
}

void Executor::saveChanges(const QString &requestId, const QJsonObject &changes)
{
    QDir().mkpath(m_jobs->logDir(requestId));
    QFile f(m_jobs->logDir(requestId) + QStringLiteral("/changes.json"));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(QJsonDocument(changes).toJson(QJsonDocument::Compact)) < 0)
        qWarning("magpie: cannot write %s", qPrintable(f.fileName()));
}

void Executor::setCheckpoints(bool on, int keep)
{
    m_cfg.checkpoints = on;
    m_cfg.keepCheckpoints = qBound(0, keep, LifecycleLimits::kMaxKeepCheckpoints);
}

// ---------------------------------------------------------------- snapshots

void Executor::snapshots(const QString &workspaceId, SnapshotsDone done)
{
    if (auto e = checkExisting(workspaceId))
        return done(std::nullopt, *e);
    enqueueDiskOp(workspaceId, QStringLiteral("snapshot-list"), {}, [done](int code, const QJsonObject &out, const QString &e) {
        if (code != 0)
            return done(std::nullopt, err(500, QStringLiteral("internal"), QStringLiteral("cannot list the snapshots: %1").arg(e)));
        QList<SnapshotInfo> list;
        for (const QJsonValue &v : out.value(QStringLiteral("snapshots")).toArray()) {
            const QJsonObject o = v.toObject();
            SnapshotInfo s;
            s.name = o.value(QStringLiteral("name")).toString();
            s.createdAt = QDateTime::fromMSecsSinceEpoch(qint64(o.value(QStringLiteral("date")).toDouble() * 1000), Qt::UTC);
            s.sizeBytes = qint64(o.value(QStringLiteral("size_bytes")).toDouble());
            if (s.name.startsWith(QLatin1String("before-")) && isUuid(s.name.mid(7)))
                s.jobId = s.name.mid(7);
            list.append(s);
        }
        done(list, kNoError);
    });
}

void Executor::takeSnapshot(const QString &workspaceId, const QString &name, OpDone done)
{
    if (auto e = checkExisting(workspaceId))
        return done(false, *e, {});
    if (auto e = badName(name, QStringLiteral("name")))
        return done(false, *e, {});
    enqueueDiskOp(workspaceId, QStringLiteral("snapshot-create"), {{QStringLiteral("name"), name}},
                  [this, done, name, workspaceId](int code, const QJsonObject &out, const QString &e) {
                      if (code == 9)
                          return done(false, err(409, QStringLiteral("conflict"), QStringLiteral("workspace '%1' has a snapshot named '%2' already").arg(workspaceId, name)), {});
                      if (code == 8)
                          return done(false, err(409, QStringLiteral("conflict"), QStringLiteral("workspace '%1' has no disk yet: its first job has not run").arg(workspaceId)), {});
                      if (code != 0)
                          return done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot take the snapshot: %1").arg(e)), {});
                      emit workspacesChanged();
                      done(true, kNoError, out);
                  });
}

void Executor::restoreTo(const QString &workspaceId, const QString &name, const QJsonObject &extra, bool rollback, OpDone done)
{
    const QString safety = QStringLiteral("before-restore-%1").arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz")));
    enqueueDiskOp(workspaceId, QStringLiteral("snapshot-restore"), {{QStringLiteral("name"), name}, {QStringLiteral("safety"), safety}},
                  [this, done, name, workspaceId, extra, rollback](int code, const QJsonObject &out, const QString &e) {
                      if (code == 4)
                          return done(false, rollback ? err(409, QStringLiteral("checkpoint_gone"), QStringLiteral("the checkpoint '%1' of workspace '%2' no longer exists (pruned or deleted)").arg(name, workspaceId))
                                                      : err(404, QStringLiteral("not_found"), QStringLiteral("workspace '%1' has no snapshot named '%2'").arg(workspaceId, name)),
                                      {});
                      if (code != 0)
                          return done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot restore '%1': %2").arg(name, e)), {});
                      const int size = out.value(QStringLiteral("size_gb")).toInt();
                      if (size > 0)
                          m_workspaces->setSize(workspaceId, size);
                      QJsonObject info = out;
                      info.remove(QStringLiteral("size_gb"));
                      for (auto it = extra.begin(); it != extra.end(); ++it)
                          info.insert(it.key(), it.value());
                      emit workspacesChanged();
                      done(true, kNoError, info);
                  });
}

void Executor::restoreSnapshot(const QString &workspaceId, const QString &name, OpDone done)
{
    if (auto e = checkExisting(workspaceId))
        return done(false, *e, {});
    if (auto e = badName(name, QStringLiteral("name")))
        return done(false, *e, {});
    restoreTo(workspaceId, name, {}, false, std::move(done));
}

void Executor::deleteSnapshot(const QString &workspaceId, const QString &name, OpDone done)
{
    if (auto e = checkExisting(workspaceId))
        return done(false, *e, {});
    if (auto e = badName(name, QStringLiteral("name")))
        return done(false, *e, {});
    enqueueDiskOp(workspaceId, QStringLiteral("snapshot-delete"), {{QStringLiteral("name"), name}},
                  [this, done, name, workspaceId](int code, const QJsonObject &out, const QString &e) {
                      if (code == 4)
                          return done(false, err(404, QStringLiteral("not_found"), QStringLiteral("workspace '%1' has no snapshot named '%2'").arg(workspaceId, name)), {});
                      if (code != 0)
                          return done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot delete the snapshot: %1").arg(e)), {});
                      emit workspacesChanged();
                      done(true, kNoError, out);
                  });
}

void Executor::rollbackJob(const QString &requestId, bool force, OpDone done)
{
    const auto j = job(requestId);
    if (!j)
        return done(false, err(404, QStringLiteral("not_found"), QStringLiteral("no job with request_id '%1'").arg(requestId)), {});
    if (!j->stateful)
        return done(false, err(409, QStringLiteral("no_checkpoint"), QStringLiteral("job '%1' is stateless: it changed no workspace").arg(requestId)), {});
    if (!isFinished(j->status))
        return done(false, err(409, QStringLiteral("conflict"), QStringLiteral("job '%1' is %2; roll it back after it ended").arg(requestId, statusName(j->status))), {});
    if (j->checkpointName.isEmpty())
        return done(false, err(409, QStringLiteral("no_checkpoint"), QStringLiteral("job '%1' ran without a checkpoint (checkpoint: false, or checkpoints were off)").arg(requestId)), {});
    if (!m_workspaces->exists(j->workspaceId))
        return done(false, err(409, QStringLiteral("checkpoint_gone"), QStringLiteral("workspace '%1' no longer exists").arg(j->workspaceId)), {});
    // Later jobs that ran (or run) on the same workspace would be undone too.
    int later = 0;
    QSqlQuery q;
    if (m_db.prepare(q, QStringLiteral("SELECT COUNT(*) FROM jobs WHERE workspace_id = ? AND seq > ? AND started_at IS NOT NULL"),
                     {j->workspaceId, j->seq}) && q.exec() && q.next())
        later = q.value(0).toInt();
    if (later > 0 && !force)
        return done(false, err(409, QStringLiteral("later_jobs"),
                               QStringLiteral("%1 later job(s) ran on workspace '%2' after job '%3'; rolling back undoes them too: send {\"force\": true} to do it")
                                   .arg(later).arg(j->workspaceId, requestId)),
                    {});
    restoreTo(j->workspaceId, j->checkpointName, {{QStringLiteral("undone_jobs"), later}, {QStringLiteral("workspace_id"), j->workspaceId}}, true, std::move(done));
}

std::optional<JobChanges> Executor::jobChanges(const QString &requestId, ExecError *error) const
{
    const auto j = job(requestId);
    if (!j) {
        if (error)
            *error = err(404, QStringLiteral("not_found"), QStringLiteral("no job with request_id '%1'").arg(requestId));
        return std::nullopt;
    }
    QFile f(m_jobs->logDir(requestId) + QStringLiteral("/changes.json"));
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = err(404, QStringLiteral("not_found"),
                         !j->stateful ? QStringLiteral("job '%1' is stateless: it changed no workspace").arg(requestId)
                         : !isFinished(j->status) ? QStringLiteral("job '%1' is %2: its changes are known when it ends").arg(requestId, statusName(j->status))
                                                  : QStringLiteral("no changes were recorded for job '%1'").arg(requestId));
        return std::nullopt;
    }
    return JobChanges::fromJson(QJsonDocument::fromJson(f.readAll()).object());
}

// ---------------------------------------------------------------- create, clone, grow

void Executor::createWorkspace(const QString &id, int sizeGb, OpDone done)
{
    QString why;
    if (!WorkspaceStore::isValidId(id, &why))
        return done(false, err(400, QStringLiteral("invalid_workspace_id"), why, QStringLiteral("id")), {});
    if (!WorkspaceStore::isValidSize(sizeGb, &why))
        return done(false, err(422, QStringLiteral("invalid_request"), why, QStringLiteral("size_gb")), {});
    if (m_workspaces->exists(id))
        return done(false, err(409, QStringLiteral("conflict"), QStringLiteral("workspace '%1' exists already").arg(id)), {});
    const QString e = m_workspaces->addRecord(id, sizeGb);
    if (!e.isEmpty())
        return done(false, err(500, QStringLiteral("internal"), e), {});
    emit workspacesChanged();
    enqueueDiskOp(id, QStringLiteral("create"), {{QStringLiteral("size_gb"), sizeGb}}, [this, done, id, sizeGb](int code, const QJsonObject &, const QString &e) {
        if (code != 0) {
            if (m_scheduler.waitingFor(id) == 0)
                m_workspaces->remove(id);
            emit workspacesChanged();
            return done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot create workspace '%1': %2").arg(id, e)), {});
        }
        emit workspacesChanged();
        done(true, kNoError, {{QStringLiteral("id"), id}, {QStringLiteral("size_gb"), sizeGb}});
    });
}

// The source's queue runs the copy; the new workspace (its record made already) stays busy
// until then, so its own jobs wait behind the copy.
void Executor::startClone(const QString &sourceId, const QString &newId, int sizeGb, OpDone done)
{
    const QString marker = QStringLiteral("clone-of-%1").arg(sourceId);
    m_scheduler.markBusy(newId, marker);
    enqueueDiskOp(sourceId, QStringLiteral("clone"),
                  {{QStringLiteral("target"), m_backend->workspaceDiskPath(newId)}, {QStringLiteral("size_gb"), sizeGb}},
                  [this, done, sourceId, newId, sizeGb](int code, const QJsonObject &, const QString &e) {
                      m_scheduler.release(newId);
                      scheduleSoon();
                      if (code != 0) {
                          if (m_scheduler.waitingFor(newId) == 0)
                              m_workspaces->remove(newId);
                          emit workspacesChanged();
                          if (done)
                              done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot clone '%1': %2").arg(sourceId, e)), {});
                          return;
                      }
                      emit workspacesChanged();
                      if (done)
                          done(true, kNoError, {{QStringLiteral("id"), newId}, {QStringLiteral("source_id"), sourceId}, {QStringLiteral("size_gb"), sizeGb}});
                  });
}

void Executor::cloneWorkspace(const QString &sourceId, const QString &newId, OpDone done)
{
    if (auto e = checkExisting(sourceId))
        return done(false, *e, {});
    QString why;
    if (!WorkspaceStore::isValidId(newId, &why))
        return done(false, err(400, QStringLiteral("invalid_workspace_id"), why, QStringLiteral("id")), {});
    if (m_workspaces->exists(newId))
        return done(false, err(409, QStringLiteral("conflict"), QStringLiteral("workspace '%1' exists already").arg(newId)), {});
    const int size = m_workspaces->get(sourceId)->sizeGb;
    const QString e = m_workspaces->addRecord(newId, size);
    if (!e.isEmpty())
        return done(false, err(500, QStringLiteral("internal"), e), {});
    emit workspacesChanged();
    startClone(sourceId, newId, size, std::move(done));
}

void Executor::growWorkspace(const QString &workspaceId, int sizeGb, OpDone done)
{
    if (auto e = checkExisting(workspaceId))
        return done(false, *e, {});
    QString why;
    if (!WorkspaceStore::isValidSize(sizeGb, &why))
        return done(false, err(422, QStringLiteral("invalid_request"), why.replace(QStringLiteral("workspace_size_gb"), QStringLiteral("size_gb")), QStringLiteral("size_gb")), {});
    const int current = m_workspaces->get(workspaceId)->sizeGb;
    if (sizeGb <= current)
        return done(false, err(422, QStringLiteral("cannot_shrink"),
                               QStringLiteral("workspace '%1' is %2 GB; size_gb must be larger (a workspace can grow, not shrink)").arg(workspaceId).arg(current),
                               QStringLiteral("size_gb")),
                    {});
    enqueueDiskOp(workspaceId, QStringLiteral("resize"), {{QStringLiteral("size_gb"), sizeGb}},
                  [this, done, workspaceId, sizeGb, current](int code, const QJsonObject &out, const QString &e) {
                      if (code == 7)
                          return done(false, err(422, QStringLiteral("cannot_shrink"), e, QStringLiteral("size_gb")), {});
                      if (code != 0)
                          return done(false, err(500, QStringLiteral("internal"), QStringLiteral("cannot grow the disk: %1").arg(e)), {});
                      m_workspaces->setSize(workspaceId, sizeGb);
                      emit workspacesChanged();
                      const QJsonObject info{{QStringLiteral("id"), workspaceId}, {QStringLiteral("size_gb"), sizeGb}, {QStringLiteral("previous_size_gb"), current}};
                      if (!out.value(QStringLiteral("disk")).toBool())
                          return done(true, kNoError, info); // no disk yet: it is made at the new size
                      // Then the file system, online, in a VM.
                      TaskPtr t = newOp(workspaceId, QStringLiteral("grow"));
                      t->opSpec.script = WorkspaceOps::script(QStringLiteral("grow.sh"));
                      t->opSpec.workspaceSizeGb = sizeGb;
                      t->opDone = [this, done, info](const VmResult &r, const QByteArray &o, const QByteArray &errText) {
                          if (!succeeded(r))
                              return done(false, guestOpError(r, errText, QString()), {});
                          QJsonObject i = info;
                          i.insert(QStringLiteral("filesystem_bytes"), QString::fromUtf8(o).trimmed().toDouble());
                          emit workspacesChanged();
                          done(true, kNoError, i);
                      };
                      enqueue(t);
                  });
}

} // namespace magpie
