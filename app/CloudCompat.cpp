#include "CloudCompat.h"

#include "Executor.h"
#include "LogIndex.h"
#include "StreamTail.h"
#include "Tools.h"

#include <QDateTime>

namespace magpie::cloud {

namespace {
QJsonValue orNull(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

struct Line {
    QString text, source;
};

// Both streams' tails, stdout first, with a marker where a stream was cut.
QList<Line> lines(const JobRecord &job, const Executor &executor)
{
    QList<Line> out;
    for (int stream : {1, 2}) {
        const QString source = stream == 1 ? QStringLiteral("stdout") : QStringLiteral("stderr");
        const LogTail t = StreamTail::tail(executor, job.requestId, stream);
        if (t.omittedBytes > 0)
            out.append({QStringLiteral("[magpie: %1 earlier bytes of %2 are not shown here; GET /api/v1/jobs/%3/logs?stream=%2 "
                                       "has the whole stream]")
                             .arg(t.omittedBytes).arg(source, job.requestId),
                         QStringLiteral("magpie")});
        for (const TextLine &l : t.lines)
            out.append({l.text, source});
    }
    return out;
}
} // namespace

QString status(const JobRecord &j)
{
    switch (j.status) {
    case JobStatus::Queued: return QStringLiteral("not_started");
    case JobStatus::Running: return QStringLiteral("in_progress");
    case JobStatus::Completed: return QStringLiteral("completed");
    case JobStatus::Cancelled: return QStringLiteral("cancelled");
    case JobStatus::TimedOut: return QStringLiteral("failed");
    case JobStatus::Failed: return j.exitCode ? QStringLiteral("failed") : QStringLiteral("error");
    }
    return QStringLiteral("error");
}

QString errorMessage(const JobRecord &j)
{
    if (j.status == JobStatus::TimedOut) {
        const QString why = j.error.isEmpty() ? QStringLiteral("the job ran longer than its timeout of %1 s").arg(j.timeoutSec) : j.error;
        return why.contains(QStringLiteral("timed out"), Qt::CaseInsensitive) ? why : QStringLiteral("timed out: ") + why;
    }
    if (j.status == JobStatus::Failed && j.error.isEmpty() && j.exitCode)
        return QStringLiteral("the script exited with code %1").arg(*j.exitCode);
    return j.error;
}

QJsonObject statusObject(const JobRecord &j, const Executor &executor)
{
    QJsonArray logs;
    for (const Line &l : lines(j, executor))
        logs.append(l.text);
    const QJsonValue duration = j.durationMs ? QJsonValue(double(*j.durationMs)) : QJsonValue(QJsonValue::Null);
    return QJsonObject{
        {QStringLiteral("request_id"), j.requestId},
        {QStringLiteral("id"), j.requestId},
        {QStringLiteral("job_id"), j.requestId},
        {QStringLiteral("name"), j.name},
        {QStringLiteral("status"), status(j)},
        {QStringLiteral("local_status"), statusName(j.status)},
        {QStringLiteral("logs"), logs},
        {QStringLiteral("duration"), duration},
        {QStringLiteral("duration_ms"), duration},
        {QStringLiteral("script_duration_ms"), duration},
        {QStringLiteral("exit_code"), j.exitCode ? QJsonValue(*j.exitCode) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("created_at"), j.createdAt},
        {QStringLiteral("started_at"), orNull(j.startedAt)},
        {QStringLiteral("completed_at"), orNull(j.finishedAt)},
        {QStringLiteral("error_message"), orNull(errorMessage(j))},
        {QStringLiteral("workspace_id"), orNull(j.workspaceId)},
        {QStringLiteral("vm_info"), QJsonValue(QJsonValue::Null)},
        {QStringLiteral("persist"), false},
        {QStringLiteral("ipv6_address"), QJsonValue(QJsonValue::Null)},
        {QStringLiteral("proxy_url"), QJsonValue(QJsonValue::Null)},
    };
}

QJsonArray logEntries(const JobRecord &j, const Executor &executor)
{
    // Both streams interleaved in the order the host received their lines, each with the time it
    // arrived (logs/<id>/lines.idx); the last kMaxJsonEntries lines, with a note when more exist.
    LogLinesQuery q;
    q.fromTail = true;
    q.maxEntries = kMaxJsonEntries;
    q.maxBytes = kMaxJsonBytes;
    const LogLines lines = LogIndex::readLines(executor.logDir(j.requestId), q);
    QJsonArray out;
    if (lines.first > 0) {
        const QString at = lines.entries.isEmpty() ? isoNow() : isoUtc(QDateTime::fromMSecsSinceEpoch(lines.entries.first().timestampMs, Qt::UTC));
        out.append(QJsonObject{{QStringLiteral("timestamp"), at},
                               {QStringLiteral("level"), QStringLiteral("magpie")},
                               {QStringLiteral("message"), QStringLiteral("[magpie: %1 earlier lines are not shown here; GET /api/v1/jobs/%2/logs?stream=stdout "
                                                                          "(or stderr) has the whole streams]")
                                                               .arg(lines.first).arg(j.requestId)},
                               {QStringLiteral("source"), QStringLiteral("magpie")}});
    }
    for (const LogLine &l : lines.entries) {
        QByteArray text = l.text;
        if (text.endsWith('\r'))
            text.chop(1); // a CRLF line: the message is the line without its line break, as in /status
        const QString stream = l.stream == 2 ? QStringLiteral("stderr") : QStringLiteral("stdout");
        out.append(QJsonObject{{QStringLiteral("timestamp"), isoUtc(QDateTime::fromMSecsSinceEpoch(l.timestampMs, Qt::UTC))},
                               {QStringLiteral("level"), stream},
                               {QStringLiteral("message"), QString::fromUtf8(text)},
                               {QStringLiteral("source"), stream}});
    }
    return out;
}

} // namespace magpie::cloud
