// LocalBackend.h — runs tasks in QEMU VMs on this machine, up to maxParallel at once: decides
// the accelerator (KVM or TCG, probed once), restores each VM from a saved snapshot of its image
// and shape (SnapshotStore) — booting it cold only while that snapshot is being made, or when a
// restore fails — and runs one TaskRunner per task. No VM is kept idle.
#pragma once

#include "Accelerator.h"
#include "Backend.h"
#include "GuestImage.h"

#include <QHash>
#include <QPointer>
#include <QSet>

namespace magpie {

class AcceleratorProbe;
class SnapshotStore;
class TaskRunner;

struct LocalBackendConfig {
    QString dataDir;             // holds workspaces/, logs/, runs/, accelerator.json
    int maxParallel = 0;         // 0: the number of cores
    AccelMode accel = AccelMode::Auto;
    int bootTimeoutSec = 120;
    GuestImage image;
    bool snapshots = true;       // restore VMs from saved snapshots (MAGPIE_SNAPSHOTS=0 turns it off)
    QString snapshotDir;         // empty: SnapshotStore::defaultDir()
};

class LocalBackend : public Backend
{
    Q_OBJECT
public:
    explicit LocalBackend(LocalBackendConfig config, QObject *parent = nullptr);
    ~LocalBackend() override;

    QString name() const override { return QStringLiteral("local"); }
    int capacity() const override;
    QString workspaceDiskPath(const QString &workspaceId) const override;
    void start(const TaskSpec &spec) override;
    void cancel(const QString &taskId) override;
    void shutdown() override;
    QJsonObject status() const override;

    void setMaxParallel(int n);     // 0: the number of cores
    int maxParallel() const { return m_cfg.maxParallel; }
    void setAccelMode(AccelMode mode);
    AccelMode accelMode() const { return m_cfg.accel; }
    std::optional<Accelerator> accelerator() const; // decided (or forced) accelerator
    QString acceleratorReason() const;
    void setImage(const GuestImage &image) { m_cfg.image = image; }
    // Makes the snapshot for VMs of this shape in the background, when there is none yet.
    void prepareSnapshot(int vcpus, int memoryMb);
    SnapshotStore *snapshots() const { return m_snapshots; }

private:
    void launch(const TaskSpec &spec, Accelerator accel);

    LocalBackendConfig m_cfg;
    AcceleratorProbe *m_probe = nullptr;
    SnapshotStore *m_snapshots = nullptr;     // null when restored starts are off
    QHash<QString, TaskRunner *> m_runners;   // task id -> its runner
    QSet<QString> m_waitingForAccel;          // started, accelerator not decided yet
    bool m_shutDown = false;
};

} // namespace magpie
