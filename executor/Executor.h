// Executor.h — the one entry point for running jobs, used the same way by the HTTP API
// (app/HttpApi) and the desktop window (ui/). It owns the SQLite history, the workspace
// store, the accelerator decision and the scheduler:
//   * jobs on one workspace run one at a time in FIFO (submission) order;
//   * jobs on different workspaces, and jobs without a workspace, run in parallel up to
//     maxParallel() VMs (default: the number of cores);
//   * workspace operations (listing files, reading a file) go through the same per-workspace
//     queue, so they never race a job.
// All methods must be called from the thread that owns the Executor (the main thread); the
// results of asynchronous operations arrive there too.
#pragma once

#include "AcceleratorProbe.h"
#include "Database.h"
#include "GuestImage.h"
#include "JobRecord.h"
#include "JobRequest.h"
#include "JobStore.h"
#include "WorkspaceStore.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <functional>
#include <memory>
#include <optional>

namespace magpie {

class VmRunner;
struct VmResult;
struct VmConfig;

struct ExecutorConfig {
    QString dataDir;                 // holds magpie.db, workspaces/, logs/, runs/
    int maxParallel = 0;             // 0: the number of cores
    AccelMode accel = AccelMode::Auto;
    int defaultVcpus = JobLimits::kDefaultVcpus;
    int defaultMemoryMb = JobLimits::kDefaultMemoryMb;
    int defaultTimeoutSec = JobLimits::kDefaultTimeout;
    int bootTimeoutSec = 120;
    // VMs booted ahead of time so that a job starts in well under a second. They count
    // against maxParallel (a spare only boots in a free slot and makes way for a job that
    // cannot use it). -1: MAGPIE_WARM_VMS, else 0 (off): the headless server keeps no idle
    // qemu around; the desktop app turns one on (Settings).
    int warmVms = -1;
    GuestImage image;                // empty: GuestImage::locate()
};

// An error for a caller: HTTP status, machine code, human sentence.
struct ExecError {
    int httpStatus = 400;
    QString code;
    QString message;
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
    QString accelerator;       // "kvm", "tcg" or "" while undecided
    QString acceleratorReason;
    int warmReady = 0;         // VMs booted ahead of time, waiting for a job
    int warmBooting = 0;
    int warmTarget = 0;
    QJsonObject toJson() const;
};

struct FileEntry {
    QString name, path, type; // type: file, dir, symlink, other
    qint64 size = 0;
    QString modifiedAt;
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
    // ---- history and bulk submission (defined at the end of Executor.cpp)
    // Validates every request first (nothing is queued when one is bad: *failedIndex says
    // which), then queues them all in one SQLite transaction, in order.
    std::optional<QList<JobRecord>> submitMany(const QList<JobRequest> &requests, ExecError *error, int *failedIndex = nullptr);
    // Deletes a finished job's record and logs. 404 unknown, 409 while queued or running.
    bool deleteJob(const QString &requestId, ExecError *error);
    LogChunk readLog(const QString &requestId, int stream, qint64 offset, qint64 maxBytes) const;

    // ---- workspaces
    QList<WorkspaceState> workspaces() const;
    std::optional<WorkspaceState> workspace(const QString &id) const;
    // Deletes the disk and the record (history stays). 404 unknown, 409 while busy or queued.
    bool deleteWorkspace(const QString &id, ExecError *error);
    // Lists one folder of a workspace (path relative to its root; "" = the root) through the
    // workspace's queue. The callback gets entries or an error (400 bad path, 404 no such
    // folder or workspace).
    void listFiles(const QString &id, const QString &path,
                   std::function<void(std::optional<ExecError>, QList<FileEntry>)> done);
    // Reads one file through the queue (at most maxFileBytes()).
    void readFile(const QString &id, const QString &path,
                  std::function<void(std::optional<ExecError>, QByteArray)> done);
    // The largest files and folders (for clean-up), through the queue.
    void diskUsage(const QString &id, int limit,
                   std::function<void(std::optional<ExecError>, QList<FileEntry>)> done);
    static qint64 maxFileBytes() { return 256LL * 1024 * 1024; }
    // Checks a path from a caller: relative, no "..", no NUL, no absolute forms. Returns the
    // normalised relative path ("" for the root) or nullopt with *error set.
    static std::optional<QString> normaliseWorkspacePath(const QString &path, ExecError *error);

    // ---- pool and settings
    PoolStatus pool() const;
    int maxParallel() const;
    void setMaxParallel(int n);        // 0 = number of cores
    void setAccelMode(AccelMode mode);
    AccelMode accelMode() const;
    void setDefaults(int vcpus, int memoryMb);
    void setWarmVms(int n);            // VMs booted ahead of time (0: none)
    const ExecutorConfig &config() const { return m_cfg; }
    GuestImage image() const { return m_image; }
    QString dataDir() const { return m_cfg.dataDir; }

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
    struct Task;               // a queued job or workspace operation
    struct Running;            // what a started task holds
    void schedule();
    void startTask(const std::shared_ptr<Task> &task);
    void launchVm(const std::shared_ptr<Task> &task, Accelerator accel);
    void onVmFinished(const std::shared_ptr<Task> &task, const VmResult &result);
    void finishJob(const std::shared_ptr<Task> &task, JobStatus status, std::optional<int> exitCode, const QString &error,
                   const VmResult *vm);
    void enqueueOp(const QString &workspaceId, const QString &script, const QList<QPair<QString, QString>> &env,
                   std::function<void(const VmResult &, const QByteArray &out, const QByteArray &err)> done,
                   int noDiskExit = 4, const QByteArray &noDiskOut = QByteArray());
    bool workspaceBusy(const QString &id) const;
    WorkspaceState stateOf(const WorkspaceInfo &w) const;
    int queuedFor(const QString &id) const;
    void recover();
    std::optional<Accelerator> knownAccelerator() const;
    VmRunner *takeSpare(const VmConfig &cfg);
    void maybeStartSpare();
    void trimSpares();
    void killSpares();
    int warmTarget() const;
    void killStaleQemu(const QString &runDir, const QString &name);

    ExecutorConfig m_cfg;
    GuestImage m_image;
    Database m_db;
    std::unique_ptr<WorkspaceStore> m_workspaces;
    std::unique_ptr<JobStore> m_jobs;
    AcceleratorProbe *m_probe = nullptr;
    QList<std::shared_ptr<Task>> m_pending;           // FIFO by submission
    QList<std::shared_ptr<Task>> m_active;            // started, not finished
    QHash<QString, QString> m_busyWorkspaces;         // workspace id -> task label
    QList<VmRunner *> m_spares;                       // warm VMs without a job
    qint64 m_spareSeq = 0;
    qint64 m_spareBackoffUntil = 0;                   // ms since epoch: no spares before this
    bool m_shuttingDown = false;
    qint64 m_opSeq = 0;
};

} // namespace magpie
