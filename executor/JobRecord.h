// JobRecord.h — one job as kept in the history (the `jobs` table) and shown by the API.
#pragma once

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <optional>

namespace magpie {

enum class JobStatus { Queued, Running, Completed, Failed, Cancelled, TimedOut };

QString statusName(JobStatus s);
bool parseStatus(const QString &text, JobStatus *out);
bool isFinished(JobStatus s);

// How the script is run: bash (unless it starts with "#!"), or python3.
enum class ScriptType { Bash, Python };
QString scriptTypeName(ScriptType t); // "bash", "python"

struct JobRecord {
    qint64 seq = 0;                // order of submission (FIFO)
    QString requestId;             // UUID
    QString name;
    QString script;
    bool stateful = false;
    QString workspaceId;           // empty for a stateless job
    int workspaceSizeGb = 0;       // the workspace's actual size (0 when stateless)
    QList<QPair<QString, QString>> env;
    int vcpus = 1;
    int memoryMb = 512;
    int timeoutSec = 0;
    bool network = true;
    JobStatus status = JobStatus::Queued;
    std::optional<int> exitCode;
    QString error;                 // why it failed, other than the script's exit code
    QString notice;                // e.g. that workspace_size_gb was ignored
    QString createdAt, startedAt, finishedAt;
    std::optional<qint64> durationMs;
    std::optional<qint64> workspaceUsedBytes, workspaceTotalBytes;
    qint64 stdoutBytes = 0, stderrBytes = 0; // bytes the script wrote (also past the log cap)
    QString accelerator;
    QString startKind;             // "restore" or "cold": how the job's VM came up
    QString backend;               // where it ran: "local" or "slurm" (empty until it starts)
    QString slurmJobId, node;      // on Slurm: its job id and the node that ran it
    QJsonObject timings;           // phase -> ms: queued, vm_start, disk_attach, mount, script, teardown, record…
    QString runDir;
    QString source;
    QString description;           // free text from the caller
    ScriptType scriptType = ScriptType::Bash;
    QString image = QStringLiteral("base"); // guest image profile (ImageRegistry)
    bool scriptTruncated = false;  // a list item whose script was cut (not stored)
    bool checkpoint = true;        // asked for a checkpoint before the job (stateful only)
    QString checkpointName;        // the snapshot taken before it ("before-<id>"), empty: none
    QString baseWorkspaceId;       // base_workspace_id of the request

    // The program the guest runs the script with, empty for the default (bash or "#!").
    QString interpreter() const;
    // The time of the last status change: finished, else started, else created.
    QString updatedAt() const;
    // The job object of the API (docs/api.md), with Magpie Cloud's names too (id, job_id,
    // environment, script_type, user_id, updated_at).
    QJsonObject toJson(bool withScript = true) const;
};

} // namespace magpie
