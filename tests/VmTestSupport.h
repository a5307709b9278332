// VmTestSupport.h — helpers shared by the tests that boot real VMs.
#pragma once

#include "GuestImage.h"
#include "VmRunner.h"

#include <QByteArray>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <functional>

namespace magpie::test {

struct RunOutput {
    VmResult result;
    QByteArray out;
    QByteArray err;
};

// The guest image the tests use: MAGPIE_GUEST_DIR or the build tree's guest/ folder.
inline GuestImage testImage()
{
    return GuestImage::locate();
}

// Runs one VM to its end; `onOutput` may react to output (e.g. kill qemu mid-job).
inline RunOutput runVm(VmConfig cfg, const std::function<void(VmRunner &, const RunOutput &)> &onOutput = {},
                       int maxWaitMs = 180000)
{
    RunOutput ro;
    VmRunner runner(std::move(cfg));
    QEventLoop loop;
    bool done = false;
    QObject::connect(&runner, &VmRunner::output, [&](int stream, const QByteArray &data) {
        (stream == 1 ? ro.out : ro.err) += data;
        if (onOutput)
            onOutput(runner, ro);
    });
    QObject::connect(&runner, &VmRunner::finished, [&](const VmResult &r) {
        ro.result = r;
        done = true;
        loop.quit();
    });
    QTimer::singleShot(maxWaitMs, &loop, &QEventLoop::quit);
    QTimer::singleShot(0, &runner, &VmRunner::start);
    loop.exec();
    if (!done)
        ro.result.error = QStringLiteral("test harness: the VM did not finish in time");
    return ro;
}

// Counts running qemu processes whose command line contains `marker`.
inline int qemuProcessesWith(const QString &marker)
{
    int n = 0;
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &pid : pids) {
        bool ok = false;
        pid.toInt(&ok);
        if (!ok)
            continue;
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QByteArray cmd = f.readAll();
        if (cmd.contains("qemu-system") && cmd.contains(marker.toUtf8()))
            ++n;
    }
    return n;
}

} // namespace magpie::test
