#include "RunJob.h"

#include "CappedLog.h"
#include "ImageRegistry.h"
#include "JobStore.h"
#include "SnapshotStore.h"
#include "TaskRunner.h"
#include "slurm/ResultFile.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace magpie {

namespace {

int g_signalPipe[2] = {-1, -1};
volatile sig_atomic_t g_terminated = 0;

void onSignal(int)
{
    g_terminated = 1;
    const char c = 1;
    [[maybe_unused]] auto n = ::write(g_signalPipe[1], &c, 1);
}

// Blocks until this process holds the workspace's lock; the descriptor stays open (and is
// inherited by QEMU) until the process ends.
bool lockWorkspace(const QString &path, QString *error)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
        *error = QStringLiteral("cannot open the workspace lock %1: %2").arg(path, QString::fromLocal8Bit(strerror(errno)));
        return false;
    }
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR || g_terminated) {
            *error = QStringLiteral("cannot lock %1: %2").arg(path, QString::fromLocal8Bit(strerror(errno)));
            return false;
        }
    }
    return true;
}

Accelerator nodeAccelerator()
{
    const AccelMode mode = accelModeFromEnvironment(AccelMode::Auto);
    if (mode == AccelMode::Tcg)
        return Accelerator::Tcg;
    if (mode == AccelMode::Kvm)
        return Accelerator::Kvm;
    return ::access("/dev/kvm", R_OK | W_OK) == 0 ? Accelerator::Kvm : Accelerator::Tcg;
}

} // namespace

int runJob(int argc, char **argv, const QString &taskFile)
{
    QCoreApplication app(argc, argv);
    QFile f(taskFile);
    if (!f.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "magpie-desktop --run-job: cannot read %s\n", qPrintable(taskFile));
        return 2;
    }
    const QJsonObject doc = QJsonDocument::fromJson(f.readAll()).object();
    const QString shared = doc.value(QStringLiteral("shared_dir")).toString();
    const TaskSpec spec = TaskSpec::fromJson(doc.value(QStringLiteral("task")).toObject());
    const QString taskDir = QFileInfo(taskFile).absolutePath();
    const QString resultPath = taskDir + QStringLiteral("/result.json");
    const QString node = qEnvironmentVariable("SLURMD_NODENAME", QStringLiteral("unknown"));
    if (shared.isEmpty() || spec.id.isEmpty()) {
        std::fprintf(stderr, "magpie-desktop --run-job: %s is not a task file\n", qPrintable(taskFile));
        return 2;
    }

    qint64 lockedAt = 0; // when this task held the workspace (epoch ms), for the record
    auto finish = [&](VmResult r) {
        if (lockedAt > 0) {
            r.timings.insert(QStringLiteral("locked_at_epoch_ms"), double(lockedAt));
            r.timings.insert(QStringLiteral("unlocked_at_epoch_ms"), double(QDateTime::currentMSecsSinceEpoch()));
        }
        const QString err = resultfile::write(resultPath, r, node);
        if (!err.isEmpty())
            std::fprintf(stderr, "magpie-desktop --run-job: %s\n", qPrintable(err));
        return err.isEmpty() && !r.infrastructure ? 0 : 1;
    };

    // SIGTERM (scancel) stops the VM gracefully; the result still says how it ended.
    if (::pipe(g_signalPipe) != 0)
        return 2;
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    bool cancelled = false;
    TaskRunner *runner = nullptr;
    QSocketNotifier sigNotifier(g_signalPipe[0], QSocketNotifier::Read);
    QObject::connect(&sigNotifier, &QSocketNotifier::activated, &app, [&] {
        char buf[16];
        [[maybe_unused]] auto n = ::read(g_signalPipe[0], buf, sizeof buf);
        cancelled = true;
        if (runner)
            runner->cancel();
        else
            app.exit(3);
    });

    QDir().mkpath(shared + QStringLiteral("/workspaces"));
    const QString logDir = shared + QStringLiteral("/logs/") + spec.id;
    QDir().mkpath(logDir);
    if (!spec.workspaceId.isEmpty()) {
        QString err;
        if (!lockWorkspace(shared + QStringLiteral("/workspaces/") + spec.workspaceId + QStringLiteral(".lock"), &err)) {
            VmResult r;
            r.error = err;
            r.infrastructure = true;
            return finish(r);
        }
        lockedAt = QDateTime::currentMSecsSinceEpoch();
    }
    if (g_terminated) { // scancel while waiting for the lock
        VmResult r;
        r.outcome = VmResult::Cancelled;
        r.error = QStringLiteral("cancelled before the VM started");
        return finish(r);
    }

    RunContext ctx;
    ctx.runDir = qEnvironmentVariable("TMPDIR", QStringLiteral("/tmp")) + QStringLiteral("/magpie-run-") + spec.id;
    ctx.vmLogPath = spec.isJob ? logDir + QStringLiteral("/vm.log") : QString();
    if (!spec.workspaceId.isEmpty())
        ctx.workspaceDisk = shared + QStringLiteral("/workspaces/") + spec.workspaceId + QStringLiteral(".qcow2");
    ctx.spaceDir = shared;
    ctx.image = GuestImage::locate();
    ctx.accel = nodeAccelerator();
    if (!ctx.image.isValid()) {
        VmResult r;
        r.error = QStringLiteral("no guest image on node %1: %2").arg(node, ctx.image.error);
        r.infrastructure = true;
        return finish(r);
    }
    // A job on another profile (`image`) runs on that image as the node finds it: under
    // <shared>/images/NAME (one copy for the whole cluster) or beside the base image (<base>-NAME).
    if (!spec.image.isEmpty() && spec.image != ImageRegistry::defaultName()) {
        ctx.image = ImageRegistry(shared, ctx.image).resolve(spec.image);
        if (!ctx.image.isValid()) {
            VmResult r;
            r.error = QStringLiteral("image '%1' is not on node %2: %3").arg(spec.image, node, ctx.image.error);
            r.infrastructure = true;
            return finish(r);
        }
    }
    const QString snapDir = doc.value(QStringLiteral("snapshot_dir")).toString();
    std::unique_ptr<SnapshotStore> snaps;
    if (!snapDir.isEmpty() && SnapshotStore::enabledByEnvironment()) {
        snaps = std::make_unique<SnapshotStore>(snapDir, ctx.runDir + QStringLiteral("-snap"));
        ctx.snapshot = snaps->find(VmShape{ctx.image, ctx.accel, spec.vcpus, spec.memoryMb});
    }

    // Output goes to the shared log folder; the app tails it and applies its own caps (these
    // are a little above them, so the app's truncation marker is the one shown).
    const qint64 cap = JobStore::logCapBytes() + 64 * 1024;
    CappedLog out(logDir + QStringLiteral("/stdout"), cap), err(logDir + QStringLiteral("/stderr"), cap);
    VmResult result;
    runner = new TaskRunner(spec, ctx, &app);
    QObject::connect(runner, &TaskRunner::output, &app, [&](int stream, const QByteArray &data) {
        (stream == 2 ? err : out).append(data);
    });
    QObject::connect(runner, &TaskRunner::finished, &app, [&](const VmResult &r) {
        result = r;
        if (cancelled && r.outcome != VmResult::Exited)
            result.outcome = VmResult::Cancelled;
        app.exit(0);
    });
    QTimer::singleShot(0, runner, &TaskRunner::start);
    if (app.exec() == 3) {
        result = VmResult{};
        result.outcome = VmResult::Cancelled;
        result.error = QStringLiteral("cancelled");
    }
    delete runner; // QEMU is gone before the lock is released (at exit)
    return finish(result);
}

} // namespace magpie
