// TestExecutor — the scheduler, history and workspace operations with real VMs and a real
// SQLite file (no HTTP; TestHttpApi covers the same executor through the API).
#include "ExecutorTestSupport.h"
#include "Executor.h"
#include "Tools.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

class TestExecutor : public QObject
{
    Q_OBJECT

    std::unique_ptr<Executor> open(const QString &dir, int parallel = 2) { return test::openExecutor(dir, parallel); }
    static JobRequest req(const QString &script, const QString &ws = QString(), std::optional<int> size = std::nullopt)
    {
        return test::jobRequest(script, ws, size);
    }
    static JobRecord submitOk(Executor &ex, const JobRequest &r) { return test::submitOk(ex, r); }
    static JobRecord waitDone(Executor &ex, const QString &id, int ms = 180000) { return test::waitDone(ex, id, ms); }
    static int magpieQemuCount(const QString &marker) { return test::magpieQemuCount(marker); }
    static QByteArray out(Executor &ex, const QString &id) { return test::stdoutOf(ex, id); }

private slots:
    void initTestCase()
    {
        QVERIFY2(GuestImage::locate().isValid(), qPrintable(GuestImage::locate().error));
    }

    void statefulDefaultsAndSizeInheritance()
    {
        QTemporaryDir tmp;
        auto ex = open(tmp.path());
        const JobRecord a = submitOk(*ex, req(QStringLiteral("echo data > /workspace/file.txt; df -BG --output=size /workspace | tail -1"), QStringLiteral("auto"), 2));
        QCOMPARE(a.workspaceId, a.requestId);
        QCOMPARE(a.workspaceSizeGb, 2);
        QVERIFY(a.notice.isEmpty());
        const JobRecord ra = waitDone(*ex, a.requestId);
        QCOMPARE(ra.status, JobStatus::Completed);
        QCOMPARE(*ra.exitCode, 0);
        QVERIFY(out(*ex, a.requestId).trimmed().endsWith("2G"));
        QVERIFY(ra.workspaceUsedBytes && *ra.workspaceUsedBytes > 0);
        QVERIFY(ra.durationMs && *ra.durationMs > 0);
        QVERIFY(parseIso(ra.startedAt) <= parseIso(ra.finishedAt));

        const JobRecord b = submitOk(*ex, req(QStringLiteral("cat /workspace/file.txt"), a.requestId, 5));
        QVERIFY2(b.notice.contains(QStringLiteral("ignored")), qPrintable(b.notice));
        QCOMPARE(b.workspaceSizeGb, 2);
        QCOMPARE(waitDone(*ex, b.requestId).status, JobStatus::Completed);
        QCOMPARE(out(*ex, b.requestId), QByteArray("data\n"));
        const auto ws = ex->workspace(a.requestId);
        QVERIFY(ws);
        QCOMPARE(ws->info.sizeGb, 2);
        QCOMPARE(ws->info.jobCount, 2);
        QVERIFY(!ws->info.lastUsedAt.isEmpty());
    }

    void fifoPerWorkspaceAndStatelessJobsTakeNoLock()
    {
        QTemporaryDir tmp;
        auto ex = open(tmp.path(), 2);
        QStringList ids;
        for (int i = 0; i < 3; ++i)
            ids << submitOk(*ex, req(QStringLiteral("echo %1 >> /workspace/order; sleep 1").arg(i), QStringLiteral("fifo"))).requestId;
        const JobRecord free = submitOk(*ex, req(QStringLiteral("echo free")));
        // the stateless job runs beside the workspace's first job, not after all three
        QTRY_VERIFY_WITH_TIMEOUT(ex->job(free.requestId)->status == JobStatus::Running || isFinished(ex->job(free.requestId)->status), 60000);
        QVERIFY(!isFinished(ex->job(ids.last())->status));
        QList<JobRecord> done;
        for (const QString &id : ids)
            done << waitDone(*ex, id);
        for (int i = 1; i < done.size(); ++i)
            QVERIFY2(parseIso(done[i - 1].finishedAt) <= parseIso(done[i].startedAt), "jobs on one workspace must not overlap");
        const JobRecord check = waitDone(*ex, submitOk(*ex, req(QStringLiteral("cat /workspace/order"), QStringLiteral("fifo"))).requestId);
        QCOMPARE(out(*ex, check.requestId), QByteArray("0\n1\n2\n"));
    }

    void cancelQueuedAndRunning()
    {
        QTemporaryDir tmp;
        auto ex = open(tmp.path(), 1);
        const JobRecord a = submitOk(*ex, req(QStringLiteral("echo running; sleep 1000")));
        const JobRecord b = submitOk(*ex, req(QStringLiteral("echo never")));
        QTRY_VERIFY_WITH_TIMEOUT(out(*ex, a.requestId).contains("running"), 60000);
        QCOMPARE(ex->job(b.requestId)->status, JobStatus::Queued);
        ExecError e;
        QVERIFY(ex->cancel(b.requestId, &e));
        QCOMPARE(ex->job(b.requestId)->status, JobStatus::Cancelled);
        QVERIFY(ex->job(b.requestId)->startedAt.isEmpty());
        QVERIFY(ex->cancel(a.requestId, &e));
        const JobRecord ra = waitDone(*ex, a.requestId, 30000);
        QCOMPARE(ra.status, JobStatus::Cancelled);
        QVERIFY(!ex->cancel(a.requestId, &e));
        QCOMPARE(e.httpStatus, 409);
        QVERIFY(!ex->cancel(QStringLiteral("no-such-job"), &e));
        QCOMPARE(e.httpStatus, 404);
    }

    void deleteWorkspaceWhileBusyIsRefused()
    {
        QTemporaryDir tmp;
        auto ex = open(tmp.path(), 2);
        const JobRecord a = submitOk(*ex, req(QStringLiteral("echo hi > /workspace/x; sleep 3"), QStringLiteral("busy")));
        ExecError e;
        QVERIFY(!ex->deleteWorkspace(QStringLiteral("busy"), &e));
        QCOMPARE(e.httpStatus, 409);
        waitDone(*ex, a.requestId);
        QVERIFY2(ex->deleteWorkspace(QStringLiteral("busy"), &e), qPrintable(e.message));
        QVERIFY(!ex->workspace(QStringLiteral("busy")));
        QVERIFY(!QFileInfo::exists(tmp.filePath(QStringLiteral("workspaces/busy.qcow2"))));
        QVERIFY(ex->job(a.requestId)); // history is kept
        QVERIFY(!ex->deleteWorkspace(QStringLiteral("busy"), &e));
        QCOMPARE(e.httpStatus, 404);
        QVERIFY(!ex->deleteWorkspace(QStringLiteral("Bad!"), &e));
        QCOMPARE(e.httpStatus, 400);
    }

    void workspaceFilesThroughTheQueue()
    {
        QTemporaryDir tmp;
        auto ex = open(tmp.path(), 2);
        const JobRecord a = submitOk(*ex, req(QStringLiteral("mkdir -p dir/sub; printf 'hello\\n' > dir/hello.txt; head -c 3000000 /dev/zero > big.bin; ln -s /etc escape"),
                                              QStringLiteral("files")));
        // the listing waits in the workspace's queue behind the job and sees its result
        bool listed = false;
        QList<FileEntry> root;
        ex->listFiles(QStringLiteral("files"), QString(), [&](std::optional<ExecError> e, QList<FileEntry> entries) {
            QVERIFY(!e);
            root = entries;
            listed = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(listed, 120000);
        QCOMPARE(ex->job(a.requestId)->status, JobStatus::Completed);
        QStringList names;
        for (const auto &f : root)
            names << f.name + QLatin1Char(':') + f.type;
        QVERIFY2(names.contains(QStringLiteral("dir:dir")) && names.contains(QStringLiteral("big.bin:file")), qPrintable(names.join(',')));

        listed = false;
        QList<FileEntry> sub;
        ex->listFiles(QStringLiteral("files"), QStringLiteral("dir"), [&](std::optional<ExecError>, QList<FileEntry> entries) {
            sub = entries;
            listed = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(listed, 120000);
        QCOMPARE(sub.size(), 2);
        QCOMPARE(sub.at(0).path, QStringLiteral("dir/sub"));
        QCOMPARE(sub.at(1).path, QStringLiteral("dir/hello.txt"));
        QCOMPARE(sub.at(1).size, 6);

        bool read = false;
        QByteArray content;
        ex->readFile(QStringLiteral("files"), QStringLiteral("dir/hello.txt"), [&](std::optional<ExecError> e, QByteArray data) {
            QVERIFY(!e);
            content = data;
            read = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(read, 120000);
        QCOMPARE(content, QByteArray("hello\n"));

        // errors: escaping paths are refused at once; missing files and symlinks out are refused by the guest
        std::optional<ExecError> err;
        read = false;
        ex->readFile(QStringLiteral("files"), QStringLiteral("../etc/passwd"), [&](std::optional<ExecError> e, QByteArray) { err = e; read = true; });
        QVERIFY(read);
        QCOMPARE(err->httpStatus, 400);
        read = false;
        ex->readFile(QStringLiteral("files"), QStringLiteral("escape/passwd"), [&](std::optional<ExecError> e, QByteArray) { err = e; read = true; });
        QTRY_VERIFY_WITH_TIMEOUT(read, 120000);
        QCOMPARE(err->httpStatus, 400);
        read = false;
        ex->readFile(QStringLiteral("files"), QStringLiteral("missing.txt"), [&](std::optional<ExecError> e, QByteArray) { err = e; read = true; });
        QTRY_VERIFY_WITH_TIMEOUT(read, 120000);
        QCOMPARE(err->httpStatus, 404);

        bool used = false;
        QList<FileEntry> usage;
        ex->diskUsage(QStringLiteral("files"), 10, [&](std::optional<ExecError> e, QList<FileEntry> entries) {
            QVERIFY(!e);
            usage = entries;
            used = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(used, 120000);
        QVERIFY(!usage.isEmpty());
        QCOMPARE(usage.first().path, QStringLiteral("big.bin"));
    }

    void pathRules_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("normalised"); // "!" = refused
        QTest::newRow("root") << "" << "";
        QTest::newRow("slash") << "/" << "";
        QTest::newRow("dot") << "." << "";
        QTest::newRow("plain") << "a/b.txt" << "a/b.txt";
        QTest::newRow("dots inside") << "./a//b/" << "a/b";
        QTest::newRow("dotdot") << "../x" << "!";
        QTest::newRow("dotdot inside") << "a/../../x" << "!";
        QTest::newRow("absolute") << "/etc/passwd" << "!";
        QTest::newRow("encoded") << "%2e%2e/x" << "!";
        QTest::newRow("encoded slash") << "a%2Fb" << "!";
        QTest::newRow("double encoded") << "%252e%252e/x" << "!";
        QTest::newRow("tilde") << "~/x" << "!";
        QTest::newRow("nul") << QStringLiteral("a") + QChar(0) << "!";
        QTest::newRow("name with dots") << "a..b" << "a..b";
    }
    void pathRules()
    {
        QFETCH(QString, path);
        QFETCH(QString, normalised);
        ExecError e;
        const auto r = Executor::normaliseWorkspacePath(path, &e);
        if (normalised == QLatin1String("!")) {
            QVERIFY(!r);
            QCOMPARE(e.httpStatus, 400);
            QCOMPARE(e.code, QStringLiteral("invalid_path"));
        } else {
            QVERIFY(r);
            QCOMPARE(*r, normalised);
        }
    }

    // Under TCG the guest has no address-space randomization (QemuCommand::kernelArguments):
    // two runs of a program map libc at the same address, so the second reuses the first's
    // translated code. Checked both in a booting VM and in one restored from the snapshot.
    void tcgGuestsMapProgramsAtFixedAddresses()
    {
        QTemporaryDir tmp;
        auto ex = open(tmp.path());
        const QString script = QStringLiteral("cat /proc/sys/kernel/randomize_va_space; "
                                              "for i in 1 2; do grep -m1 'libc.so' /proc/self/maps | cut -d- -f1; done");
        for (int round = 0; round < 2; ++round) { // the first may boot, the next restores once the snapshot exists
            const JobRecord j = waitDone(*ex, submitOk(*ex, req(script)).requestId);
            QCOMPARE(j.status, JobStatus::Completed);
            if (j.accelerator != QLatin1String("tcg"))
                QSKIP("the VM ran under KVM: the guest keeps its randomization there");
            const QList<QByteArray> lines = out(*ex, j.requestId).trimmed().split('\n');
            QCOMPARE(lines.size(), 3);
            QCOMPARE(lines.at(0), QByteArray("0"));
            QVERIFY2(!lines.at(1).isEmpty(), out(*ex, j.requestId).constData());
            QCOMPARE(lines.at(1), lines.at(2));
        }
    }

    void queuedJobsSurviveARestart()
    {
        QTemporaryDir tmp;
        QString running, waiting;
        {
            auto ex = open(tmp.path(), 1);
            running = submitOk(*ex, req(QStringLiteral("echo ok > /workspace/before; sync; echo ready; sleep 1000"), QStringLiteral("restart"))).requestId;
            waiting = submitOk(*ex, req(QStringLiteral("cat /workspace/before"), QStringLiteral("restart"))).requestId;
            QTRY_VERIFY_WITH_TIMEOUT(out(*ex, running).contains("ready"), 60000);
        } // the executor stops: the running job is interrupted, the waiting one stays queued
        auto ex = open(tmp.path(), 1);
        const JobRecord a = *ex->job(running);
        QCOMPARE(a.status, JobStatus::Failed);
        QVERIFY2(a.error.contains(QStringLiteral("interrupted")), qPrintable(a.error));
        const JobRecord b = waitDone(*ex, waiting);
        QCOMPARE(b.status, JobStatus::Completed);
        QCOMPARE(out(*ex, waiting), QByteArray("ok\n"));
    }

    void autoAcceleratorProbesOnceAndRemembers()
    {
        const QByteArray forced = qgetenv("MAGPIE_ACCEL");
        qunsetenv("MAGPIE_ACCEL");
        qputenv("MAGPIE_KVM_PROBE_TIMEOUT", "4");
        QTemporaryDir tmp;
        bool definite = false;
        {
            ExecutorConfig cfg;
            cfg.dataDir = tmp.path();
            cfg.accel = AccelMode::Auto;
            Executor ex(cfg);
            QString err;
            QVERIFY(ex.open(&err));
            QVERIFY(ex.pool().accelerator.isEmpty()); // undecided until a job needs a VM
            const JobRecord j = waitDone(ex, submitOk(ex, req(QStringLiteral("echo fine"))).requestId);
            QCOMPARE(j.status, JobStatus::Completed);
            QCOMPARE(out(ex, j.requestId), QByteArray("fine\n"));
            const PoolStatus p = ex.pool();
            QVERIFY(p.accelerator == QLatin1String("tcg") || p.accelerator == QLatin1String("kvm"));
            QCOMPARE(j.accelerator, p.accelerator);
            qInfo("auto chose %s: %s", qPrintable(p.accelerator), qPrintable(p.acceleratorReason));
            if (kvmDeviceUsable())
                QVERIFY2(p.acceleratorReason.contains(QStringLiteral("KVM test boot")), qPrintable(p.acceleratorReason));
            // Only a definite outcome is remembered: KVM works, or it fails. A test boot that
            // merely did not answer in time (a loaded machine, or a KVM that hangs) is probed again.
            definite = !p.acceleratorReason.contains(QStringLiteral("did not reach"));
            if (kvmDeviceUsable())
                QCOMPARE(QFileInfo::exists(tmp.filePath(QStringLiteral("accelerator.json"))), definite);
        }
        if (kvmDeviceUsable() && definite) {
            ExecutorConfig cfg;
            cfg.dataDir = tmp.path();
            Executor ex(cfg);
            QString err;
            QVERIFY(ex.open(&err));
            const JobRecord j = waitDone(ex, submitOk(ex, req(QStringLiteral("true"))).requestId);
            QCOMPARE(j.status, JobStatus::Completed);
            QVERIFY2(ex.pool().acceleratorReason.contains(QStringLiteral("remembered")), qPrintable(ex.pool().acceleratorReason));
        }
        qunsetenv("MAGPIE_KVM_PROBE_TIMEOUT");
        if (!forced.isEmpty())
            qputenv("MAGPIE_ACCEL", forced);
    }

    void timeoutIsRecorded()
    {
        QTemporaryDir tmp;
        auto ex = open(tmp.path(), 1);
        JobRequest r = req(QStringLiteral("sleep 1000"));
        r.timeoutSec = 3;
        const JobRecord j = waitDone(*ex, submitOk(*ex, r).requestId);
        QCOMPARE(j.status, JobStatus::TimedOut);
        QVERIFY(j.error.contains(QStringLiteral("timed out")));
        const JobRecord f = waitDone(*ex, submitOk(*ex, req(QStringLiteral("exit 4"))).requestId);
        QCOMPARE(f.status, JobStatus::Failed);
        QCOMPARE(*f.exitCode, 4);
        QVERIFY(f.error.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestExecutor)
#include "TestExecutor.moc"
