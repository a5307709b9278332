// VmResult.h — how one task ended, as a backend reports it: the recorded outcome of a VM (or a
// host-side disk operation), the script's exit code, workspace usage, how the VM was started and
// how long each phase took.
#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>

namespace magpie {

struct VmResult {
    enum Outcome { Exited, TimedOut, Cancelled, Failed };
    Outcome outcome = Failed;
    int exitCode = -1;         // the script's exit code (128+N when killed by signal N)
    int signal = 0;
    QString error;             // a sentence for anything but a plain exit
    bool infrastructure = false; // Failed because of the host or the VM, not the script
    qint64 usedBytes = -1;     // workspace used/total bytes reported by the guest
    qint64 totalBytes = -1;
    qint64 bootMs = -1;        // qemu start -> agent ready for the job
    qint64 wallMs = 0;         // start -> finished
    QString start;             // "restore" or "cold" (how the VM came up); empty without a VM
    QJsonObject timings;       // phase -> milliseconds (vm_start, disk_attach, mount, script, teardown…)
    QString checkpoint;        // the snapshot taken of the workspace before the VM started (empty: none)
    QJsonObject changes;       // what the job changed in /workspace (when recorded)
    bool diskClosedCleanly = true; // false when qemu had to be killed (its disks may hold leaked clusters)
    static QString outcomeName(Outcome o);
};

} // namespace magpie

Q_DECLARE_METATYPE(magpie::VmResult)
