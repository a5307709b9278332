// JobStore.h — the job history in SQLite and the per-job log files beside it:
//   <data>/logs/<request_id>/stdout.log, stderr.log (the script's output), vm.log (QEMU and
//   guest agent diagnostics). Each output stream keeps at most logCapBytes() bytes (default
//   10 MiB, MAGPIE_LOG_CAP_BYTES overrides); past that a single line
//   "\n[magpie: output truncated: this stream exceeded N bytes]\n" is written and the rest is
//   counted but not kept.
#pragma once

#include "JobRecord.h"

#include <QHash>
#include <QList>
#include <QString>
#include <optional>

namespace magpie {

class Database;

// Which jobs list() returns, newest first (by seq). Paging by offset, or by keyset: `beforeSeq`
// (a page's nextCursor) continues after the last job of the previous page, which costs the
// same at any depth. Each filter is served by an index (migration 2).
struct JobFilter {
    QString workspaceId;
    std::optional<JobStatus> status;
    QString nameContains;
    QString createdFrom;           // ISO-8601: created_at >= this
    QString createdBefore;         // ISO-8601: created_at < this
    std::optional<qint64> beforeSeq; // keyset: only jobs with seq < this
    int limit = 50;
    int offset = 0;
    bool withTotal = true;         // count the matching jobs (JobPage::total)
    int scriptChars = -1;          // >= 0: scripts cut to this many characters (scriptTruncated)
};

struct JobPage {
    QList<JobRecord> jobs;
    int total = 0;                 // matching jobs, when withTotal
    qint64 nextCursor = 0;         // the last job's seq when the page is full, else 0
};

struct LogChunk {
    QByteArray data;
    qint64 offset = 0;     // where data starts
    qint64 size = 0;       // bytes in the log file now
};

class JobStore
{
public:
    JobStore(Database &db, QString logDir);

    static qint64 logCapBytes();
    static QByteArray truncationMarker(qint64 cap);

    QString insert(JobRecord &job);                 // sets seq; empty string on success
    // Inserts many in one transaction, all or nothing (sets each seq).
    [[nodiscard]] bool insertMany(QList<JobRecord> &jobs, QString *error);
    QString update(const JobRecord &job);           // writes every mutable column
    // Deletes a job's record and its log folder (the caller checks that it has finished).
    [[nodiscard]] bool remove(const QString &requestId, QString *error);
    // Finished jobs that a retention rule lets go: all but the newest `keepJobs` finished ones
    // (0: no count limit) and those finished before `finishedBefore` (empty: no age limit),
    // oldest first, at most `limit`. Queued and running jobs are never among them.
    QStringList prunable(int keepJobs, const QString &finishedBefore, int limit) const;
    std::optional<JobRecord> get(const QString &requestId) const;
    JobPage list(const JobFilter &filter) const;
    QList<JobRecord> withStatus(JobStatus status) const; // in FIFO order
    int countForWorkspace(const QString &workspaceId, std::optional<JobStatus> status = std::nullopt) const;

    QString logDir(const QString &requestId) const;
    QString logPath(const QString &requestId, int stream) const; // 1 stdout, 2 stderr, 3 vm
    // Appends script output, applying the cap. Returns the bytes actually written to the file.
    qint64 appendOutput(JobRecord &job, int stream, const QByteArray &data);
    LogChunk readLog(const QString &requestId, int stream, qint64 offset, qint64 maxBytes) const;
    void prepareLogs(const QString &requestId);

private:
    Database &m_db;
    QString m_logDir;
};

} // namespace magpie
