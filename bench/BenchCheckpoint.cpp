// BenchCheckpoint — what a checkpoint before a stateful job costs, against the same job with
// checkpoint: false, measured in the same run on the same workspace (TCG, real VMs).
//
//   build/bench/BenchCheckpoint [pairs=8] [size_gb=10]
//
// Each pair runs the job `head -c 1M /dev/urandom > f; echo ok` once with a checkpoint and once
// without (alternating which goes first), back to back on one workspace. Reported:
//   job        p50/p90 of started -> finished, with and without, and the difference of the p50s
//   snapshot   the checkpoint step itself, p50/p90/max (a booting VM's QEMU takes it over its
//              monitor; a restored VM's is taken by qemu-img while its QEMU starts, off the
//              job's path: see VmRunner::takeCheckpoint)
//   bytes      how much the qcow2 file grew when the checkpoint was taken (p50/max), and what the
//              newest checkpoint holds after its job rewrote 1 MiB (unique clusters, from the
//              qcow2 tables)
// Prints a Markdown row for bench/README.md.
#include "Executor.h"
#include "Tools.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>

using namespace magpie;

namespace {
double pct(QList<double> v, double p)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.at(qBound(0, int(p * (v.size() - 1) + 0.5), int(v.size() - 1)));
}

[[noreturn]] void die(const QString &why)
{
    std::fprintf(stderr, "BenchCheckpoint: %s\n", qPrintable(why));
    std::exit(2);
}

JobRecord runJob(Executor &ex, const QString &ws, int sizeGb, bool checkpoint)
{
    JobRequest r;
    r.name = checkpoint ? QStringLiteral("with checkpoint") : QStringLiteral("without checkpoint");
    r.script = QStringLiteral("head -c 1048576 /dev/urandom > f; echo ok");
    r.stateful = true;
    r.workspaceId = ws;
    r.workspaceSizeGb = sizeGb;
    r.network = false;
    r.checkpoint = checkpoint;
    ExecError e;
    const auto j = ex.submit(r, &e);
    if (!j)
        die(e.message);
    QEventLoop loop;
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (isFinished(ex.job(j->requestId)->status))
            loop.quit();
    });
    poll.start(20);
    loop.exec();
    const JobRecord done = *ex.job(j->requestId);
    if (done.status != JobStatus::Completed)
        die(QStringLiteral("job failed: %1").arg(done.error));
    return done;
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int pairs = argc > 1 ? qMax(1, atoi(argv[1])) : 8;
    const int sizeGb = argc > 2 ? qMax(1, atoi(argv[2])) : 10;
    QTemporaryDir dir;
    ExecutorConfig cfg;
    cfg.dataDir = dir.path();
    cfg.maxParallel = 1;
    cfg.accel = AccelMode::Tcg;
    Executor ex(cfg);
    QString err;
    if (!ex.open(&err))
        die(err);
    const QString ws = QStringLiteral("bench");
    runJob(ex, ws, sizeGb, false); // makes the disk and warms the snapshot of the VM
    runJob(ex, ws, sizeGb, false);

    QList<double> on, off, snapMs, snapBytes;
    for (int i = 0; i < pairs; ++i) {
        for (bool checkpoint : {i % 2 == 0, i % 2 != 0}) {
            const JobRecord j = runJob(ex, ws, sizeGb, checkpoint);
            const double ms = double(parseIso(j.startedAt).msecsTo(parseIso(j.finishedAt)));
            (checkpoint ? on : off).append(ms);
            if (checkpoint) {
                if (!j.timings.contains(QStringLiteral("checkpoint")))
                    die(QStringLiteral("the job with a checkpoint has none"));
                snapMs.append(j.timings.value(QStringLiteral("checkpoint")).toDouble());
                snapBytes.append(j.timings.value(QStringLiteral("checkpoint_bytes")).toDouble());
            }
        }
    }
    // What the newest checkpoint holds now that its job rewrote 1 MiB.
    qint64 held = -1;
    bool listed = false;
    ex.snapshots(ws, [&](std::optional<QList<SnapshotInfo>> s, const ExecError &) {
        if (s && !s->isEmpty())
            held = s->last().sizeBytes;
        listed = true;
    });
    while (!listed)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);

    const double diff = pct(on, 0.5) - pct(off, 0.5);
    std::printf("BenchCheckpoint: %d pairs, %d GB workspace, TCG, the job writes 1 MiB\n", pairs, sizeGb);
    std::printf("  job with checkpoint     p50 %6.0f ms  p90 %6.0f ms\n", pct(on, 0.5), pct(on, 0.9));
    std::printf("  job without checkpoint  p50 %6.0f ms  p90 %6.0f ms\n", pct(off, 0.5), pct(off, 0.9));
    std::printf("  difference of the p50s  %+6.0f ms\n", diff);
    std::printf("  checkpoint step         p50 %6.1f ms  p90 %6.1f ms  max %6.1f ms\n", pct(snapMs, 0.5), pct(snapMs, 0.9), pct(snapMs, 1.0));
    std::printf("  qcow2 growth at the checkpoint  p50 %.0f bytes  max %.0f bytes\n", pct(snapBytes, 0.5), pct(snapBytes, 1.0));
    std::printf("  newest checkpoint holds after its job: %lld bytes (unique clusters)\n", qlonglong(held));
    std::printf("\n| Checkpoint before a stateful job (BenchCheckpoint, %d pairs, TCG) | %.0f ms step p50 (%.0f max); job p50 %.0f vs %.0f ms without (%+.0f ms); %.0f bytes at the checkpoint, %lld bytes held after the job rewrote 1 MiB |\n",
                pairs, pct(snapMs, 0.5), pct(snapMs, 1.0), pct(on, 0.5), pct(off, 0.5), diff, pct(snapBytes, 0.5), qlonglong(held));
    return 0;
}
