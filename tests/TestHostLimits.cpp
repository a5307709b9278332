// TestHostLimits — a hostile job (or a broken host) must not take the app down, fill the disk or
// hang a queue (issue: "A hostile job or a local process cannot take the app down"). Every case
// performs the attack for real against a real Executor with real VMs and a real SQLite file, and
// checks the bound; the measured figures are printed with qInfo.
#include "ExecutorTestSupport.h"
#include "AcceleratorProbe.h"
#include "Tools.h"
#include "VmRunner.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <sys/mount.h>
#include <unistd.h>

using namespace magpie;
using namespace magpie::test;

class TestHostLimits : public QObject
{
    Q_OBJECT

    // Measures how long the event loop stays blocked while `pending` holds.
    static qint64 maxLoopGapWhile(const std::function<bool()> &pending, int maxMs)
    {
        QElapsedTimer total, gap;
        total.start();
        gap.start();
        qint64 worst = 0;
        while (pending() && total.elapsed() < maxMs) {
            QTest::qWait(50);
            worst = qMax(worst, gap.restart() - 50);
        }
        return worst;
    }

private slots:
    void initTestCase()
    {
        QVERIFY2(GuestImage::locate().isValid(), qPrintable(GuestImage::locate().error));
    }

    // Item 3: the serial console is read through a socket and only its tail is kept.
    void consoleFloodLeavesLittleOnTheHost()
    {
        QTemporaryDir tmp;
        auto ex = openExecutor(tmp.path());
        // The guest's UART is slow under TCG: flood it for a fixed time and count what got through.
        JobRequest r = jobRequest(QStringLiteral("timeout 45 sh -c \"tr '\\\\0' x < /dev/zero > /dev/ttyS0\"; echo flooded"));
        r.timeoutSec = 240;
        const JobRecord flood = submitOk(*ex, r);
        // Meanwhile the app keeps working: another job runs to its end.
        const JobRecord other = submitOk(*ex, jobRequest(QStringLiteral("echo alongside")));
        const qint64 gap = maxLoopGapWhile([&] { return !isFinished(ex->job(flood.requestId)->status); }, 300000);
        const JobRecord done = waitDone(*ex, flood.requestId, 1000);
        QCOMPARE(waitDone(*ex, other.requestId).status, JobStatus::Completed);
        QCOMPARE(stdoutOf(*ex, other.requestId), QByteArray("alongside\n"));
        const qint64 kept = treeBytes(tmp.filePath(QStringLiteral("logs/") + flood.requestId)) + treeBytes(tmp.filePath(QStringLiteral("runs")));
        qInfo("console flood: job %s after %lld ms (%s); %lld bytes kept on the host for it; longest event-loop stall %lld ms",
              qPrintable(statusName(done.status)), qlonglong(done.durationMs.value_or(0)), qPrintable(done.error), kept, gap);
        QCOMPARE(done.status, JobStatus::Completed);
        QCOMPARE(stdoutOf(*ex, flood.requestId), QByteArray("flooded\n"));
        QVERIFY2(kept < 4 * 1024 * 1024, qPrintable(QString::number(kept)));
        QFile vmLog(tmp.filePath(QStringLiteral("logs/%1/vm.log").arg(flood.requestId)));
        QVERIFY(vmLog.open(QIODevice::ReadOnly));
        const QByteArray text = vmLog.readAll();
        QVERIFY(text.size() <= 1024 * 1024 + 4096);
        const int at = text.lastIndexOf("[console] ");
        QVERIFY2(at >= 0 && text.indexOf(" bytes in all", at) > at, text.right(300).constData());
        const qint64 written = text.mid(at + 10, text.indexOf(' ', at + 10) - at - 10).toLongLong();
        qInfo("the guest wrote %lld bytes to its console in 45 s (%.1f MB/s); the host kept the last %lld", written, written / 45.0 / 1e6,
              qMin<qint64>(written, 1024 * 1024));
        QVERIFY(written > 1024 * 1024); // the flood was real: more than the host keeps
    }

    // Item 4: 100 MB of stdout: the log keeps its 10 MiB cap, and the app's memory stays bounded.
    void stdoutFloodKeepsMemoryBounded()
    {
        QTemporaryDir tmp;
        auto ex = openExecutor(tmp.path());
        const qint64 before = selfRssBytes();
        qint64 peak = before;
        JobRequest r = jobRequest(QStringLiteral("head -c 100000000 /dev/zero | tr '\\\\0' y"));
        r.timeoutSec = 300;
        const JobRecord j = submitOk(*ex, r);
        while (!isFinished(ex->job(j.requestId)->status)) {
            QTest::qWait(100);
            peak = qMax(peak, selfRssBytes());
        }
        const JobRecord done = *ex->job(j.requestId);
        qInfo("stdout flood: %lld bytes written by the script, %lld kept; RSS %lld -> peak %lld (+%lld bytes)", done.stdoutBytes,
              QFileInfo(tmp.filePath(QStringLiteral("logs/%1/stdout.log").arg(j.requestId))).size(), before, peak, peak - before);
        QCOMPARE(done.status, JobStatus::Completed);
        QCOMPARE(done.stdoutBytes, qint64(100000000));
        QVERIFY(QFileInfo(tmp.filePath(QStringLiteral("logs/%1/stdout.log").arg(j.requestId))).size() < 10 * 1024 * 1024 + 200);
        QVERIFY2(peak - before < 50 * 1024 * 1024, qPrintable(QString::number(peak - before)));
    }

    // Item 5: the host's disk fills up under a job: the job fails at once saying so (no silent
    // pause until the timeout), the queue moves on, and no job starts while less than the
    // minimum is free.
    void hostDiskFullEndsTheJob()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to mount a small tmpfs as the data folder (CI runs as root)");
        QTemporaryDir mnt;
        QVERIFY(::mount("tmpfs", QFile::encodeName(mnt.path()).constData(), "tmpfs", 0, "size=300m,mode=0700") == 0);
        auto unmount = qScopeGuard([&] { ::umount2(QFile::encodeName(mnt.path()).constData(), MNT_DETACH); });
        qputenv("MAGPIE_MIN_FREE_BYTES", QByteArray::number(20 * 1024 * 1024));
        auto resetEnv = qScopeGuard([] { qunsetenv("MAGPIE_MIN_FREE_BYTES"); });
        {
            auto ex = openExecutor(mnt.path() + QStringLiteral("/data"));
            JobRequest fill = jobRequest(QStringLiteral("dd if=/dev/urandom of=/workspace/big bs=1M count=1000 2>&1 | tail -1; sync; echo survived"),
                                         QStringLiteral("full"), 2);
            fill.timeoutSec = 900;
            const JobRecord j = submitOk(*ex, fill);
            const JobRecord next = submitOk(*ex, jobRequest(QStringLiteral("echo next"), QStringLiteral("full")));
            const JobRecord done = waitDone(*ex, j.requestId, 600000);
            qInfo("disk full: job %s after %lld ms: %s", qPrintable(statusName(done.status)), qlonglong(done.durationMs.value_or(-1)), qPrintable(done.error));
            if (!done.error.startsWith(QStringLiteral("host disk full"))) {
                QFile log(mnt.path() + QStringLiteral("/data/logs/%1/vm.log").arg(j.requestId));
                log.open(QIODevice::ReadOnly);
                qWarning("%s", log.readAll().right(3000).constData());
                qWarning("stdout: %s", stdoutOf(*ex, j.requestId).constData());
            }
            QCOMPARE(done.status, JobStatus::Failed);
            QVERIFY2(done.error.startsWith(QStringLiteral("host disk full: ")), qPrintable(done.error));
            QVERIFY2(done.error.contains(mnt.path()), qPrintable(done.error));
            // The workspace's queue moves on; with almost nothing free, its next job is refused.
            const JobRecord n = waitDone(*ex, next.requestId);
            QCOMPARE(n.status, JobStatus::Failed);
            QVERIFY2(n.error.contains(QStringLiteral("nearly full")), qPrintable(n.error));
            // Room again: jobs run.
            ExecError e;
            QVERIFY2(ex->deleteWorkspace(QStringLiteral("full"), &e), qPrintable(e.message));
            const JobRecord after = waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("echo after"), QStringLiteral("full"))).requestId);
            QCOMPARE(after.status, JobStatus::Completed);
        }
        // With the default minimum (1 GiB) a 300 MB disk is too full to start anything.
        qunsetenv("MAGPIE_MIN_FREE_BYTES");
        auto ex = openExecutor(mnt.path() + QStringLiteral("/data"));
        const JobRecord refused = waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("echo x"))).requestId);
        QCOMPARE(refused.status, JobStatus::Failed);
        QVERIFY2(refused.error.contains(QStringLiteral("at least %1").arg(1024LL * 1024 * 1024)), qPrintable(refused.error));
    }

    // Item 7: a write to the history that fails (another process holds the database locked)
    // is retried; meanwhile the in-memory record is authoritative, so the job never shows
    // "running" forever, and the pool reports the fault until the write succeeds.
    void lockedDatabaseDoesNotLoseAJobsEnd()
    {
        QTemporaryDir tmp;
        auto ex = openExecutor(tmp.path());
        const JobRecord j = submitOk(*ex, jobRequest(QStringLiteral("sleep 4; echo done")));
        QTRY_VERIFY_WITH_TIMEOUT(ex->job(j.requestId)->status == JobStatus::Running, 120000);
        QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("locker"));
        other.setDatabaseName(tmp.filePath(QStringLiteral("magpie.db")));
        QVERIFY(other.open());
        QSqlQuery lock(other);
        QVERIFY2(lock.exec(QStringLiteral("BEGIN EXCLUSIVE")), qPrintable(lock.lastError().text()));
        const JobRecord done = waitDone(*ex, j.requestId, 180000);
        QCOMPARE(done.status, JobStatus::Completed);
        QTRY_VERIFY_WITH_TIMEOUT(!ex->pool().databaseFault.isEmpty(), 30000);
        qInfo("database fault reported: %s", qPrintable(ex->pool().databaseFault));
        QCOMPARE(ex->job(j.requestId)->status, JobStatus::Completed); // in memory, not "running"
        QVERIFY(lock.exec(QStringLiteral("ROLLBACK")));
        QTRY_VERIFY_WITH_TIMEOUT(ex->pool().databaseFault.isEmpty(), 30000);
        QSqlQuery q(other);
        QVERIFY(q.exec(QStringLiteral("SELECT status FROM jobs WHERE request_id = '%1'").arg(j.requestId)) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("completed"));
        q = QSqlQuery();
        lock = QSqlQuery();
        other.close();
        other = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    }

    // Item 12: a data folder whose path has commas and is long (sockets fall back to a short
    // folder, QEMU option values are escaped).
    void commaAndLongDataFolder()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("a,b,,c/") + QString(80, QLatin1Char('x')) + QStringLiteral("/data,dir"));
        QVERIFY(dir.size() > 90);
        auto ex = openExecutor(dir);
        const JobRecord j = waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("echo 7 > /workspace/n; cat /workspace/n"), QStringLiteral("commas"), 1)).requestId);
        QVERIFY2(j.status == JobStatus::Completed, qPrintable(j.error));
        QCOMPARE(stdoutOf(*ex, j.requestId), QByteArray("7\n"));
        bool listed = false;
        ex->listFiles(QStringLiteral("commas"), QString(), [&](std::optional<ExecError> e, QList<FileEntry> entries) {
            QVERIFY(!e);
            QCOMPARE(entries.size(), 2); // lost+found and n
            listed = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(listed, 180000);
    }

    // Item 13: what a crash leaves is swept at the next start, and a workspace whose VM was
    // killed is checked for leaked clusters before its next use.
    void recoverySweepsLeftovers()
    {
        QTemporaryDir tmp;
        {
            auto ex = openExecutor(tmp.path());
            QCOMPARE(waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("echo 1 > /workspace/n"), QStringLiteral("swept"), 1)).requestId).status,
                     JobStatus::Completed);
        }
        const QString ws = tmp.filePath(QStringLiteral("workspaces/"));
        for (const QString &junk : {ws + QStringLiteral("new.qcow2.tmp-0badc0de"), ws + QStringLiteral("new.qcow2.tmp-0badc0de.raw"),
                                    tmp.filePath(QStringLiteral("runs/dead-vm/console.sock"))}) {
            QDir().mkpath(QFileInfo(junk).absolutePath());
            QFile f(junk);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("leftover");
        }
        QFile marker(ws + QStringLiteral("swept.qcow2.dirty")); // as left by a VM that was killed
        QVERIFY(marker.open(QIODevice::WriteOnly));
        marker.close();
        auto ex = openExecutor(tmp.path());
        QVERIFY(!QFileInfo::exists(ws + QStringLiteral("new.qcow2.tmp-0badc0de")));
        QVERIFY(!QFileInfo::exists(ws + QStringLiteral("new.qcow2.tmp-0badc0de.raw")));
        QVERIFY(!QFileInfo::exists(tmp.filePath(QStringLiteral("runs/dead-vm"))));
        const JobRecord j = waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("cat /workspace/n"), QStringLiteral("swept"))).requestId);
        QVERIFY2(j.status == JobStatus::Completed, qPrintable(j.error));
        QCOMPARE(stdoutOf(*ex, j.requestId), QByteArray("1\n"));
        QVERIFY2(j.timings.contains(QStringLiteral("disk_repair")), QJsonDocument(j.timings).toJson().constData());
        QVERIFY(!QFileInfo::exists(ws + QStringLiteral("swept.qcow2.dirty")));
    }

    // Item 10: only definite probe outcomes are remembered: a qemu that cannot start is not.
    void probeForgetsWhatItCouldNotFindOut()
    {
        QTemporaryDir tmp;
        const QString cache = tmp.filePath(QStringLiteral("accelerator.json"));
        qputenv("MAGPIE_QEMU", "/nonexistent/qemu-system-x86_64");
        const QByteArray forced = qgetenv("MAGPIE_ACCEL");
        qunsetenv("MAGPIE_ACCEL");
        auto restore = qScopeGuard([&] {
            qunsetenv("MAGPIE_QEMU");
            if (!forced.isEmpty())
                qputenv("MAGPIE_ACCEL", forced);
        });
        AcceleratorProbe probe(cache, tmp.filePath(QStringLiteral("runs")));
        bool done = false;
        QString why;
        probe.resolve(GuestImage::locate(), [&](Accelerator a, const QString &reason) {
            QCOMPARE(a, Accelerator::Tcg);
            why = reason;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 30000);
        qInfo("probe: %s", qPrintable(why));
        QVERIFY2(!QFileInfo::exists(cache), "an outcome that says nothing about KVM must not be remembered");
    }
};

QTEST_GUILESS_MAIN(TestHostLimits)
#include "TestHostLimits.moc"
