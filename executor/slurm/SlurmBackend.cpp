#include "SlurmBackend.h"

#include "ResultFile.h"
#include "SnapshotStore.h"

#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QSaveFile>

namespace magpie {

namespace {
constexpr int kPollMs = 1000;     // squeue
constexpr int kTailMs = 250;      // log files and result.json of running tasks
constexpr int kGonePolls = 3;     // polls a job may be missing (or ended without a result) before it counts as lost
constexpr int kCancelGraceMs = 30000; // after a graceful cancel, the whole job is killed

bool writeFile(const QString &path, const QByteArray &data, bool executable = false)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write(data);
    if (!f.commit())
        return false;
    if (executable)
        QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup
                                        | QFileDevice::ExeGroup);
    return true;
}
} // namespace

SlurmBackend::SlurmBackend(SlurmConfig config, QObject *parent)
    : Backend(parent), m_cfg(std::move(config))
{
    if (m_cfg.runner.isEmpty())
        m_cfg.runner = QCoreApplication::applicationFilePath();
    for (const char *sub : {"workspaces", "logs", "tasks"})
        QDir().mkpath(m_cfg.sharedDir + QLatin1Char('/') + QLatin1String(sub));
    m_pollTimer.setInterval(kPollMs);
    connect(&m_pollTimer, &QTimer::timeout, this, &SlurmBackend::poll);
    m_logTimer.setInterval(kTailMs);
    connect(&m_logTimer, &QTimer::timeout, this, [this] {
        for (const QString &id : m_tasks.keys()) {
            auto it = m_tasks.find(id);
            if (it == m_tasks.end())
                continue;
            tailLogs(*it);
            QString node;
            if (auto r = resultfile::read(it->dir + QStringLiteral("/result.json"), &node)) {
                if (!node.isEmpty())
                    it->node = node;
                finish(id, *r);
            }
        }
    });
}

SlurmBackend::~SlurmBackend()
{
    shutdown();
}

QString SlurmBackend::tool(const QString &name) const
{
    return m_cfg.binDir.isEmpty() ? name : m_cfg.binDir + QLatin1Char('/') + name;
}

QString SlurmBackend::workspaceDiskPath(const QString &workspaceId) const
{
    return m_cfg.sharedDir + QStringLiteral("/workspaces/") + workspaceId + QStringLiteral(".qcow2");
}

bool SlurmBackend::run(const QString &program, const QStringList &args, QByteArray *out, QString *error) const
{
    QProcess p;
    p.start(tool(program), args);
    if (!p.waitForFinished(30000)) {
        *error = QStringLiteral("%1 did not answer: %2").arg(program, p.errorString());
        p.kill();
        p.waitForFinished(1000);
        return false;
    }
    if (out)
        *out = p.readAllStandardOutput();
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        *error = QStringLiteral("%1 failed: %2").arg(program, QString::fromLocal8Bit(p.readAllStandardError()).trimmed());
        return false;
    }
    return true;
}

void SlurmBackend::failSoon(const QString &id, const QString &error)
{
    VmResult r;
    r.error = error;
    r.infrastructure = true;
    QTimer::singleShot(0, this, [this, id, r] {
        if (!m_shutDown)
            emit taskFinished(id, r);
    });
}

void SlurmBackend::start(const TaskSpec &spec)
{
    if (m_shutDown)
        return;
    SlurmTask t;
    t.spec = spec;
    t.dir = m_cfg.sharedDir + QStringLiteral("/tasks/") + spec.id;
    t.logDir = m_cfg.sharedDir + QStringLiteral("/logs/") + spec.id;
    QDir(t.dir).removeRecursively(); // an operation's id may be reused; a job's never is
    QDir(t.logDir).removeRecursively();
    if (!QDir().mkpath(t.dir) || !QDir().mkpath(t.logDir))
        return failSoon(spec.id, QStringLiteral("cannot create %1 on the shared storage").arg(t.dir));
    const QJsonObject doc{
        {QStringLiteral("shared_dir"), m_cfg.sharedDir},
        {QStringLiteral("snapshot_dir"), m_cfg.snapshotDir},
        {QStringLiteral("task"), spec.toJson()},
    };
    const QString taskFile = t.dir + QStringLiteral("/task.json");
    const QString script = t.dir + QStringLiteral("/job.sh");
    if (!writeFile(taskFile, QJsonDocument(doc).toJson(QJsonDocument::Compact))
        || !writeFile(script, slurm::batchScript(m_cfg.runner, taskFile, m_cfg.guestDir).toUtf8(), true))
        return failSoon(spec.id, QStringLiteral("cannot write the task files in %1").arg(t.dir));
    QByteArray out;
    QString err;
    if (!run(QStringLiteral("sbatch"), slurm::sbatchArgs(spec, m_cfg, script, t.dir), &out, &err))
        return failSoon(spec.id, QStringLiteral("not submitted to Slurm: %1").arg(err));
    t.jobId = slurm::parseSbatchId(out);
    if (t.jobId.isEmpty())
        return failSoon(spec.id, QStringLiteral("not submitted to Slurm: sbatch printed '%1'").arg(QString::fromUtf8(out).trimmed()));
    writeFile(t.dir + QStringLiteral("/slurm_job_id"), t.jobId.toUtf8());
    m_tasks.insert(spec.id, t);
    if (!m_pollTimer.isActive()) {
        m_pollTimer.start();
        m_logTimer.start();
    }
    emit statusChanged();
}

bool SlurmBackend::resume(const QString &taskId, qint64 stdoutBytes, qint64 stderrBytes)
{
    if (m_shutDown || m_tasks.contains(taskId))
        return m_tasks.contains(taskId);
    SlurmTask t;
    t.dir = m_cfg.sharedDir + QStringLiteral("/tasks/") + taskId;
    t.logDir = m_cfg.sharedDir + QStringLiteral("/logs/") + taskId;
    QFile idFile(t.dir + QStringLiteral("/slurm_job_id")), taskFile(t.dir + QStringLiteral("/task.json"));
    if (!idFile.open(QIODevice::ReadOnly) || !taskFile.open(QIODevice::ReadOnly))
        return false;
    t.jobId = QString::fromUtf8(idFile.readAll()).trimmed();
    t.spec = TaskSpec::fromJson(QJsonDocument::fromJson(taskFile.readAll()).object().value(QStringLiteral("task")).toObject());
    if (t.jobId.isEmpty() || t.spec.id != taskId)
        return false;
    t.offset[1] = stdoutBytes;
    t.offset[2] = stderrBytes;
    t.started = true; // the earlier run saw it start (it was running)
    m_tasks.insert(taskId, t);
    if (!m_pollTimer.isActive()) {
        m_pollTimer.start();
        m_logTimer.start();
    }
    QTimer::singleShot(0, this, &SlurmBackend::poll);
    return true;
}

void SlurmBackend::tailLogs(SlurmTask &t)
{
    for (int stream : {1, 2}) {
        QFile f(t.logDir + (stream == 1 ? QStringLiteral("/stdout") : QStringLiteral("/stderr")));
        if (!f.open(QIODevice::ReadOnly) || f.size() <= t.offset[stream])
            continue;
        f.seek(t.offset[stream]);
        const QByteArray data = f.read(4 * 1024 * 1024);
        t.offset[stream] += data.size();
        if (!data.isEmpty())
            emit taskOutput(t.spec.id, stream, data);
    }
}

void SlurmBackend::prepareSnapshot(int vcpus, int memoryMb)
{
    if (m_cfg.snapshotDir.isEmpty() || m_shutDown || !SnapshotStore::enabledByEnvironment())
        return;
    const GuestImage image = m_cfg.guestDir.isEmpty() ? GuestImage::locate() : GuestImage::fromDir(m_cfg.guestDir);
    if (!image.isValid())
        return;
    if (!m_snapshots)
        m_snapshots = new SnapshotStore(m_cfg.snapshotDir, m_cfg.sharedDir + QStringLiteral("/runs"), this);
    // The nodes pick KVM when they can open /dev/kvm (MAGPIE_ACCEL, passed on by sbatch, forces one).
    const AccelMode mode = accelModeFromEnvironment(AccelMode::Auto);
    const Accelerator accel = mode == AccelMode::Tcg ? Accelerator::Tcg
                              : mode == AccelMode::Kvm || ::access("/dev/kvm", R_OK | W_OK) == 0 ? Accelerator::Kvm
                                                                                                 : Accelerator::Tcg;
    m_snapshots->build(VmShape{image, accel, vcpus, memoryMb});
}

void SlurmBackend::poll()
{
    if (m_shutDown)
        return;
    if (m_tasks.isEmpty()) {
        m_pollTimer.stop();
        m_logTimer.stop();
        return;
    }
    QByteArray out;
    QString err;
    if (!run(QStringLiteral("squeue"), {QStringLiteral("-h"), QStringLiteral("-t"), QStringLiteral("all"), QStringLiteral("--me"),
                                        QStringLiteral("-o"), slurm::squeueFormat()},
             &out, &err)) {
        if (m_lastError != err) {
            m_lastError = err;
            emit statusChanged();
        }
        return; // the controller may be restarting: the jobs are not lost for that
    }
    if (!m_lastError.isEmpty()) {
        m_lastError.clear();
        emit statusChanged();
    }
    QHash<QString, SqueueRow> rows;
    for (const SqueueRow &r : slurm::parseSqueue(out))
        rows.insert(r.jobId, r);

    for (const QString &id : m_tasks.keys()) {
        auto it = m_tasks.find(id);
        if (it == m_tasks.end())
            continue;
        SlurmTask &t = *it;
        tailLogs(t);
        QString node;
        if (auto r = resultfile::read(t.dir + QStringLiteral("/result.json"), &node)) {
            if (!node.isEmpty())
                t.node = node;
            finish(id, *r);
            continue;
        }
        const auto row = rows.constFind(t.jobId);
        if (row == rows.constEnd()) {
            if (++t.missingPolls < kGonePolls)
                continue;
            VmResult r;
            r.outcome = t.cancelRequested ? VmResult::Cancelled : VmResult::Failed;
            r.error = t.cancelRequested ? QStringLiteral("cancelled")
                                        : QStringLiteral("Slurm job %1 vanished without a result (last state %2)")
                                              .arg(t.jobId, t.state.isEmpty() ? QStringLiteral("unknown") : t.state);
            r.infrastructure = !t.cancelRequested;
            finish(id, r);
            continue;
        }
        t.missingPolls = 0;
        t.state = row->state;
        t.reason = row->reason;
        if (!row->node.isEmpty() && row->node != QLatin1String("(null)"))
            t.node = row->node;
        if (!t.started && (t.state == QLatin1String("RUNNING") || t.state == QLatin1String("COMPLETING"))) {
            t.started = true;
            emit taskStarted(id, QJsonObject{{QStringLiteral("backend"), name()}, {QStringLiteral("slurm_job_id"), t.jobId},
                                             {QStringLiteral("node"), t.node}});
        }
        if (!slurm::isEndedState(t.state))
            continue;
        // NODE_FAIL is final at once; other ends wait a little for the result file to show up.
        if (t.state != QLatin1String("NODE_FAIL") && ++t.endedPolls < kGonePolls)
            continue;
        VmResult r;
        if (t.cancelRequested) {
            r.outcome = VmResult::Cancelled;
            r.error = t.started ? QStringLiteral("cancelled") : QStringLiteral("cancelled while queued in Slurm");
        } else {
            r.error = QStringLiteral("Slurm job %1 ended %2%3 on node %4 without a result")
                          .arg(t.jobId, t.state, t.reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(t.reason),
                               t.node.isEmpty() ? QStringLiteral("?") : t.node);
            r.infrastructure = true;
        }
        finish(id, r);
    }
}

void SlurmBackend::finish(const QString &id, const VmResult &r)
{
    auto it = m_tasks.find(id);
    if (it == m_tasks.end())
        return;
    SlurmTask t = *it;
    tailLogs(t);
    if (!t.started) {
        emit taskStarted(id, QJsonObject{{QStringLiteral("backend"), name()}, {QStringLiteral("slurm_job_id"), t.jobId},
                                         {QStringLiteral("node"), t.node}});
    }
    m_tasks.erase(it);
    if (!t.spec.isJob) // an operation's files are of no use once its caller has the answer
        QDir(t.dir).removeRecursively(), QDir(t.logDir).removeRecursively();
    emit taskFinished(id, r);
    emit statusChanged();
}

void SlurmBackend::cancel(const QString &taskId)
{
    auto it = m_tasks.find(taskId);
    if (it == m_tasks.end())
        return;
    it->cancelRequested = true;
    const QString jobId = it->jobId;
    QString err;
    if (!it->started) {
        run(QStringLiteral("scancel"), {jobId}, nullptr, &err);
        return;
    }
    // The runner (the batch step) stops the VM gracefully and writes the result.
    run(QStringLiteral("scancel"), {QStringLiteral("--batch"), QStringLiteral("--signal=TERM"), jobId}, nullptr, &err);
    QTimer::singleShot(kCancelGraceMs, this, [this, taskId, jobId] {
        QString e;
        if (m_tasks.contains(taskId) && !m_shutDown)
            run(QStringLiteral("scancel"), {jobId}, nullptr, &e);
    });
}

void SlurmBackend::shutdown()
{
    // Submitted jobs keep running in the cluster: the next start of the app picks them up.
    m_shutDown = true;
    if (m_snapshots)
        m_snapshots->shutdown();
    m_pollTimer.stop();
    m_logTimer.stop();
    m_tasks.clear();
}

QJsonObject SlurmBackend::status() const
{
    int running = 0;
    for (const SlurmTask &t : m_tasks)
        running += t.started ? 1 : 0;
    return QJsonObject{
        {QStringLiteral("backend"), name()},
        {QStringLiteral("slurm_partition"), m_cfg.partition},
        {QStringLiteral("slurm_shared_dir"), m_cfg.sharedDir},
        {QStringLiteral("slurm_submitted"), int(m_tasks.size())},
        {QStringLiteral("slurm_running"), running},
        {QStringLiteral("slurm_error"), m_lastError.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(m_lastError)},
    };
}

} // namespace magpie
