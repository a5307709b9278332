#include "JobStore.h"

#include "Database.h"
#include "LogIndex.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlQuery>
#include <QVariant>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace magpie {

namespace {
const char *kColumns =
    "seq, request_id, name, script, stateful, workspace_id, workspace_size_gb, env, vcpus, memory_mb, timeout, network,"
    " status, exit_code, error, notice, created_at, started_at, finished_at, duration_ms, workspace_used_bytes,"
    " workspace_total_bytes, stdout_bytes, stderr_bytes, accelerator, run_dir, source, description, script_type,"
    " start_kind, timings, image, checkpoint, checkpoint_name, base_workspace_id, backend, slurm_job_id, node";

QVariant opt(const std::optional<qint64> &v) { return v ? QVariant(*v) : QVariant(); }
QVariant optInt(const std::optional<int> &v) { return v ? QVariant(*v) : QVariant(); }
QVariant str(const QString &s) { return s.isEmpty() ? QVariant() : QVariant(s); }

QString envJson(const QList<QPair<QString, QString>> &env)
{
    QJsonObject o;
    for (const auto &kv : env)
        o.insert(kv.first, kv.second);
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

JobRecord fromRow(const QSqlQuery &q, bool withTruncatedFlag = false)
{
    JobRecord j;
    int i = 0;
    j.seq = q.value(i++).toLongLong();
    j.requestId = q.value(i++).toString();
    j.name = q.value(i++).toString();
    j.script = q.value(i++).toString();
    j.stateful = q.value(i++).toBool();
    j.workspaceId = q.value(i++).toString();
    j.workspaceSizeGb = q.value(i++).toInt();
    const QJsonObject env = QJsonDocument::fromJson(q.value(i++).toString().toUtf8()).object();
    for (auto it = env.begin(); it != env.end(); ++it)
        j.env.append({it.key(), it.value().toString()});
    j.vcpus = q.value(i++).toInt();
    j.memoryMb = q.value(i++).toInt();
    j.timeoutSec = q.value(i++).toInt();
    j.network = q.value(i++).toBool();
    parseStatus(q.value(i++).toString(), &j.status);
    if (!q.value(i).isNull()) j.exitCode = q.value(i).toInt();
    ++i;
    j.error = q.value(i++).toString();
    j.notice = q.value(i++).toString();
    j.createdAt = q.value(i++).toString();
    j.startedAt = q.value(i++).toString();
    j.finishedAt = q.value(i++).toString();
    if (!q.value(i).isNull()) j.durationMs = q.value(i).toLongLong();
    ++i;
    if (!q.value(i).isNull()) j.workspaceUsedBytes = q.value(i).toLongLong();
    ++i;
    if (!q.value(i).isNull()) j.workspaceTotalBytes = q.value(i).toLongLong();
    ++i;
    j.stdoutBytes = q.value(i++).toLongLong();
    j.stderrBytes = q.value(i++).toLongLong();
    j.accelerator = q.value(i++).toString();
    j.runDir = q.value(i++).toString();
    j.source = q.value(i++).toString();
    j.description = q.value(i++).toString();
    j.scriptType = q.value(i++).toString() == QLatin1String("python") ? ScriptType::Python : ScriptType::Bash;
    j.startKind = q.value(i++).toString();
    j.timings = QJsonDocument::fromJson(q.value(i++).toString().toUtf8()).object();
    j.image = q.value(i++).toString();
    j.checkpoint = q.value(i++).toBool();
    j.checkpointName = q.value(i++).toString();
    j.baseWorkspaceId = q.value(i++).toString();
    j.backend = q.value(i++).toString();
    j.slurmJobId = q.value(i++).toString();
    j.node = q.value(i++).toString();
    if (withTruncatedFlag)
        j.scriptTruncated = q.value(i++).toBool();
    return j;
}
} // namespace

JobStore::JobStore(Database &db, QString logDir)
    : m_db(db), m_logDir(std::move(logDir))
{
    QDir().mkpath(m_logDir);
    QFile::setPermissions(m_logDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
}

qint64 JobStore::logCapBytes()
{
    bool ok = false;
    const qint64 v = qEnvironmentVariable("MAGPIE_LOG_CAP_BYTES").toLongLong(&ok);
    return ok && v > 0 ? v : 10LL * 1024 * 1024;
}

QByteArray JobStore::truncationMarker(qint64 cap)
{
    return QByteArrayLiteral("\n[magpie: output truncated: this stream exceeded ") + QByteArray::number(cap) + QByteArrayLiteral(" bytes]\n");
}

QString JobStore::insert(JobRecord &j)
{
    if (!m_db.exec(QStringLiteral("INSERT INTO jobs(request_id, name, script, stateful, workspace_id, workspace_size_gb, env, vcpus,"
                                  " memory_mb, timeout, network, status, notice, created_at, source, description, script_type, image,"
                                  " checkpoint, base_workspace_id)"
                                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
                   {j.requestId, j.name, j.script, j.stateful, str(j.workspaceId), j.workspaceSizeGb, envJson(j.env), j.vcpus,
                    j.memoryMb, j.timeoutSec, j.network, statusName(j.status), str(j.notice), j.createdAt, str(j.source),
                    str(j.description), scriptTypeName(j.scriptType), j.image.isEmpty() ? QStringLiteral("base") : j.image,
                    j.checkpoint, str(j.baseWorkspaceId)}))
        return m_db.error();
    QSqlQuery q;
    if (m_db.prepare(q, QStringLiteral("SELECT seq FROM jobs WHERE request_id = ?"), {j.requestId}) && q.exec() && q.next())
        j.seq = q.value(0).toLongLong();
    return QString();
}

QString JobStore::update(const JobRecord &j)
{
    if (!m_db.exec(QStringLiteral("UPDATE jobs SET status=?, exit_code=?, error=?, notice=?, started_at=?, finished_at=?, duration_ms=?,"
                                  " workspace_used_bytes=?, workspace_total_bytes=?, stdout_bytes=?, stderr_bytes=?, accelerator=?,"
                                  " run_dir=?, workspace_size_gb=?, start_kind=?, timings=?, checkpoint_name=?, backend=?, slurm_job_id=?, node=? WHERE request_id=?"),
                   {statusName(j.status), optInt(j.exitCode), str(j.error), str(j.notice), str(j.startedAt), str(j.finishedAt),
                    opt(j.durationMs), opt(j.workspaceUsedBytes), opt(j.workspaceTotalBytes), j.stdoutBytes, j.stderrBytes,
                    str(j.accelerator), str(j.runDir), j.workspaceSizeGb, str(j.startKind),
                    j.timings.isEmpty() ? QVariant() : QVariant(QString::fromUtf8(QJsonDocument(j.timings).toJson(QJsonDocument::Compact))),
                    str(j.checkpointName), str(j.backend), str(j.slurmJobId), str(j.node), j.requestId}))
        return m_db.error();
    return QString();
}

bool JobStore::remove(const QString &requestId, QString *error)
{
    if (!m_db.exec(QStringLiteral("DELETE FROM jobs WHERE request_id = ?"), {requestId})) {
        if (error)
            *error = m_db.error();
        return false;
    }
    // The record is gone first: logs without a record are harmless, a record without logs is not.
    if (!requestId.isEmpty() && !requestId.contains(QLatin1Char('/')) && !requestId.startsWith(QLatin1Char('.')))
        QDir(logDir(requestId)).removeRecursively();
    return true;
}

QStringList JobStore::prunable(int keepJobs, const QString &finishedBefore, int limit) const
{
    QStringList conds;
    QVariantList binds;
    if (keepJobs > 0) {
        conds << QStringLiteral("seq < coalesce((SELECT seq FROM jobs WHERE status NOT IN ('queued', 'running')"
                                " ORDER BY seq DESC LIMIT 1 OFFSET ?), 0)"); // older than the keepJobs-th newest finished one
        binds << keepJobs - 1;
    }
    if (!finishedBefore.isEmpty()) {
        conds << QStringLiteral("finished_at < ?");
        binds << finishedBefore;
    }
    QStringList out;
    if (conds.isEmpty())
        return out;
    binds << limit;
    QSqlQuery q;
    if (m_db.prepare(q, QStringLiteral("SELECT request_id FROM jobs WHERE status NOT IN ('queued', 'running') AND (%1)"
                                       " ORDER BY seq LIMIT ?").arg(conds.join(QStringLiteral(" OR "))), binds) && q.exec())
        while (q.next())
            out << q.value(0).toString();
    return out;
}

std::optional<JobRecord> JobStore::get(const QString &requestId) const
{
    QSqlQuery q;
    if (!m_db.prepare(q, QStringLiteral("SELECT %1 FROM jobs WHERE request_id = ?").arg(QLatin1String(kColumns)), {requestId})
        || !q.exec() || !q.next())
        return std::nullopt;
    return fromRow(q);
}

JobPage JobStore::list(const JobFilter &f) const
{
    QStringList where;
    QVariantList binds;
    if (!f.workspaceId.isEmpty()) {
        where << QStringLiteral("workspace_id = ?");
        binds << f.workspaceId;
    }
    if (f.status) {
        where << QStringLiteral("status = ?");
        binds << statusName(*f.status);
    }
    if (!f.nameContains.isEmpty()) {
        where << QStringLiteral("name LIKE ? ESCAPE '\\'");
        QString pat = f.nameContains;
        pat.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('%'), QStringLiteral("\\%")).replace(QLatin1Char('_'), QStringLiteral("\\_"));
        binds << QStringLiteral("%") + pat + QStringLiteral("%");
    }
    if (!f.createdFrom.isEmpty()) {
        where << QStringLiteral("created_at >= ?");
        binds << f.createdFrom;
    }
    if (!f.createdBefore.isEmpty()) {
        where << QStringLiteral("created_at < ?");
        binds << f.createdBefore;
    }
    const QString whereSql = where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    JobPage page;
    QSqlQuery q;
    const bool timed = !f.createdFrom.isEmpty() || !f.createdBefore.isEmpty();
    if (f.withTotal && f.nameContains.isEmpty() && !timed) {
        // Workspace and status alone: the kept counts (migration 2), no rows counted.
        QStringList cw;
        QVariantList cb;
        if (!f.workspaceId.isEmpty()) {
            cw << QStringLiteral("workspace_id = ?");
            cb << f.workspaceId;
        }
        if (f.status) {
            cw << QStringLiteral("status = ?");
            cb << statusName(*f.status);
        }
        const QString sql = QStringLiteral("SELECT COALESCE(SUM(n), 0) FROM job_counts") +
                            (cw.isEmpty() ? QString() : QStringLiteral(" WHERE ") + cw.join(QStringLiteral(" AND ")));
        if (m_db.prepare(q, sql, cb) && q.exec() && q.next())
            page.total = q.value(0).toInt();
    } else if (f.withTotal && m_db.prepare(q, QStringLiteral("SELECT COUNT(*) FROM jobs") + whereSql, binds) && q.exec() && q.next()) {
        page.total = q.value(0).toInt();
    }

    // The page's seqs first, from an index alone (the filter's index covers seq), then the
    // rows of just those: an OFFSET then steps over narrow index entries, not whole rows.
    QStringList keyWhere = where;
    QVariantList keyBinds = binds;
    if (f.beforeSeq) {
        keyWhere << QStringLiteral("seq < ?");
        keyBinds << *f.beforeSeq;
    }
    QString keySql = keyWhere.isEmpty() ? QString() : QStringLiteral(" WHERE ") + keyWhere.join(QStringLiteral(" AND "));
    // A time window: walk (seq, created_at) newest first and test the time in the index, rather
    // than take the window from jobs_by_created and sort it by seq.
    if (timed && f.workspaceId.isEmpty() && !f.status)
        keySql.replace(QStringLiteral("created_at "), QStringLiteral("+created_at "));
    keyBinds << f.limit << f.offset;
    QString columns = QLatin1String(kColumns);
    const bool cut = f.scriptChars >= 0;
    if (cut)
        columns.replace(QStringLiteral(" script,"), QStringLiteral(" substr(script, 1, %1),").arg(f.scriptChars))
            .append(QStringLiteral(", length(script) > %1").arg(f.scriptChars));
    const QString sql = QStringLiteral("SELECT %1 FROM jobs WHERE seq IN (SELECT seq FROM jobs%2 ORDER BY seq DESC LIMIT ? OFFSET ?)"
                                       " ORDER BY seq DESC")
                            .arg(columns, keySql);
    if (m_db.prepare(q, sql, keyBinds) && q.exec())
        while (q.next())
            page.jobs.append(fromRow(q, cut));
    if (page.jobs.size() == f.limit && f.limit > 0)
        page.nextCursor = page.jobs.last().seq;
    return page;
}

bool JobStore::insertMany(QList<JobRecord> &jobs, QString *error)
{
    if (!m_db.transaction()) {
        if (error)
            *error = m_db.error();
        return false;
    }
    for (JobRecord &j : jobs) {
        const QString err = insert(j);
        if (!err.isEmpty()) {
            m_db.rollback();
            if (error)
                *error = err;
            return false;
        }
    }
    if (!m_db.commit()) {
        if (error)
            *error = m_db.error();
        m_db.rollback();
        return false;
    }
    return true;
}

QList<JobRecord> JobStore::withStatus(JobStatus status) const
{
    QList<JobRecord> out;
    QSqlQuery q;
    if (m_db.prepare(q, QStringLiteral("SELECT %1 FROM jobs WHERE status = ? ORDER BY seq").arg(QLatin1String(kColumns)), {statusName(status)}) && q.exec())
        while (q.next())
            out.append(fromRow(q));
    return out;
}

int JobStore::countForWorkspace(const QString &workspaceId, std::optional<JobStatus> status) const
{
    QSqlQuery q;
    const bool ok = status ? m_db.prepare(q, QStringLiteral("SELECT COUNT(*) FROM jobs WHERE workspace_id = ? AND status = ?"), {workspaceId, statusName(*status)})
                           : m_db.prepare(q, QStringLiteral("SELECT COUNT(*) FROM jobs WHERE workspace_id = ?"), {workspaceId});
    if (!ok || !q.exec() || !q.next())
        return 0;
    return q.value(0).toInt();
}

QString JobStore::logDir(const QString &requestId) const
{
    return m_logDir + QLatin1Char('/') + requestId;
}

QString JobStore::logPath(const QString &requestId, int stream) const
{
    static const char *names[] = {"", "stdout.log", "stderr.log", "vm.log"};
    return logDir(requestId) + QLatin1Char('/') + QLatin1String(names[stream >= 1 && stream <= 3 ? stream : 3]);
}

void JobStore::prepareLogs(const QString &requestId)
{
    // Private: the folder 0700, the files 0600 (created here, so later appends keep the mode).
    const QByteArray dir = QFile::encodeName(logDir(requestId));
    ::mkdir(dir.constData(), 0700);
    for (int s : {1, 2, 3}) {
        const int fd = ::open(QFile::encodeName(logPath(requestId, s)).constData(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0)
            ::close(fd);
    }
}

qint64 JobStore::appendOutput(JobRecord &job, int stream, const QByteArray &data)
{
    qint64 &produced = stream == 1 ? job.stdoutBytes : job.stderrBytes;
    const qint64 cap = logCapBytes();
    const qint64 before = produced;
    produced += data.size();
    if (before > cap)
        return 0;
    QByteArray toWrite = data;
    if (produced > cap)
        toWrite = data.left(cap - before) + truncationMarker(cap);
    QFile f(logPath(job.requestId, stream));
    if (!f.open(QIODevice::Append))
        return 0;
    const qint64 at = f.size();
    const qint64 written = f.write(toWrite);
    f.close();
    if (written > 0) // arrival time of each line that starts here, beside the raw bytes
        LogIndex::recordLines(logDir(job.requestId), stream, at, toWrite.left(written), QDateTime::currentMSecsSinceEpoch());
    return written;
}

LogChunk JobStore::readLog(const QString &requestId, int stream, qint64 offset, qint64 maxBytes) const
{
    LogChunk c;
    QFile f(logPath(requestId, stream));
    if (!f.open(QIODevice::ReadOnly))
        return c;
    c.size = f.size();
    c.offset = qBound<qint64>(0, offset, c.size);
    if (c.offset < c.size && f.seek(c.offset))
        c.data = f.read(maxBytes);
    return c;
}

} // namespace magpie
