#include "Executor.h"

#include "ImageRegistry.h"

#include "Backend.h"
#include "LocalBackend.h"
#include "slurm/SlurmBackend.h"
#include "Recovery.h"
#include "Task.h"
#include "Tools.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QThread>
#include <QTimer>
#include <QUuid>

namespace magpie {

namespace {
constexpr int kStdout = 1;
constexpr int kVmLog = 3;

// Ends a job's record: status, reason, finish time and (when it started) its duration.
void closeRecord(JobRecord &j, JobStatus status, const QString &error)
{
    j.status = status;
    j.error = error;
    j.finishedAt = isoNow();
    if (!j.startedAt.isEmpty())
        j.durationMs = parseIso(j.startedAt).msecsTo(parseIso(j.finishedAt));
}

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

// ---------------------------------------------------------------- history and bulk submission
// (kept apart from the scheduler: they only use submit(), cancel(), job() and the stores)

std::optional<QList<JobRecord>> Executor::submitMany(const QList<JobRequest> &requests, ExecError *error, int *failedIndex)
{
    for (int i = 0; i < requests.size(); ++i) {
        if (auto e = requests.at(i).validate()) {
            if (error)
                *error = execError(e->httpStatus, e->code, e->message);
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
