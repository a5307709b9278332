// WorkspaceLifecycle.h — the types of a workspace's life beyond running jobs (issue 11):
// snapshots of its disk (checkpoints taken before stateful jobs, and named ones), what a job
// changed in /workspace, and the callbacks of the Executor's lifecycle operations (snapshots,
// restore, roll back, clone, grow, create, upload/delete a file, export/import). The Executor
// methods are declared in Executor.h and defined in executor/ExecutorLifecycle.cpp.
#pragma once

#include "ExecError.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <functional>
#include <optional>

namespace magpie {

// One qcow2 internal snapshot of a workspace disk.
struct SnapshotInfo {
    QString name;                // "before-<request_id>", "before-restore-<time>", or a user name
    QDateTime createdAt;
    QString jobId;               // the job it was taken before ("" for named ones)
    qint64 sizeBytes = 0;        // what it holds on the host beyond the live disk (approx.)
    QJsonObject toJson() const;  // {name, created_at, job_id|null, size_bytes}
};

// One entry of a job's changes to /workspace.
struct FileChange {
    QString path;                // relative to /workspace
    qint64 size = 0;
    QString type;                // file|dir|symlink|other
};

// What a job added, modified and deleted in /workspace (from the guest's manifests before and
// after the script).
struct JobChanges {
    QList<FileChange> added, modified, deleted;
    qint64 addedBytes = 0, modifiedBytes = 0, deletedBytes = 0;
    bool truncated = false;      // the manifest hit 100,000 entries
    // {added:[{path,size,type}], modified:[...], deleted:[...], added_bytes, modified_bytes,
    //  deleted_bytes, truncated}
    QJsonObject toJson() const;
    static JobChanges fromJson(const QJsonObject &o);
};

using SnapshotsDone = std::function<void(std::optional<QList<SnapshotInfo>> snapshots, const ExecError &error)>;
using OpDone = std::function<void(bool ok, const ExecError &error, const QJsonObject &info)>;

struct LifecycleLimits {
    static constexpr int kMaxManifestEntries = 100000;
    static constexpr int kDefaultKeepCheckpoints = 10;
    static constexpr int kMaxKeepCheckpoints = 1000;
    static constexpr qint64 kMaxUploadBytes = 256LL << 20;
    static constexpr qint64 kMaxImportBytes = 256LL << 20;
};

// "before-<request_id>" — the checkpoint taken before a stateful job.
inline QString checkpointName(const QString &requestId) { return QStringLiteral("before-") + requestId; }

} // namespace magpie
