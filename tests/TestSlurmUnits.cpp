// TestSlurmUnits — the Slurm backend's pure parts, no cluster: the sbatch arguments of a task
// (singleton FIFO per workspace, memory with QEMU's overhead, minutes rounded up plus a margin),
// the batch script, sbatch's and squeue's answers, result.json written and read back.
#include "slurm/ResultFile.h"
#include "slurm/SlurmCommands.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace magpie;

class TestSlurmUnits : public QObject
{
    Q_OBJECT
private slots:
    void statefulJobIsASingletonOfItsWorkspace()
    {
        TaskSpec s;
        s.id = QStringLiteral("req-1");
        s.workspaceId = QStringLiteral("counter");
        s.vcpus = 2;
        s.memoryMb = 1024;
        s.timeoutSec = 61;
        SlurmConfig c;
        c.partition = QStringLiteral("gpu");
        c.account = QStringLiteral("lab");
        c.extraArgs = {QStringLiteral("--qos=long")};
        const QStringList a = slurm::sbatchArgs(s, c, QStringLiteral("/sh/tasks/req-1/job.sh"), QStringLiteral("/sh/tasks/req-1"));
        QCOMPARE(a.mid(0, 5), (QStringList{"--parsable", "-J", "ws-counter", "-d", "singleton"}));
        QVERIFY(a.contains("--cpus-per-task=2"));
        QVERIFY(a.contains("--mem=1280"));            // 1024 + 256 for QEMU itself
        QVERIFY(a.contains("--time=4"));              // 61 s -> 2 min, + 2 min margin
        QVERIFY(a.contains("--no-requeue"));
        QVERIFY(a.contains("--comment=req-1"));
        QVERIFY(a.contains("--partition=gpu"));
        QVERIFY(a.contains("--account=lab"));
        QVERIFY(a.contains("--qos=long"));
        QCOMPARE(a.last(), QStringLiteral("/sh/tasks/req-1/job.sh")); // the script comes after every option
    }

    void statelessJobHasItsOwnNameAndNoDependency()
    {
        TaskSpec s;
        s.id = QStringLiteral("r2");
        s.timeoutSec = 0;
        const QStringList a = slurm::sbatchArgs(s, SlurmConfig{}, QStringLiteral("/j.sh"), QStringLiteral("/d"));
        QCOMPARE(a.at(2), QStringLiteral("job-r2"));
        QVERIFY(!a.contains("-d"));
        QVERIFY(!a.contains("singleton"));
        for (const QString &x : a) {
            QVERIFY2(!x.startsWith("--time"), qPrintable(x)); // no timeout: no Slurm limit either
            QVERIFY2(!x.startsWith("--partition"), qPrintable(x));
        }
    }

    void timeLimitRoundsUp()
    {
        QCOMPARE(slurm::timeLimitMinutes(0, 2), 0);
        QCOMPARE(slurm::timeLimitMinutes(1, 2), 3);
        QCOMPARE(slurm::timeLimitMinutes(60, 2), 3);
        QCOMPARE(slurm::timeLimitMinutes(3600, 0), 60);
    }

    void batchScriptQuotesPaths()
    {
        const QString s = slurm::batchScript(QStringLiteral("/opt/it's/magpie-desktop"), QStringLiteral("/sh/t 1/task.json"), QStringLiteral("/g"));
        QVERIFY(s.startsWith("#!/bin/sh\n"));
        QVERIFY(s.contains("export MAGPIE_GUEST_DIR='/g'\n"));
        QVERIFY2(s.contains("exec '/opt/it'\\''s/magpie-desktop' --run-job '/sh/t 1/task.json'\n"), qPrintable(s));
    }

    void sbatchAnswers()
    {
        QCOMPARE(slurm::parseSbatchId("42\n"), QStringLiteral("42"));
        QCOMPARE(slurm::parseSbatchId("42;magpie\n"), QStringLiteral("42"));
        QCOMPARE(slurm::parseSbatchId("sbatch: warning: something\n17\n"), QStringLiteral("17"));
        QCOMPARE(slurm::parseSbatchId(""), QString());
        QCOMPARE(slurm::parseSbatchId("sbatch: error: Batch job submission failed\n"), QString());
    }

    void squeueLines()
    {
        const auto rows = slurm::parseSqueue("12|ws-a|RUNNING|None|n1\n13|ws-a|PENDING|Dependency|\n\n14|job-x|NODE_FAIL|NodeDown|n2\n");
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows[0].jobId, QStringLiteral("12"));
        QCOMPARE(rows[0].state, QStringLiteral("RUNNING"));
        QCOMPARE(rows[0].reason, QString()); // "None" means none
        QCOMPARE(rows[0].node, QStringLiteral("n1"));
        QCOMPARE(rows[1].reason, QStringLiteral("Dependency"));
        QCOMPARE(rows[1].node, QString());
        QCOMPARE(rows[2].name, QStringLiteral("job-x"));
        QVERIFY(slurm::isActiveState(rows[0].state));
        QVERIFY(slurm::isActiveState(rows[1].state));
        QVERIFY(slurm::isActiveState(QStringLiteral("COMPLETING")));
        QVERIFY(slurm::isEndedState(rows[2].state));
        QVERIFY(slurm::isEndedState(QStringLiteral("CANCELLED")));
        QVERIFY(!slurm::isEndedState(QString()));
    }

    void resultFileRoundTrip()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath("result.json");
        QVERIFY(!resultfile::read(path)); // not there yet
        VmResult r;
        r.outcome = VmResult::TimedOut;
        r.exitCode = 137;
        r.error = QStringLiteral("timed out after 5 s");
        r.usedBytes = 123456789012;
        r.totalBytes = 987654321098;
        r.start = QStringLiteral("restore");
        r.timings = QJsonObject{{"script", 5000}};
        r.checkpoint = QStringLiteral("before-abc");
        QCOMPARE(resultfile::write(path, r, QStringLiteral("n2")), QString());
        QString node;
        const auto back = resultfile::read(path, &node);
        QVERIFY(back);
        QCOMPARE(node, QStringLiteral("n2"));
        QCOMPARE(back->outcome, VmResult::TimedOut);
        QCOMPARE(back->exitCode, 137);
        QCOMPARE(back->error, r.error);
        QCOMPARE(back->usedBytes, r.usedBytes);
        QCOMPARE(back->totalBytes, r.totalBytes);
        QCOMPARE(back->start, QStringLiteral("restore"));
        QCOMPARE(back->timings.value("script").toInt(), 5000);
        QCOMPARE(back->checkpoint, QStringLiteral("before-abc")); // the job can be rolled back

        QFile half(dir.filePath("half.json")); // a torn or foreign file is not a result
        QVERIFY(half.open(QIODevice::WriteOnly));
        half.write("{\"status\": \"exi");
        half.close();
        QVERIFY(!resultfile::read(half.fileName()));
    }
};

QTEST_GUILESS_MAIN(TestSlurmUnits)
#include "TestSlurmUnits.moc"
