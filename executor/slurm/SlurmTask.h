// SlurmTask.h — what the Slurm backend knows of one task it submitted: its Slurm job id, the
// last state squeue reported, where its files are on the shared storage, and how far its log
// files have been read.
#pragma once

#include "TaskSpec.h"

#include <QString>

namespace magpie {

struct SlurmTask {
    TaskSpec spec;
    QString jobId;              // Slurm's job id
    QString dir;                // <shared>/tasks/<id>: task.json, job.sh, result.json, slurm.out
    QString logDir;             // <shared>/logs/<id>: stdout, stderr, vm.log (written by the node)
    QString state;              // last squeue state (empty: not seen yet)
    QString reason;
    QString node;
    bool started = false;       // taskStarted was emitted
    bool cancelRequested = false;
    int missingPolls = 0;       // polls in a row that did not list the job
    int endedPolls = 0;         // polls since Slurm said it ended without a result file
    qint64 offset[3] = {0, 0, 0}; // bytes of stdout (1) and stderr (2) already forwarded
};

} // namespace magpie
