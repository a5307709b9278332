// Recovery.h — cleaning up what a crash of an earlier run left in a data folder: stale QEMU
// processes of this folder (we hold its lock, so no live Magpie process owns them), the run
// area's scratch files and sockets, half-built disk images.
#pragma once

#include <QString>

namespace magpie::recovery {

// Kills every qemu-system process whose command line names `marker` (a folder of ours, or a
// VM's -name), and waits briefly for each to go.
void killStaleQemu(const QString &marker);

// Removes the run area (overlays, sockets, pid files of VMs that no longer run) and temporary
// files of interrupted disk builds in the workspaces folder. Returns how many entries it removed.
int sweep(const QString &dataDir);

} // namespace magpie::recovery
