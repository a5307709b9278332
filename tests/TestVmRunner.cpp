// TestVmRunner — the VM launcher with real QEMU VMs (TCG here) and real workspace disks.
#include "Database.h"
#include "SnapshotStore.h"
#include "Tools.h"
#include "VmTestSupport.h"
#include "WorkspaceDisk.h"
#include "WorkspaceStore.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

using namespace magpie;
using namespace magpie::test;

class TestVmRunner : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    Database m_db;
    std::unique_ptr<WorkspaceStore> m_store;
    GuestImage m_image;
    int m_seq = 0;

    VmConfig config(const QString &script, const QString &workspace = QString())
    {
        VmConfig c;
        c.name = QStringLiteral("test-vmrunner-%1").arg(++m_seq);
        c.runDir = m_tmp.filePath(QStringLiteral("runs/%1").arg(m_seq));
        c.vmLogPath = m_tmp.filePath(QStringLiteral("vm-%1.log").arg(m_seq));
        c.image = m_image;
        c.accel = Accelerator::Tcg;
        c.script = script;
        if (!workspace.isEmpty())
            c.workspaceDisk = m_store->diskPath(workspace);
        return c;
    }

    void ensureWorkspace(const QString &id, int gb = 1)
    {
        if (!m_store->exists(id))
            QCOMPARE(m_store->create(id, gb), QString());
    }

    // Boots a VM of `memoryMb` and saves it as a snapshot in `dir` (which the caller keeps).
    std::shared_ptr<const VmSnapshot> buildSnapshot(const QString &dir, int memoryMb)
    {
        SnapshotStore store(dir, m_tmp.filePath(QStringLiteral("runs")));
        const VmShape shape{m_image, Accelerator::Tcg, 1, memoryMb};
        QSignalSpy built(&store, &SnapshotStore::built);
        store.build(shape);
        if (!built.wait(240000))
            return nullptr;
        return store.find(shape);
    }

    QString vmLog(int seq)
    {
        QFile f(m_tmp.filePath(QStringLiteral("vm-%1.log").arg(seq)));
        f.open(QIODevice::ReadOnly);
        return QString::fromUtf8(f.readAll());
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_image = testImage();
        QVERIFY2(m_image.isValid(), qPrintable(m_image.error));
        QVERIFY2(m_db.open(m_tmp.filePath(QStringLiteral("magpie.db"))), qPrintable(m_db.error()));
        m_store = std::make_unique<WorkspaceStore>(m_db, m_tmp.filePath(QStringLiteral("workspaces")));
    }

    void stdoutStderrAndExitCodeAreKeptApart()
    {
        const RunOutput r = runVm(config(QStringLiteral("echo out; echo err >&2; exit 3")));
        QVERIFY2(r.result.outcome == VmResult::Exited, qPrintable(r.result.error + vmLog(m_seq)));
        QCOMPARE(r.result.exitCode, 3);
        QCOMPARE(r.out, QByteArray("out\n"));
        QCOMPARE(r.err, QByteArray("err\n"));
        qInfo("cold job wall time: %lld ms (boot to agent %lld ms)", r.result.wallMs, r.result.bootMs);
    }

    void counterPersistsAcrossThreeVms()
    {
        ensureWorkspace(QStringLiteral("counter"));
        const QString script = QStringLiteral(R"(
        if [ -f /workspace/counter ]; then
            COUNT=$(cat /workspace/counter)
        else
            COUNT=0
        fi
        COUNT=$((COUNT + 1))
        echo $COUNT > /workspace/counter
        echo "Counter is now: $COUNT"
        )");
        for (int i = 1; i <= 3; ++i) {
            const RunOutput r = runVm(config(script, QStringLiteral("counter")));
            QVERIFY2(r.result.outcome == VmResult::Exited && r.result.exitCode == 0, qPrintable(r.result.error + vmLog(m_seq)));
            QCOMPARE(r.out, QStringLiteral("Counter is now: %1\n").arg(i).toUtf8());
            QVERIFY(r.result.usedBytes > 0);
            QVERIFY(r.result.totalBytes > r.result.usedBytes);
        }
    }

    void onlyWorkspaceSurvives()
    {
        ensureWorkspace(QStringLiteral("ephemeral-check"));
        RunOutput r = runVm(config(QStringLiteral("echo t > /tmp/t; echo r > /root/r; echo v > /var/v; echo w > /workspace/w"),
                                   QStringLiteral("ephemeral-check")));
        QVERIFY2(r.result.outcome == VmResult::Exited && r.result.exitCode == 0, qPrintable(r.result.error));
        r = runVm(config(QStringLiteral("ls /tmp/t /root/r /var/v 2>/dev/null; cat /workspace/w"), QStringLiteral("ephemeral-check")));
        QCOMPARE(r.out, QByteArray("w\n"));
    }

    void noWorkspaceMeansEmptyWorkspaceAndNoDisk()
    {
        const QStringList before = QDir(m_store->dir()).entryList(QDir::Files);
        VmConfig c = config(QStringLiteral("ls -A /workspace | wc -l; pwd; touch /workspace/x && echo writable"));
        const QString runDir = c.runDir;
        const RunOutput r = runVm(c);
        QVERIFY2(r.result.outcome == VmResult::Exited && r.result.exitCode == 0, qPrintable(r.result.error));
        QCOMPARE(r.out, QByteArray("0\n/workspace\nwritable\n"));
        QCOMPARE(QDir(m_store->dir()).entryList(QDir::Files), before);
        QVERIFY2(!QFileInfo::exists(runDir), "the run folder (overlay, sockets) must be removed");
    }

    void environmentReachesTheScript()
    {
        VmConfig c = config(QStringLiteral("echo \"$GREETING|$OTHER|$HOME\""));
        c.env = {{QStringLiteral("GREETING"), QStringLiteral("hello world")}, {QStringLiteral("OTHER"), QStringLiteral("a=b")}};
        const RunOutput r = runVm(c);
        QCOMPARE(r.out, QByteArray("hello world|a=b|/root\n"));
    }

    void shebangIsHonoured()
    {
        const RunOutput r = runVm(config(QStringLiteral("#!/usr/bin/python3\nimport sys\nprint('py', sys.version_info[0])\nsys.exit(7)\n")));
        QCOMPARE(r.result.exitCode, 7);
        QCOMPARE(r.out, QByteArray("py 3\n"));
    }

    void timeoutEndsTheJobAndTheNextOneRuns()
    {
        ensureWorkspace(QStringLiteral("timeout-ws"));
        VmConfig c = config(QStringLiteral("echo started; sleep 1000"), QStringLiteral("timeout-ws"));
        c.timeoutSec = 5;
        const QString marker = c.name;
        QElapsedTimer t;
        t.start();
        RunOutput r = runVm(c);
        const qint64 ms = t.elapsed();
        QCOMPARE(r.result.outcome, VmResult::TimedOut);
        QVERIFY2(r.result.error.contains(QStringLiteral("timed out")), qPrintable(r.result.error));
        QCOMPARE(r.out, QByteArray("started\n"));
        qInfo("timeout job took %lld ms in all (5 s limit, boot included)", ms);
        QVERIFY2(ms < 25000, "a 5 s timeout must not hang");
        QCOMPARE(qemuProcessesWith(marker), 0);
        r = runVm(config(QStringLiteral("echo next > /workspace/n; cat /workspace/n"), QStringLiteral("timeout-ws")));
        QVERIFY2(r.result.outcome == VmResult::Exited && r.result.exitCode == 0, qPrintable(r.result.error));
        QCOMPARE(r.out, QByteArray("next\n"));
    }

    void cancelStopsARunningJob()
    {
        VmConfig c = config(QStringLiteral("echo go; sleep 1000"));
        const QString marker = c.name;
        const RunOutput r = runVm(c, [](VmRunner &vm, const RunOutput &ro) {
            if (ro.out.contains("go"))
                vm.cancel();
        });
        QCOMPARE(r.result.outcome, VmResult::Cancelled);
        QCOMPARE(qemuProcessesWith(marker), 0);
    }

    void killedQemuFailsWithAReasonAndSyncedDataSurvives()
    {
        ensureWorkspace(QStringLiteral("crash-ws"));
        VmConfig c = config(QStringLiteral("echo before-kill > /workspace/synced; sync; echo ready; sleep 1000"), QStringLiteral("crash-ws"));
        const QString marker = c.name;
        RunOutput r = runVm(c, [](VmRunner &vm, const RunOutput &ro) {
            if (ro.out.contains("ready"))
                ::kill(static_cast<pid_t>(vm.qemuPid()), SIGKILL);
        });
        QCOMPARE(r.result.outcome, VmResult::Failed);
        QVERIFY2(r.result.error.contains(QStringLiteral("unexpectedly")), qPrintable(r.result.error));
        QCOMPARE(qemuProcessesWith(marker), 0);
        r = runVm(config(QStringLiteral("cat /workspace/synced"), QStringLiteral("crash-ws")));
        QVERIFY2(r.result.outcome == VmResult::Exited && r.result.exitCode == 0, qPrintable(r.result.error + vmLog(m_seq)));
        QCOMPARE(r.out, QByteArray("before-kill\n"));
    }

    // A snapshot made once; VMs restored from it get their own clock, RNG and hostname, see their
    // workspace disk afresh, and a restored VM without network cannot reach the host.
    void restoredVmsAreIndependentCopies()
    {
        QTemporaryDir snapDir;
        const auto snap = buildSnapshot(snapDir.path(), 512);
        QVERIFY(snap);
        qInfo("snapshot made in %lld ms; state %lld bytes", snap->buildMs, snap->stateBytes);
        ensureWorkspace(QStringLiteral("restore-ws"), 2);
        QTcpServer http; // with the network off, the guest must not reach it even if it tries
        QVERIFY(http.listen(QHostAddress::LocalHost, 0));
        int connections = 0;
        connect(&http, &QTcpServer::newConnection, &http, [&] { ++connections; delete http.nextPendingConnection(); });
        const QString script = QStringLiteral(
            "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo; date +%s; hostname; cat /etc/machine-id\n"
            "cat /workspace/n 2>/dev/null || echo none; echo again > /workspace/n; df -k /workspace | tail -1 | awk '{print $2}'\n"
            "ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2\n"
            "curl -s --max-time 3 http://10.0.2.2:%1/ >/dev/null && echo reachable || echo unreachable\n"
            "grep -c \"$(hostname)\" /etc/hosts").arg(http.serverPort());
        QList<QStringList> outs;
        for (int i = 0; i < 2; ++i) {
            VmConfig c = config(script, QStringLiteral("restore-ws"));
            c.restoreFrom = snap;
            c.hostname = QStringLiteral("magpie-run%1").arg(i);
            const qint64 before = QDateTime::currentSecsSinceEpoch();
            const RunOutput r = runVm(c);
            QVERIFY2(r.result.outcome == VmResult::Exited && r.result.exitCode == 0, qPrintable(r.result.error + vmLog(m_seq)));
            if (r.result.start != QStringLiteral("restore")) {
                QFile dbg(QStringLiteral("/tmp/restore-debug.log"));
                dbg.open(QIODevice::WriteOnly);
                dbg.write(vmLog(m_seq).toUtf8());
                QFile::copy(snap->statePath(), QStringLiteral("/tmp/restore-debug.state"));
                QFile::copy(snap->rootPath(), QStringLiteral("/tmp/restore-debug.root.qcow2"));
            }
            QCOMPARE(r.result.start, QStringLiteral("restore"));
            const QStringList lines = QString::fromUtf8(r.out).trimmed().split(QLatin1Char('\n'));
            QCOMPARE(lines.size(), 8);
            const qint64 guestTime = lines.at(1).toLongLong();
            QVERIFY2(qAbs(guestTime - before) <= 60, qPrintable(lines.at(1)));
            QCOMPARE(lines.at(2), c.hostname);
            QCOMPARE(lines.at(4), i == 0 ? QStringLiteral("none") : QStringLiteral("again"));
            QVERIFY2(lines.at(5).toLongLong() > 1500000, qPrintable(lines.at(5))); // the 2 GiB disk, not the placeholder
            QCOMPARE(lines.at(6), QStringLiteral("unreachable"));
            QCOMPARE(lines.at(7), QStringLiteral("1")); // /etc/hosts names this VM
            qInfo("restored job: %lld ms in all, VM up after %lld ms; timings %s", r.result.wallMs, r.result.bootMs,
                  QJsonDocument(r.result.timings).toJson(QJsonDocument::Compact).constData());
            outs.append(lines);
        }
        QVERIFY2(outs.at(0).at(0) != outs.at(1).at(0), "two restored VMs must not share random state");
        QCOMPARE(outs.at(0).at(0).size(), 32);
        QVERIFY(outs.at(0).at(3) != outs.at(1).at(3)); // machine-id
        QCOMPARE(connections, 0);
    }

    void corruptSnapshotFallsBackToColdBoot()
    {
        QTemporaryDir snapDir;
        const auto snap = buildSnapshot(snapDir.path(), 256);
        QVERIFY(snap);
        QFile state(snap->statePath());
        QVERIFY(state.open(QIODevice::ReadWrite));
        state.seek(4096);
        state.write(QByteArray(1 << 20, '\x5a')); // garbage in the middle of the stream
        state.close();
        VmConfig c = config(QStringLiteral("echo still-runs"));
        c.memoryMb = 256;
        c.restoreFrom = snap;
        VmRunner runner(c);
        QSignalSpy failed(&runner, &VmRunner::restoreFailed);
        QSignalSpy finished(&runner, &VmRunner::finished);
        QByteArray out;
        connect(&runner, &VmRunner::output, this, [&](int, const QByteArray &d) { out += d; });
        runner.start();
        QVERIFY(finished.wait(240000));
        const VmResult r = finished.first().first().value<VmResult>();
        QVERIFY2(r.outcome == VmResult::Exited && r.exitCode == 0, qPrintable(r.error + vmLog(m_seq)));
        QCOMPARE(out, QByteArray("still-runs\n"));
        QCOMPARE(r.start, QStringLiteral("cold"));
        QCOMPARE(failed.size(), 1);
        QVERIFY2(vmLog(m_seq).contains(QStringLiteral("restore failed")), qPrintable(vmLog(m_seq)));
    }

    // Another process holds the workspace disk's lock (a qemu-io here): the restored VM's QEMU loads
    // the state but cannot take the disk over, and says so only on stderr. The job must fail with
    // that reason through a cold boot's QEMU, not sit out the restore timeout; the disk is untouched.
    void lockedWorkspaceFailsWithTheLockNotTheRestoreTimeout()
    {
        QTemporaryDir snapDir;
        const auto snap = buildSnapshot(snapDir.path(), 512);
        QVERIFY(snap);
        ensureWorkspace(QStringLiteral("locked-ws"), 1);
        const QString disk = m_store->diskPath(QStringLiteral("locked-ws"));
        const auto table = [&] {
            QStringList names;
            for (const auto &t : WorkspaceDisk::readSnapshotTable(disk).value_or(QList<DiskSnapshot>{}))
                names << t.name;
            return names;
        };
        const QStringList before = table(); // unchanged at the end

        QProcess holder;
        holder.start(QStringLiteral("qemu-io"), {QStringLiteral("-f"), QStringLiteral("qcow2"), disk, QStringLiteral("-c"), QStringLiteral("sleep 120000")});
        QVERIFY(holder.waitForStarted());
        bool held = false;
        for (int i = 0; i < 100 && !held; ++i) {
            QTest::qWait(100);
            QProcess probe;
            probe.start(QStringLiteral("qemu-io"), {QStringLiteral("-f"), QStringLiteral("qcow2"), disk, QStringLiteral("-c"), QStringLiteral("quit")});
            QVERIFY(probe.waitForFinished(30000));
            held = probe.readAllStandardError().contains("lock");
        }
        QVERIFY2(held, "qemu-io did not take the disk's lock");

        VmConfig c = config(QStringLiteral("echo must-not-run"), QStringLiteral("locked-ws"));
        c.restoreFrom = snap;
        c.createCheckpoint = QStringLiteral("before-locked");
        const RunOutput r = runVm(c);
        holder.kill();
        holder.waitForFinished();
        const QString log = vmLog(m_seq);
        QCOMPARE(r.result.outcome, VmResult::Failed);
        QVERIFY2(r.result.error.contains(QStringLiteral("lock")), qPrintable(r.result.error));
        QVERIFY2(log.contains(QStringLiteral("restore failed")) && log.contains(QStringLiteral("QEMU: ")), qPrintable(log));
        QVERIFY2(!log.contains(QStringLiteral("did not accept its job")), qPrintable(log));
        QVERIFY(r.out.isEmpty());
        QCOMPARE(table(), before);
    }

    // A guest that stops making progress after it got its job (here: qemu frozen with SIGSTOP)
    // is caught by the host's watchdog, which names the phase.
    void hungGuestIsCaughtByTheWatchdog()
    {
        VmConfig c = config(QStringLiteral("echo never"));
        c.prepareTimeoutSec = 3;
        VmRunner vm(c);
        connect(&vm, &VmRunner::booted, this, [&] { ::kill(pid_t(vm.qemuPid()), SIGSTOP); });
        QSignalSpy finished(&vm, &VmRunner::finished);
        QElapsedTimer t;
        t.start();
        vm.start();
        QVERIFY(finished.wait(240000));
        const VmResult r = finished.first().first().value<VmResult>();
        QCOMPARE(r.outcome, VmResult::Failed);
        QVERIFY2(r.error.contains(QStringLiteral("did not start the script within 3 s")), qPrintable(r.error));
        QVERIFY(r.infrastructure);
        qInfo("watchdog: %s", qPrintable(r.error));
        QCOMPARE(qemuProcessesWith(c.name + QLatin1Char(' ')), 0);
    }

    // Cancel: the agent gets its grace period to kill the script, sync and unmount, so the
    // workspace is clean afterwards.
    void cancelLeavesTheWorkspaceClean()
    {
        ensureWorkspace(QStringLiteral("cancel-clean"));
        VmConfig c = config(QStringLiteral("i=0; while true; do i=$((i+1)); echo $i > /workspace/f$((i % 50)); echo $i; done"),
                            QStringLiteral("cancel-clean"));
        QElapsedTimer sinceCancel;
        bool cancelled = false;
        const RunOutput r = runVm(c, [&](VmRunner &vm, const RunOutput &ro) {
            if (!cancelled && ro.out.size() > 2000) {
                cancelled = true;
                sinceCancel.start();
                vm.cancel();
            }
        });
        QCOMPARE(r.result.outcome, VmResult::Cancelled);
        qInfo("cancel: the VM was gone %lld ms after the cancel (grace %d s)", sinceCancel.elapsed(), c.killGraceSec);
        QVERIFY(r.result.diskClosedCleanly);
        QVERIFY2(vmLog(m_seq).contains(QStringLiteral("killed by the host")), qPrintable(vmLog(m_seq).right(2000)));
        const QString raw = m_tmp.filePath(QStringLiteral("cancel-clean.raw"));
        QCOMPARE(runTool(qemuImgBinary(), {QStringLiteral("convert"), QStringLiteral("-O"), QStringLiteral("raw"), m_store->diskPath(QStringLiteral("cancel-clean")), raw}).exitCode, 0);
        const ToolResult fsck = runTool(findTool(QStringLiteral("e2fsck")), {QStringLiteral("-fn"), raw});
        QVERIFY2(fsck.exitCode == 0, fsck.output.constData());
        QFile::remove(raw);
    }

    void guestDownloadsFromHostLoopback()
    {
        QTcpServer http;
        QVERIFY(http.listen(QHostAddress::LocalHost, 0));
        connect(&http, &QTcpServer::newConnection, &http, [&http] {
            while (QTcpSocket *s = http.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s] {
                    if (!s->readAll().contains("\r\n\r\n"))
                        return;
                    const QByteArray body = "payload-from-host\n";
                    s->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: "
                             + QByteArray::number(body.size()) + "\r\n\r\n" + body);
                    s->disconnectFromHost();
                });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
        VmConfig c = config(QStringLiteral("curl -sS --max-time 20 http://10.0.2.2:%1/data.txt").arg(http.serverPort()));
        c.network = true;
        RunOutput r = runVm(c);
        QVERIFY2(r.result.exitCode == 0, qPrintable(QString::fromUtf8(r.err) + r.result.error));
        QCOMPARE(r.out, QByteArray("payload-from-host\n"));

        VmConfig off = config(QStringLiteral("curl -sS --max-time 5 http://10.0.2.2:%1/data.txt").arg(http.serverPort()));
        off.network = false;
        r = runVm(off);
        QVERIFY2(r.result.exitCode != 0, "with the network off the host must be unreachable");
    }
};

QTEST_GUILESS_MAIN(TestVmRunner)
#include "TestVmRunner.moc"
