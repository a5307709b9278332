// TestSlurm — the real `magpie-desktop --headless --backend slurm` on the two-node test cluster
// (tests/slurm/cluster.sh, started by initTestCase), through its HTTP API, with real VMs (TCG):
// the seed's counter, concurrent increments that must never overlap (the runner's flock on the
// shared storage), two workspaces at once, a job on the dev image, cancels, a node that dies mid-job, and a restart of
// the app while jobs run in the cluster.
#include "HeadlessTestSupport.h"

#ifndef MAGPIE_DESKTOP_BIN
#error "MAGPIE_DESKTOP_BIN must name the magpie-desktop executable"
#endif

using namespace magpie::test::headless;

namespace {

const char *kCounter =
    "if [ -f /workspace/counter ]; then COUNT=$(cat /workspace/counter); else COUNT=0; fi\n"
    "COUNT=$((COUNT + 1))\n"
    "echo $COUNT > /workspace/counter\n"
    "echo \"Counter is now: $COUNT\"\n";

QString cluster(const QString &cmd, const QStringList &args = {})
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("bash"), QStringList{QStringLiteral(MAGPIE_SOURCE_DIR "/tests/slurm/cluster.sh"), cmd} + args);
    if (!p.waitForFinished(300000) || p.exitCode() != 0)
        return QStringLiteral("cluster.sh %1 failed: %2").arg(cmd, QString::fromUtf8(p.readAll()));
    return QString();
}

QJsonObject statefulJob(const QString &ws, const QString &script, int timeout = 300)
{
    return QJsonObject{{"name", "slurm test"}, {"script", script}, {"stateful", true}, {"workspace_id", ws}, {"timeout", timeout}};
}

} // namespace

class TestSlurm : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_shared;
    std::unique_ptr<Server> m_server;

    QStringList serverArgs() const
    {
        return {QStringLiteral("--backend"), QStringLiteral("slurm"), QStringLiteral("--slurm-shared"), m_shared,
                QStringLiteral("--slurm-partition"), QStringLiteral("debug")};
    }
    static QProcessEnvironment env()
    {
        QProcessEnvironment e = Server::environment();
        e.insert(QStringLiteral("SLURM_CONF"), qEnvironmentVariable("MAGPIE_SLURM_BASE", QStringLiteral("/tmp/magpie-slurm-test"))
                                                   + QStringLiteral("/etc/slurm.conf"));
        // The nodes restore VMs saved on this machine (made once per image and shape) instead of booting.
        if (!e.contains(QStringLiteral("MAGPIE_SLURM_SNAPSHOT_DIR")))
            e.insert(QStringLiteral("MAGPIE_SLURM_SNAPSHOT_DIR"),
                     qEnvironmentVariable("MAGPIE_SNAPSHOT_DIR", QDir::homePath() + QStringLiteral("/.cache/magpie-desktop/snapshots")));
        return e;
    }
    QString startServer()
    {
        m_server = std::make_unique<Server>();
        return m_server->start(m_tmp.filePath(QStringLiteral("data")), serverArgs(), env());
    }
    QJsonObject resultOf(const QString &id) const
    {
        QFile f(m_shared + QStringLiteral("/tasks/") + id + QStringLiteral("/result.json"));
        return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object() : QJsonObject();
    }
    QString waitStatus(const QString &id, const QString &status, int timeoutMs = 120000) const
    {
        QElapsedTimer t;
        t.start();
        QString s;
        while (t.elapsed() < timeoutMs) {
            s = m_server->job(id).value(QStringLiteral("status")).toString();
            if (s == status || finished(s))
                return s;
            QThread::msleep(200);
        }
        return s;
    }

private slots:
    void initTestCase()
    {
        if (guestDir().isEmpty() || !QFileInfo::exists(guestDir()))
            QFAIL("MAGPIE_GUEST_DIR must name the guest image folder");
        qputenv("SLURM_CONF", env().value(QStringLiteral("SLURM_CONF")).toUtf8());
        const QString err = cluster(QStringLiteral("start"));
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QVERIFY(m_tmp.isValid());
        m_shared = m_tmp.filePath(QStringLiteral("shared"));
        QDir().mkpath(m_shared);
        const QString s = startServer();
        QVERIFY2(s.isEmpty(), qPrintable(s));
    }

    void counterFiveTimes()
    {
        QStringList ids;
        for (int i = 0; i < 5; ++i) {
            const QJsonObject j = m_server->submit(statefulJob(QStringLiteral("counter"), QString::fromLatin1(kCounter)));
            QVERIFY(!j.isEmpty());
            ids << j.value("request_id").toString();
        }
        QSet<QString> nodes;
        for (int i = 0; i < ids.size(); ++i) {
            const QJsonObject j = m_server->waitJob(ids[i], 600000);
            QVERIFY2(j.value("status").toString() == QStringLiteral("completed"), qPrintable(QJsonDocument(j).toJson()));
            QCOMPARE(j.value("backend").toString(), QStringLiteral("slurm"));
            QVERIFY2(!j.value("slurm_job_id").toString().isEmpty(), qPrintable(QJsonDocument(j).toJson()));
            nodes.insert(j.value("node").toString());
            QCOMPARE(m_server->log(ids[i]).trimmed(), QByteArray("Counter is now: ") + QByteArray::number(i + 1));
        }
        for (const QString &n : nodes)
            QVERIFY2(n == "n1" || n == "n2", qPrintable(n));
        // Each job's checkpoint was taken on its node: rolling the last one back brings the
        // counter back to 4 (issue 11's workspace lifecycle on the Slurm backend).
        QCOMPARE(m_server->job(ids.last()).value("checkpoint_name").toString(), QStringLiteral("before-") + ids.last());
        const Response rb = m_server->post("/api/v1/jobs/" + ids.last().toUtf8() + "/rollback", "{}");
        QVERIFY2(rb.status == 200, qPrintable(rb.describe()));
        const QString read = m_server->submit(statefulJob(QStringLiteral("counter"), QStringLiteral("cat /workspace/counter"))).value("request_id").toString();
        QCOMPARE(m_server->waitJob(read, 600000).value("status").toString(), QStringLiteral("completed"));
        QCOMPARE(m_server->log(read).trimmed(), QByteArray("4"));
        QVERIFY(QFileInfo::exists(m_shared + "/workspaces/counter.qcow2")); // the disk is on the shared storage
    }

    void concurrentIncrementsNeverOverlap()
    {
        const int n = qEnvironmentVariableIntValue("MAGPIE_SLURM_INCREMENTS") > 0 ? qEnvironmentVariableIntValue("MAGPIE_SLURM_INCREMENTS") : 20;
        QStringList ids;
        for (int i = 0; i < n; ++i)
            ids << m_server->submit(statefulJob(QStringLiteral("many"), QString::fromLatin1(kCounter))).value("request_id").toString();
        QList<QPair<qint64, qint64>> spans;
        for (const QString &id : ids) {
            const QJsonObject j = m_server->waitJob(id, 900000);
            QCOMPARE(j.value("status").toString(), QStringLiteral("completed"));
            const QJsonObject t = resultOf(id).value("timings").toObject();
            spans.append({qint64(t.value("locked_at_epoch_ms").toDouble()), qint64(t.value("unlocked_at_epoch_ms").toDouble())});
        }
        QCOMPARE(m_server->log(ids.last()).trimmed(), QByteArray("Counter is now: ") + QByteArray::number(n));
        std::sort(spans.begin(), spans.end());
        for (int i = 0; i < spans.size(); ++i) {
            QVERIFY(spans[i].first > 0 && spans[i].second >= spans[i].first);
            if (i > 0)
                QVERIFY2(spans[i].first >= spans[i - 1].second, "two jobs of one workspace held it at the same time");
        }
    }

    void twoWorkspacesOverlap()
    {
        const QString script = QStringLiteral("sleep 8; echo done");
        // Each job asks for a whole node (cluster.sh gives each node this machine's cores), so
        // the two must run on different nodes.
        QJsonObject left = statefulJob(QStringLiteral("left"), script), right = statefulJob(QStringLiteral("right"), script);
        left.insert(QStringLiteral("vcpus"), qBound(1, QThread::idealThreadCount(), 16));
        right.insert(QStringLiteral("vcpus"), qBound(1, QThread::idealThreadCount(), 16));
        const QString a = m_server->submit(left).value("request_id").toString();
        const QString b = m_server->submit(right).value("request_id").toString();
        const QJsonObject ja = m_server->waitJob(a, 600000), jb = m_server->waitJob(b, 600000);
        QCOMPARE(ja.value("status").toString(), QStringLiteral("completed"));
        QCOMPARE(jb.value("status").toString(), QStringLiteral("completed"));
        const QJsonObject ta = resultOf(a).value("timings").toObject(), tb = resultOf(b).value("timings").toObject();
        const double startA = ta.value("locked_at_epoch_ms").toDouble(), endA = ta.value("unlocked_at_epoch_ms").toDouble();
        const double startB = tb.value("locked_at_epoch_ms").toDouble(), endB = tb.value("unlocked_at_epoch_ms").toDouble();
        QVERIFY2(startA < endB && startB < endA, "the two workspaces' jobs did not run at the same time");
        QVERIFY(ja.value("node").toString() != jb.value("node").toString());
    }

    // A job on the `dev` profile runs on that image on the node (Node.js is only there), not
    // silently on the base image.
    void otherImageOnTheNodes()
    {
        QJsonObject job{{"name", "dev image"}, {"script", "node --version; npm --version >/dev/null && echo npm-ok"}, {"image", "dev"}, {"timeout", 300}};
        const QString id = m_server->submit(job).value("request_id").toString();
        QVERIFY(!id.isEmpty());
        const QJsonObject j = m_server->waitJob(id, 600000);
        QVERIFY2(j.value("status").toString() == QStringLiteral("completed"), qPrintable(QJsonDocument(j).toJson()));
        QCOMPARE(j.value("image").toString(), QStringLiteral("dev"));
        QCOMPARE(j.value("backend").toString(), QStringLiteral("slurm"));
        const QByteArray out = m_server->log(id);
        QVERIFY2(out.startsWith("v") && out.contains("npm-ok"), out.constData());
    }

    void cancelQueuedAndRunning()
    {
        const QString running = m_server->submit(statefulJob(QStringLiteral("cancels"), QStringLiteral("echo started; sleep 300"))).value("request_id").toString();
        const QString queued = m_server->submit(statefulJob(QStringLiteral("cancels"), QStringLiteral("echo never"))).value("request_id").toString();
        QElapsedTimer t;
        t.start();
        while (!m_server->log(running).contains("started") && t.elapsed() < 300000)
            QThread::msleep(300);
        QVERIFY(m_server->log(running).contains("started")); // live output from the node
        QCOMPARE(m_server->post("/api/v1/jobs/" + queued.toUtf8() + "/cancel", "{}").status / 100, 2);
        QCOMPARE(m_server->waitJob(queued, 60000).value("status").toString(), QStringLiteral("cancelled"));
        QCOMPARE(m_server->post("/api/v1/jobs/" + running.toUtf8() + "/cancel", "{}").status / 100, 2);
        const QJsonObject j = m_server->waitJob(running, 120000);
        QCOMPARE(j.value("status").toString(), QStringLiteral("cancelled"));
        QCOMPARE(resultOf(running).value("status").toString(), QStringLiteral("cancelled")); // stopped by the runner, gracefully
    }

    void nodeDiesDuringAJob()
    {
        const QString id = m_server->submit(statefulJob(QStringLiteral("crash"), QStringLiteral("echo started; sleep 300"))).value("request_id").toString();
        QElapsedTimer t;
        t.start();
        // The output can arrive before the app's next squeue poll (1 s) has named the node.
        QString node;
        while ((!m_server->log(id).contains("started") || node.isEmpty()) && t.elapsed() < 300000) {
            QThread::msleep(300);
            node = m_server->job(id).value("node").toString();
        }
        QVERIFY2(node == "n1" || node == "n2", qPrintable(node));
        QString err = cluster(QStringLiteral("kill-node"), {node});
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QJsonObject j = m_server->waitJob(id, 180000);
        QCOMPARE(j.value("status").toString(), QStringLiteral("failed"));
        QVERIFY2(j.value("error").toString().contains(QStringLiteral("Slurm job")), qPrintable(j.value("error").toString()));
        err = cluster(QStringLiteral("start")); // the node comes back
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QString next = m_server->submit(statefulJob(QStringLiteral("crash"), QString::fromLatin1(kCounter))).value("request_id").toString();
        QCOMPARE(m_server->waitJob(next, 600000).value("status").toString(), QStringLiteral("completed"));
        QCOMPARE(m_server->log(next).trimmed(), QByteArray("Counter is now: 1"));
    }

    void restartWhileJobsRun()
    {
        const QString a = m_server->submit(statefulJob(QStringLiteral("restart"), QStringLiteral("echo first; sleep 10; echo first done"))).value("request_id").toString();
        const QString b = m_server->submit(statefulJob(QStringLiteral("restart"), QString::fromLatin1(kCounter))).value("request_id").toString();
        QCOMPARE(waitStatus(a, QStringLiteral("running")), QStringLiteral("running"));
        QCOMPARE(m_server->signalAndWait(SIGTERM), 0);
        m_server.reset();
        const QString s = startServer();
        QVERIFY2(s.isEmpty(), qPrintable(s));
        const QJsonObject ja = m_server->waitJob(a, 600000);
        QCOMPARE(ja.value("status").toString(), QStringLiteral("completed"));
        QVERIFY(m_server->log(a).contains("first done"));
        const QJsonObject jb = m_server->waitJob(b, 600000);
        QCOMPARE(jb.value("status").toString(), QStringLiteral("completed"));
        QCOMPARE(m_server->log(b).trimmed(), QByteArray("Counter is now: 1"));
    }

    void cleanupTestCase()
    {
        m_server.reset();
    }
};

QTEST_GUILESS_MAIN(TestSlurm)
#include "TestSlurm.moc"
