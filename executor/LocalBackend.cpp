#include "LocalBackend.h"

#include "AcceleratorProbe.h"
#include "ImageRegistry.h"
#include "SnapshotStore.h"
#include "TaskRunner.h"

#include <QThread>
#include <QTimer>

namespace magpie {

LocalBackend::LocalBackend(LocalBackendConfig config, QObject *parent)
    : Backend(parent), m_cfg(std::move(config))
{
    m_probe = new AcceleratorProbe(m_cfg.dataDir + QStringLiteral("/accelerator.json"), m_cfg.dataDir + QStringLiteral("/runs"), this);
    m_probe->setMode(m_cfg.accel);
    if (m_cfg.snapshots && SnapshotStore::enabledByEnvironment()) {
        m_snapshots = new SnapshotStore(m_cfg.snapshotDir.isEmpty() ? SnapshotStore::defaultDir() : m_cfg.snapshotDir,
                                        m_cfg.dataDir + QStringLiteral("/runs"), this);
        connect(m_snapshots, &SnapshotStore::built, this, &Backend::statusChanged);
    }
}

void LocalBackend::prepareSnapshot(int vcpus, int memoryMb)
{
    if (!m_snapshots || m_shutDown || !m_cfg.image.isValid())
        return;
    m_probe->resolve(m_cfg.image, [this, vcpus, memoryMb](Accelerator a, const QString &) {
        if (m_shutDown)
            return;
        m_snapshots->build(VmShape{m_cfg.image, a, vcpus, memoryMb});
        emit statusChanged();
    });
}

LocalBackend::~LocalBackend()
{
    shutdown();
}

int LocalBackend::capacity() const
{
    return m_cfg.maxParallel > 0 ? m_cfg.maxParallel : qMax(1, QThread::idealThreadCount());
}

QString LocalBackend::workspaceDiskPath(const QString &workspaceId) const
{
    return m_cfg.dataDir + QStringLiteral("/workspaces/") + workspaceId + QStringLiteral(".qcow2");
}

void LocalBackend::setMaxParallel(int n)
{
    m_cfg.maxParallel = qMax(0, n);
    emit statusChanged();
}

void LocalBackend::setAccelMode(AccelMode mode)
{
    m_cfg.accel = mode;
    m_probe->setMode(mode);
    emit statusChanged();
}

std::optional<Accelerator> LocalBackend::accelerator() const
{
    const AccelMode mode = accelModeFromEnvironment(m_cfg.accel);
    if (mode == AccelMode::Tcg)
        return Accelerator::Tcg;
    if (mode == AccelMode::Kvm)
        return Accelerator::Kvm;
    return m_probe->decided();
}

QString LocalBackend::acceleratorReason() const
{
    if (m_probe->decided())
        return m_probe->reason();
    const AccelMode mode = accelModeFromEnvironment(m_cfg.accel);
    if (mode != AccelMode::Auto)
        return QStringLiteral("forced (%1)").arg(qEnvironmentVariableIsSet("MAGPIE_ACCEL") ? QStringLiteral("MAGPIE_ACCEL") : QStringLiteral("setting"));
    return QStringLiteral("auto: decided at the first job (a short KVM test boot)");
}

QJsonObject LocalBackend::status() const
{
    const auto a = accelerator();
    return QJsonObject{
        {QStringLiteral("backend"), name()},
        {QStringLiteral("accelerator"), a ? QJsonValue(accelName(*a)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("accelerator_reason"), acceleratorReason()},
        {QStringLiteral("snapshots"), m_snapshots != nullptr},
        {QStringLiteral("snapshots_building"), m_snapshots ? m_snapshots->buildingCount() : 0},
    };
}

void LocalBackend::start(const TaskSpec &spec)
{
    if (m_shutDown)
        return;
    m_waitingForAccel.insert(spec.id);
    m_probe->resolve(m_cfg.image, [this, spec](Accelerator a, const QString &) {
        if (m_shutDown || !m_waitingForAccel.remove(spec.id))
            return; // cancelled meanwhile (already reported) or shutting down
        launch(spec, a);
    });
}

void LocalBackend::launch(const TaskSpec &spec, Accelerator accel)
{
    RunContext ctx;
    ctx.runDir = m_cfg.dataDir + QStringLiteral("/runs/") + spec.id;
    if (spec.isJob)
        ctx.vmLogPath = m_cfg.dataDir + QStringLiteral("/logs/") + spec.id + QStringLiteral("/vm.log");
    if (!spec.workspaceId.isEmpty())
        ctx.workspaceDisk = workspaceDiskPath(spec.workspaceId);
    ctx.spaceDir = m_cfg.dataDir;
    // A job on another profile runs on that image; the snapshot key holds the image's identity,
    // so each image has its own snapshots.
    ctx.image = spec.image.isEmpty() || spec.image == ImageRegistry::defaultName()
        ? m_cfg.image
        : ImageRegistry(m_cfg.dataDir, m_cfg.image).resolve(spec.image);
    if (!ctx.image.isValid()) {
        VmResult r;
        r.outcome = VmResult::Failed;
        r.infrastructure = true;
        r.error = ctx.image.error;
        const QString id = spec.id;
        QTimer::singleShot(0, this, [this, id, r] { emit taskFinished(id, r); });
        return;
    }
    ctx.accel = accel;
    ctx.bootTimeoutSec = m_cfg.bootTimeoutSec;
    if (m_snapshots) {
        const VmShape shape{ctx.image, accel, spec.vcpus, spec.memoryMb};
        ctx.snapshot = m_snapshots->find(shape);
        // None yet for this shape: this VM boots, and the snapshot is made beside it while a slot
        // is free (it takes one boot, once per image and shape).
        if (!ctx.snapshot && m_runners.size() + 1 < capacity())
            m_snapshots->build(shape);
    }
    auto *runner = new TaskRunner(spec, ctx, this);
    connect(runner, &TaskRunner::restoreFailed, this, [this](const QString &key, const QString &why, bool bad) {
        if (bad && m_snapshots)
            m_snapshots->discard(key, why);
    });
    m_runners.insert(spec.id, runner);
    const QString id = spec.id;
    connect(runner, &TaskRunner::output, this, [this, id](int stream, const QByteArray &data) { emit taskOutput(id, stream, data); });
    connect(runner, &TaskRunner::finished, this, [this, id, runner](const VmResult &r) {
        m_runners.remove(id);
        runner->deleteLater();
        emit taskFinished(id, r);
    });
    emit taskStarted(id, QJsonObject{{QStringLiteral("backend"), name()}, {QStringLiteral("accelerator"), accelName(accel)}});
    runner->start();
}

void LocalBackend::cancel(const QString &taskId)
{
    if (m_waitingForAccel.remove(taskId)) {
        VmResult r;
        r.outcome = VmResult::Cancelled;
        r.error = QStringLiteral("cancelled before the VM started");
        QTimer::singleShot(0, this, [this, taskId, r] { emit taskFinished(taskId, r); });
        return;
    }
    if (TaskRunner *runner = m_runners.value(taskId))
        runner->cancel();
}

void LocalBackend::shutdown()
{
    if (m_shutDown)
        return;
    m_shutDown = true;
    m_waitingForAccel.clear();
    if (m_snapshots)
        m_snapshots->shutdown();
    const auto runners = m_runners;
    m_runners.clear();
    for (TaskRunner *r : runners) {
        r->disconnect(this);
        delete r; // stops its VM and waits for qemu
    }
}

} // namespace magpie
