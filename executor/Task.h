// Task.h — one unit of waiting or running work inside the Executor: a job (kept in the history)
// or a workspace operation (listing a folder, reading a file, … — its output goes back to the
// caller). The Scheduler orders tasks; a Backend runs them.
#pragma once

#include "JobRecord.h"
#include "TaskSpec.h"
#include "VmResult.h"

#include <QByteArray>
#include <QFile>
#include <QString>
#include <functional>
#include <memory>

namespace magpie {

struct Task {
    enum Kind { Job, Op };
    using OpDone = std::function<void(const VmResult &, const QByteArray &out, const QByteArray &err)>;

    Kind kind = Job;
    QString id;             // a job's request_id, or "op-<n>-<workspace>"
    QString workspaceId;    // empty: runs without a workspace (stateless job)
    qint64 order = 0;       // queue order, set by the Executor
    bool removed = false;   // taken out of the queue (the Scheduler skips it)
    bool cancelRequested = false;
    bool started = false;   // handed to the backend

    JobRecord job;          // Kind::Job

    // Kind::Op
    TaskSpec opSpec;        // what to run (script or disk operation)
    OpDone opDone;
    QByteArray opOut, opErr;
    // When the workspace has no disk yet (its first job has not run), an operation needs no VM:
    // it ends at once with this guest-style exit code and output.
    int opNoDiskExit = 4;
    QByteArray opNoDiskOut;
    bool opNeedsDisk = true;
    std::shared_ptr<QFile> opOutFile; // stdout goes here instead of opOut (export)
    std::function<void()> onEnd;      // runs when the task ends, before opDone (releases, clean-up)

    bool isJob() const { return kind == Job; }
};

using TaskPtr = std::shared_ptr<Task>;

} // namespace magpie
