#include "TaskRunner.h"

#include "VmRunner.h"
#include "WorkspaceStore.h"

#include <QFileInfo>
#include <QFutureWatcher>
#include <QTimer>
#include <QtConcurrent>

namespace magpie {

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

void TaskRunner::start()
{
    m_clock.start();
    if (m_spec.kind != TaskSpec::Script) {
        VmResult r;
        r.error = QStringLiteral("this machine cannot run a '%1' task").arg(m_spec.diskOp);
        r.infrastructure = true;
        return end(r);
    }
    const bool needsDisk = !m_spec.workspaceId.isEmpty();
    if (needsDisk && !QFileInfo::exists(m_ctx.workspaceDisk)) {
        if (!m_spec.createWorkspace) {
            VmResult r;
            r.error = QStringLiteral("workspace '%1' has no disk").arg(m_spec.workspaceId);
            r.infrastructure = true;
            return end(r);
        }
        // A new workspace: build its disk now, off this thread.
        const QString path = m_ctx.workspaceDisk;
        const int size = m_spec.workspaceSizeGb > 0 ? m_spec.workspaceSizeGb : WorkspaceStore::kDefaultSizeGb;
        auto *watcher = new QFutureWatcher<QString>(this);
        connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher] {
            const QString err = watcher->result();
            watcher->deleteLater();
            m_diskCreateMs = m_clock.elapsed();
            if (m_done)
                return;
            if (!err.isEmpty()) {
                VmResult r;
                r.error = QStringLiteral("could not create workspace '%1': %2").arg(m_spec.workspaceId, err);
                r.infrastructure = true;
                return end(r);
            }
            if (m_cancelled) {
                VmResult r;
                r.outcome = VmResult::Cancelled;
                r.error = QStringLiteral("cancelled before the VM started");
                return end(r);
            }
            startVm();
        });
        watcher->setFuture(QtConcurrent::run([path, size] { return WorkspaceStore::createDisk(path, size); }));
        return;
    }
    startVm();
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
    cfg.env = m_spec.env;
    cfg.timeoutSec = m_spec.timeoutSec;
    if (!m_spec.workspaceId.isEmpty())
        cfg.workspaceDisk = m_ctx.workspaceDisk;
    m_vm = new VmRunner(cfg, this);
    connect(m_vm, &VmRunner::output, this, &TaskRunner::output);
    connect(m_vm, &VmRunner::scriptStarted, this, &TaskRunner::scriptStarted);
    connect(m_vm, &VmRunner::finished, this, [this](const VmResult &r) {
        if (m_vm) {
            m_vm->disconnect(this);
            m_vm->deleteLater();
            m_vm = nullptr;
        }
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
    if (m_diskCreateMs >= 0)
        r.timings.insert(QStringLiteral("disk_create"), double(m_diskCreateMs));
    // Deliver from the event loop, so that a caller never sees finished() inside start().
    QTimer::singleShot(0, this, [this, r] { emit finished(r); });
}

} // namespace magpie
