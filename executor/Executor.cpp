// Executor.cpp — the Executor's core: open(), submitting and cancelling a job, scheduling tasks
// onto the backend and finishing them (jobs and workspace operations). The rest of its members
// are in ExecutorHistory.cpp (job records, retention, bulk submission, deleting a job),
// ExecutorWorkspaces.cpp (listing and deleting workspaces, files and usage), ExecutorPool.cpp
// (settings, the pool's status, recovery at open, shutdown), ExecutorLifecycle.cpp and
// ExecutorTransfer.cpp (the workspace lifecycle of issue 11).
#include "Executor.h"

#include "ImageRegistry.h"

#include "Backend.h"
#include "ExecutorSupport.h"
#include "LocalBackend.h"
#include "slurm/SlurmBackend.h"
#include "Task.h"
#include "Tools.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTimer>
#include <QUuid>

namespace magpie {

namespace {
constexpr int kStdout = 1;
} // namespace

QString VmResult::outcomeName(Outcome o)
{
    switch (o) {
    case Exited: return QStringLiteral("exited");
    case TimedOut: return QStringLiteral("timed_out");
    case Cancelled: return QStringLiteral("cancelled");
    case Failed: return QStringLiteral("failed");
    }
    return QString();
}

Executor::Executor(ExecutorConfig config, QObject *parent)
    : QObject(parent), m_cfg(std::move(config))
{
    qRegisterMetaType<VmResult>();
    m_image = m_cfg.image.dir.isEmpty() ? GuestImage::locate() : m_cfg.image;
}

Executor::~Executor()
{
    shutdown();
}

bool Executor::open(QString *error)
{
    if (!QDir().mkpath(m_cfg.dataDir)) {
        *error = QStringLiteral("cannot create the data folder %1").arg(m_cfg.dataDir);
        return false;
    }
    if (!m_db.open(m_cfg.dataDir + QStringLiteral("/magpie.db"))) {
        *error = m_db.error();
        return false;
    }
    const bool onSlurm = m_cfg.backend == QLatin1String("slurm");
    // On Slurm the workspaces' disks live on the shared storage, where the nodes open them.
    m_workspaces = std::make_unique<WorkspaceStore>(m_db, (onSlurm ? m_cfg.slurm.sharedDir : m_cfg.dataDir) + QStringLiteral("/workspaces"));
    m_jobs = std::make_unique<JobStore>(m_db, m_cfg.dataDir + QStringLiteral("/logs"));
    m_ops = std::make_unique<WorkspaceOps>(*m_workspaces, [this](const TaskPtr &t) { enqueue(t); });

    LocalBackendConfig lc;
    lc.dataDir = m_cfg.dataDir;
    lc.maxParallel = m_cfg.maxParallel;
    lc.accel = m_cfg.accel;
    lc.bootTimeoutSec = m_cfg.bootTimeoutSec;
    lc.image = m_image;
    if (onSlurm) {
        m_slurm = new SlurmBackend(m_cfg.slurm, this);
        m_backend = m_slurm;
    } else {
        m_local = new LocalBackend(lc, this);
        m_backend = m_local;
    }
    connect(m_backend, &Backend::taskStarted, this, &Executor::onTaskStarted);
    connect(m_backend, &Backend::taskOutput, this, &Executor::onTaskOutput);
    connect(m_backend, &Backend::taskFinished, this, &Executor::onTaskFinished);
    connect(m_backend, &Backend::statusChanged, this, &Executor::poolChanged);

    recover();
    scheduleSoon();
    if (m_local)
        m_local->prepareSnapshot(m_cfg.defaultVcpus, m_cfg.defaultMemoryMb);
    if (m_slurm)
        m_slurm->prepareSnapshot(m_cfg.defaultVcpus, m_cfg.defaultMemoryMb);
    m_pruneTimer = new QTimer(this);
    m_pruneTimer->setSingleShot(true);
    m_pruneTimer->setInterval(2000); // after a burst of finished jobs, once
    connect(m_pruneTimer, &QTimer::timeout, this, &Executor::pruneHistory);
    if (m_cfg.keepJobs > 0 || m_cfg.keepDays > 0)
        m_pruneTimer->start();
    return true;
}

// ---------------------------------------------------------------- jobs

std::optional<JobRecord> Executor::submit(const JobRequest &request, ExecError *error)
{
    if (auto e = request.validate()) {
        if (error)
            *error = execError(e->httpStatus, e->code, e->message, e->field);
        return std::nullopt;
    }
    if (m_shuttingDown) {
        if (error)
            *error = execError(503, QStringLiteral("unavailable"), QStringLiteral("Magpie Desktop is shutting down"));
        return std::nullopt;
    }
    const QString imageName = request.image.isEmpty() ? ImageRegistry::defaultName() : request.image;
    if (imageName != ImageRegistry::defaultName()) {
        const ImageRegistry images(m_cfg.dataDir, m_image);
        if (!images.profile(imageName)) {
            if (error)
                *error = execError(422, QStringLiteral("unknown_image"),
                                   QStringLiteral("unknown image '%1'; available: %2").arg(imageName.left(60), images.names().join(QStringLiteral(", "))),
                                   QStringLiteral("image"));
            return std::nullopt;
        }
        if (const GuestImage img = images.resolve(imageName); !img.isValid()) {
            if (error)
                *error = execError(422, QStringLiteral("image_not_built"), img.error, QStringLiteral("image"));
            return std::nullopt;
        }
    }
    JobRecord j;
    j.requestId = QUuid::createUuid().toString(QUuid::WithoutBraces).toLower();
    j.name = request.name.isEmpty() ? QStringLiteral("job %1").arg(j.requestId.left(8)) : request.name;
    j.script = request.script;
    j.stateful = request.stateful;
    j.env = request.env;
    j.vcpus = request.vcpus.value_or(m_cfg.defaultVcpus);
    j.memoryMb = request.memoryMb.value_or(m_cfg.defaultMemoryMb);
    j.timeoutSec = request.timeoutSec.value_or(m_cfg.defaultTimeoutSec);
    j.network = request.network;
    j.status = JobStatus::Queued;
    j.createdAt = isoNow();
    j.source = request.source;
    j.description = request.description;
    j.scriptType = request.scriptType;
    j.image = imageName;
    j.checkpoint = request.checkpoint;
    j.baseWorkspaceId = request.baseWorkspaceId;
    if (!j.baseWorkspaceId.isEmpty() && !m_workspaces->exists(j.baseWorkspaceId)) {
        if (error)
            *error = execError(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1' (base_workspace_id)").arg(j.baseWorkspaceId),
                               QStringLiteral("base_workspace_id"));
        return std::nullopt;
    }
    bool cloneFromBase = false;

    if (!m_db.transaction()) {
        if (error)
            *error = execError(500, QStringLiteral("internal"), m_db.error());
        return std::nullopt;
    }
    if (j.stateful) {
        j.workspaceId = request.workspaceId.isEmpty() ? j.requestId : request.workspaceId;
        if (auto existing = m_workspaces->get(j.workspaceId)) {
            j.workspaceSizeGb = existing->sizeGb;
            if (request.workspaceSizeGb)
                j.notice = QStringLiteral("workspace_size_gb (%1) was ignored: workspace '%2' already exists with %3 GB; "
                                          "the size is fixed when a workspace is created")
                               .arg(*request.workspaceSizeGb).arg(j.workspaceId).arg(existing->sizeGb);
            if (!j.baseWorkspaceId.isEmpty())
                j.notice += QStringLiteral("%1base_workspace_id was ignored: workspace '%2' already exists")
                                .arg(j.notice.isEmpty() ? QString() : QStringLiteral("; "), j.workspaceId);
        } else if (!j.baseWorkspaceId.isEmpty()) {
            // A new workspace on a base starts as its clone (same files, same size).
            j.workspaceSizeGb = m_workspaces->get(j.baseWorkspaceId)->sizeGb;
            cloneFromBase = true;
            const QString err = m_workspaces->addRecord(j.workspaceId, j.workspaceSizeGb);
            if (!err.isEmpty()) {
                m_db.rollback();
                if (error)
                    *error = execError(500, QStringLiteral("internal"), err);
                return std::nullopt;
            }
        } else {
            j.workspaceSizeGb = request.workspaceSizeGb.value_or(WorkspaceStore::kDefaultSizeGb);
            const QString err = m_workspaces->addRecord(j.workspaceId, j.workspaceSizeGb);
            if (!err.isEmpty()) {
                m_db.rollback();
                if (error)
                    *error = execError(500, QStringLiteral("internal"), err);
                return std::nullopt;
            }
        }
    }
    const QString err = m_jobs->insert(j);
    if (!err.isEmpty() || !m_db.commit()) {
        m_db.rollback();
        if (error)
            *error = execError(500, QStringLiteral("internal"), err.isEmpty() ? m_db.error() : err);
        return std::nullopt;
    }
    // The log folder is made when the job starts: creating it here cost more than the rest of
    // a submission together (bench/BenchSubmit; readers treat a missing folder as no output).
    if (cloneFromBase)
        startClone(j.baseWorkspaceId, j.workspaceId, j.workspaceSizeGb, nullptr);
    auto t = std::make_shared<Task>();
    t->kind = Task::Job;
    t->id = j.requestId;
    t->workspaceId = j.workspaceId.isEmpty() ? j.baseWorkspaceId : j.workspaceId;
    t->job = j;
    enqueue(t);
    emit jobAdded(j.requestId);
    if (j.stateful)
        emit workspacesChanged();
    emit poolChanged();
    return j;
}

bool Executor::cancel(const QString &requestId, ExecError *error)
{
    if (const TaskPtr t = m_scheduler.waiting(requestId); t && t->isJob()) {
        m_scheduler.remove(requestId);
        closeRecord(t->job, JobStatus::Cancelled, QStringLiteral("cancelled before it started"));
        saveJob(t->job);
        emit jobChanged(requestId);
        emit workspacesChanged();
        emit poolChanged();
        return true;
    }
    if (const TaskPtr t = m_running.value(requestId); t && t->isJob()) {
        t->cancelRequested = true;
        m_backend->cancel(requestId);
        return true;
    }
    const auto j = m_jobs->get(requestId);
    if (!j) {
        if (error)
            *error = execError(404, QStringLiteral("not_found"), QStringLiteral("no job with request_id '%1'").arg(requestId));
        return false;
    }
    if (error)
        *error = execError(409, QStringLiteral("conflict"), QStringLiteral("job '%1' has already finished (%2)").arg(requestId, statusName(j->status)));
    return false;
}

// ---------------------------------------------------------------- scheduling

void Executor::enqueue(const TaskPtr &task)
{
    task->order = ++m_order;
    m_scheduler.push(task);
    scheduleSoon();
}

void Executor::scheduleSoon()
{
    if (m_scheduleQueued)
        return;
    m_scheduleQueued = true;
    QTimer::singleShot(0, this, &Executor::schedule);
}

void Executor::schedule()
{
    m_scheduleQueued = false;
    if (m_shuttingDown || !m_jobs || (m_cfg.holdWithoutImage && !m_image.isValid()))
        return;
    while (m_running.size() < m_backend->capacity()) {
        const TaskPtr t = m_scheduler.takeNext();
        if (!t)
            break;
        startTask(t);
    }
}

TaskSpec Executor::specFor(const Task &t) const
{
    if (!t.isJob())
        return t.opSpec;
    const JobRecord &j = t.job;
    TaskSpec s;
    s.kind = TaskSpec::Script;
    s.id = j.requestId;
    s.isJob = true;
    s.name = j.name;
    s.workspaceId = j.workspaceId;
    s.workspaceSizeGb = j.workspaceSizeGb;
    s.createWorkspace = j.stateful;
    s.script = j.script;
    s.interpreter = j.interpreter();
    s.env = j.env;
    s.vcpus = j.vcpus;
    s.memoryMb = j.memoryMb;
    s.timeoutSec = j.timeoutSec;
    s.network = j.network;
    if (j.stateful && j.checkpoint && m_cfg.checkpoints)
        s.checkpoint = checkpointName(j.requestId);
    s.keepCheckpoints = m_cfg.keepCheckpoints;
    s.recordChanges = j.stateful;
    if (!j.stateful)
        s.baseWorkspaceId = j.baseWorkspaceId;
    s.image = j.image == ImageRegistry::defaultName() ? QString() : j.image;
    return s;
}

void Executor::startTask(const TaskPtr &t)
{
    m_running.insert(t->id, t);
    t->started = true;
    if (t->isJob()) {
        t->job.status = JobStatus::Running;
        t->job.startedAt = isoNow();
        t->job.runDir = m_cfg.dataDir + QStringLiteral("/runs/") + t->id;
        t->job.backend = m_backend->name();
        m_jobs->prepareLogs(t->id);
        saveJob(t->job);
        emit jobChanged(t->id);
        emit poolChanged();
    }
    if (!t->workspaceId.isEmpty())
        emit workspacesChanged(); // the workspace shows as busy while its task runs

    if (!t->isJob() && t->opNeedsDisk && !QFileInfo::exists(m_backend->workspaceDiskPath(t->workspaceId))) {
        // The workspace's first job has not run yet: nothing to look at, no VM needed.
        VmResult r;
        r.outcome = VmResult::Exited;
        r.exitCode = t->opNoDiskExit;
        t->opOut = t->opNoDiskOut;
        const QString id = t->id;
        QTimer::singleShot(0, this, [this, id, r] { onTaskFinished(id, r); });
        return;
    }
    m_backend->start(specFor(*t));
}

void Executor::onTaskStarted(const QString &id, const QJsonObject &info)
{
    const TaskPtr t = m_running.value(id);
    if (!t || !t->isJob())
        return;
    t->job.accelerator = info.value(QStringLiteral("accelerator")).toString();
    t->job.backend = info.value(QStringLiteral("backend")).toString();
    t->job.slurmJobId = info.value(QStringLiteral("slurm_job_id")).toString();
    t->job.node = info.value(QStringLiteral("node")).toString();
    saveJob(t->job);
    emit jobChanged(id);
}

void Executor::onTaskOutput(const QString &id, int stream, const QByteArray &data)
{
    const TaskPtr t = m_running.value(id);
    if (!t)
        return;
    if (!t->isJob()) {
        if (stream == kStdout && t->opOutFile)
            t->opOutFile->write(data);
        else
            (stream == kStdout ? t->opOut : t->opErr) += data;
        return;
    }
    m_jobs->appendOutput(t->job, stream, data);
    emit jobOutput(id, stream, data);
}

void Executor::onTaskFinished(const QString &id, const VmResult &r)
{
    const TaskPtr t = m_running.value(id);
    if (!t)
        return;
    if (!t->isJob())
        return finishOp(t, r);
    switch (r.outcome) {
    case VmResult::Exited:
        finishJob(t, r.exitCode == 0 ? JobStatus::Completed : JobStatus::Failed, r.exitCode, QString(), &r);
        break;
    case VmResult::TimedOut:
        finishJob(t, JobStatus::TimedOut, r.exitCode >= 0 ? std::optional<int>(r.exitCode) : std::nullopt, r.error, &r);
        break;
    case VmResult::Cancelled:
        finishJob(t, JobStatus::Cancelled, r.exitCode >= 0 ? std::optional<int>(r.exitCode) : std::nullopt, r.error, &r);
        break;
    case VmResult::Failed:
        finishJob(t, JobStatus::Failed, std::nullopt, r.error, &r);
        break;
    }
}

void Executor::finishOp(const TaskPtr &t, const VmResult &r)
{
    m_running.remove(t->id);
    m_scheduler.release(t->workspaceId);
    if (t->opOutFile)
        t->opOutFile->close();
    if (t->onEnd)
        t->onEnd();
    if (t->opDone)
        t->opDone(r, t->opOut, t->opErr);
    emit workspacesChanged();
    scheduleSoon();
}

void Executor::finishJob(const TaskPtr &t, JobStatus status, std::optional<int> exitCode, const QString &error, const VmResult *vm)
{
    JobRecord &j = t->job;
    closeRecord(j, status, error);
    j.exitCode = exitCode;
    if (vm && vm->usedBytes >= 0) {
        j.workspaceUsedBytes = vm->usedBytes;
        j.workspaceTotalBytes = vm->totalBytes;
    }
    if (vm) {
        j.startKind = vm->start;
        j.timings = vm->timings;
        if (!vm->checkpoint.isEmpty())
            j.checkpointName = vm->checkpoint;
        if (!vm->changes.isEmpty())
            saveChanges(j.requestId, vm->changes);
    }
    if (!j.startedAt.isEmpty())
        j.timings.insert(QStringLiteral("queued"), double(parseIso(j.createdAt).msecsTo(parseIso(j.startedAt))));
    QElapsedTimer recordClock;
    recordClock.start();
    saveJob(j);
    j.timings.insert(QStringLiteral("record"), double(recordClock.elapsed()));
    saveJob(j); // with its own duration (a fraction of a millisecond)
    if (!j.workspaceId.isEmpty()) {
        const QString err = m_workspaces->recordUse(t->workspaceId, vm ? vm->usedBytes : -1, vm ? vm->totalBytes : -1, j.finishedAt);
        if (!err.isEmpty())
            qWarning("magpie: could not note the use of workspace %s: %s", qPrintable(t->workspaceId), qPrintable(err));
    }
    m_running.remove(t->id);
    m_scheduler.release(t->workspaceId);
    emit jobChanged(t->id);
    if (!t->workspaceId.isEmpty())
        emit workspacesChanged();
    emit poolChanged();
    scheduleSoon();
    if (m_pruneTimer && (m_cfg.keepJobs > 0 || m_cfg.keepDays > 0) && !m_pruneTimer->isActive())
        m_pruneTimer->start();
}

} // namespace magpie
