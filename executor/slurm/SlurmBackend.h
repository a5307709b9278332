// SlurmBackend.h — runs tasks as Slurm jobs. Each task is one sbatch of a tiny script that runs
// `magpie-desktop --run-job <task.json>` on a node (app/RunJob.cpp); a workspace's tasks share
// the job name ws-<id> with --dependency=singleton, so Slurm keeps their FIFO order, and the
// runner's flock on the shared storage keeps two of them from ever overlapping. Status comes
// from polling squeue (1 s) and the result.json the runner leaves; live output is read from the
// shared log files as they grow, so the GUI and /logs?wait= see it as with the local backend.
#pragma once

#include "Backend.h"
#include "SlurmCommands.h"
#include "SlurmTask.h"

#include <QHash>
#include <QTimer>

namespace magpie {

class SnapshotStore;

class SlurmBackend : public Backend
{
    Q_OBJECT
public:
    explicit SlurmBackend(SlurmConfig config, QObject *parent = nullptr);
    ~SlurmBackend() override;

    QString name() const override { return QStringLiteral("slurm"); }
    int capacity() const override { return m_cfg.maxJobs; }
    QString workspaceDiskPath(const QString &workspaceId) const override;
    void start(const TaskSpec &spec) override;
    void cancel(const QString &taskId) override;
    void shutdown() override;
    QJsonObject status() const override;
    bool resumesRunningTasks() const override { return true; }

    // Picks up a task submitted by an earlier run of the app (its task folder is still on the
    // shared storage): true when it is followed again (it ends with taskFinished as usual).
    // Its output goes on after the bytes the job's log already holds.
    bool resume(const QString &taskId, qint64 stdoutBytes, qint64 stderrBytes);
    const SlurmConfig &config() const { return m_cfg; }
    // Makes the saved VM of this shape in the snapshot folder (when one is configured), on this
    // machine, in the background; the nodes restore from it.
    void prepareSnapshot(int vcpus, int memoryMb);
    QString tool(const QString &name) const;

private:
    void poll();
    void tailLogs(SlurmTask &t);
    void finish(const QString &id, const VmResult &r);
    void failSoon(const QString &id, const QString &error);
    bool run(const QString &program, const QStringList &args, QByteArray *out, QString *error) const;

    SlurmConfig m_cfg;
    QHash<QString, SlurmTask> m_tasks;   // task id -> submitted task
    QTimer m_pollTimer;                  // squeue, every second while tasks are out
    QTimer m_logTimer;                   // the running tasks' log files, four times a second
    QString m_lastError;                 // the last squeue failure (shown in the status)
    SnapshotStore *m_snapshots = nullptr;
    bool m_shutDown = false;
};

} // namespace magpie
