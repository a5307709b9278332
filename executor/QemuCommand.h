// QemuCommand.h — the QEMU command line of a job VM (machine q35). A VM saved as a snapshot and
// every VM restored from it have the same devices in the same order (console, root disk,
// workspace disk, control port, NIC, monitor): a restored VM's device set must be exactly the
// saved one's. A VM that boots for one job and is never saved (oneJobOnly) leaves out the
// workspace device when it has no workspace and the NIC when it has no network. What differs per VM is only what the guest cannot see: file and socket
// paths, the NIC's backend (user-mode NAT, or a hub port going nowhere when the job has no
// network), the workspace disk's file and format, where the guest's RAM lives and -incoming
// for a restore.
//
// A snapshot's RAM is a plain file: the VM being saved maps it shared (the guest writes straight
// into it), and a restored VM maps the same file private — copy-on-write, pages read from the
// host's page cache only when the guest touches them — so a restore loads only the device state
// (QEMU's x-ignore-shared migration capability, set over the monitor on both sides).
//
// Values inside QEMU option strings have their commas doubled (QEMU's escape), so data
// folders with commas in their path work.
#pragma once

#include "Accelerator.h"
#include "GuestImage.h"

#include <QString>
#include <QStringList>

namespace magpie {

struct QemuCommand {
    QString name;             // -name magpie-<name>
    GuestImage image;
    Accelerator accel = Accelerator::Tcg;
    int vcpus = 1;
    int memoryMb = 512;
    QString rootOverlay;      // qcow2, the VM's own (thrown away afterwards)
    QString workspaceFile;    // the workspace qcow2, or a small raw placeholder
    bool workspaceIsQcow2 = false;
    bool network = false;     // user-mode NAT (else the NIC is on a hub with nothing else)
    QString consoleSocket;    // the serial console (the host listens)
    QString controlSocket;    // the agent's virtio-serial port (the host listens)
    QString qmpSocket;        // QEMU's monitor (the host listens)
    QString pidFile;
    QString ramFile;          // non-empty: guest RAM is this file (a snapshot's)
    bool ramShared = false;   // map it shared (saving a snapshot) or private (restoring one)
    bool incomingDeferred = false; // restore: wait for migrate-incoming on the monitor
    bool oneJobOnly = false;  // boots for one job, never saved: no workspace device without a
                              // workspace file, no NIC without network

    QStringList arguments() const;

    static QString machineType();      // -M (also the baseline of bench/BenchStart)
    static QString kernelArguments(Accelerator accel);
    // QEMU's escape for a value inside an option string: ',' becomes ',,'.
    static QString optValue(const QString &v);
    // Single-quoted for /bin/sh (used in exec: migration URIs).
    static QString shellQuoted(const QString &v);
};

} // namespace magpie
