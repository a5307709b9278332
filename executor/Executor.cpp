#include "Executor.h"

#include "Tools.h"
#include "VmRunner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonDocument>
#include <QSet>
#include <QThread>
#include <QTimer>
#include <QUuid>
#include <QtConcurrent>

#include <csignal>
#include <unistd.h>

namespace magpie {

struct Executor::Task {
    enum Kind { Job, Op } kind = Job;
    QString id;
    QString workspaceId;
    JobRecord job;
    QString opScript;
    QList<QPair<QString, QString>> opEnv;
    std::function<void(const VmResult &, const QByteArray &, const QByteArray &)> opDone;
    QByteArray opOut, opErr;
    // When the workspace has no disk yet (its first job has not run), an operation needs no VM:
    // it ends with this guest-style exit code and output.
    int opNoDiskExit = 4;
    QByteArray opNoDiskOut;
    VmRunner *vm = nullptr;
    bool cancelRequested = false;
};

namespace {
constexpr int kStdout = 1;
constexpr int kStderr = 2;
constexpr int kVmLog = 3;

ExecError execError(int status, const QString &code, const QString &message)
{
    return ExecError{status, code, message};
}

// Guest-side helpers for workspace operations. Paths arrive in MAGPIE_PATH, already checked on
// the host; the guest checks again after resolving symlinks. Exit codes: 3 escapes the
// workspace, 4 not found, 5 wrong type, 6 too large.
const char *kListScript = R"PY(#!/usr/bin/python3
import json, os, stat, sys, datetime
root = '/workspace'
rel = os.environ.get('MAGPIE_PATH', '')
target = os.path.realpath(os.path.join(root, rel))
if target != root and not target.startswith(root + '/'):
    sys.exit(3)
if not os.path.lexists(target):
    sys.exit(4)
if not os.path.isdir(target):
    sys.exit(5)
out = []
with os.scandir(target) as it:
    for e in it:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode): kind = 'dir'
        elif stat.S_ISLNK(st.st_mode): kind = 'symlink'
        elif stat.S_ISREG(st.st_mode): kind = 'file'
        else: kind = 'other'
        p = os.path.relpath(os.path.join(target, e.name), root)
        t = datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (int(st.st_mtime * 1000) % 1000)
        out.append({'name': e.name, 'path': p, 'type': kind, 'size': st.st_size, 'modified_at': t})
out.sort(key=lambda x: (x['type'] != 'dir', x['name']))
json.dump(out, sys.stdout)
)PY";

const char *kReadScript = R"SH(#!/bin/bash
target=$(realpath -m -- "/workspace/$MAGPIE_PATH") || exit 4
case "$target" in /workspace/*) ;; *) exit 3 ;; esac
[ -e "$target" ] || exit 4
[ -f "$target" ] || exit 5
size=$(stat -c %s -- "$target")
[ "$size" -le "$MAGPIE_MAX" ] || exit 6
exec cat -- "$target"
)SH";

const char *kUsageScript = R"PY(#!/usr/bin/python3
import json, os, stat, sys, heapq
root = '/workspace'
limit = int(os.environ.get('MAGPIE_LIMIT', '50'))
sizes = {}
entries = []
for dirpath, dirnames, filenames in os.walk(root, topdown=False):
    total = 0
    for f in filenames:
        p = os.path.join(dirpath, f)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        n = st.st_blocks * 512
        total += n
        kind = 'symlink' if stat.S_ISLNK(st.st_mode) else 'file' if stat.S_ISREG(st.st_mode) else 'other'
        entries.append((n, os.path.relpath(p, root), kind))
    for d in dirnames:
        total += sizes.get(os.path.join(dirpath, d), 0)
    try:
        total += os.lstat(dirpath).st_blocks * 512
    except OSError:
        pass
    sizes[dirpath] = total
    if dirpath != root:
        entries.append((total, os.path.relpath(dirpath, root), 'dir'))
top = heapq.nlargest(limit, entries)
json.dump([{'name': os.path.basename(p), 'path': p, 'type': t, 'size': n} for n, p, t in top], sys.stdout)
)PY";

QList<FileEntry> parseEntries(const QByteArray &json)
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
void abandonOp(const std::function<void(const VmResult &, const QByteArray &, const QByteArray &)> &done)
{
    if (!done)
        return;
    VmResult r;
    r.error = QStringLiteral("Magpie Desktop is shutting down");
    done(r, {}, {});
}

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
        case 6: return execError(413, QStringLiteral("payload_too_large"), QStringLiteral("'%1' is larger than %2 bytes").arg(path).arg(Executor::maxFileBytes()));
        default: break;
        }
    }
    QString msg = r.error.isEmpty() ? QString::fromUtf8(err).trimmed().left(500) : r.error;
    return execError(500, QStringLiteral("internal"), QStringLiteral("the workspace operation failed: %1").arg(msg));
}
} // namespace

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
    return QJsonObject{
        {QStringLiteral("running"), running},
        {QStringLiteral("queued"), queued},
        {QStringLiteral("max_parallel"), maxParallel},
        {QStringLiteral("accelerator"), accelerator.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(accelerator)},
        {QStringLiteral("accelerator_reason"), acceleratorReason},
        {QStringLiteral("warm_vms_ready"), warmReady},
        {QStringLiteral("warm_vms_booting"), warmBooting},
        {QStringLiteral("warm_vms_target"), warmTarget},
    };
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
    m_workspaces = std::make_unique<WorkspaceStore>(m_db, m_cfg.dataDir + QStringLiteral("/workspaces"));
    m_jobs = std::make_unique<JobStore>(m_db, m_cfg.dataDir + QStringLiteral("/logs"));
    m_probe = new AcceleratorProbe(m_cfg.dataDir + QStringLiteral("/accelerator.json"), m_cfg.dataDir + QStringLiteral("/runs"), this);
    m_probe->setMode(m_cfg.accel);
    recover();
    QTimer::singleShot(0, this, &Executor::schedule);
    return true;
}

// ---------------------------------------------------------------- recovery

void Executor::killStaleQemu(const QString &runDir, const QString &name)
{
    // Any qemu whose command line names this data folder's run area is ours and stale: we
    // hold the data folder's lock, so no other live Magpie process can own it.
    const QByteArray marker = runDir.toUtf8();
    const QByteArray nameMarker = name.toUtf8();
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &pidText : pids) {
        bool ok = false;
        const int pid = pidText.toInt(&ok);
        if (!ok || pid == ::getpid())
            continue;
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QByteArray cmd = f.readAll();
        if (!cmd.contains("qemu-system") || !(cmd.contains(marker) || (!nameMarker.isEmpty() && cmd.contains(nameMarker))))
            continue;
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 100 && QFileInfo::exists(QStringLiteral("/proc/%1/cmdline").arg(pid)); ++i) {
            QFile s(QStringLiteral("/proc/%1/stat").arg(pid));
            if (s.open(QIODevice::ReadOnly) && s.readAll().contains(") Z "))
                break; // a zombie of a parent that is gone: it is dead
            QThread::msleep(20);
        }
    }
}

void Executor::recover()
{
    const QString runs = m_cfg.dataDir + QStringLiteral("/runs");
    killStaleQemu(runs + QLatin1Char('/'), QString());
    for (JobRecord j : m_jobs->withStatus(JobStatus::Running)) {
        killStaleQemu(runs + QLatin1Char('/'), QStringLiteral("magpie-%1").arg(j.requestId));
        closeRecord(j, JobStatus::Failed, QStringLiteral("interrupted: Magpie Desktop stopped while this job was running; its VM was stopped"));
        m_jobs->update(j);
        QFile log(m_jobs->logPath(j.requestId, kVmLog));
        if (log.open(QIODevice::Append))
            log.write(QStringLiteral("[host] %1 at %2\n").arg(j.error, j.finishedAt).toUtf8());
    }
    QDir(runs).removeRecursively();
    for (const JobRecord &j : m_jobs->withStatus(JobStatus::Queued)) {
        auto t = std::make_shared<Task>();
        t->kind = Task::Job;
        t->id = j.requestId;
        t->workspaceId = j.workspaceId;
        t->job = j;
        m_pending.append(t);
    }
}

// ---------------------------------------------------------------- jobs

std::optional<JobRecord> Executor::submit(const JobRequest &request, ExecError *error)
{
    if (auto e = request.validate()) {
        if (error)
            *error = execError(e->httpStatus, e->code, e->message);
        return std::nullopt;
    }
    if (m_shuttingDown) {
        if (error)
            *error = execError(503, QStringLiteral("unavailable"), QStringLiteral("Magpie Desktop is shutting down"));
        return std::nullopt;
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
    m_jobs->prepareLogs(j.requestId);
    auto t = std::make_shared<Task>();
    t->kind = Task::Job;
    t->id = j.requestId;
    t->workspaceId = j.workspaceId;
    t->job = j;
    m_pending.append(t);
    emit jobAdded(j.requestId);
    if (j.stateful)
        emit workspacesChanged();
    emit poolChanged();
    QTimer::singleShot(0, this, &Executor::schedule);
    return j;
}

std::optional<JobRecord> Executor::job(const QString &requestId) const
{
    for (const auto &t : m_active)
        if (t->kind == Task::Job && t->id == requestId)
            return t->job;
    if (!m_jobs)
        return std::nullopt;
    return m_jobs->get(requestId);
}

JobPage Executor::jobs(const JobFilter &filter) const
{
    JobPage page = m_jobs->list(filter);
    for (JobRecord &j : page.jobs)
        for (const auto &t : m_active)
            if (t->kind == Task::Job && t->id == j.requestId)
                j = t->job;
    return page;
}

LogChunk Executor::readLog(const QString &requestId, int stream, qint64 offset, qint64 maxBytes) const
{
    return m_jobs->readLog(requestId, stream, offset, maxBytes);
}

bool Executor::cancel(const QString &requestId, ExecError *error)
{
    for (int i = 0; i < m_pending.size(); ++i) {
        const auto t = m_pending.at(i);
        if (t->kind != Task::Job || t->id != requestId)
            continue;
        m_pending.removeAt(i);
        closeRecord(t->job, JobStatus::Cancelled, QStringLiteral("cancelled before it started"));
        m_jobs->update(t->job);
        emit jobChanged(requestId);
        emit workspacesChanged();
        emit poolChanged();
        return true;
    }
    for (const auto &t : m_active) {
        if (t->kind != Task::Job || t->id != requestId)
            continue;
        t->cancelRequested = true;
        if (t->vm)
            t->vm->cancel();
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
    return m_cfg.maxParallel > 0 ? m_cfg.maxParallel : qMax(1, QThread::idealThreadCount());
}

void Executor::setMaxParallel(int n)
{
    m_cfg.maxParallel = qMax(0, n);
    trimSpares();
    emit poolChanged();
    QTimer::singleShot(0, this, &Executor::schedule);
}

void Executor::setAccelMode(AccelMode mode)
{
    m_cfg.accel = mode;
    if (m_probe)
        m_probe->setMode(mode);
    killSpares();
    QTimer::singleShot(0, this, &Executor::schedule);
    emit poolChanged();
}

AccelMode Executor::accelMode() const
{
    return m_cfg.accel;
}

void Executor::setWarmVms(int n)
{
    m_cfg.warmVms = qBound(0, n, 8);
    trimSpares();
    QTimer::singleShot(0, this, &Executor::schedule);
    emit poolChanged();
}

void Executor::setDefaults(int vcpus, int memoryMb)
{
    m_cfg.defaultVcpus = qBound(JobLimits::kMinVcpus, vcpus, JobLimits::kMaxVcpus);
    m_cfg.defaultMemoryMb = qBound(JobLimits::kMinMemoryMb, memoryMb, JobLimits::kMaxMemoryMb);
    killSpares(); // they were booted with the old defaults
    QTimer::singleShot(0, this, &Executor::schedule);
}

bool Executor::workspaceBusy(const QString &id) const
{
    return m_busyWorkspaces.contains(id);
}

int Executor::queuedFor(const QString &id) const
{
    int n = 0;
    for (const auto &t : m_pending)
        if (t->kind == Task::Job && t->workspaceId == id)
            ++n;
    return n;
}

void Executor::schedule()
{
    if (m_shuttingDown || !m_jobs)
        return;
    QSet<QString> blocked; // a workspace with an earlier waiting task keeps later ones waiting (FIFO)
    for (int i = 0; i < m_pending.size() && m_active.size() < maxParallel();) {
        const auto t = m_pending.at(i);
        if (!t->workspaceId.isEmpty() && (workspaceBusy(t->workspaceId) || blocked.contains(t->workspaceId))) {
            blocked.insert(t->workspaceId);
            ++i;
            continue;
        }
        m_pending.removeAt(i);
        startTask(t);
    }
    trimSpares();
    maybeStartSpare();
}

// ---------------------------------------------------------------- warm VMs

int Executor::warmTarget() const
{
    if (m_cfg.warmVms >= 0)
        return m_cfg.warmVms;
    bool ok = false;
    const int env = qEnvironmentVariableIntValue("MAGPIE_WARM_VMS", &ok);
    return ok && env >= 0 ? env : 0;
}

std::optional<Accelerator> Executor::knownAccelerator() const
{
    const AccelMode mode = accelModeFromEnvironment(m_cfg.accel);
    if (mode == AccelMode::Tcg)
        return Accelerator::Tcg;
    if (mode == AccelMode::Kvm)
        return Accelerator::Kvm;
    return m_probe ? m_probe->decided() : std::nullopt;
}

void Executor::maybeStartSpare()
{
    if (m_shuttingDown || !m_image.isValid() || QDateTime::currentMSecsSinceEpoch() < m_spareBackoffUntil)
        return;
    const auto accel = knownAccelerator();
    if (!accel)
        return;
    while (m_spares.size() < warmTarget() && m_active.size() + m_spares.size() < maxParallel()) {
        VmConfig cfg;
        cfg.name = QStringLiteral("warm-%1").arg(++m_spareSeq);
        cfg.runDir = m_cfg.dataDir + QStringLiteral("/runs/") + cfg.name;
        cfg.image = m_image;
        cfg.accel = *accel;
        cfg.vcpus = m_cfg.defaultVcpus;
        cfg.memoryMb = m_cfg.defaultMemoryMb;
        cfg.bootTimeoutSec = m_cfg.bootTimeoutSec;
        cfg.preboot = true;
        auto *vm = new VmRunner(cfg, this);
        connect(vm, &VmRunner::finished, this, [this, vm](const VmResult &r) {
            // A warm VM that ends without a job failed to boot: wait before trying again.
            m_spares.removeAll(vm);
            vm->deleteLater();
            if (m_shuttingDown)
                return;
            qWarning("magpie: a VM booted ahead of time stopped before it got a job: %s", qPrintable(r.error));
            m_spareBackoffUntil = QDateTime::currentMSecsSinceEpoch() + 30000;
            QTimer::singleShot(30500, this, &Executor::schedule);
            emit poolChanged();
        });
        connect(vm, &VmRunner::booted, this, &Executor::poolChanged);
        m_spares.append(vm);
        vm->start();
    }
}

VmRunner *Executor::takeSpare(const VmConfig &cfg)
{
    VmRunner *best = nullptr;
    for (VmRunner *vm : m_spares) {
        const VmConfig &s = vm->config();
        if (s.accel != cfg.accel || s.vcpus != cfg.vcpus || s.memoryMb != cfg.memoryMb || !vm->isRunning())
            continue;
        if (!best || (vm->hasBooted() && !best->hasBooted()))
            best = vm;
    }
    if (best) {
        m_spares.removeAll(best);
        disconnect(best, nullptr, this, nullptr);
    }
    return best;
}

void Executor::trimSpares()
{
    // Tasks that have no VM yet will take a spare or boot their own: keep the total in bounds.
    int withVm = 0, waiting = 0;
    for (const auto &t : m_active)
        (t->vm ? withVm : waiting) += 1;
    while (!m_spares.isEmpty() && (withVm + qMax(waiting, int(m_spares.size())) > maxParallel() || m_spares.size() > warmTarget())) {
        VmRunner *vm = m_spares.takeLast();
        disconnect(vm, nullptr, this, nullptr);
        vm->deleteLater(); // the destructor kills qemu
    }
}

void Executor::killSpares()
{
    for (VmRunner *vm : std::as_const(m_spares)) {
        disconnect(vm, nullptr, this, nullptr);
        delete vm;
    }
    m_spares.clear();
}

void Executor::startTask(const std::shared_ptr<Task> &t)
{
    m_active.append(t);
    if (!t->workspaceId.isEmpty())
        m_busyWorkspaces.insert(t->workspaceId, t->id);
    const QString runDir = m_cfg.dataDir + QStringLiteral("/runs/") + t->id;
    if (t->kind == Task::Job) {
        t->job.status = JobStatus::Running;
        t->job.startedAt = isoNow();
        t->job.runDir = runDir;
        m_jobs->update(t->job);
        emit jobChanged(t->id);
        if (!t->workspaceId.isEmpty())
            emit workspacesChanged();
        emit poolChanged();
    } else {
        emit workspacesChanged(); // the workspace shows as busy while the operation runs
    }

    auto proceed = [this, t] {
        if (m_shuttingDown)
            return;
        if (t->cancelRequested) {
            finishJob(t, JobStatus::Cancelled, std::nullopt, QStringLiteral("cancelled before the VM started"), nullptr);
            return;
        }
        m_probe->resolve(m_image, [this, t](Accelerator a, const QString &) {
            if (!m_shuttingDown)
                launchVm(t, a);
        });
    };

    if (t->kind == Task::Op && !QFileInfo::exists(m_workspaces->diskPath(t->workspaceId))) {
        VmResult r;
        r.outcome = VmResult::Exited;
        r.exitCode = t->opNoDiskExit;
        t->opOut = t->opNoDiskOut;
        QTimer::singleShot(0, this, [this, t, r] { onVmFinished(t, r); });
        return;
    }
    if (t->kind == Task::Job && !t->workspaceId.isEmpty() && !QFileInfo::exists(m_workspaces->diskPath(t->workspaceId))) {
        // A new workspace: build its disk now, off the main thread.
        const QString path = m_workspaces->diskPath(t->workspaceId);
        const auto record = m_workspaces->get(t->workspaceId); // the size the first job set
        const int size = record ? record->sizeGb : WorkspaceStore::kDefaultSizeGb;
        auto *watcher = new QFutureWatcher<QString>(this);
        connect(watcher, &QFutureWatcher<QString>::finished, this, [this, t, watcher, proceed] {
            const QString err = watcher->result();
            watcher->deleteLater();
            if (m_shuttingDown)
                return;
            if (!err.isEmpty()) {
                finishJob(t, JobStatus::Failed, std::nullopt, QStringLiteral("could not create workspace '%1': %2").arg(t->workspaceId, err), nullptr);
                return;
            }
            emit workspacesChanged();
            proceed();
        });
        watcher->setFuture(QtConcurrent::run([path, size] { return WorkspaceStore::createDisk(path, size); }));
        return;
    }
    proceed();
}

void Executor::launchVm(const std::shared_ptr<Task> &t, Accelerator accel)
{
    if (t->cancelRequested && t->kind == Task::Job) {
        finishJob(t, JobStatus::Cancelled, std::nullopt, QStringLiteral("cancelled before the VM started"), nullptr);
        return;
    }
    VmConfig cfg;
    cfg.name = t->id;
    cfg.runDir = m_cfg.dataDir + QStringLiteral("/runs/") + t->id;
    cfg.image = m_image;
    cfg.accel = accel;
    cfg.bootTimeoutSec = m_cfg.bootTimeoutSec;
    if (!t->workspaceId.isEmpty())
        cfg.workspaceDisk = m_workspaces->diskPath(t->workspaceId);
    if (t->kind == Task::Job) {
        cfg.vmLogPath = m_jobs->logPath(t->id, kVmLog);
        cfg.vcpus = t->job.vcpus;
        cfg.memoryMb = t->job.memoryMb;
        cfg.network = t->job.network;
        cfg.script = t->job.script;
        cfg.interpreter = t->job.interpreter();
        cfg.env = t->job.env;
        cfg.timeoutSec = t->job.timeoutSec;
        t->job.accelerator = accelName(accel);
        m_jobs->update(t->job);
    } else {
        cfg.script = t->opScript;
        cfg.env = t->opEnv;
        cfg.timeoutSec = 300;
        cfg.memoryMb = 512;
    }
    VmRunner *vm = takeSpare(cfg);
    const bool warm = vm != nullptr;
    if (!vm)
        vm = new VmRunner(cfg, this);
    t->vm = vm;
    if (t->kind == Task::Job) {
        t->job.runDir = vm->config().runDir;
        m_jobs->update(t->job);
    }
    connect(vm, &VmRunner::output, this, [this, t](int stream, const QByteArray &data) {
        if (t->kind == Task::Op) {
            (stream == kStdout ? t->opOut : t->opErr) += data;
            return;
        }
        m_jobs->appendOutput(t->job, stream, data);
        emit jobOutput(t->id, stream, data);
    });
    connect(vm, &VmRunner::finished, this, [this, t](const VmResult &r) { onVmFinished(t, r); });
    if (t->kind == Task::Job && t->cancelRequested)
        QTimer::singleShot(0, vm, &VmRunner::cancel);
    if (warm)
        vm->assign(cfg);
    else
        vm->start();
    trimSpares();
    QTimer::singleShot(0, this, &Executor::schedule); // a slot may be free for a new spare
    emit poolChanged();
}

void Executor::onVmFinished(const std::shared_ptr<Task> &t, const VmResult &r)
{
    if (t->kind == Task::Op) {
        if (t->vm) {
            t->vm->deleteLater();
            t->vm = nullptr;
        }
        m_active.removeAll(t);
        m_busyWorkspaces.remove(t->workspaceId);
        if (t->opDone)
            t->opDone(r, t->opOut, t->opErr);
        emit workspacesChanged();
        QTimer::singleShot(0, this, &Executor::schedule);
        return;
    }
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

void Executor::finishJob(const std::shared_ptr<Task> &t, JobStatus status, std::optional<int> exitCode, const QString &error,
                         const VmResult *vm)
{
    if (t->vm) {
        t->vm->disconnect(this);
        t->vm->deleteLater();
        t->vm = nullptr;
    }
    JobRecord &j = t->job;
    closeRecord(j, status, error);
    j.exitCode = exitCode;
    if (vm && vm->usedBytes >= 0) {
        j.workspaceUsedBytes = vm->usedBytes;
        j.workspaceTotalBytes = vm->totalBytes;
    }
    m_jobs->update(j);
    if (!t->workspaceId.isEmpty())
        m_workspaces->recordUse(t->workspaceId, vm ? vm->usedBytes : -1, vm ? vm->totalBytes : -1, j.finishedAt);
    m_active.removeAll(t);
    m_busyWorkspaces.remove(t->workspaceId);
    emit jobChanged(t->id);
    if (!t->workspaceId.isEmpty())
        emit workspacesChanged();
    emit poolChanged();
    QTimer::singleShot(0, this, &Executor::schedule);
}

// ---------------------------------------------------------------- workspaces

WorkspaceState Executor::stateOf(const WorkspaceInfo &w) const
{
    WorkspaceState s;
    s.info = w;
    s.running = workspaceBusy(w.id);
    s.runningJobId = m_busyWorkspaces.value(w.id);
    s.queued = queuedFor(w.id);
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
            *error = execError(400, QStringLiteral("invalid_workspace_id"), why);
        return false;
    }
    if (!m_workspaces->exists(id)) {
        if (error)
            *error = execError(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1'").arg(id));
        return false;
    }
    const int queued = queuedFor(id);
    bool opsWaiting = false;
    for (const auto &t : m_pending)
        opsWaiting |= t->workspaceId == id;
    if (workspaceBusy(id) || queued > 0 || opsWaiting) {
        if (error)
            *error = execError(409, QStringLiteral("conflict"),
                               QStringLiteral("workspace '%1' is in use (%2 running, %3 queued); wait for its jobs to finish or cancel them first")
                                   .arg(id).arg(workspaceBusy(id) ? 1 : 0).arg(queued));
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

std::optional<QString> Executor::normaliseWorkspacePath(const QString &path, ExecError *error)
{
    auto no = [error](const QString &m) -> std::optional<QString> {
        if (error)
            *error = execError(400, QStringLiteral("invalid_path"), m);
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

void Executor::enqueueOp(const QString &workspaceId, const QString &script, const QList<QPair<QString, QString>> &env,
                         std::function<void(const VmResult &, const QByteArray &, const QByteArray &)> done, int noDiskExit,
                         const QByteArray &noDiskOut)
{
    auto t = std::make_shared<Task>();
    t->kind = Task::Op;
    t->id = QStringLiteral("op-%1-%2").arg(++m_opSeq).arg(workspaceId);
    t->workspaceId = workspaceId;
    t->opScript = script;
    t->opEnv = env;
    t->opDone = std::move(done);
    t->opNoDiskExit = noDiskExit;
    t->opNoDiskOut = noDiskOut;
    m_pending.append(t);
    QTimer::singleShot(0, this, &Executor::schedule);
}

void Executor::listFiles(const QString &id, const QString &path,
                         std::function<void(std::optional<ExecError>, QList<FileEntry>)> done)
{
    ExecError e;
    const auto rel = normaliseWorkspacePath(path, &e);
    if (!rel)
        return done(e, {});
    if (!m_workspaces->exists(id))
        return done(execError(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1'").arg(id)), {});
    const QString shown = *rel;
    enqueueOp(id, QString::fromLatin1(kListScript), {{QStringLiteral("MAGPIE_PATH"), *rel}},
              [done, shown](const VmResult &r, const QByteArray &out, const QByteArray &err) {
                  if (auto e = opError(r, err, QStringLiteral("folder"), shown))
                      return done(e, {});
                  done(std::nullopt, parseEntries(out));
              },
              rel->isEmpty() ? 0 : 4, "[]");
}

void Executor::readFile(const QString &id, const QString &path, std::function<void(std::optional<ExecError>, QByteArray)> done)
{
    ExecError e;
    const auto rel = normaliseWorkspacePath(path, &e);
    if (!rel)
        return done(e, {});
    if (rel->isEmpty())
        return done(execError(404, QStringLiteral("not_found"), QStringLiteral("the workspace root is a folder, not a file: give the path of a file")), {});
    if (!m_workspaces->exists(id))
        return done(execError(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1'").arg(id)), {});
    const QString shown = *rel;
    enqueueOp(id, QString::fromLatin1(kReadScript),
              {{QStringLiteral("MAGPIE_PATH"), *rel}, {QStringLiteral("MAGPIE_MAX"), QString::number(maxFileBytes())}},
              [done, shown](const VmResult &r, const QByteArray &out, const QByteArray &err) {
                  if (auto e = opError(r, err, QStringLiteral("file"), shown))
                      return done(e, {});
                  done(std::nullopt, out);
              });
}

void Executor::diskUsage(const QString &id, int limit, std::function<void(std::optional<ExecError>, QList<FileEntry>)> done)
{
    if (!m_workspaces->exists(id))
        return done(execError(404, QStringLiteral("not_found"), QStringLiteral("no workspace with id '%1'").arg(id)), {});
    enqueueOp(id, QString::fromLatin1(kUsageScript), {{QStringLiteral("MAGPIE_LIMIT"), QString::number(qBound(1, limit, 1000))}},
              [done](const VmResult &r, const QByteArray &out, const QByteArray &err) {
                  if (auto e = opError(r, err, QStringLiteral("folder"), QString()))
                      return done(e, {});
                  done(std::nullopt, parseEntries(out));
              },
              0, "[]");
}

// ---------------------------------------------------------------- pool, shutdown

PoolStatus Executor::pool() const
{
    PoolStatus p;
    for (const auto &t : m_active)
        p.running += t->kind == Task::Job;
    for (const auto &t : m_pending)
        p.queued += t->kind == Task::Job;
    p.maxParallel = maxParallel();
    p.warmTarget = warmTarget();
    for (const VmRunner *vm : m_spares)
        (vm->hasBooted() ? p.warmReady : p.warmBooting) += 1;
    if (m_probe && m_probe->decided()) {
        p.accelerator = accelName(*m_probe->decided());
        p.acceleratorReason = m_probe->reason();
    } else {
        const AccelMode mode = accelModeFromEnvironment(m_cfg.accel);
        if (mode != AccelMode::Auto) {
            p.accelerator = accelModeName(mode);
            p.acceleratorReason = QStringLiteral("forced (%1)").arg(qEnvironmentVariableIsSet("MAGPIE_ACCEL") ? QStringLiteral("MAGPIE_ACCEL") : QStringLiteral("setting"));
        } else {
            p.acceleratorReason = QStringLiteral("auto: decided at the first job (a short KVM test boot)");
        }
    }
    return p;
}

void Executor::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    killSpares();
    const auto active = m_active;
    for (const auto &t : active) {
        if (t->vm) {
            t->vm->disconnect(this);
            delete t->vm; // kills qemu and waits for it
            t->vm = nullptr;
        }
        if (t->kind == Task::Job && m_jobs) {
            closeRecord(t->job, JobStatus::Failed, QStringLiteral("interrupted: Magpie Desktop was stopped while this job was running"));
            m_jobs->update(t->job);
        } else if (t->kind == Task::Op) {
            abandonOp(t->opDone);
        }
    }
    m_active.clear();
    for (const auto &t : m_pending) // queued jobs stay queued in the database for the next start
        if (t->kind == Task::Op)
            abandonOp(t->opDone);
    m_pending.clear();
    m_busyWorkspaces.clear();
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
