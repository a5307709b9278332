// ExecutorHistory.cpp — the Executor's job history: reading records (the running and unsaved
// ones first), saving them (a failed write is kept in memory and retried), retention (pruning
// old jobs), bulk submission and deleting a finished job. Executor members; the core is in
// Executor.cpp.
#include "Executor.h"

#include "Task.h"
#include "Tools.h"

#include <QDateTime>
#include <QDir>
#include <QTimer>

namespace magpie {

// ---------------------------------------------------------------- records

std::optional<JobRecord> Executor::job(const QString &requestId) const
{
    if (const TaskPtr t = m_running.value(requestId); t && t->isJob())
        return t->job;
    if (const auto it = m_unsaved.constFind(requestId); it != m_unsaved.constEnd())
        return *it;
    if (!m_jobs)
        return std::nullopt;
    return m_jobs->get(requestId);
}

JobPage Executor::jobs(const JobFilter &filter) const
{
    JobPage page = m_jobs->list(filter);
    for (JobRecord &j : page.jobs) {
        if (const TaskPtr t = m_running.value(j.requestId); t && t->isJob())
            j = t->job;
        else if (const auto it = m_unsaved.constFind(j.requestId); it != m_unsaved.constEnd())
            j = *it;
    }
    return page;
}

LogChunk Executor::readLog(const QString &requestId, int stream, qint64 offset, qint64 maxBytes) const
{
    return m_jobs->readLog(requestId, stream, offset, maxBytes);
}

QString Executor::logDir(const QString &requestId) const
{
    return m_jobs ? m_jobs->logDir(requestId) : QString();
}

void Executor::saveJob(const JobRecord &job)
{
    QString err = m_jobs->update(job);
    if (!err.isEmpty())
        err = m_jobs->update(job); // a transient failure (e.g. the database was busy)
    if (err.isEmpty()) {
        if (m_unsaved.remove(job.requestId) && m_unsaved.isEmpty() && !m_dbFault.isEmpty()) {
            m_dbFault.clear();
            emit poolChanged();
        }
        return;
    }
    qWarning("magpie: could not save job %s (kept in memory, retried): %s", qPrintable(job.requestId), qPrintable(err));
    m_unsaved.insert(job.requestId, job);
    const bool changed = m_dbFault != err;
    m_dbFault = err;
    if (!m_dbRetry) {
        m_dbRetry = new QTimer(this);
        m_dbRetry->setInterval(3000);
        connect(m_dbRetry, &QTimer::timeout, this, &Executor::retryUnsaved);
    }
    m_dbRetry->start();
    if (changed)
        emit poolChanged();
}

void Executor::retryUnsaved()
{
    const auto pending = m_unsaved;
    for (const JobRecord &j : pending) {
        if (!m_jobs->update(j).isEmpty())
            return; // still failing; the timer tries again
        m_unsaved.remove(j.requestId);
        emit jobChanged(j.requestId);
    }
    m_dbRetry->stop();
    if (!m_dbFault.isEmpty()) {
        qWarning("magpie: the job history is writable again; %lld pending records saved", qlonglong(pending.size()));
        m_dbFault.clear();
        emit poolChanged();
    }
}

// ---------------------------------------------------------------- retention

void Executor::setRetention(int keepJobs, int keepDays)
{
    m_cfg.keepJobs = qMax(0, keepJobs);
    m_cfg.keepDays = qMax(0, keepDays);
    if (m_pruneTimer && (m_cfg.keepJobs > 0 || m_cfg.keepDays > 0))
        m_pruneTimer->start();
}

int Executor::pruneHistory()
{
    if (!m_jobs || (m_cfg.keepJobs <= 0 && m_cfg.keepDays <= 0))
        return 0;
    const QString before = m_cfg.keepDays > 0 ? isoUtc(QDateTime::currentDateTimeUtc().addDays(-m_cfg.keepDays)) : QString();
    // In batches, so a first prune of a long history does not freeze the event loop.
    const QStringList ids = m_jobs->prunable(m_cfg.keepJobs, before, 500);
    int removed = 0;
    for (const QString &id : ids) {
        if (m_running.contains(id) || m_unsaved.contains(id))
            continue;
        QString err;
        if (!m_jobs->remove(id, &err)) {
            qWarning("magpie: could not prune job %s from the history: %s", qPrintable(id), qPrintable(err));
            break;
        }
        ++removed;
        emit jobRemoved(id);
    }
    if (ids.size() == 500 && removed > 0)
        QTimer::singleShot(0, this, &Executor::pruneHistory);
    return removed;
}

// ---------------------------------------------------------------- history and bulk submission
// (kept apart from the scheduler: they only use submit(), cancel(), job() and the stores)

std::optional<QList<JobRecord>> Executor::submitMany(const QList<JobRequest> &requests, ExecError *error, int *failedIndex)
{
    for (int i = 0; i < requests.size(); ++i) {
        if (auto e = requests.at(i).validate()) {
            if (error)
                *error = execError(e->httpStatus, e->code, e->message, e->field);
            if (failedIndex)
                *failedIndex = i;
            return std::nullopt;
        }
    }
    // One transaction around them all: each submit() runs in a savepoint inside it.
    if (!m_db.transaction()) {
        if (error)
            *error = execError(500, QStringLiteral("internal"), m_db.error());
        return std::nullopt;
    }
    QList<JobRecord> out;
    out.reserve(requests.size());
    ExecError e;
    for (int i = 0; i < requests.size(); ++i) {
        auto rec = submit(requests.at(i), &e);
        if (!rec || (i == requests.size() - 1 && !m_db.commit())) {
            // All or nothing: undo the records, and take the queued tasks back out.
            if (rec)
                e = execError(500, QStringLiteral("internal"), m_db.error());
            m_db.rollback();
            for (const JobRecord &j : std::as_const(out)) {
                cancel(j.requestId, nullptr);
                QDir(m_jobs->logDir(j.requestId)).removeRecursively();
            }
            if (error)
                *error = e;
            if (failedIndex)
                *failedIndex = i;
            return std::nullopt;
        }
        out.append(*rec);
    }
    if (requests.isEmpty() && !m_db.commit()) {
        m_db.rollback();
        if (error)
            *error = execError(500, QStringLiteral("internal"), m_db.error());
        return std::nullopt;
    }
    return out;
}

bool Executor::deleteJob(const QString &requestId, ExecError *error)
{
    const auto j = job(requestId);
    if (!j) {
        if (error)
            *error = execError(404, QStringLiteral("not_found"), QStringLiteral("no job with request_id '%1'").arg(requestId));
        return false;
    }
    if (!isFinished(j->status)) {
        if (error)
            *error = execError(409, QStringLiteral("conflict"),
                               QStringLiteral("job '%1' is %2; cancel it first, then delete it").arg(requestId, statusName(j->status)));
        return false;
    }
    QString err;
    if (!m_jobs->remove(requestId, &err)) {
        if (error)
            *error = execError(500, QStringLiteral("internal"), err);
        return false;
    }
    emit jobRemoved(requestId);
    if (!j->workspaceId.isEmpty())
        emit workspacesChanged();
    return true;
}

} // namespace magpie
