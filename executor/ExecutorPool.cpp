// ExecutorPool.cpp — the Executor's pool: its settings (parallel VMs, accelerator, defaults, the
// guest image), its status, recovery from an earlier run at open(), and shutdown. Executor
// members; the core is in Executor.cpp.
#include "Executor.h"

#include "Backend.h"
#include "ExecutorSupport.h"
#include "LocalBackend.h"
#include "slurm/SlurmBackend.h"
#include "Recovery.h"
#include "Task.h"

#include <QFile>
#include <QThread>

namespace magpie {

namespace {
constexpr int kVmLog = 3;

// Tells a workspace operation that will not run that it ended.
void abandonOp(const Task::OpDone &done)
{
    if (!done)
        return;
    VmResult r;
    r.error = QStringLiteral("Magpie Desktop is shutting down");
    done(r, {}, {});
}
} // namespace

QJsonObject PoolStatus::toJson() const
{
    QJsonObject o = backendStatus;
    o.insert(QStringLiteral("running"), running);
    o.insert(QStringLiteral("queued"), queued);
    o.insert(QStringLiteral("max_parallel"), maxParallel);
    o.insert(QStringLiteral("backend"), backend);
    o.insert(QStringLiteral("accelerator"), accelerator.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(accelerator));
    o.insert(QStringLiteral("accelerator_reason"), acceleratorReason);
    o.insert(QStringLiteral("database_fault"), databaseFault.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(databaseFault));
    return o;
}

// ---------------------------------------------------------------- recovery

void Executor::recover()
{
    const QString runs = m_cfg.dataDir + QStringLiteral("/runs/");
    recovery::killStaleQemu(runs);
    for (JobRecord j : m_jobs->withStatus(JobStatus::Running)) {
        if (m_slurm && j.backend == QLatin1String("slurm") && m_slurm->resume(j.requestId, j.stdoutBytes, j.stderrBytes)) {
            // Still in the cluster (or finished there with a result): followed again.
            auto t = std::make_shared<Task>();
            t->kind = Task::Job;
            t->id = j.requestId;
            t->workspaceId = j.workspaceId;
            t->job = j;
            t->order = ++m_order;
            t->started = true;
            m_running.insert(t->id, t);
            if (!t->workspaceId.isEmpty())
                m_scheduler.markBusy(t->workspaceId, t->id);
            continue;
        }
        recovery::killStaleQemu(QStringLiteral("magpie-%1").arg(j.requestId));
        closeRecord(j, JobStatus::Failed, QStringLiteral("interrupted: Magpie Desktop stopped while this job was running; its VM was stopped"));
        saveJob(j);
        QFile log(m_jobs->logPath(j.requestId, kVmLog));
        if (log.open(QIODevice::Append))
            log.write(QStringLiteral("[host] %1 at %2\n").arg(j.error, j.finishedAt).toUtf8());
    }
    recovery::sweep(m_cfg.dataDir);
    for (const JobRecord &j : m_jobs->withStatus(JobStatus::Queued)) {
        auto t = std::make_shared<Task>();
        t->kind = Task::Job;
        t->id = j.requestId;
        t->workspaceId = j.workspaceId.isEmpty() ? j.baseWorkspaceId : j.workspaceId;
        t->job = j;
        t->order = ++m_order;
        m_scheduler.push(t);
    }
}

// ---------------------------------------------------------------- settings

int Executor::maxParallel() const
{
    return m_backend ? m_backend->capacity() : (m_cfg.maxParallel > 0 ? m_cfg.maxParallel : qMax(1, QThread::idealThreadCount()));
}

void Executor::setMaxParallel(int n)
{
    m_cfg.maxParallel = qMax(0, n);
    if (m_local)
        m_local->setMaxParallel(m_cfg.maxParallel);
    emit poolChanged();
    scheduleSoon();
}

void Executor::setAccelMode(AccelMode mode)
{
    m_cfg.accel = mode;
    if (m_local)
        m_local->setAccelMode(mode);
    scheduleSoon();
    emit poolChanged();
}

AccelMode Executor::accelMode() const
{
    return m_cfg.accel;
}

void Executor::setDefaults(int vcpus, int memoryMb)
{
    m_cfg.defaultVcpus = qBound(JobLimits::kMinVcpus, vcpus, JobLimits::kMaxVcpus);
    m_cfg.defaultMemoryMb = qBound(JobLimits::kMinMemoryMb, memoryMb, JobLimits::kMaxMemoryMb);
}

void Executor::reloadImage()
{
    m_image = m_cfg.image.dir.isEmpty() ? GuestImage::locate() : GuestImage::fromDir(m_cfg.image.dir);
    if (m_local)
        m_local->setImage(m_image);
    if (m_local && m_image.isValid())
        m_local->prepareSnapshot(m_cfg.defaultVcpus, m_cfg.defaultMemoryMb);
    emit poolChanged();
    scheduleSoon();
}

// ---------------------------------------------------------------- pool, shutdown

QString Executor::backendName() const
{
    return m_backend ? m_backend->name() : m_cfg.backend;
}

PoolStatus Executor::pool() const
{
    PoolStatus p;
    for (const TaskPtr &t : m_running)
        p.running += t->isJob();
    p.queued = m_scheduler.queuedJobs();
    p.maxParallel = maxParallel();
    p.databaseFault = m_dbFault;
    if (m_backend) {
        p.backend = m_backend->name();
        p.backendStatus = m_backend->status();
    }
    if (m_local) {
        const auto a = m_local->accelerator();
        p.accelerator = a ? accelName(*a) : QString();
        p.acceleratorReason = m_local->acceleratorReason();
    }
    return p;
}

void Executor::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    if (m_backend)
        m_backend->shutdown();
    const auto running = m_running;
    const bool resumable = m_backend && m_backend->resumesRunningTasks();
    for (const TaskPtr &t : running) {
        if (t->isJob() && resumable) {
            continue; // still running in the cluster: the next start follows it again
        } else if (t->isJob() && m_jobs) {
            closeRecord(t->job, JobStatus::Failed, QStringLiteral("interrupted: Magpie Desktop was stopped while this job was running"));
            saveJob(t->job);
        } else if (!t->isJob()) {
            abandonOp(t->opDone);
        }
    }
    m_running.clear();
    for (const TaskPtr &t : m_scheduler.all()) // queued jobs stay queued in the database for the next start
        if (!t->isJob())
            abandonOp(t->opDone);
    m_scheduler.clear();
}

} // namespace magpie
