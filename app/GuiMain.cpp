#include "GuiMain.h"

#include "ApiEndpoint.h"
#include "DataDir.h"
#include "Executor.h"
#include "GuestImageSetup.h"
#include "GuiSettingsStore.h"
#include "Headless.h"
#include "HttpApi.h"
#include "MainWindow.h"
#include "ScreenshotTour.h"
#include "UiFormat.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QProcess>
#include <QSocketNotifier>

#include <csignal>
#include <functional>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

namespace magpie {

namespace {
int g_signalFds[2] = {-1, -1};

void onStopSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_signalFds[1], &c, 1);
}

// SIGTERM, SIGINT and SIGHUP end the event loop, so shutdown is clean (VMs stopped and
// recorded, endpoint.json removed) instead of leaving qemu processes behind.
void installStopSignals(QObject *context, std::function<void()> stop)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalFds) != 0)
        return;
    auto *n = new QSocketNotifier(g_signalFds[0], QSocketNotifier::Read, context);
    QObject::connect(n, &QSocketNotifier::activated, context, [n, stop] {
        char c;
        [[maybe_unused]] const ssize_t r = ::read(g_signalFds[0], &c, 1);
        n->setEnabled(false);
        stop();
    });
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int s : {SIGTERM, SIGINT, SIGHUP})
        ::sigaction(s, &sa, nullptr);
}

int fail(const QString &title, const QString &text)
{
    std::fprintf(stderr, "magpie-desktop: %s\n", qPrintable(text));
    QMessageBox box(QMessageBox::Critical, title, text);
    box.setWindowIcon(ui::appIcon());
    box.exec();
    return 1;
}
} // namespace

int runGui(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QLatin1String(DataDir::kAppName));
    QApplication::setApplicationDisplayName(QStringLiteral("Magpie Desktop"));
    QApplication::setOrganizationName(QString());
    QApplication::setApplicationVersion(HttpApi::version());
    QApplication::setDesktopFileName(QStringLiteral("magpie-desktop"));
    QApplication::setWindowIcon(ui::appIcon());
    QApplication::setQuitOnLastWindowClosed(false); // the window may live on in the tray

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Magpie Desktop runs bash scripts in QEMU VMs with persistent workspaces."));
    const QCommandLineOption dataDirOpt(QStringLiteral("data-dir"), QStringLiteral("Data folder (overrides the setting for this run)."), QStringLiteral("DIR"));
    const QCommandLineOption listenOpt(QStringLiteral("listen"), QStringLiteral("Loopback address and port of the HTTP API for this run."), QStringLiteral("ADDR:PORT"));
    const QCommandLineOption maxParallelOpt(QStringLiteral("max-parallel"), QStringLiteral("VMs at once for this run (0: the number of cores)."), QStringLiteral("N"));
    const QCommandLineOption accelOpt(QStringLiteral("accel"), QStringLiteral("Accelerator for this run: auto, tcg or kvm."), QStringLiteral("MODE"));
    const QCommandLineOption themeOpt(QStringLiteral("theme"), QStringLiteral("system, light or dark for this run."), QStringLiteral("THEME"));
    QCommandLineOption shotOpt(QStringLiteral("screenshot-dir"), QStringLiteral("Take screenshots into DIR when DIR/take appears."), QStringLiteral("DIR"));
    shotOpt.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({dataDirOpt, listenOpt, maxParallelOpt, accelOpt, themeOpt, shotOpt});
    if (!parser.parse(QApplication::arguments()))
        return fail(QStringLiteral("Magpie Desktop"), parser.errorText());

    GuiSettingsStore store;
    const Settings settings = Settings::load();
    ui::MainWindow::applyTheme(parser.isSet(themeOpt) ? parser.value(themeOpt) : settings.theme);

    ExecutorConfig cfg;
    cfg.dataDir = DataDir::resolve(parser.isSet(dataDirOpt) ? parser.value(dataDirOpt) : settings.dataDir);
    cfg.maxParallel = settings.maxParallel;
    if (parser.isSet(maxParallelOpt)) {
        bool ok = false;
        const int n = parser.value(maxParallelOpt).toInt(&ok);
        if (!ok || n < 0 || n > 256)
            return fail(QStringLiteral("Magpie Desktop"), QStringLiteral("--max-parallel must be a whole number from 0 to 256"));
        cfg.maxParallel = n;
    }
    cfg.accel = settings.accel;
    if (parser.isSet(accelOpt) && !parseAccelMode(parser.value(accelOpt), &cfg.accel))
        return fail(QStringLiteral("Magpie Desktop"), QStringLiteral("--accel must be auto, tcg or kvm"));
    cfg.defaultVcpus = settings.defaultVcpus;
    cfg.defaultMemoryMb = settings.defaultMemoryMb;
    cfg.keepJobs = settings.keepJobs;
    cfg.keepDays = settings.keepDays;
    if (settings.backend == QLatin1String("slurm") && QDir::isAbsolutePath(settings.slurmShared)) { // docs/slurm.md
        cfg.backend = settings.backend;
        cfg.slurm.partition = settings.slurmPartition;
        cfg.slurm.account = settings.slurmAccount;
        cfg.slurm.sharedDir = settings.slurmShared;
        cfg.slurm.extraArgs = QProcess::splitCommand(settings.slurmExtra);
        cfg.slurm.guestDir = qEnvironmentVariable("MAGPIE_GUEST_DIR");
        cfg.slurm.snapshotDir = qEnvironmentVariable("MAGPIE_SLURM_SNAPSHOT_DIR");
    }
    cfg.holdWithoutImage = true; // jobs wait for the image the window offers to build

    QHostAddress address(QHostAddress::LocalHost);
    quint16 port = quint16(settings.httpPort);
    if (parser.isSet(listenOpt)) {
        QString err;
        if (!Headless::parseListen(parser.value(listenOpt), &address, &port, &err))
            return fail(QStringLiteral("Magpie Desktop"), err);
    }

    DataDir dir(cfg.dataDir);
    QString err;
    if (!dir.prepare(&err))
        return fail(QStringLiteral("Cannot use the data folder"), err);
    if (!dir.lock(&err))
        return fail(QStringLiteral("Magpie Desktop is already running"),
                    QStringLiteral("%1\n\nOnly one Magpie Desktop (window or --headless) can use a data folder at a time.").arg(err));

    Executor executor(cfg);
    if (!executor.open(&err))
        return fail(QStringLiteral("Cannot open the job history"), err);

    ApiEndpoint endpoint(executor, &dir);
    if (!endpoint.loadKey(&err))
        std::fprintf(stderr, "magpie-desktop: the HTTP API is off: %s\n", qPrintable(err));
    else if (settings.httpEnabled || parser.isSet(listenOpt)) {
        if (endpoint.start(address, port, &err)) {
            std::printf("listening on %s\n", qPrintable(endpoint.url()));
            std::fflush(stdout);
        } else {
            std::fprintf(stderr, "magpie-desktop: the HTTP API is not running: %s\n", qPrintable(err));
        }
    }

    int rc = 0;
    {
        ui::MainWindow window(executor, &endpoint, store);
        window.setImageSetup(guestImageSetup());
        installStopSignals(&window, [&window] { window.forceQuit(); });
        window.show();
        std::unique_ptr<ui::ScreenshotTour> tour;
        if (parser.isSet(shotOpt))
            tour = std::make_unique<ui::ScreenshotTour>(window, executor, parser.value(shotOpt));
        rc = app.exec();
        tour.reset();
    }
    endpoint.stop();
    executor.shutdown();
    return rc;
}

} // namespace magpie
