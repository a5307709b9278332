// main.cpp — magpie-desktop: the desktop window, or with --headless the executor and the local
// HTTP API without a window (docs/api.md).
#include "BuildImageCommand.h"
#include "DataDir.h"
#include "Headless.h"
#include "HttpApi.h"
#include "RunJob.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QStringList>

#include <cstdio>
#include <tuple>

#if defined(MAGPIE_HAVE_GUI) && __has_include("GuiMain.h")
#include "GuiMain.h"
#define MAGPIE_GUI_AVAILABLE 1
#endif

using namespace magpie;

int main(int argc, char **argv)
{
    bool headless = false;
    bool infoOnly = false; // --help or --version: answered without a window
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "--")
            break;
        if (a == "--run-job" && i + 1 < argc) // the Slurm node-side runner (app/RunJob.h)
            return runJob(argc, argv, QString::fromLocal8Bit(argv[i + 1]));
        headless |= a == "--headless";
        infoOnly |= a == "-h" || a == "--help" || a == "--help-all" || a == "-v" || a == "--version";
        infoOnly |= a == "--build-image" || a.startsWith("--build-image=");
    }
    if (!headless && !infoOnly) {
#ifdef MAGPIE_GUI_AVAILABLE
        return runGui(argc, argv);
#else
        std::fprintf(stderr, "magpie-desktop: the desktop window is not built yet; use --headless (see --help)\n");
        return 1;
#endif
    }

    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QLatin1String(DataDir::kAppName));
    QCoreApplication::setOrganizationName(QString());
    QCoreApplication::setApplicationVersion(HttpApi::version());

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Magpie Desktop runs bash scripts in QEMU VMs with persistent workspaces.\n"
        "Without --headless it opens the desktop window; with --headless it serves the local HTTP API "
        "(docs/api.md) and prints 'listening on http://127.0.0.1:PORT' when ready."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption headlessOpt(QStringLiteral("headless"), QStringLiteral("Run without a window: executor and HTTP API only."));
    const QCommandLineOption dataDirOpt(QStringLiteral("data-dir"),
                                        QStringLiteral("Data folder (jobs, logs, workspaces, api-key). Default: %1").arg(DataDir::defaultPath()),
                                        QStringLiteral("DIR"));
    const QCommandLineOption listenOpt(QStringLiteral("listen"),
                                       QStringLiteral("Loopback address and port for the HTTP API; port 0 picks a free one. Default: 127.0.0.1:0"),
                                       QStringLiteral("ADDR:PORT"), QStringLiteral("127.0.0.1:0"));
    const QCommandLineOption maxParallelOpt(QStringLiteral("max-parallel"),
                                            QStringLiteral("VMs run at the same time at most (0: the number of cores)."),
                                            QStringLiteral("N"));
    const QCommandLineOption accelOpt(QStringLiteral("accel"),
                                      QStringLiteral("Accelerator: auto (probe KVM, fall back to TCG), tcg or kvm; overrides MAGPIE_ACCEL. Default: MAGPIE_ACCEL, else auto."),
                                      QStringLiteral("auto|tcg|kvm"));
    const QCommandLineOption keepJobsOpt(QStringLiteral("keep-jobs"),
                                         QStringLiteral("History retention: keep the newest N finished jobs, remove older records and logs (0: all)."),
                                         QStringLiteral("N"));
    const QCommandLineOption keepDaysOpt(QStringLiteral("keep-days"),
                                         QStringLiteral("History retention: remove finished jobs older than D days (0: never)."),
                                         QStringLiteral("D"));
    const QCommandLineOption checkpointsOpt(QStringLiteral("checkpoints"),
                                            QStringLiteral("Snapshot a workspace before every stateful job (roll back with POST /jobs/{id}/rollback). Default: on."),
                                            QStringLiteral("on|off"));
    const QCommandLineOption keepCheckpointsOpt(QStringLiteral("keep-checkpoints"),
                                                QStringLiteral("Checkpoints kept per workspace, older ones pruned (0: none kept). Default: 10."),
                                                QStringLiteral("N"));
    const QCommandLineOption backendOpt(QStringLiteral("backend"), QStringLiteral("Where jobs run: local (QEMU on this machine) or slurm (docs/slurm.md)."),
                                        QStringLiteral("local|slurm"), QStringLiteral("local"));
    const QCommandLineOption slurmPartitionOpt(QStringLiteral("slurm-partition"), QStringLiteral("Slurm partition for jobs (default: the cluster's)."), QStringLiteral("P"));
    const QCommandLineOption slurmAccountOpt(QStringLiteral("slurm-account"), QStringLiteral("Slurm account for jobs."), QStringLiteral("A"));
    const QCommandLineOption slurmSharedOpt(QStringLiteral("slurm-shared"),
                                            QStringLiteral("Folder on storage shared with the nodes (workspaces, logs, results); required with --backend slurm."),
                                            QStringLiteral("DIR"));
    const QCommandLineOption slurmExtraOpt(QStringLiteral("slurm-extra"), QStringLiteral("More sbatch arguments, space-separated (e.g. \"--qos=long\")."), QStringLiteral("ARGS"));
    const QCommandLineOption buildImageOpt(QStringLiteral("build-image"),
                                           QStringLiteral("Build the guest image profile NAME (base, dev, or a recipe in DATA/images/recipes/NAME.conf) and exit."),
                                           QStringLiteral("NAME"));
    parser.addOptions({headlessOpt, dataDirOpt, listenOpt, maxParallelOpt, accelOpt, keepJobsOpt, keepDaysOpt, buildImageOpt,
                       checkpointsOpt, keepCheckpointsOpt, backendOpt, slurmPartitionOpt, slurmAccountOpt, slurmSharedOpt, slurmExtraOpt});
    parser.process(app); // --help, --version and unknown options end here

    if (parser.isSet(buildImageOpt))
        return buildImageCommand(parser.value(buildImageOpt).trimmed(), DataDir::resolve(parser.value(dataDirOpt)));

    if (!parser.isSet(headlessOpt)) {
        // Only reachable with --headless after "--" or similar oddities.
        std::fprintf(stderr, "magpie-desktop: the desktop window is not built yet; use --headless (see --help)\n");
        return 1;
    }

    HeadlessOptions opt;
    opt.dataDir = parser.value(dataDirOpt);
    opt.listen = parser.value(listenOpt);
    // A whole-number option from 0 to `max`, into *target when given; false (said on stderr) when bad.
    const auto number = [&parser](const QCommandLineOption &option, int max, const char *zero, int *target) {
        if (!parser.isSet(option))
            return true;
        bool ok = false;
        const int n = parser.value(option).toInt(&ok);
        if (!ok || n < 0 || n > max) {
            std::fprintf(stderr, "magpie-desktop: --%s must be a whole number from 0 to %d (0: %s)\n",
                         qPrintable(option.names().first()), max, zero);
            return false;
        }
        *target = n;
        return true;
    };
    if (!number(maxParallelOpt, 256, "the number of cores", &opt.maxParallel) || !number(keepJobsOpt, 10000000, "no limit", &opt.keepJobs)
        || !number(keepDaysOpt, 36500, "no limit", &opt.keepDays) || !number(keepCheckpointsOpt, 1000, "none kept", &opt.keepCheckpoints))
        return Headless::Usage;
    if (parser.isSet(accelOpt)) {
        AccelMode mode;
        if (!parseAccelMode(parser.value(accelOpt), &mode)) {
            std::fprintf(stderr, "magpie-desktop: --accel must be auto, tcg or kvm\n");
            return Headless::Usage;
        }
        opt.accel = mode;
    }
    if (parser.isSet(checkpointsOpt)) {
        const QString v = parser.value(checkpointsOpt);
        if (v != QLatin1String("on") && v != QLatin1String("off")) {
            std::fprintf(stderr, "magpie-desktop: --checkpoints must be on or off\n");
            return Headless::Usage;
        }
        opt.checkpoints = v == QLatin1String("on");
    }
    opt.backend = parser.value(backendOpt);
    if (opt.backend != QLatin1String("local") && opt.backend != QLatin1String("slurm")) {
        std::fprintf(stderr, "magpie-desktop: --backend must be local or slurm\n");
        return Headless::Usage;
    }
    if (opt.backend == QLatin1String("slurm")) {
        opt.slurm.partition = parser.value(slurmPartitionOpt);
        opt.slurm.account = parser.value(slurmAccountOpt);
        opt.slurm.sharedDir = parser.value(slurmSharedOpt);
        opt.slurm.extraArgs = QProcess::splitCommand(parser.value(slurmExtraOpt));
        opt.slurm.guestDir = qEnvironmentVariable("MAGPIE_GUEST_DIR");
        opt.slurm.snapshotDir = qEnvironmentVariable("MAGPIE_SLURM_SNAPSHOT_DIR");
        if (opt.slurm.sharedDir.isEmpty() || !QDir::isAbsolutePath(opt.slurm.sharedDir)) {
            std::fprintf(stderr, "magpie-desktop: --backend slurm needs --slurm-shared DIR (an absolute path the nodes see too)\n");
            return Headless::Usage;
        }
    }
    Headless server(opt);
    return server.exec();
}
