#include "JobRecord.h"

#include <QJsonArray>

namespace magpie {

QString statusName(JobStatus s)
{
    switch (s) {
    case JobStatus::Queued: return QStringLiteral("queued");
    case JobStatus::Running: return QStringLiteral("running");
    case JobStatus::Completed: return QStringLiteral("completed");
    case JobStatus::Failed: return QStringLiteral("failed");
    case JobStatus::Cancelled: return QStringLiteral("cancelled");
    case JobStatus::TimedOut: return QStringLiteral("timed_out");
    }
    return QString();
}

bool parseStatus(const QString &text, JobStatus *out)
{
    for (JobStatus s : {JobStatus::Queued, JobStatus::Running, JobStatus::Completed, JobStatus::Failed, JobStatus::Cancelled, JobStatus::TimedOut}) {
        if (statusName(s) == text) {
            *out = s;
            return true;
        }
    }
    return false;
}

bool isFinished(JobStatus s)
{
    return s != JobStatus::Queued && s != JobStatus::Running;
}

QString scriptTypeName(ScriptType t)
{
    return t == ScriptType::Python ? QStringLiteral("python") : QStringLiteral("bash");
}

QString JobRecord::interpreter() const
{
    return scriptType == ScriptType::Python ? QStringLiteral("/usr/bin/python3") : QString();
}

QString JobRecord::updatedAt() const
{
    return !finishedAt.isEmpty() ? finishedAt : !startedAt.isEmpty() ? startedAt : createdAt;
}

QJsonObject JobRecord::toJson(bool withScript) const
{
    auto orNull = [](const QString &s) { return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s); };
    QJsonObject envObj;
    for (const auto &kv : env)
        envObj.insert(kv.first, kv.second);
    QJsonObject o{
        {QStringLiteral("request_id"), requestId},
        {QStringLiteral("name"), name},
        {QStringLiteral("stateful"), stateful},
        {QStringLiteral("workspace_id"), orNull(workspaceId)},
        {QStringLiteral("workspace_size_gb"), stateful ? QJsonValue(workspaceSizeGb) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("env"), envObj},
        {QStringLiteral("vcpus"), vcpus},
        {QStringLiteral("memory_mb"), memoryMb},
        {QStringLiteral("timeout"), timeoutSec},
        {QStringLiteral("network"), network},
        {QStringLiteral("status"), statusName(status)},
        {QStringLiteral("exit_code"), exitCode ? QJsonValue(*exitCode) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("error"), orNull(error)},
        {QStringLiteral("notice"), orNull(notice)},
        {QStringLiteral("created_at"), createdAt},
        {QStringLiteral("started_at"), orNull(startedAt)},
        {QStringLiteral("finished_at"), orNull(finishedAt)},
        {QStringLiteral("duration_ms"), durationMs ? QJsonValue(double(*durationMs)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("workspace_used_bytes"), workspaceUsedBytes ? QJsonValue(double(*workspaceUsedBytes)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("workspace_total_bytes"), workspaceTotalBytes ? QJsonValue(double(*workspaceTotalBytes)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("stdout_bytes"), double(stdoutBytes)},
        {QStringLiteral("stderr_bytes"), double(stderrBytes)},
        {QStringLiteral("accelerator"), orNull(accelerator)},
        {QStringLiteral("start"), orNull(startKind)},
        {QStringLiteral("backend"), orNull(backend)},
        {QStringLiteral("timings"), timings},
        {QStringLiteral("source"), orNull(source)},
        {QStringLiteral("image"), image},
        {QStringLiteral("checkpoint"), stateful && checkpoint},
        {QStringLiteral("checkpoint_name"), orNull(checkpointName)},
        {QStringLiteral("base_workspace_id"), orNull(baseWorkspaceId)},
        // The same facts under Magpie Cloud's names, so its SDK's models parse.
        {QStringLiteral("id"), requestId},
        {QStringLiteral("job_id"), requestId},
        {QStringLiteral("environment"), envObj},
        {QStringLiteral("script_type"), scriptTypeName(scriptType)},
        {QStringLiteral("description"), orNull(description)},
        {QStringLiteral("user_id"), QStringLiteral("local")},
        {QStringLiteral("updated_at"), updatedAt()},
    };
    if (backend == QLatin1String("slurm")) {
        o.insert(QStringLiteral("slurm_job_id"), orNull(slurmJobId));
        o.insert(QStringLiteral("node"), orNull(node));
    }
    if (withScript) {
        o.insert(QStringLiteral("script"), script);
        if (scriptTruncated)
            o.insert(QStringLiteral("script_truncated"), true);
    }
    return o;
}

} // namespace magpie
