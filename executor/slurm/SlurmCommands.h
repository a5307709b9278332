// SlurmCommands.h — how the Slurm backend talks to the cluster: the sbatch arguments of one task
// (one singleton job name per workspace gives its FIFO order), the batch script that runs the
// node-side runner, and the parsing of sbatch's and squeue's answers. Pure functions, so they are
// unit-tested without a cluster (tests/TestSlurmUnits.cpp).
#pragma once

#include "TaskSpec.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace magpie {

struct SlurmConfig {
    QString partition;            // empty: the cluster's default
    QString account;              // empty: the user's default
    QString sharedDir;            // on shared storage, seen at the same path by every node
    QStringList extraArgs;        // appended to every sbatch (e.g. --qos=…)
    QString runner;               // the node-side runner binary (magpie-desktop); empty: this program
    QString snapshotDir;          // saved VMs the nodes restore from (shared); empty: every VM boots
    QString guestDir;             // the guest image folder the nodes use (MAGPIE_GUEST_DIR); empty: theirs
    int memoryOverheadMb = 256;   // QEMU's own memory beside the guest's
    int timeMarginMin = 2;        // Slurm's limit is a backstop: the runner enforces the seconds
    int maxJobs = 64;             // tasks handed to Slurm at once
    QString binDir;               // where sbatch/squeue/scancel are; empty: PATH
};

struct SqueueRow {
    QString jobId;
    QString name;
    QString state;    // PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, NODE_FAIL, TIMEOUT…
    QString reason;   // %r
    QString node;     // %N
};

namespace slurm {

// The Slurm job name: ws-<workspace> (FIFO through --dependency=singleton) or job-<id>.
QString jobName(const TaskSpec &spec);
// Whole minutes for --time: the timeout rounded up plus the margin (0 seconds: no --time).
int timeLimitMinutes(int timeoutSec, int marginMin);
QStringList sbatchArgs(const TaskSpec &spec, const SlurmConfig &cfg, const QString &scriptPath, const QString &taskDir);
QString batchScript(const QString &runner, const QString &specPath, const QString &guestDir);
// sbatch --parsable prints "<id>" or "<id>;<cluster>"; empty when it is not a job id.
QString parseSbatchId(const QByteArray &out);
// The format given to squeue -o, and the parser of its lines (fields separated by '|').
QString squeueFormat();
QList<SqueueRow> parseSqueue(const QByteArray &out);
// A state after which the job will never run its script (again).
bool isEndedState(const QString &state);
bool isActiveState(const QString &state); // pending, configuring, running, completing…

} // namespace slurm
} // namespace magpie
