// Executor.h — the one entry point for running jobs, used the same way by the HTTP API
// (app/HttpApi) and the desktop window (ui/). It owns the SQLite history, the workspace store,
// the scheduler (what runs next) and a backend (where it runs):
//   * jobs on one workspace run one at a time in FIFO (submission) order;
//   * jobs on different workspaces, and jobs without a workspace, run in parallel up to the
//     backend's capacity (local: maxParallel VMs, default the number of cores);
//   * workspace operations (listing files, reading a file) go through the same per-workspace
//     queue, so they never race a job.
// All methods must be called from the thread that owns the Executor (the main thread); the
// results of asynchronous operations arrive there too.
#pragma once

#include "slurm/SlurmCommands.h"
#include "Accelerator.h"
#include "Database.h"
#include "ExecError.h"
#include "GuestImage.h"
#include "JobRecord.h"
#include "JobRequest.h"
#include "JobStore.h"
#include "Scheduler.h"
#include "WorkspaceLifecycle.h"
#include "WorkspaceOps.h"
#include "WorkspaceStore.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <functional>
#include <memory>
#include <optional>

namespace magpie {

class Backend;
class LocalBackend;
class SlurmBackend;

struct ExecutorConfig {
    QString dataDir;                 // holds magpie.db, workspaces/, logs/, runs/
    int maxParallel = 0;             // 0: the number of cores
    AccelMode accel = AccelMode::Auto;
    int defaultVcpus = JobLimits::kDefaultVcpus;
    int defaultMemoryMb = JobLimits::kDefaultMemoryMb;
    int defaultTimeoutSec = JobLimits::kDefaultTimeout;
    int bootTimeoutSec = 120;
    GuestImage image;                // empty: GuestImage::locate()
    // History retention: finished jobs beyond the newest keepJobs, or finished more than
    // keepDays ago, lose their record and logs (0: no limit). Never a queued or running job,
    // never a workspace.
    int keepJobs = 0;
    int keepDays = 0;
    // While no guest image is found, queued jobs and operations wait (instead of failing)
    // until reloadImage() finds one. The desktop app holds; the headless server does not.
    bool holdWithoutImage = false;
    // Checkpoints (issue 11): a snapshot of the workspace before every stateful job (unless the
    // job says checkpoint: false); the newest keepCheckpoints "before-*" ones per workspace stay.
    bool checkpoints = true;
    int keepCheckpoints = 10;
    // Where jobs run: "local" (QEMU on this machine) or "slurm" (a cluster, see docs/slurm.md).
    QString backend = QStringLiteral("local");
    SlurmConfig slurm;
};

struct WorkspaceState {
    WorkspaceInfo info;
    bool running = false;   // a job or operation is using it now
    int queued = 0;         // jobs waiting for it
    QString runningJobId;
    QJsonObject toJson() const;
};

struct PoolStatus {
    int running = 0;
    int queued = 0;
    int maxParallel = 0;
    QString backend;
    QString accelerator;       // "kvm", "tcg" or "" while undecided
    QString acceleratorReason;
    QJsonObject backendStatus; // what the backend reports (snapshots, cluster…)
    QString databaseFault;     // the last failed write to the history, while one is pending
    QJsonObject toJson() const;
};

class Executor : public QObject
{
    Q_OBJECT
public:
    explicit Executor(ExecutorConfig config, QObject *parent = nullptr);
    ~Executor() override; // stops running VMs (their jobs are recorded as interrupted)

    // Opens the database, recovers from an earlier crash (interrupted jobs are marked failed,
    // stale qemu processes stopped, queued jobs resumed). False with *error on failure.
    bool open(QString *error);

    // ---- jobs
    // Validates and queues a job. On success returns the new record (status queued).
    std::optional<JobRecord> submit(const JobRequest &request, ExecError *error);
    std::optional<JobRecord> job(const QString &requestId) const;
    JobPage jobs(const JobFilter &filter) const;
    // Cancels a queued or running job. Errors: 404 unknown, 409 already finished.
    bool cancel(const QString &requestId, ExecError *error);
    // ---- history and bulk submission (defined in executor/ExecutorHistory.cpp)
    // Validates every request first (nothing is queued when one is bad: *failedIndex says
    // which), then queues them all in one SQLite transaction, in order.
    std::optional<QList<JobRecord>> submitMany(const QList<JobRequest> &requests, ExecError *error, int *failedIndex = nullptr);
    // Deletes a finished job's record and logs. 404 unknown, 409 while queued or running.
    bool deleteJob(const QString &requestId, ExecError *error);
    LogChunk readLog(const QString &requestId, int stream, qint64 offset, qint64 maxBytes) const;
    // The folder of a job's logs (stdout.log, stderr.log, lines.idx, vm.log).
    QString logDir(const QString &requestId) const;

    // ---- workspaces
    QList<WorkspaceState> workspaces() const;
    std::optional<WorkspaceState> workspace(const QString &id) const;
    // Deletes the disk and the record (history stays). 404 unknown, 409 while busy or queued.
    bool deleteWorkspace(const QString &id, ExecError *error);
    // Lists one folder of a workspace (path relative to its root; "" = the root) through the
    // workspace's queue. The callback gets entries or an error (400 bad path, 404 no such
    // folder or workspace).
    void listFiles(const QString &id, const QString &path, WorkspaceOps::EntriesDone done);
    // Reads one file through the queue (at most maxFileBytes()).
    void readFile(const QString &id, const QString &path, WorkspaceOps::BytesDone done);
    // The largest files and folders (for clean-up), through the queue.
    void diskUsage(const QString &id, int limit, WorkspaceOps::EntriesDone done);
    static qint64 maxFileBytes() { return WorkspaceOps::maxFileBytes(); }
    static std::optional<QString> normaliseWorkspacePath(const QString &path, ExecError *error)
    {
        return WorkspaceOps::normalisePath(path, error);
    }

    // ---- workspace lifecycle (issue 11; defined in executor/ExecutorLifecycle.cpp)
    // Every method that touches a disk goes through the workspace's FIFO queue (never concurrent
    // with a job on it); `done` runs on the Executor's thread. Errors carry httpStatus (400 bad
    // input, 404 unknown, 409 conflict, 422 invalid value) + code + message.
    void snapshots(const QString &workspaceId, SnapshotsDone done);
    void takeSnapshot(const QString &workspaceId, const QString &name, OpDone done);         // 201; 409 name exists
    void restoreSnapshot(const QString &workspaceId, const QString &name, OpDone done);      // info: {"restored", "safety_snapshot"}
    void deleteSnapshot(const QString &workspaceId, const QString &name, OpDone done);
    void rollbackJob(const QString &requestId, bool force, OpDone done);                     // info: {"restored", "undone_jobs": N}; 409 pruned / later jobs without force
    std::optional<JobChanges> jobChanges(const QString &requestId, ExecError *error) const;  // 404 unknown job or none recorded
    void cloneWorkspace(const QString &sourceId, const QString &newId, OpDone done);         // 409 newId exists
    void growWorkspace(const QString &workspaceId, int sizeGb, OpDone done);                 // 422 not larger
    void createWorkspace(const QString &id, int sizeGb, OpDone done);                        // 409 exists
    void writeFile(const QString &workspaceId, const QString &path, const QByteArray &data, OpDone done); // <= 256 MiB, parents created
    void deleteFile(const QString &workspaceId, const QString &path, OpDone done);           // files and folders; root -> 400
    void exportWorkspace(const QString &workspaceId, const QString &targetTarGz, OpDone done);
    void importWorkspace(const QString &newId, int sizeGb, const QString &archiveTarGz, OpDone done); // 400 absolute/.. paths
    static qint64 maxUploadBytes() { return LifecycleLimits::kMaxUploadBytes; }
    // Additions: writeFile from a file the caller spooled (it is moved away and deleted after),
    // so a 256 MiB upload is never held in memory.
    void writeFileFromPath(const QString &workspaceId, const QString &path, const QString &spooledFile, OpDone done);
    void setCheckpoints(bool on, int keep);

    // ---- pool and settings
    PoolStatus pool() const;
    int maxParallel() const;
    void setMaxParallel(int n);        // 0 = number of cores
    void setAccelMode(AccelMode mode);
    AccelMode accelMode() const;
    void setDefaults(int vcpus, int memoryMb);
    void setRetention(int keepJobs, int keepDays); // 0: no limit; applied now and after each job
    // Applies the retention rules now; returns how many jobs it removed.
    int pruneHistory();
    const ExecutorConfig &config() const { return m_cfg; }
    GuestImage image() const { return m_image; }
    // Looks for the guest image again (after it was built) and starts what waited for it.
    void reloadImage();
    QString dataDir() const { return m_cfg.dataDir; }
    Backend &backend() const { return *m_backend; }
    // Where jobs run now: the backend's name ("local", "slurm"); before open(), the configured one.
    QString backendName() const;

    // Stops everything now (used on shutdown): running jobs become failed ("interrupted").
    void shutdown();

signals:
    void jobAdded(const QString &requestId);
    void jobChanged(const QString &requestId);            // status, times, exit code…
    void jobRemoved(const QString &requestId);            // deleted from the history
    void jobOutput(const QString &requestId, int stream, const QByteArray &data);
    void workspacesChanged();
    void poolChanged();

private:
    void enqueue(const TaskPtr &task);
    void scheduleSoon();
    void schedule();
    void startTask(const TaskPtr &task);
    TaskSpec specFor(const Task &task) const;
    void onTaskStarted(const QString &id, const QJsonObject &info);
    void onTaskOutput(const QString &id, int stream, const QByteArray &data);
    void onTaskFinished(const QString &id, const VmResult &result);
    void finishOp(const TaskPtr &task, const VmResult &result);
    void finishJob(const TaskPtr &task, JobStatus status, std::optional<int> exitCode, const QString &error, const VmResult *vm);
    // Writes a job's record; a failed write is logged and retried once, then kept in memory
    // (authoritative for job()/jobs()) and retried every few seconds until it succeeds.
    void saveJob(const JobRecord &job);
    void retryUnsaved();
    WorkspaceState stateOf(const WorkspaceInfo &w) const;
    void recover();
    // ---- issue 11 helpers (ExecutorLifecycle.cpp)
    using DiskOpDone = std::function<void(int exitCode, const QJsonObject &out, const QString &err)>;
    TaskPtr newOp(const QString &workspaceId, const QString &what);
    void enqueueDiskOp(const QString &workspaceId, const QString &op, const QJsonObject &args, DiskOpDone done);
    void startClone(const QString &sourceId, const QString &newId, int sizeGb, OpDone done);
    void restoreTo(const QString &workspaceId, const QString &name, const QJsonObject &extra, bool rollback, OpDone done);
    void saveChanges(const QString &requestId, const QJsonObject &changes);
    std::optional<ExecError> checkExisting(const QString &workspaceId) const;
    qint64 m_opSeq = 0;

    ExecutorConfig m_cfg;
    GuestImage m_image;
    Database m_db;
    std::unique_ptr<WorkspaceStore> m_workspaces;
    std::unique_ptr<JobStore> m_jobs;
    std::unique_ptr<WorkspaceOps> m_ops;
    Backend *m_backend = nullptr;
    LocalBackend *m_local = nullptr;                 // the backend when it is the local one
    SlurmBackend *m_slurm = nullptr;                 // the backend when it is Slurm
    Scheduler m_scheduler;
    QHash<QString, TaskPtr> m_running;               // handed to the backend, not finished
    QHash<QString, JobRecord> m_unsaved;             // records the database refused to take, newest state
    QString m_dbFault;
    QTimer *m_dbRetry = nullptr;
    QTimer *m_pruneTimer = nullptr;
    qint64 m_order = 0;
    bool m_scheduleQueued = false;
    bool m_shuttingDown = false;
};

} // namespace magpie
