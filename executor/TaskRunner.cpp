#include "TaskRunner.h"

#include "Tools.h"
#include "VmRunner.h"
#include "WorkspaceDisk.h"
#include "WorkspaceStore.h"

#include <QElapsedTimer>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QStorageInfo>
#include <QTimer>
#include <QtConcurrent>

namespace magpie {

qint64 TaskRunner::minFreeBytes()
{
    bool ok = false;
    const qint64 v = qEnvironmentVariable("MAGPIE_MIN_FREE_BYTES").toLongLong(&ok);
    return ok && v >= 0 ? v : 1024LL * 1024 * 1024;
}

TaskRunner::TaskRunner(TaskSpec spec, RunContext ctx, QObject *parent)
    : QObject(parent), m_spec(std::move(spec)), m_ctx(std::move(ctx))
{
}

TaskRunner::~TaskRunner()
{
    if (m_vm) {
        m_vm->disconnect(this);
        delete m_vm; // kills qemu and waits for it
    }
}

void TaskRunner::endWithError(const QString &error)
{
    VmResult r;
    r.error = error;
    r.infrastructure = true;
    end(r);
}

void TaskRunner::start()
{
    m_clock.start();
    if (m_spec.kind == TaskSpec::DiskOp)
        return runDiskOp();
    if (!m_ctx.spaceDir.isEmpty()) {
        const QStorageInfo si(m_ctx.spaceDir);
        if (si.isValid() && si.bytesAvailable() < minFreeBytes())
            return endWithError(QStringLiteral("not started: the host disk is nearly full (%1 bytes free in %2; a job needs at least %3)")
                                    .arg(si.bytesAvailable()).arg(m_ctx.spaceDir).arg(minFreeBytes()));
    }
    prepareDisk();
}

// A new workspace gets its disk; one whose last VM was killed gets its leaked clusters repaired
// (qemu-img check -r leaks); a stateless job on a base workspace gets a throwaway overlay over
// the base. All of it off this thread. (A stateful job's checkpoint is taken by its VM's QEMU:
// see startVm.)
void TaskRunner::prepareDisk()
{
    const QString path = m_ctx.workspaceDisk;
    if (m_spec.workspaceId.isEmpty() && m_ctx.baseDisk.isEmpty())
        return startVm();
    const bool missing = !m_spec.workspaceId.isEmpty() && !QFileInfo::exists(path);
    const bool dirty = !m_spec.workspaceId.isEmpty() && !missing && QFileInfo::exists(dirtyMarker());
    if (!missing && !dirty && m_ctx.baseDisk.isEmpty())
        return startVm();
    if (missing && !m_spec.createWorkspace)
        return endWithError(QStringLiteral("workspace '%1' has no disk").arg(m_spec.workspaceId));
    if (!m_ctx.baseDisk.isEmpty()) {
        if (!QFileInfo::exists(m_ctx.baseDisk))
            return endWithError(QStringLiteral("workspace '%1' (the base) has no disk yet: run a job on it first").arg(m_spec.baseWorkspaceId));
        QDir().mkpath(m_ctx.runDir);
        m_overlay = m_ctx.runDir + QStringLiteral("/base-overlay.qcow2");
    }
    const int size = m_spec.workspaceSizeGb > 0 ? m_spec.workspaceSizeGb : WorkspaceStore::kDefaultSizeGb;
    const QString marker = dirtyMarker();
    struct Prep {
        QString error;
    };
    auto *watcher = new QFutureWatcher<Prep>(this);
    connect(watcher, &QFutureWatcher<Prep>::finished, this, [this, watcher, missing, dirty] {
        const Prep p = watcher->result();
        watcher->deleteLater();
        if (missing || dirty)
            m_timings.insert(missing ? QStringLiteral("disk_create") : QStringLiteral("disk_repair"), double(m_clock.elapsed()));
        if (m_done)
            return;
        if (!p.error.isEmpty())
            return endWithError(p.error);
        if (m_cancelled) {
            VmResult r;
            r.outcome = VmResult::Cancelled;
            r.error = QStringLiteral("cancelled before the VM started");
            return end(r);
        }
        if (!m_overlay.isEmpty())
            m_ctx.workspaceDisk = m_overlay;
        startVm();
    });
    const QString id = m_spec.workspaceId;
    const QString base = m_ctx.baseDisk, overlay = m_overlay;
    watcher->setFuture(QtConcurrent::run([path, size, missing, dirty, marker, id, base, overlay]() -> Prep {
        Prep p;
        if (!base.isEmpty()) {
            const QString err = WorkspaceDisk::createOverlay(base, overlay);
            if (!err.isEmpty())
                p.error = QStringLiteral("could not open the base workspace copy-on-write: %1").arg(err);
            return p;
        }
        if (missing) {
            const QString err = WorkspaceStore::createDisk(path, size);
            if (!err.isEmpty()) {
                p.error = QStringLiteral("could not create workspace '%1': %2").arg(id, err);
                return p;
            }
        } else if (dirty) {
            const ToolResult r = runTool(qemuImgBinary(), {QStringLiteral("check"), QStringLiteral("-q"), QStringLiteral("-r"), QStringLiteral("leaks"), path}, 600000);
            // 0: clean, 3: leaks found and repaired; anything else means real corruption.
            if (r.exitCode != 0 && r.exitCode != 3) {
                p.error = QStringLiteral("workspace '%1' is damaged: %2").arg(id, r.describe(QStringLiteral("qemu-img check")));
                return p;
            }
            QFile::remove(marker);
        }
        return p;
    }));
}

// A host-side operation on the workspace's disk (snapshots, clone, resize…), off this thread;
// it answers like a guest script: output on stdout, why it failed on stderr, an exit code.
void TaskRunner::runDiskOp()
{
    auto *watcher = new QFutureWatcher<DiskOpResult>(this);
    connect(watcher, &QFutureWatcher<DiskOpResult>::finished, this, [this, watcher] {
        const DiskOpResult d = watcher->result();
        watcher->deleteLater();
        if (!d.out.isEmpty())
            emit output(1, d.out);
        if (!d.err.isEmpty())
            emit output(2, d.err);
        VmResult r;
        r.outcome = VmResult::Exited;
        r.exitCode = d.exitCode;
        end(r);
    });
    const QString op = m_spec.diskOp, disk = m_ctx.workspaceDisk;
    const QJsonObject args = m_spec.diskOpArgs;
    watcher->setFuture(QtConcurrent::run([op, args, disk] { return WorkspaceDisk::run(op, args, disk); }));
}

void TaskRunner::startVm()
{
    VmConfig cfg;
    cfg.name = m_spec.id;
    cfg.runDir = m_ctx.runDir;
    cfg.vmLogPath = m_ctx.vmLogPath;
    cfg.image = m_ctx.image;
    cfg.accel = m_ctx.accel;
    cfg.bootTimeoutSec = m_ctx.bootTimeoutSec;
    cfg.vcpus = m_spec.vcpus;
    cfg.memoryMb = m_spec.memoryMb;
    cfg.network = m_spec.network;
    cfg.script = m_spec.script;
    cfg.interpreter = m_spec.interpreter;
    cfg.env = m_spec.env;
    cfg.timeoutSec = m_spec.timeoutSec;
    cfg.hostname = QStringLiteral("magpie-%1").arg(m_spec.id.left(8));
    cfg.spaceDir = m_ctx.spaceDir;
    cfg.restoreFrom = m_ctx.snapshot;
    cfg.recordChanges = m_spec.recordChanges && !m_spec.workspaceId.isEmpty();
    if (!m_spec.workspaceId.isEmpty() && !m_spec.checkpoint.isEmpty()) {
        // Taken by the VM's QEMU before the guest sees the disk; the ones beyond `keep` (counting
        // the new one) are deleted by it afterwards, found in the disk's snapshot table (read
        // here, no qemu-img). An unreadable table: nothing deleted now, the next job prunes.
        cfg.createCheckpoint = m_spec.checkpoint;
        if (m_spec.keepCheckpoints > 0)
            if (const auto table = WorkspaceDisk::readSnapshotTable(m_ctx.workspaceDisk))
                cfg.dropCheckpoints = WorkspaceDisk::checkpointsBeyond(*table, m_spec.keepCheckpoints - 1);
    }
    cfg.stdinPath = m_spec.stdinPath;
    if (!m_overlay.isEmpty()) {
        cfg.workspaceDisk = m_overlay;
        cfg.workspaceSizeGb = m_spec.workspaceSizeGb;
    } else if (!m_spec.workspaceId.isEmpty()) {
        cfg.workspaceDisk = m_ctx.workspaceDisk;
        cfg.workspaceSizeGb = m_spec.workspaceSizeGb;
        // Stays until qemu closed the disk cleanly; found at the next start, it calls for a repair.
        QFile marker(dirtyMarker());
        if (marker.open(QIODevice::WriteOnly))
            marker.close();
    }
    m_vm = new VmRunner(cfg, this);
    connect(m_vm, &VmRunner::output, this, &TaskRunner::output);
    connect(m_vm, &VmRunner::scriptStarted, this, &TaskRunner::scriptStarted);
    const QString key = m_ctx.snapshot ? m_ctx.snapshot->key : QString();
    connect(m_vm, &VmRunner::restoreFailed, this, [this, key](const QString &why, bool bad) { emit restoreFailed(key, why, bad); });
    connect(m_vm, &VmRunner::finished, this, [this](const VmResult &r) {
        if (m_vm) {
            m_vm->disconnect(this);
            m_vm->deleteLater();
            m_vm = nullptr;
        }
        if (!m_spec.workspaceId.isEmpty() && r.diskClosedCleanly)
            QFile::remove(dirtyMarker());
        end(r);
    });
    if (m_cancelled)
        QTimer::singleShot(0, m_vm, &VmRunner::cancel);
    m_vm->start();
}

void TaskRunner::cancel()
{
    if (m_done)
        return;
    m_cancelled = true;
    if (m_vm)
        m_vm->cancel();
}

void TaskRunner::end(VmResult r)
{
    if (m_done)
        return;
    m_done = true;
    if (!m_overlay.isEmpty())
        QFile::remove(m_overlay);
    for (auto it = m_timings.constBegin(); it != m_timings.constEnd(); ++it)
        r.timings.insert(it.key(), it.value());
    // Deliver from the event loop, so that a caller never sees finished() inside start().
    QTimer::singleShot(0, this, [this, r] { emit finished(r); });
}

} // namespace magpie
