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

struct JobFilter {
    QString workspaceId;
    std::optional<JobStatus> status;
    QString nameContains;
    int limit = 50;
    int offset = 0;
};

struct JobPage {
    QList<JobRecord> jobs;
    int total = 0;
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
    QString update(const JobRecord &job);           // writes every mutable column
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
