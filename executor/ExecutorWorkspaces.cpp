// ExecutorWorkspaces.cpp — the Executor's workspaces as the API shows them: their state
// (running, queued), listing, deleting one, and its files and disk usage through its queue
// (WorkspaceOps). Executor members; the workspace lifecycle (snapshots, clone, grow…) is in
// ExecutorLifecycle.cpp and ExecutorTransfer.cpp.
#include "Executor.h"

namespace magpie {

QJsonObject WorkspaceState::toJson() const
{
    auto n = [](qint64 v) { return v < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(double(v)); };
    return QJsonObject{
        {QStringLiteral("id"), info.id},
        {QStringLiteral("size_gb"), info.sizeGb},
        {QStringLiteral("used_bytes"), n(info.usedBytes)},
        {QStringLiteral("total_bytes"), n(info.totalBytes)},
        {QStringLiteral("disk_bytes"), double(info.diskBytes)},
        {QStringLiteral("created_at"), info.createdAt},
        {QStringLiteral("last_used_at"), info.lastUsedAt.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(info.lastUsedAt)},
        {QStringLiteral("job_count"), info.jobCount},
        {QStringLiteral("state"), running ? QStringLiteral("running") : queued > 0 ? QStringLiteral("queued") : QStringLiteral("idle")},
        {QStringLiteral("queued"), queued},
        {QStringLiteral("running_job_id"), runningJobId.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(runningJobId)},
    };
}

// ---------------------------------------------------------------- workspaces

WorkspaceState Executor::stateOf(const WorkspaceInfo &w) const
{
    WorkspaceState s;
    s.info = w;
    s.running = m_scheduler.isBusy(w.id);
    s.runningJobId = m_scheduler.busyWith(w.id);
    s.queued = m_scheduler.queuedJobsFor(w.id);
    return s;
}

QList<WorkspaceState> Executor::workspaces() const
{
    QList<WorkspaceState> out;
    for (const WorkspaceInfo &w : m_workspaces->list())
        out.append(stateOf(w));
    return out;
}

std::optional<WorkspaceState> Executor::workspace(const QString &id) const
{
    const auto w = m_workspaces->get(id);
    if (!w)
        return std::nullopt;
    return stateOf(*w);
}

bool Executor::deleteWorkspace(const QString &id, ExecError *error)
{
    QString why;
    if (!WorkspaceStore::isValidId(id, &why)) {
        if (error)
            *error = execError(400, QStringLiteral("invalid_workspace_id"), why, QStringLiteral("workspace_id"));
        return false;
    }
    if (!m_workspaces->exists(id)) {
        if (error)
            *error = execError(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1'").arg(id));
        return false;
    }
    const bool busy = m_scheduler.isBusy(id);
    if (busy || m_scheduler.waitingFor(id) > 0) {
        if (error)
            *error = execError(409, QStringLiteral("conflict"),
                               QStringLiteral("workspace '%1' is in use (%2 running, %3 queued); wait for its jobs to finish or cancel them first")
                                   .arg(id).arg(busy ? 1 : 0).arg(m_scheduler.queuedJobsFor(id)));
        return false;
    }
    const QString err = m_workspaces->remove(id);
    if (!err.isEmpty()) {
        if (error)
            *error = execError(500, QStringLiteral("internal"), err);
        return false;
    }
    emit workspacesChanged();
    return true;
}

void Executor::listFiles(const QString &id, const QString &path, WorkspaceOps::EntriesDone done)
{
    m_ops->listFiles(id, path, std::move(done));
}

void Executor::readFile(const QString &id, const QString &path, WorkspaceOps::BytesDone done)
{
    m_ops->readFile(id, path, std::move(done));
}

void Executor::diskUsage(const QString &id, int limit, WorkspaceOps::EntriesDone done)
{
    m_ops->diskUsage(id, limit, std::move(done));
}

} // namespace magpie
