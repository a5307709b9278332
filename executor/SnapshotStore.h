// SnapshotStore.h — the saved VMs that jobs start from (see VmSnapshot.h), in the cache folder
// (default ~/.cache/magpie-desktop/snapshots, or MAGPIE_SNAPSHOT_DIR): one folder per key. A
// snapshot is made once per key by booting a VM in template mode, in the background; until it
// exists, jobs of that shape boot cold. A snapshot that QEMU rejects is thrown away and made
// again. Folders of an image's earlier builds are removed when a new one is made.
//
// Building takes a lock file per key, so two Magpie processes sharing the cache do not build the
// same snapshot at once (the second one boots cold meanwhile).
#pragma once

#include "Accelerator.h"
#include "GuestImage.h"
#include "VmSnapshot.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <memory>

namespace magpie {

class VmRunner;

struct VmShape {
    GuestImage image;
    Accelerator accel = Accelerator::Tcg;
    int vcpus = 1;
    int memoryMb = 512;
};

class SnapshotStore : public QObject
{
    Q_OBJECT
public:
    // dir: the cache folder; runDir: scratch for template VMs (under the data folder)
    SnapshotStore(QString dir, QString runDir, QObject *parent = nullptr);
    ~SnapshotStore() override;

    static QString defaultDir();
    // MAGPIE_SNAPSHOTS=0 turns restored starts off (every VM boots).
    static bool enabledByEnvironment();

    QString key(const VmShape &shape) const;
    // The ready snapshot for a shape, or null.
    std::shared_ptr<const VmSnapshot> find(const VmShape &shape);
    bool isBuilding(const VmShape &shape) const { return m_building.contains(key(shape)); }
    int buildingCount() const { return int(m_building.size()); }
    // Starts making the snapshot for a shape in the background (no-op when it exists, is being
    // made, or failed to build within the last minutes).
    void build(const VmShape &shape);
    // QEMU rejected this snapshot: remove it, so the next job boots and a new one is made.
    void discard(const QString &key, const QString &why);
    void shutdown();
    int readyCount() const;

signals:
    void built(const QString &key);
    void buildFailed(const QString &key, const QString &why);

private:
    QString m_dir;
    QString m_runDir;
    QHash<QString, std::shared_ptr<const VmSnapshot>> m_ready;
    QHash<QString, VmRunner *> m_building;
    QHash<QString, qint64> m_failedAt;   // key -> ms since epoch of the last failed build
    QHash<QString, int> m_lockFds;
    QString m_qemuVersion;
    bool m_shutDown = false;
};

} // namespace magpie
