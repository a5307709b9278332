// TestJobStore — job history in a real SQLite file, log files and their cap.
#include "Database.h"
#include "JobStore.h"
#include "StreamTail.h"
#include "Tools.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QJsonObject>
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

    void migratesAVersionOneDatabase()
    {
        // A database made by the first release: the new columns get their defaults, rows stay.
        QTemporaryDir tmp;
        {
            Database db;
            QVERIFY(db.open(tmp.filePath("m.db")));
            QVERIFY(db.exec("DROP INDEX jobs_by_workspace_status"));
            QVERIFY(db.exec("DROP INDEX jobs_by_created"));
            QVERIFY(db.exec("DROP INDEX jobs_by_seq_created"));
            QVERIFY(db.exec("DROP TABLE job_counts"));
            QVERIFY(db.exec("CREATE TABLE jobs_old AS SELECT seq, request_id, name, script, stateful, workspace_id, workspace_size_gb, env,"
                            " vcpus, memory_mb, timeout, network, status, exit_code, error, notice, created_at, started_at, finished_at,"
                            " duration_ms, workspace_used_bytes, workspace_total_bytes, stdout_bytes, stderr_bytes, accelerator, run_dir,"
                            " source FROM jobs"));
            QVERIFY(db.exec("DROP TABLE jobs"));
            QVERIFY(db.exec("ALTER TABLE jobs_old RENAME TO jobs"));
            QVERIFY(db.exec("INSERT INTO jobs(seq, request_id, name, script, stateful, env, vcpus, memory_mb, network, status, created_at)"
                            " VALUES(1, 'old', 'old job', 'echo', 0, '{}', 1, 512, 1, 'completed', '2026-01-01T00:00:00.000Z')"));
            QVERIFY(db.exec("PRAGMA user_version = 1"));
        }
        Database db;
        QVERIFY2(db.open(tmp.filePath("m.db")), qPrintable(db.error()));
        QCOMPARE(db.schemaVersion(), Database::latestSchemaVersion());
        JobStore store(db, tmp.filePath("logs"));
        const auto old = store.get("old");
        QVERIFY(old);
        QCOMPARE(old->scriptType, ScriptType::Bash);
        QVERIFY(old->description.isEmpty());
        // The kept counts start from the rows that were there.
        JobFilter f;
        f.status = JobStatus::Completed;
        QCOMPARE(store.list(f).total, 1);
    }

    void cloudFieldsAndRemove()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        JobStore store(db, tmp.filePath("logs"));
        JobRecord j = make("py");
        j.scriptType = ScriptType::Python;
        j.description = QStringLiteral("a description");
        QCOMPARE(store.insert(j), QString());
        store.prepareLogs("py");
        QVERIFY(QFileInfo::exists(store.logPath("py", 1)));
        const auto got = store.get("py");
        QVERIFY(got);
        QCOMPARE(got->scriptType, ScriptType::Python);
        QCOMPARE(got->description, QStringLiteral("a description"));
        QCOMPARE(got->interpreter(), QStringLiteral("/usr/bin/python3"));
        const QJsonObject o = got->toJson();
        QCOMPARE(o.value("id").toString(), QStringLiteral("py"));
        QCOMPARE(o.value("job_id").toString(), QStringLiteral("py"));
        QCOMPARE(o.value("user_id").toString(), QStringLiteral("local"));
        QCOMPARE(o.value("script_type").toString(), QStringLiteral("python"));
        QCOMPARE(o.value("updated_at").toString(), got->createdAt);
        QCOMPARE(o.value("environment").toObject().value("A").toString(), QStringLiteral("1"));
        QString err;
        QVERIFY2(store.remove("py", &err), qPrintable(err));
        QVERIFY(!store.get("py"));
        QVERIFY(!QFileInfo::exists(store.logDir("py")));
    }

    void keysetPagingAndFilters()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        JobStore store(db, tmp.filePath("logs"));
        QList<JobRecord> all;
        for (int i = 0; i < 250; ++i) {
            JobRecord j = make(QStringLiteral("j%1").arg(i, 3, 10, QLatin1Char('0')), i % 2 ? QStringLiteral("odd") : QString());
            j.createdAt = QStringLiteral("2026-01-01T00:%1:%2.000Z").arg(i / 60, 2, 10, QLatin1Char('0')).arg(i % 60, 2, 10, QLatin1Char('0'));
            j.status = i % 3 == 0 ? JobStatus::Completed : JobStatus::Queued;
            if (i == 7)
                j.script = QString(100, QLatin1Char('s'));
            all.append(j);
        }
        QString err;
        QVERIFY2(store.insertMany(all, &err), qPrintable(err));
        QCOMPARE(store.list(JobFilter()).total, 250);
        // Keyset: pages of 40 by next cursor give every job once, newest first, like offsets do.
        for (int variant = 0; variant < 3; ++variant) {
            JobFilter f;
            f.limit = 40;
            if (variant == 1)
                f.workspaceId = "odd";
            if (variant == 2)
                f.status = JobStatus::Completed;
            QStringList byCursor, byOffset;
            for (;;) {
                const JobPage p = store.list(f);
                for (const JobRecord &j : p.jobs)
                    byCursor << j.requestId;
                if (!p.nextCursor)
                    break;
                f.beforeSeq = p.nextCursor;
            }
            f.beforeSeq.reset();
            for (f.offset = 0;; f.offset += 40) {
                const JobPage p = store.list(f);
                for (const JobRecord &j : p.jobs)
                    byOffset << j.requestId;
                if (p.jobs.size() < 40)
                    break;
            }
            QCOMPARE(byCursor, byOffset);
            QCOMPARE(byCursor.size(), variant == 0 ? 250 : variant == 1 ? 125 : 84);
            QCOMPARE(byCursor.first(), variant == 0 ? QStringLiteral("j249") : variant == 1 ? QStringLiteral("j249") : QStringLiteral("j249"));
        }
        // Time window: [00:01:00, 00:02:00) holds j060..j119.
        JobFilter t;
        t.createdFrom = "2026-01-01T00:01:00.000Z";
        t.createdBefore = "2026-01-01T00:02:00.000Z";
        t.limit = 500;
        const JobPage tp = store.list(t);
        QCOMPARE(tp.total, 60);
        QCOMPARE(tp.jobs.first().requestId, QStringLiteral("j119"));
        QCOMPARE(tp.jobs.last().requestId, QStringLiteral("j060"));
        // Totals from the kept counts agree with counting, through updates and deletes.
        JobFilter byStatus;
        byStatus.status = JobStatus::Completed;
        QCOMPARE(store.list(byStatus).total, 84);
        all[0].status = JobStatus::Failed; // j000 was completed
        QCOMPARE(store.update(all[0]), QString());
        QCOMPARE(store.list(byStatus).total, 83);
        QVERIFY(store.remove(all[3].requestId, &err)); // j003: completed, stateless
        QCOMPARE(store.list(byStatus).total, 82);
        JobFilter byWs;
        byWs.workspaceId = "odd";
        byWs.status = JobStatus::Completed;
        QSqlQuery check(db.db());
        QVERIFY(check.exec("SELECT COUNT(*) FROM jobs WHERE workspace_id = 'odd' AND status = 'completed'") && check.next());
        QCOMPARE(store.list(byWs).total, check.value(0).toInt());
        // Scripts cut for lists.
        JobFilter c;
        c.scriptChars = 10;
        c.limit = 500;
        for (const JobRecord &j : store.list(c).jobs) {
            QCOMPARE(j.scriptTruncated, j.requestId == QLatin1String("j007"));
            QVERIFY(j.script.size() <= 10);
        }
    }

    void nestedTransactions()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        JobStore store(db, tmp.filePath("logs"));
        QVERIFY(db.transaction());
        JobRecord a = make("outer");
        QCOMPARE(store.insert(a), QString());
        QVERIFY(db.transaction());          // a savepoint
        JobRecord b = make("inner");
        QCOMPARE(store.insert(b), QString());
        db.rollback();                      // undoes only the inner part
        QCOMPARE(db.transactionDepth(), 1);
        QVERIFY(db.transaction());
        JobRecord c = make("inner2");
        QCOMPARE(store.insert(c), QString());
        QVERIFY(db.commit());
        QVERIFY(db.commit());
        QCOMPARE(db.transactionDepth(), 0);
        QVERIFY(store.get("outer") && store.get("inner2"));
        QVERIFY(!store.get("inner"));
        // An outer rollback undoes a committed inner part too.
        QVERIFY(db.transaction());
        QVERIFY(db.transaction());
        JobRecord d = make("gone");
        QCOMPARE(store.insert(d), QString());
        QVERIFY(db.commit());
        db.rollback();
        QVERIFY(!store.get("gone"));
    }

    void logLines()
    {
        // Whole stream: every line, CRLF and a last line without a newline.
        LogTail t = StreamTail::split("one\ntwo\r\nthree", 0, 14, 1);
        QCOMPARE(t.lines.size(), 3);
        QCOMPARE(t.lines.at(1).text, QStringLiteral("two"));
        QCOMPARE(t.lines.at(2).offset, 9);
        QCOMPARE(t.omittedBytes, 0);
        // A tail read from the middle drops the partial first line and counts what is left out.
        t = StreamTail::split("rt\nfour\nfive\n", 100, 114, 2);
        QCOMPARE(t.lines.size(), 2);
        QCOMPARE(t.lines.first().text, QStringLiteral("four"));
        QCOMPARE(t.lines.first().offset, 103);
        QCOMPARE(t.omittedBytes, 103);
        QCOMPARE(t.lines.first().stream, 2);
        // At most maxLines, the last ones.
        QByteArray many;
        for (int i = 0; i < 50; ++i)
            many += QByteArray::number(i) + '\n';
        t = StreamTail::split(many, 0, many.size(), 1, 10);
        QCOMPARE(t.lines.size(), 10);
        QCOMPARE(t.lines.first().text, QStringLiteral("40"));
        QVERIFY(t.omittedBytes > 0);
        QVERIFY(StreamTail::split(QByteArray(), 0, 0, 1).lines.isEmpty());
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
