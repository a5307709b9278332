// VmSnapshot.h — one saved, booted VM: the guest's RAM (`ram`, the file the saved VM's memory
// was mapped from), its device state (`state`, written by QEMU's migration) and its root disk
// as it was at that moment (`root.qcow2`, an overlay of the guest image). Restoring it starts a
// VM whose agent is already waiting for its job, in a fraction of a boot. A snapshot fits only
// VMs of the same guest image, accelerator, vCPUs and memory (and the same QEMU and device
// layout): `key` encodes all of them.
#pragma once

#include <QString>

namespace magpie {

struct VmSnapshot {
    QString key;
    QString dir;
    QString statePath() const { return dir + QStringLiteral("/state"); }
    QString rootPath() const { return dir + QStringLiteral("/root.qcow2"); }
    QString ramPath() const { return dir + QStringLiteral("/ram"); }
    qint64 stateBytes = 0;
    qint64 buildMs = 0;
};

} // namespace magpie
