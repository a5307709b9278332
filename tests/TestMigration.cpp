// TestMigration — a data folder written by an older Magpie Desktop (schema version 1, the first
// release's tables, built here with raw SQL in a real SQLite file) is migrated when it is opened:
// every later migration runs, the rows are intact, new columns have their defaults (image
// 'base', script_type 'bash') and the kept totals (job_counts) match the rows.
#include "Database.h"
#include "JobStore.h"
#include "WorkspaceStore.h"

#include <QDir>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

namespace {
// The version-1 schema, as the first release created it (never change this: it is history).
const char *const kVersion1[] = {
    "CREATE TABLE workspaces (id TEXT PRIMARY KEY, size_gb INTEGER NOT NULL, created_at TEXT NOT NULL,"
    " last_used_at TEXT, used_bytes INTEGER, total_bytes INTEGER)",
    "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " script TEXT NOT NULL, stateful INTEGER NOT NULL, workspace_id TEXT, workspace_size_gb INTEGER,"
    " env TEXT NOT NULL DEFAULT '{}', vcpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL, timeout INTEGER,"
    " network INTEGER NOT NULL, status TEXT NOT NULL, exit_code INTEGER, error TEXT, notice TEXT,"
    " created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, duration_ms INTEGER,"
    " workspace_used_bytes INTEGER, workspace_total_bytes INTEGER, stdout_bytes INTEGER NOT NULL DEFAULT 0,"
    " stderr_bytes INTEGER NOT NULL DEFAULT 0, accelerator TEXT, run_dir TEXT, source TEXT)",
    "CREATE INDEX jobs_by_workspace ON jobs(workspace_id, seq)",
    "CREATE INDEX jobs_by_status ON jobs(status, seq)",
    "INSERT INTO workspaces VALUES ('counter-ws', 10, '2026-11-01T10:00:00Z', '2026-11-01T10:05:00Z', 4096, 10737418240)",
    "INSERT INTO jobs(request_id, name, script, stateful, workspace_id, workspace_size_gb, env, vcpus, memory_mb, timeout,"
    " network, status, exit_code, created_at, started_at, finished_at, duration_ms, stdout_bytes, accelerator, source)"
    " VALUES ('11111111-0000-0000-0000-000000000001', 'counter', 'echo one', 1, 'counter-ws', 10, '{\"A\":\"1\"}', 2, 1024,"
    " 600, 1, 'completed', 0, '2026-11-01T10:00:00Z', '2026-11-01T10:00:01Z', '2026-11-01T10:00:09Z', 8000, 17, 'tcg', 'api')",
    "INSERT INTO jobs(request_id, name, script, stateful, vcpus, memory_mb, timeout, network, status, exit_code, error,"
    " created_at, finished_at, source)"
    " VALUES ('11111111-0000-0000-0000-000000000002', 'broken', 'exit 3', 0, 1, 512, 3600, 0, 'failed', 3, 'exit code 3',"
    " '2026-11-01T11:00:00Z', '2026-11-01T11:00:05Z', 'gui')",
    "INSERT INTO jobs(request_id, name, script, stateful, workspace_id, vcpus, memory_mb, network, status, created_at)"
    " VALUES ('11111111-0000-0000-0000-000000000003', 'waiting', 'echo later', 1, 'counter-ws', 1, 512, 1, 'queued',"
    " '2026-11-01T12:00:00Z')",
    "PRAGMA user_version = 1",
};
} // namespace

class TestMigration : public QObject
{
    Q_OBJECT

    static void writeVersion1(const QString &path)
    {
        {
            QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1-writer"));
            raw.setDatabaseName(path);
            QVERIFY2(raw.open(), qPrintable(raw.lastError().text()));
            QSqlQuery q(raw);
            for (const char *sql : kVersion1)
                QVERIFY2(q.exec(QString::fromUtf8(sql)), qPrintable(q.lastError().text() + QStringLiteral(": ") + QString::fromUtf8(sql)));
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("v1-writer"));
    }

private slots:
    void version1FolderMigratesWithRowsIntact()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString dbPath = tmp.filePath(QStringLiteral("magpie.db"));
        writeVersion1(dbPath);
        if (QTest::currentTestFailed())
            return;

        Database db;
        QVERIFY2(db.open(dbPath), qPrintable(db.error()));
        QVERIFY(Database::latestSchemaVersion() > 1);
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());

        JobStore jobs(db, tmp.filePath(QStringLiteral("logs")));
        const auto counter = jobs.get(QStringLiteral("11111111-0000-0000-0000-000000000001"));
        QVERIFY(counter);
        QCOMPARE(counter->name, QStringLiteral("counter"));
        QCOMPARE(counter->script, QStringLiteral("echo one"));
        QVERIFY(counter->stateful);
        QCOMPARE(counter->workspaceId, QStringLiteral("counter-ws"));
        QCOMPARE(counter->vcpus, 2);
        QCOMPARE(counter->memoryMb, 1024);
        QCOMPARE(counter->status, JobStatus::Completed);
        QCOMPARE(counter->exitCode.value_or(-1), 0);
        QCOMPARE(counter->durationMs.value_or(-1), qint64(8000));
        QCOMPARE(counter->stdoutBytes, qint64(17));
        QCOMPARE(counter->accelerator, QStringLiteral("tcg"));
        QCOMPARE(counter->env.size(), 1);
        QCOMPARE(counter->env.first().second, QStringLiteral("1"));
        // Columns added by later migrations have their defaults.
        QCOMPARE(counter->image, QStringLiteral("base"));
        QCOMPARE(counter->scriptType, ScriptType::Bash);
        QVERIFY(counter->description.isEmpty());
        QVERIFY(counter->startKind.isEmpty());
        QCOMPARE(counter->toJson().value(QStringLiteral("image")).toString(), QStringLiteral("base"));

        const auto broken = jobs.get(QStringLiteral("11111111-0000-0000-0000-000000000002"));
        QVERIFY(broken);
        QCOMPARE(broken->status, JobStatus::Failed);
        QCOMPARE(broken->exitCode.value_or(-1), 3);
        QCOMPARE(broken->error, QStringLiteral("exit code 3"));
        QCOMPARE(broken->source, QStringLiteral("gui"));

        // The queued job is still queued (it runs when the executor starts) and counted.
        const QList<JobRecord> queued = jobs.withStatus(JobStatus::Queued);
        QCOMPARE(queued.size(), 1);
        QCOMPARE(queued.first().name, QStringLiteral("waiting"));
        QCOMPARE(jobs.countForWorkspace(QStringLiteral("counter-ws")), 2);
        QCOMPARE(jobs.countForWorkspace(QStringLiteral("counter-ws"), JobStatus::Queued), 1);

        WorkspaceStore workspaces(db, tmp.filePath(QStringLiteral("workspaces")));
        const auto ws = workspaces.get(QStringLiteral("counter-ws"));
        QVERIFY(ws);
        QCOMPARE(ws->sizeGb, 10);

        // New rows work in the migrated file, with an image.
        JobRecord j;
        j.requestId = QStringLiteral("22222222-0000-0000-0000-000000000001");
        j.name = QStringLiteral("on dev");
        j.script = QStringLiteral("node --version");
        j.image = QStringLiteral("dev");
        j.createdAt = QStringLiteral("2026-12-02T10:00:00Z");
        QCOMPARE(jobs.insert(j), QString());
        QCOMPARE(jobs.get(j.requestId)->image, QStringLiteral("dev"));
        db.close();

        // Reopening does not migrate again, and the rows are still there.
        Database again;
        QVERIFY2(again.open(dbPath), qPrintable(again.error()));
        QCOMPARE(again.schemaVersion(), Database::latestSchemaVersion());
        JobStore jobs2(again, tmp.filePath(QStringLiteral("logs")));
        QVERIFY(jobs2.get(QStringLiteral("11111111-0000-0000-0000-000000000001")));
        QCOMPARE(jobs2.get(QStringLiteral("22222222-0000-0000-0000-000000000001"))->image, QStringLiteral("dev"));
    }

    void failedMigrationLeavesTheFileAlone()
    {
        // A version-1 file whose jobs table already has a column a later migration adds: that
        // migration fails, is rolled back, and the file keeps its version and rows.
        QTemporaryDir tmp;
        const QString dbPath = tmp.filePath(QStringLiteral("magpie.db"));
        writeVersion1(dbPath);
        {
            QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1-break"));
            raw.setDatabaseName(dbPath);
            QVERIFY(raw.open());
            QSqlQuery q(raw);
            QVERIFY(q.exec(QStringLiteral("ALTER TABLE jobs ADD COLUMN description TEXT")));
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("v1-break"));
        {
            Database db;
            QVERIFY(!db.open(dbPath));
            QVERIFY2(db.error().contains(QStringLiteral("description")), qPrintable(db.error()));
        }
        QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1-check"));
        raw.setDatabaseName(dbPath);
        QVERIFY(raw.open());
        QSqlQuery q(raw);
        QVERIFY(q.exec(QStringLiteral("PRAGMA user_version")) && q.next());
        QCOMPARE(q.value(0).toInt(), 1);
        QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM jobs")) && q.next());
        QCOMPARE(q.value(0).toInt(), 3);
        raw.close();
    }
};

QTEST_GUILESS_MAIN(TestMigration)
#include "TestMigration.moc"
