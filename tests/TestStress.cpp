// TestStress — 100 short jobs, 3 VMs at a time on this 2-core machine: every one must end
// completed (a boot or restore that hangs is a bug, not slowness). Prints how the VMs started
// and the distribution of their start times.
#include "ExecutorTestSupport.h"

#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

using namespace magpie;
using namespace magpie::test;

class TestStress : public QObject
{
    Q_OBJECT
private slots:
    void hundredShortJobsThreeAtATime()
    {
        QVERIFY2(GuestImage::locate().isValid(), qPrintable(GuestImage::locate().error));
        QTemporaryDir tmp;
        auto ex = openExecutor(tmp.path(), 3);
        QStringList ids;
        for (int i = 0; i < 100; ++i) {
            // every third one on one of 10 workspaces, the rest stateless
            const QString ws = i % 3 == 0 ? QStringLiteral("stress-%1").arg(i % 10) : QString();
            JobRequest r = jobRequest(QStringLiteral("echo job-%1").arg(i), ws, ws.isEmpty() ? std::nullopt : std::optional<int>(1));
            r.timeoutSec = 300;
            ids << submitOk(*ex, r).requestId;
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(ids.cbegin(), ids.cend(), [&](const QString &id) { return isFinished(ex->job(id)->status); }),
                                 1500000);
        QList<double> starts;
        QHash<QString, int> kinds;
        int failures = 0;
        for (int i = 0; i < ids.size(); ++i) {
            const JobRecord j = *ex->job(ids.at(i));
            if (j.status != JobStatus::Completed || stdoutOf(*ex, j.requestId) != QStringLiteral("job-%1\n").arg(i).toUtf8()) {
                ++failures;
                qWarning("job %d ended %s: %s", i, qPrintable(statusName(j.status)), qPrintable(j.error));
            }
            kinds[j.startKind.isEmpty() ? QStringLiteral("none") : j.startKind] += 1;
            if (j.timings.contains(QStringLiteral("vm_start")))
                starts.append(j.timings.value(QStringLiteral("vm_start")).toDouble());
        }
        std::sort(starts.begin(), starts.end());
        auto pct = [&](double p) { return starts.isEmpty() ? 0.0 : starts.at(qBound(0, int(p * (starts.size() - 1) + 0.5), int(starts.size() - 1))); };
        QStringList k;
        for (auto it = kinds.cbegin(); it != kinds.cend(); ++it)
            k << QStringLiteral("%1 %2").arg(it.value()).arg(it.key());
        qInfo("100 jobs, 3 at a time: %d failed; starts: %s; VM start ms p50 %.0f, p90 %.0f, max %.0f", failures, qPrintable(k.join(QStringLiteral(", "))),
              pct(0.5), pct(0.9), starts.isEmpty() ? 0.0 : starts.last());
        QCOMPARE(failures, 0);
    }
};

QTEST_GUILESS_MAIN(TestStress)
#include "TestStress.moc"
