// RunJob.h — the node-side runner of the Slurm backend: `magpie-desktop --run-job <task.json>`
// runs one task inside a Slurm job with the same executor code as the local backend
// (TaskRunner, VmRunner). It holds flock on <shared>/workspaces/<id>.lock for the life of QEMU
// (Slurm's singleton releases the next job before the previous one's processes are gone),
// creates the workspace disk on first use, writes stdout/stderr to <shared>/logs/<id>/ with the
// same caps, enforces the timeout in seconds, stops the VM gracefully on SIGTERM (scancel) and
// writes result.json atomically. It exits non-zero only on an infrastructure failure.
#pragma once

#include <QString>

namespace magpie {

// The file the Slurm backend writes for the runner: {"shared_dir", "snapshot_dir", "task": TaskSpec}.
int runJob(int argc, char **argv, const QString &taskFile);

} // namespace magpie
