// WorkspaceDisk.h — host-side operations on a workspace's qcow2 disk file, all with qemu-img:
// internal snapshots (create, apply, delete, list — a qcow2 internal snapshot costs a copy of
// the L1 table and a refcount update, ~0 bytes until blocks change), an independent copy
// (clone), growing the virtual disk, and throwaway copy-on-write overlays over a base disk.
// Everything here blocks: call it from a worker thread (TaskRunner runs DiskOp tasks so), and
// only while no VM has the disk open (the workspace's queue guarantees it).
//
// run() executes one DiskOp task by name (TaskSpec::diskOp) and answers like a guest script:
// an exit code, stdout (JSON) and stderr. Exit codes: 0 done, 4 no such snapshot, 9 the name
// exists already, 1 anything else (stderr says why).
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <optional>

namespace magpie {

struct DiskSnapshot {
    QString name;
    QDateTime date;
    qint64 uniqueBytes = 0;   // clusters only this snapshot still references (not the live disk)
};

struct DiskOpResult {
    int exitCode = 1;
    QByteArray out, err;
};

namespace WorkspaceDisk {

// Each returns an empty string on success, else why it failed.
QString createSnapshot(const QString &disk, const QString &name);
QString applySnapshot(const QString &disk, const QString &name);
QString deleteSnapshot(const QString &disk, const QString &name);
std::optional<QList<DiskSnapshot>> listSnapshots(const QString &disk, QString *error);
// For each snapshot name, the bytes of the clusters it references that the live disk does not
// (read from the qcow2 tables; empty when the file cannot be parsed).
QHash<QString, qint64> snapshotUniqueBytes(const QString &disk);
// An independent copy of the live state (no snapshots, no backing file), written to a
// temporary name and renamed into place.
QString copyDisk(const QString &source, const QString &target);
QString resizeDisk(const QString &disk, int sizeGb);
// A qcow2 overlay whose backing file is `base` (never written through the overlay).
QString createOverlay(const QString &base, const QString &overlay);
// The snapshots of a qcow2 file read from its header and snapshot table in this process (no
// qemu-img), oldest first; nullopt when the file cannot be parsed.
std::optional<QList<DiskSnapshot>> readSnapshotTable(const QString &disk);
// The checkpoints ("before-*" snapshots) beyond the newest `keep`, oldest first.
QStringList checkpointsBeyond(const QList<DiskSnapshot> &list, int keep);
// The virtual size in bytes (-1 on failure).
qint64 virtualSize(const QString &disk);
// The same read from the qcow2 header in-process (-1 when the file is not qcow2).
qint64 headerVirtualSize(const QString &disk);
// Allocated bytes on the host.
qint64 allocatedBytes(const QString &disk);

// Runs one DiskOp (names: snapshot-list, snapshot-create, snapshot-restore, snapshot-delete,
// prune-checkpoints, clone, resize, create) on `disk` with the task's arguments.
DiskOpResult run(const QString &op, const QJsonObject &args, const QString &disk);

} // namespace WorkspaceDisk
} // namespace magpie
