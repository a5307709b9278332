// BenchScheduler — how much the scheduler's parallelism buys, measured against a baseline run
// in the same process: N short jobs with one VM at a time (baseline) versus N jobs with up to
// `parallel` VMs at once, on separate workspaces and without one. Prints wall times and ratios.
//   build/bench/BenchScheduler [jobs=4] [parallel=2]
#include "Executor.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>

using namespace magpie;

static qint64 runBatch(int jobs, int parallel, bool stateful, int warm = 0, bool oneWorkspace = false)
{
    QTemporaryDir tmp;
    ExecutorConfig cfg;
    cfg.dataDir = tmp.path();
    cfg.maxParallel = parallel;
    cfg.warmVms = warm;
    cfg.accel = AccelMode::Tcg;
    Executor ex(cfg);
    QString err;
    if (!ex.open(&err)) {
        std::fprintf(stderr, "cannot open executor: %s\n", qPrintable(err));
        std::exit(2);
    }
    QElapsedTimer t;
    t.start();
    QStringList ids;
    for (int i = 0; i < jobs; ++i) {
        JobRequest r;
        r.name = QStringLiteral("bench %1").arg(i);
        r.script = QStringLiteral("echo $((6*7)) > /workspace/answer; cat /workspace/answer");
        r.stateful = stateful;
        if (stateful) {
            r.workspaceId = oneWorkspace ? QStringLiteral("bench") : QStringLiteral("bench-%1").arg(i);
            r.workspaceSizeGb = 1;
        }
        r.network = false;
        ExecError e;
        auto j = ex.submit(r, &e);
        if (!j) {
            std::fprintf(stderr, "submit failed: %s\n", qPrintable(e.message));
            std::exit(2);
        }
        ids << j->requestId;
    }
    QEventLoop loop;
    auto check = [&] {
        for (const QString &id : ids)
            if (!isFinished(ex.job(id)->status))
                return;
        loop.quit();
    };
    QObject::connect(&ex, &Executor::jobChanged, &loop, check);
    QTimer::singleShot(0, &loop, check);
    loop.exec();
    for (const QString &id : ids)
        if (ex.job(id)->status != JobStatus::Completed)
            std::fprintf(stderr, "job %s ended %s: %s\n", qPrintable(id), qPrintable(statusName(ex.job(id)->status)), qPrintable(ex.job(id)->error));
    return t.elapsed();
}

// Jobs submitted one at a time with an idle pause before each (a person clicking Run, or a
// script doing work between jobs): mean latency from submit to finished.
static double meanLatencyWithPauses(int jobs, int warm, int pauseMs)
{
    QTemporaryDir tmp;
    ExecutorConfig cfg;
    cfg.dataDir = tmp.path();
    cfg.warmVms = warm;
    cfg.accel = AccelMode::Tcg;
    Executor ex(cfg);
    QString err;
    if (!ex.open(&err))
        std::exit(2);
    qint64 total = 0;
    for (int i = 0; i < jobs; ++i) {
        QEventLoop pause;
        QTimer::singleShot(pauseMs, &pause, &QEventLoop::quit);
        pause.exec();
        JobRequest r;
        r.script = QStringLiteral("n=$(cat /workspace/n 2>/dev/null || echo 0); echo $((n+1)) > /workspace/n");
        r.stateful = true;
        r.workspaceId = QStringLiteral("latency");
        r.workspaceSizeGb = 1;
        ExecError e;
        QElapsedTimer t;
        t.start();
        const QString id = ex.submit(r, &e)->requestId;
        QEventLoop loop;
        QObject::connect(&ex, &Executor::jobChanged, &loop, [&](const QString &changed) {
            if (changed == id && isFinished(ex.job(id)->status))
                loop.quit();
        });
        loop.exec();
        total += t.elapsed();
    }
    return double(total) / jobs;
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int jobs = argc > 1 ? std::atoi(argv[1]) : 4;
    const int parallel = argc > 2 ? std::atoi(argv[2]) : 2;
    {
        const double cold = meanLatencyWithPauses(3, 0, 5000);
        const double warm = meanLatencyWithPauses(3, 1, 5000);
        std::printf("one job at a time after a 5 s pause: cold boot %.0f ms per job; warm VM %.0f ms per job; speed-up %.2fx\n",
                    cold, warm, cold / warm);
    }
    // One workspace, jobs back to back (the seed's counter): VMs booted ahead of time or not.
    {
        const qint64 cold = runBatch(jobs, parallel, true, 0, true);
        const qint64 warm = runBatch(jobs, parallel, true, 1, true);
        std::printf("one workspace, %d jobs in a row: cold boots %lld ms (%.0f ms/job); warm VMs %lld ms (%.0f ms/job); speed-up %.2fx\n",
                    jobs, cold, double(cold) / jobs, warm, double(warm) / jobs, double(cold) / double(warm));
    }
    for (bool stateful : {false, true}) {
        const qint64 base = runBatch(jobs, 1, stateful);
        const qint64 par = runBatch(jobs, parallel, stateful);
        std::printf("%s: %d jobs, 1 VM at a time %lld ms (%.0f ms/job); %d at a time %lld ms; speed-up %.2fx\n",
                    stateful ? "stateful (new 1 GiB workspace each)" : "stateless", jobs, base, double(base) / jobs, parallel, par,
                    double(base) / double(par));
    }
    return 0;
}
