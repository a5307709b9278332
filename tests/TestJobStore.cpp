// TestJobStore — job history in a real SQLite file, log files and their cap.
#include "Database.h"
#include "JobStore.h"
#include "Tools.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

class TestJobStore : public QObject
{
    Q_OBJECT

    static JobRecord make(const QString &id, const QString &ws = QString())
    {
        JobRecord j;
        j.requestId = id;
        j.name = QStringLiteral("job ") + id;
        j.script = QStringLiteral("echo %1").arg(id);
        j.stateful = !ws.isEmpty();
        j.workspaceId = ws;
        j.env = {{QStringLiteral("A"), QStringLiteral("1")}};
        j.createdAt = isoNow();
        return j;
    }

private slots:
    void schemaIsVersionedAndWal()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        QSqlQuery q(db.db());
        QVERIFY(q.exec("PRAGMA journal_mode") && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
        db.close();
        // reopening does not migrate twice
        QVERIFY(db.open(tmp.filePath("m.db")));
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
    }

    void newerSchemaIsRefused()
    {
        QTemporaryDir tmp;
        {
            Database db;
            QVERIFY(db.open(tmp.filePath("m.db")));
            QVERIFY(db.exec("PRAGMA user_version = 999"));
        }
        Database db;
        QVERIFY(!db.open(tmp.filePath("m.db")));
        QVERIFY(db.error().contains("newer"));
    }

    void insertUpdateGetList()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        JobStore store(db, tmp.filePath("logs"));
        JobRecord a = make("a", "ws1"), b = make("b"), c = make("c", "ws1");
        QCOMPARE(store.insert(a), QString());
        QCOMPARE(store.insert(b), QString());
        QCOMPARE(store.insert(c), QString());
        QVERIFY(a.seq < b.seq && b.seq < c.seq);
        QVERIFY(!store.insert(a).isEmpty()); // duplicate request_id
        b.status = JobStatus::Completed;
        b.exitCode = 0;
        b.startedAt = isoNow();
        b.finishedAt = isoNow();
        b.durationMs = 1234;
        b.workspaceUsedBytes = 99;
        QCOMPARE(store.update(b), QString());
        const auto got = store.get("b");
        QVERIFY(got);
        QCOMPARE(got->status, JobStatus::Completed);
        QCOMPARE(*got->exitCode, 0);
        QCOMPARE(*got->durationMs, 1234);
        QCOMPARE(got->env.value(0).second, QStringLiteral("1"));
        QVERIFY(!store.get("zzz"));

        JobFilter f;
        QCOMPARE(store.list(f).total, 3);
        QCOMPARE(store.list(f).jobs.first().requestId, QStringLiteral("c")); // newest first
        f.workspaceId = "ws1";
        QCOMPARE(store.list(f).total, 2);
        f = JobFilter();
        f.status = JobStatus::Completed;
        QCOMPARE(store.list(f).total, 1);
        f = JobFilter();
        f.limit = 1;
        f.offset = 1;
        const JobPage page = store.list(f);
        QCOMPARE(page.total, 3);
        QCOMPARE(page.jobs.size(), 1);
        QCOMPARE(page.jobs.first().requestId, QStringLiteral("b"));
        f = JobFilter();
        f.nameContains = "job a";
        QCOMPARE(store.list(f).total, 1);
        QCOMPARE(store.withStatus(JobStatus::Queued).size(), 2);
        QCOMPARE(store.countForWorkspace("ws1"), 2);
    }

    void logsAreCappedWithAMarker()
    {
        qputenv("MAGPIE_LOG_CAP_BYTES", "10");
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        JobStore store(db, tmp.filePath("logs"));
        JobRecord j = make("capped");
        QCOMPARE(store.insert(j), QString());
        store.prepareLogs(j.requestId);
        store.appendOutput(j, 1, "12345678");
        store.appendOutput(j, 1, "abcdef");
        store.appendOutput(j, 1, "more");
        store.appendOutput(j, 2, "err");
        qunsetenv("MAGPIE_LOG_CAP_BYTES");
        QCOMPARE(j.stdoutBytes, 18);
        const LogChunk all = store.readLog(j.requestId, 1, 0, 1 << 20);
        QCOMPARE(all.data, QByteArray("12345678ab") + JobStore::truncationMarker(10));
        QCOMPARE(store.readLog(j.requestId, 2, 0, 100).data, QByteArray("err"));
        const LogChunk tail = store.readLog(j.requestId, 1, 8, 2);
        QCOMPARE(tail.data, QByteArray("ab"));
        QCOMPARE(tail.offset, 8);
        QCOMPARE(store.readLog(j.requestId, 1, 1 << 20, 10).data, QByteArray());
    }
};

QTEST_GUILESS_MAIN(TestJobStore)
#include "TestJobStore.moc"
