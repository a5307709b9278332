#include "Database.h"

#include <QAtomicInt>
#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace magpie {

namespace {
QAtomicInt g_connections;

// Each entry migrates from version i to i+1. Never edit a released entry: append a new one.
const QList<QStringList> &migrations()
{
    static const QList<QStringList> m = {
        {
            QStringLiteral("CREATE TABLE workspaces ("
                           " id TEXT PRIMARY KEY,"
                           " size_gb INTEGER NOT NULL,"
                           " created_at TEXT NOT NULL,"
                           " last_used_at TEXT,"
                           " used_bytes INTEGER,"
                           " total_bytes INTEGER)"),
            QStringLiteral("CREATE TABLE jobs ("
                           " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " request_id TEXT NOT NULL UNIQUE,"
                           " name TEXT NOT NULL,"
                           " script TEXT NOT NULL,"
                           " stateful INTEGER NOT NULL,"
                           " workspace_id TEXT,"
                           " workspace_size_gb INTEGER,"
                           " env TEXT NOT NULL DEFAULT '{}',"
                           " vcpus INTEGER NOT NULL,"
                           " memory_mb INTEGER NOT NULL,"
                           " timeout INTEGER,"
                           " network INTEGER NOT NULL,"
                           " status TEXT NOT NULL,"
                           " exit_code INTEGER,"
                           " error TEXT,"
                           " notice TEXT,"
                           " created_at TEXT NOT NULL,"
                           " started_at TEXT,"
                           " finished_at TEXT,"
                           " duration_ms INTEGER,"
                           " workspace_used_bytes INTEGER,"
                           " workspace_total_bytes INTEGER,"
                           " stdout_bytes INTEGER NOT NULL DEFAULT 0,"
                           " stderr_bytes INTEGER NOT NULL DEFAULT 0,"
                           " accelerator TEXT,"
                           " run_dir TEXT,"
                           " source TEXT)"),
            QStringLiteral("CREATE INDEX jobs_by_workspace ON jobs(workspace_id, seq)"),
            QStringLiteral("CREATE INDEX jobs_by_status ON jobs(status, seq)"),
        },
        // Version 2: Magpie Cloud's job fields; indexes and kept totals for a large history.
        {
            QStringLiteral("ALTER TABLE jobs ADD COLUMN description TEXT"),
            QStringLiteral("ALTER TABLE jobs ADD COLUMN script_type TEXT NOT NULL DEFAULT 'bash'"),
            // The history's list at 100,000 jobs: every filter has an index that also holds seq,
            // so a page's seqs (offset or keyset) come from the index alone.
            QStringLiteral("CREATE INDEX jobs_by_workspace_status ON jobs(workspace_id, status, seq)"),
            QStringLiteral("CREATE INDEX jobs_by_created ON jobs(created_at, seq)"),
            QStringLiteral("CREATE INDEX jobs_by_seq_created ON jobs(seq, created_at)"),
            // Totals without counting rows: jobs per (workspace, status), kept by triggers.
            QStringLiteral("CREATE TABLE job_counts (workspace_id TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL,"
                           " PRIMARY KEY (workspace_id, status)) WITHOUT ROWID"),
            QStringLiteral("INSERT INTO job_counts SELECT coalesce(workspace_id, ''), status, COUNT(*) FROM jobs GROUP BY 1, 2"),
            QStringLiteral("CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN"
                           " INSERT INTO job_counts VALUES (coalesce(NEW.workspace_id, ''), NEW.status, 1)"
                           " ON CONFLICT(workspace_id, status) DO UPDATE SET n = n + 1; END"),
            QStringLiteral("CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN"
                           " UPDATE job_counts SET n = n - 1 WHERE workspace_id = coalesce(OLD.workspace_id, '') AND status = OLD.status; END"),
            QStringLiteral("CREATE TRIGGER jobs_count_update AFTER UPDATE OF status, workspace_id ON jobs"
                           " WHEN OLD.status IS NOT NEW.status OR OLD.workspace_id IS NOT NEW.workspace_id BEGIN"
                           " UPDATE job_counts SET n = n - 1 WHERE workspace_id = coalesce(OLD.workspace_id, '') AND status = OLD.status;"
                           " INSERT INTO job_counts VALUES (coalesce(NEW.workspace_id, ''), NEW.status, 1)"
                           " ON CONFLICT(workspace_id, status) DO UPDATE SET n = n + 1; END"),
        },
        // Version 3: how each job's VM started (restore or cold) and how long each phase took (JSON).
        {
            QStringLiteral("ALTER TABLE jobs ADD COLUMN start_kind TEXT"),
            QStringLiteral("ALTER TABLE jobs ADD COLUMN timings TEXT"),
        },
        // Version 4: the guest image profile a job runs on (ImageRegistry); older jobs ran on base.
        {
            QStringLiteral("ALTER TABLE jobs ADD COLUMN image TEXT NOT NULL DEFAULT 'base'"),
        },
        // Version 5 (issue 11): checkpoints before stateful jobs, base workspaces.
        {
            QStringLiteral("ALTER TABLE jobs ADD COLUMN checkpoint INTEGER NOT NULL DEFAULT 1"),
            QStringLiteral("ALTER TABLE jobs ADD COLUMN checkpoint_name TEXT"),
            QStringLiteral("ALTER TABLE jobs ADD COLUMN base_workspace_id TEXT"),
        },
        // Version 6: where each job ran: the backend ("local", "slurm") and, on Slurm, its job id and node.
        {
            QStringLiteral("ALTER TABLE jobs ADD COLUMN backend TEXT"),
            QStringLiteral("ALTER TABLE jobs ADD COLUMN slurm_job_id TEXT"),
            QStringLiteral("ALTER TABLE jobs ADD COLUMN node TEXT"),
        },
    };
    return m;
}
} // namespace

Database::~Database()
{
    close();
}

int Database::latestSchemaVersion()
{
    return static_cast<int>(migrations().size());
}

bool Database::open(const QString &path)
{
    close();
    // The file is private (0600) before SQLite first opens it; SQLite gives the -wal and -shm
    // files the database file's mode.
    if (!path.isEmpty() && path != QLatin1String(":memory:")) {
        const QByteArray native = QFile::encodeName(path);
        const int fd = ::open(native.constData(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            m_error = QStringLiteral("cannot open %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
            return false;
        }
        struct stat st {};
        if (::fstat(fd, &st) == 0 && (st.st_mode & 077))
            ::fchmod(fd, 0600);
        ::close(fd);
    }
    m_connection = QStringLiteral("magpie-%1").arg(g_connections.fetchAndAddRelaxed(1));
    m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    m_db.setDatabaseName(path);
    m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!m_db.open()) {
        m_error = QStringLiteral("cannot open %1: %2").arg(path, m_db.lastError().text());
        return false;
    }
    if (!exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !exec(QStringLiteral("PRAGMA synchronous=NORMAL"))
        || !exec(QStringLiteral("PRAGMA foreign_keys=ON")))
        return false;
    return migrate();
}

void Database::close()
{
    if (m_connection.isEmpty())
        return;
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connection);
    m_connection.clear();
}

bool Database::isOpen() const
{
    return m_db.isOpen();
}

int Database::schemaVersion()
{
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next())
        return -1;
    return q.value(0).toInt();
}

bool Database::migrate()
{
    const int current = schemaVersion();
    if (current < 0) {
        m_error = QStringLiteral("cannot read the schema version");
        return false;
    }
    if (current > latestSchemaVersion()) {
        m_error = QStringLiteral("the database has schema version %1, newer than this program's %2")
                      .arg(current).arg(latestSchemaVersion());
        return false;
    }
    for (int v = current; v < latestSchemaVersion(); ++v) {
        if (!transaction())
            return false;
        for (const QString &sql : migrations().at(v)) {
            if (!exec(sql)) {
                rollback();
                return false;
            }
        }
        if (!exec(QStringLiteral("PRAGMA user_version = %1").arg(v + 1)) || !commit()) {
            rollback();
            return false;
        }
    }
    return true;
}

bool Database::prepare(QSqlQuery &q, const QString &sql, const QVariantList &binds)
{
    q = QSqlQuery(m_db);
    if (!q.prepare(sql)) {
        m_error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
        return false;
    }
    for (const QVariant &b : binds)
        q.addBindValue(b);
    return true;
}

bool Database::exec(const QString &sql, const QVariantList &binds)
{
    QSqlQuery q(m_db);
    if (binds.isEmpty()) {
        if (!q.exec(sql)) {
            m_error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
            return false;
        }
        return true;
    }
    if (!prepare(q, sql, binds))
        return false;
    if (!q.exec()) {
        m_error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
        return false;
    }
    return true;
}

bool Database::transaction()
{
    if (m_depth > 0) {
        if (!exec(QStringLiteral("SAVEPOINT sp%1").arg(m_depth)))
            return false;
        ++m_depth;
        return true;
    }
    if (!m_db.transaction()) {
        m_error = m_db.lastError().text();
        return false;
    }
    m_depth = 1;
    return true;
}

bool Database::commit()
{
    if (m_depth > 1) {
        if (!exec(QStringLiteral("RELEASE SAVEPOINT sp%1").arg(m_depth - 1)))
            return false;
        --m_depth;
        return true;
    }
    if (!m_db.commit()) {
        m_error = m_db.lastError().text();
        return false;
    }
    m_depth = 0;
    return true;
}

void Database::rollback()
{
    if (m_depth > 1) {
        --m_depth;
        exec(QStringLiteral("ROLLBACK TO SAVEPOINT sp%1").arg(m_depth));
        exec(QStringLiteral("RELEASE SAVEPOINT sp%1").arg(m_depth));
        return;
    }
    m_db.rollback();
    m_depth = 0;
}

} // namespace magpie
