#include "TaskRunner.h"

#include "Tools.h"
#include "VmRunner.h"
#include "WorkspaceStore.h"

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
    if (m_spec.kind != TaskSpec::Script)
        return endWithError(QStringLiteral("this machine cannot run a '%1' task").arg(m_spec.diskOp));
    if (!m_ctx.spaceDir.isEmpty()) {
        const QStorageInfo si(m_ctx.spaceDir);
        if (si.isValid() && si.bytesAvailable() < minFreeBytes())
            return endWithError(QStringLiteral("not started: the host disk is nearly full (%1 bytes free in %2; a job needs at least %3)")
                                    .arg(si.bytesAvailable()).arg(m_ctx.spaceDir).arg(minFreeBytes()));
    }
    prepareDisk();
}

// A new workspace gets its disk; one whose last VM was killed gets its leaked clusters repaired
// (qemu-img check -r leaks). Both off this thread.
void TaskRunner::prepareDisk()
{
    if (m_spec.workspaceId.isEmpty())
        return startVm();
    const QString path = m_ctx.workspaceDisk;
    const bool missing = !QFileInfo::exists(path);
    const bool dirty = !missing && QFileInfo::exists(dirtyMarker());
    if (!missing && !dirty)
        return startVm();
    if (missing && !m_spec.createWorkspace)
        return endWithError(QStringLiteral("workspace '%1' has no disk").arg(m_spec.workspaceId));
    const int size = m_spec.workspaceSizeGb > 0 ? m_spec.workspaceSizeGb : WorkspaceStore::kDefaultSizeGb;
    const QString marker = dirtyMarker();
    auto *watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, missing] {
        const QString err = watcher->result();
        watcher->deleteLater();
        m_timings.insert(missing ? QStringLiteral("disk_create") : QStringLiteral("disk_repair"), double(m_clock.elapsed()));
        if (m_done)
            return;
        if (!err.isEmpty())
            return endWithError(err);
        if (m_cancelled) {
            VmResult r;
            r.outcome = VmResult::Cancelled;
            r.error = QStringLiteral("cancelled before the VM started");
            return end(r);
        }
        startVm();
    });
    const QString id = m_spec.workspaceId;
    watcher->setFuture(QtConcurrent::run([path, size, missing, marker, id]() -> QString {
        if (missing) {
            const QString err = WorkspaceStore::createDisk(path, size);
            return err.isEmpty() ? err : QStringLiteral("could not create workspace '%1': %2").arg(id, err);
        }
        const ToolResult r = runTool(qemuImgBinary(), {QStringLiteral("check"), QStringLiteral("-q"), QStringLiteral("-r"), QStringLiteral("leaks"), path}, 600000);
        // 0: clean, 3: leaks found and repaired; anything else means real corruption.
        if (r.exitCode != 0 && r.exitCode != 3)
            return QStringLiteral("workspace '%1' is damaged: %2").arg(id, r.describe(QStringLiteral("qemu-img check")));
        QFile::remove(marker);
        return QString();
    }));
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
    if (!m_spec.workspaceId.isEmpty()) {
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
    for (auto it = m_timings.constBegin(); it != m_timings.constEnd(); ++it)
        r.timings.insert(it.key(), it.value());
    // Deliver from the event loop, so that a caller never sees finished() inside start().
    QTimer::singleShot(0, this, [this, r] { emit finished(r); });
}

} // namespace magpie
