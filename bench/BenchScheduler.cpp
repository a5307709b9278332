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

static qint64 runBatch(int jobs, int parallel, bool stateful)
{
    QTemporaryDir tmp;
    ExecutorConfig cfg;
    cfg.dataDir = tmp.path();
    cfg.maxParallel = parallel;
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
            r.workspaceId = QStringLiteral("bench-%1").arg(i);
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

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int jobs = argc > 1 ? std::atoi(argv[1]) : 4;
    const int parallel = argc > 2 ? std::atoi(argv[2]) : 2;
    for (bool stateful : {false, true}) {
        const qint64 base = runBatch(jobs, 1, stateful);
        const qint64 par = runBatch(jobs, parallel, stateful);
        std::printf("%s: %d jobs, 1 VM at a time %lld ms (%.0f ms/job); %d at a time %lld ms; speed-up %.2fx\n",
                    stateful ? "stateful (new 1 GiB workspace each)" : "stateless", jobs, base, double(base) / jobs, parallel, par,
                    double(base) / double(par));
    }
    return 0;
}
