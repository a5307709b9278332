// BenchStart — how fast a job starts, against raw QEMU measured in the same run.
//
//   build/bench/BenchStart [runs=10] [--cold]      (--cold: the baseline and the cold case only)
//
// Baseline: QEMU booting our guest kernel with a tiny initramfs whose /init powers off at once
// (boot to power-off, nothing of ours; the job VMs' machine type and kernel arguments). Then,
// through the real Executor (TCG, `echo hi`):
//   cold      — every VM boots (snapshots off); its runs alternate with the baseline's
//   restore   — stateless jobs, one at a time, each VM restored from the snapshot
//   b2b       — stateful jobs back to back on one workspace (the next submitted when one ends)
//   pause     — stateful jobs on one workspace after an idle pause of 3 s each (no VM kept idle)
//   parallel  — 4 jobs on 4 workspaces submitted together (wall time of the batch / per job)
// Each line: p50 and p90 of submit -> completed, and p50 as a ratio of the baseline's p50 taken
// in the same minutes: the cold runs alternate with the baseline's boots; each restored case has
// its own baseline boots, half before and half after its runs ("raw p50" column).
// Also the snapshot's size and build time. Prints a Markdown table for bench/README.md, and on
// stderr the p50 of each phase of the jobs' `timings` per case.
#include "Executor.h"
#include "QemuCommand.h"
#include "SnapshotStore.h"
#include "Tools.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QMap>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>

using namespace magpie;

namespace {

struct Stats {
    QList<double> ms;
    QMap<QString, QList<double>> phases; // a job's `timings`, phase -> ms of each run
    double pct(double p) const
    {
        if (ms.isEmpty())
            return 0;
        QList<double> s = ms;
        std::sort(s.begin(), s.end());
        const int i = qBound(0, int(p * (s.size() - 1) + 0.5), int(s.size() - 1));
        return s.at(i);
    }
    double max() const { return ms.isEmpty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
};

[[noreturn]] void die(const QString &why)
{
    std::fprintf(stderr, "BenchStart: %s\n", qPrintable(why));
    std::exit(2);
}

void sleepMs(int ms)
{
    QEventLoop l;
    QTimer::singleShot(ms, &l, &QEventLoop::quit);
    l.exec();
}

// A busybox initramfs whose /init powers the VM off at once.
QString tinyInitramfs(const QString &dir)
{
    const QString busybox = findTool(QStringLiteral("busybox"));
    if (busybox.isEmpty())
        die(QStringLiteral("busybox is needed for the baseline (apt install busybox-static)"));
    const QString root = dir + QStringLiteral("/root");
    QDir().mkpath(root + QStringLiteral("/bin"));
    QFile::copy(busybox, root + QStringLiteral("/bin/busybox"));
    QFile init(root + QStringLiteral("/init"));
    init.open(QIODevice::WriteOnly);
    init.write("#!/bin/busybox sh\n/bin/busybox poweroff -f\n");
    init.close();
    init.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    const QString out = dir + QStringLiteral("/tiny.img");
    QProcess sh;
    sh.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("cd '%1' && find . | cpio -o -H newc --quiet | gzip -1 > '%2'").arg(root, out)});
    if (!sh.waitForFinished(60000) || sh.exitCode() != 0)
        die(QStringLiteral("cannot pack the baseline initramfs (cpio, gzip)"));
    return out;
}

// One boot to power-off; returns its wall time in ms.
double rawBoot(const GuestImage &image, const QString &initrd)
{
    QProcess q;
    QElapsedTimer t;
    t.start();
    q.start(qemuSystemBinary(), {QStringLiteral("-nodefaults"), QStringLiteral("-no-user-config"), QStringLiteral("-display"), QStringLiteral("none"),
                                 QStringLiteral("-no-reboot"), QStringLiteral("-M"), QemuCommand::machineType(), // a job VM's machine
                                 QStringLiteral("-accel"), QStringLiteral("tcg,thread=multi"),
                                 QStringLiteral("-cpu"), QStringLiteral("max"), QStringLiteral("-m"), QStringLiteral("512"),
                                 QStringLiteral("-kernel"), image.kernel, QStringLiteral("-initrd"), initrd,
                                 QStringLiteral("-append"), QemuCommand::kernelArguments(Accelerator::Tcg), // the same arguments as a job's VM
                                 QStringLiteral("-serial"), QStringLiteral("null")});
    if (!q.waitForFinished(120000))
        die(QStringLiteral("the baseline VM did not power off"));
    return double(t.elapsed());
}

std::unique_ptr<Executor> openExecutor(const QString &dataDir, bool snapshots, int maxParallel = 2)
{
    qputenv("MAGPIE_SNAPSHOTS", snapshots ? "1" : "0");
    ExecutorConfig cfg;
    cfg.dataDir = dataDir;
    cfg.accel = AccelMode::Tcg;
    cfg.maxParallel = maxParallel;
    auto ex = std::make_unique<Executor>(cfg);
    QString err;
    if (!ex->open(&err))
        die(err);
    return ex;
}

JobRequest echoHi(const QString &workspace = QString())
{
    JobRequest r;
    r.script = QStringLiteral("echo hi");
    r.network = false;
    if (!workspace.isEmpty()) {
        r.stateful = true;
        r.workspaceId = workspace;
        r.workspaceSizeGb = 1;
    }
    return r;
}

// Submits and waits; returns submit -> completed in ms.
double runOne(Executor &ex, const JobRequest &r, QString *start = nullptr, Stats *phases = nullptr)
{
    QElapsedTimer t;
    t.start();
    ExecError e;
    const auto j = ex.submit(r, &e);
    if (!j)
        die(e.message);
    QEventLoop loop;
    QObject::connect(&ex, &Executor::jobChanged, &loop, [&](const QString &id) {
        if (id == j->requestId && isFinished(ex.job(id)->status))
            loop.quit();
    });
    loop.exec();
    const double ms = double(t.elapsed());
    const JobRecord done = *ex.job(j->requestId);
    if (done.status != JobStatus::Completed)
        die(QStringLiteral("job ended %1: %2").arg(statusName(done.status), done.error));
    if (start)
        *start = done.startKind;
    if (phases)
        for (auto it = done.timings.constBegin(); it != done.timings.constEnd(); ++it)
            phases->phases[it.key()].append(it.value().toDouble());
    return ms;
}

// Waits until the executor's snapshot for the default shape exists.
void waitForSnapshot(Executor &ex)
{
    for (int i = 0; i < 600; ++i) {
        if (ex.pool().backendStatus.value(QStringLiteral("snapshots_building")).toInt() == 0) {
            QString start;
            runOne(ex, echoHi(), &start);
            if (start == QLatin1String("restore"))
                return;
        }
        sleepMs(500);
    }
    die(QStringLiteral("no snapshot was made"));
}

void row(const char *what, const Stats &s, double base, const QString &note = QString())
{
    std::printf("| %-44s | %7.0f | %7.0f | %7.0f | %7.0f | %5.2fx | %s\n", what, s.pct(0.5), s.pct(0.9), s.max(), base,
                s.pct(0.5) / base, qPrintable(note));
    std::fflush(stdout);
}

// Where a case's time went: the p50 of each phase of its jobs' `timings`.
void phaseLine(const char *what, const Stats &s)
{
    QStringList parts;
    for (auto it = s.phases.constBegin(); it != s.phases.constEnd(); ++it) {
        Stats one;
        one.ms = it.value();
        parts << QStringLiteral("%1 %2").arg(it.key()).arg(one.pct(0.5), 0, 'f', 0);
    }
    if (!parts.isEmpty())
        std::fprintf(stderr, "  %s, p50 of each phase: %s\n", what, qPrintable(parts.join(QStringLiteral(", "))));
}

// The baseline taken around a case: half of the boots before its runs, half after, so that the
// case's ratio compares it with the minutes it ran in (this host's speed drifts).
template <typename Case>
double bracketed(const GuestImage &image, const QString &tiny, int boots, Stats *around, Case runCase)
{
    for (int i = 0; i < boots / 2; ++i)
        around->ms.append(rawBoot(image, tiny));
    runCase();
    for (int i = boots / 2; i < boots; ++i)
        around->ms.append(rawBoot(image, tiny));
    return around->pct(0.5);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    const bool coldOnly = args.contains(QStringLiteral("--cold"));
    int runs = 10;
    for (const QString &a : args)
        if (!a.startsWith(QLatin1Char('-')))
            runs = qMax(3, a.toInt());
    const GuestImage image = GuestImage::locate();
    if (!image.isValid())
        die(image.error);
    QTemporaryDir tmp;
    QTemporaryDir snaps;
    qputenv("MAGPIE_SNAPSHOT_DIR", snaps.path().toUtf8());

    // The baseline and the cold job take turns, so that both see the same minutes of this
    // host's speed (it drifts by a quarter from one minute to the next).
    const QString tiny = tinyInitramfs(tmp.filePath(QStringLiteral("tiny")));
    Stats raw, cold;
    {
        auto ex = openExecutor(tmp.filePath(QStringLiteral("cold")), false);
        for (int i = 0; i < runs; ++i) {
            raw.ms.append(rawBoot(image, tiny));
            cold.ms.append(runOne(*ex, echoHi(QStringLiteral("cold-ws")), nullptr, &cold));
        }
    }
    const double base = raw.pct(0.5);
    std::printf("BenchStart: %d runs each, TCG, `echo hi`, milliseconds from submit to completed\n\n", runs);
    std::printf("| %-44s | %7s | %7s | %7s | %7s | %6s |\n", "case", "p50", "p90", "max", "raw p50", "p50/raw");
    std::printf("|%s|--------:|--------:|--------:|--------:|-------:|\n", QByteArray(46, '-').constData());
    row("raw QEMU boot to power-off (baseline)", raw, base);
    row("cold job (every VM boots)", cold, base);
    phaseLine("cold", cold);
    if (coldOnly)
        return 0;
    auto ex = openExecutor(tmp.filePath(QStringLiteral("restore")), true);
    QElapsedTimer build;
    build.start();
    waitForSnapshot(*ex);
    const qint64 buildMs = build.elapsed();
    const int boots = qMax(4, runs / 2); // the baseline's boots around each case
    {
        Stats s, around;
        QString start;
        const double b = bracketed(image, tiny, boots, &around, [&] {
            for (int i = 0; i < runs; ++i) {
                s.ms.append(runOne(*ex, echoHi(), &start, &s));
                if (start != QLatin1String("restore"))
                    die(QStringLiteral("a job did not start from the snapshot"));
            }
        });
        row("restored job (stateless)", s, b);
        phaseLine("restored", s);
    }
    {
        Stats s, around;
        const double b = bracketed(image, tiny, boots, &around, [&] {
            for (int i = 0; i < runs; ++i)
                s.ms.append(runOne(*ex, echoHi(QStringLiteral("b2b")), nullptr, &s));
        });
        row("restored, back to back on one workspace", s, b);
        phaseLine("back to back", s);
    }
    {
        Stats s, around;
        const double b = bracketed(image, tiny, boots, &around, [&] {
            for (int i = 0; i < qMin(runs, 5); ++i) {
                sleepMs(3000);
                s.ms.append(runOne(*ex, echoHi(QStringLiteral("b2b")), nullptr, &s));
            }
        });
        row("restored, after a 3 s idle pause (0 idle VMs)", s, b);
        phaseLine("after a pause", s);
    }
    {
        auto par = openExecutor(tmp.filePath(QStringLiteral("restore")) + QStringLiteral("-par"), true, 4);
        Stats s, around;
        const double b = bracketed(image, tiny, boots, &around, [&] {
        for (int round = 0; round < 3; ++round) {
            QElapsedTimer t;
            t.start();
            QStringList ids;
            for (int w = 0; w < 4; ++w) {
                ExecError e;
                ids << par->submit(echoHi(QStringLiteral("par-%1").arg(w)), &e)->requestId;
            }
            QEventLoop loop;
            auto check = [&] {
                for (const QString &id : ids)
                    if (!isFinished(par->job(id)->status))
                        return;
                loop.quit();
            };
            QObject::connect(par.get(), &Executor::jobChanged, &loop, check);
            loop.exec();
            s.ms.append(double(t.elapsed()));
        }
        });
        row("4 workspaces in parallel (batch wall time)", s, b, QStringLiteral("%1 ms per job").arg(s.pct(0.5) / 4, 0, 'f', 0));
    }
    {
        // A script that runs programs: 40 execs timed inside the guest, with the guest's address
        // space randomization switched back on for them (as before) and without it (TCG default).
        const QString loop = QStringLiteral("s=$EPOCHREALTIME; for i in $(seq 20); do /bin/true; ls / >/dev/null; done; "
                                            "e=$EPOCHREALTIME; echo $(( (${e/./} - ${s/./}) / 1000 ))");
        Stats on, off;
        for (int i = 0; i < qMax(3, runs / 2); ++i) {
            for (const bool aslr : {true, false}) {
                JobRequest r = echoHi();
                r.script = (aslr ? QStringLiteral("echo 2 > /proc/sys/kernel/randomize_va_space; ") : QString()) + loop;
                ExecError e;
                const auto j = ex->submit(r, &e);
                if (!j)
                    die(e.message);
                QEventLoop l;
                QObject::connect(ex.get(), &Executor::jobChanged, &l, [&](const QString &id) {
                    if (id == j->requestId && isFinished(ex->job(id)->status))
                        l.quit();
                });
                l.exec();
                const double ms = ex->readLog(j->requestId, 1, 0, 4096).data.trimmed().toDouble();
                if (ms <= 0)
                    die(QStringLiteral("the exec loop printed no time"));
                (aslr ? on : off).ms.append(ms);
            }
        }
        std::printf("\n40 program runs in one restored job (inside the guest, ms): with address-space randomization %.0f, "
                    "without (the TCG default) %.0f: %.2fx faster\n",
                    on.pct(0.5), off.pct(0.5), on.pct(0.5) / off.pct(0.5));
    }
    std::printf("\nsnapshot: ready %lld ms after the executor opened (built in the background, once per image and shape)\n", buildMs);
    return 0;
}
