// Backend.h — where tasks run. The Executor's scheduler decides *what* runs next; a backend
// decides *where* and runs it: LocalBackend boots QEMU on this machine, SlurmBackend submits to a
// Slurm cluster. Both report the same three things for every task they were given: that it
// started (and where), its live output, and exactly one finished() with the recorded outcome.
//
// All methods are called from the thread that owns the Executor, and signals arrive there.
#pragma once

#include "TaskSpec.h"
#include "VmResult.h"

#include <QJsonObject>
#include <QObject>
#include <QString>

namespace magpie {

class Backend : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~Backend() override = default;

    virtual QString name() const = 0;            // "local", "slurm"
    // How many tasks may run at once (the Executor starts no more than this).
    virtual int capacity() const = 0;
    // The workspace's disk file as this backend's machines see it (for existence checks and
    // host-side operations done by the Executor itself).
    virtual QString workspaceDiskPath(const QString &workspaceId) const = 0;
    // Starts a task. Later: taskStarted (maybe), taskOutput (any number), taskFinished (exactly once).
    virtual void start(const TaskSpec &spec) = 0;
    // Stops a started task: it ends Cancelled (or as it was ending anyway). Unknown ids are ignored.
    virtual void cancel(const QString &taskId) = 0;
    // Stops everything now (app shutdown). No more signals after it returns.
    virtual void shutdown() = 0;
    // Backend facts for the pool status (accelerator, snapshot state, cluster…).
    virtual QJsonObject status() const { return {}; }
    // Whether its tasks outlive the app (a cluster's jobs do): then shutdown() leaves running
    // jobs recorded as running, and the next start follows them again.
    virtual bool resumesRunningTasks() const { return false; }

signals:
    // The task is placed and running: info names where ({"backend", "node", "slurm_job_id", …}).
    void taskStarted(const QString &taskId, const QJsonObject &info);
    void taskOutput(const QString &taskId, int stream, const QByteArray &data);
    void taskFinished(const QString &taskId, const magpie::VmResult &result);
    void statusChanged();
};

} // namespace magpie
