#include "GuiSettingsStore.h"

#include "DataDir.h"

#include <QSettings>

namespace magpie {

ui::WindowSettings GuiSettingsStore::toWindow(const Settings &s)
{
    ui::WindowSettings w;
    w.dataDir = s.dataDir;
    w.maxParallel = s.maxParallel;
    w.defaultVcpus = s.defaultVcpus;
    w.defaultMemoryMb = s.defaultMemoryMb;
    w.accel = s.accel;
    w.keepJobs = s.keepJobs;
    w.keepDays = s.keepDays;
    w.httpEnabled = s.httpEnabled;
    w.httpPort = s.httpPort;
    w.closeToTray = s.closeToTray;
    w.theme = s.theme;
    w.backend = s.backend;
    w.slurmPartition = s.slurmPartition;
    w.slurmAccount = s.slurmAccount;
    w.slurmShared = s.slurmShared;
    w.slurmExtra = s.slurmExtra;
    return w;
}

Settings GuiSettingsStore::fromWindow(const ui::WindowSettings &w)
{
    Settings s;
    s.dataDir = w.dataDir;
    s.maxParallel = w.maxParallel;
    s.defaultVcpus = w.defaultVcpus;
    s.defaultMemoryMb = w.defaultMemoryMb;
    s.accel = w.accel;
    s.keepJobs = w.keepJobs;
    s.keepDays = w.keepDays;
    s.httpEnabled = w.httpEnabled;
    s.httpPort = w.httpPort;
    s.closeToTray = w.closeToTray;
    s.theme = w.theme;
    s.backend = w.backend == QLatin1String("slurm") ? QStringLiteral("slurm") : QStringLiteral("local");
    s.slurmPartition = w.slurmPartition;
    s.slurmAccount = w.slurmAccount;
    s.slurmShared = w.slurmShared;
    s.slurmExtra = w.slurmExtra;
    return s;
}

ui::WindowSettings GuiSettingsStore::load() const
{
    ui::WindowSettings w = toWindow(Settings::load());
    // Checkpoints before stateful jobs (issue 11): the window's own keys in the settings file.
    auto st = Settings::store();
    w.checkpoints = st->value(QStringLiteral("workspaces/checkpoints"), true).toBool();
    w.keepCheckpoints = qBound(1, st->value(QStringLiteral("workspaces/keepCheckpoints"), 10).toInt(), 1000);
    return w;
}

bool GuiSettingsStore::save(const ui::WindowSettings &settings, QString *error)
{
    if (!fromWindow(settings).save(error))
        return false;
    auto st = Settings::store();
    st->setValue(QStringLiteral("workspaces/checkpoints"), settings.checkpoints);
    st->setValue(QStringLiteral("workspaces/keepCheckpoints"), settings.keepCheckpoints);
    st->sync();
    if (st->status() != QSettings::NoError) {
        if (error)
            *error = QStringLiteral("cannot write %1").arg(st->fileName());
        return false;
    }
    return true;
}

std::unique_ptr<QSettings> GuiSettingsStore::stateStore() const
{
    return Settings::store();
}

QString GuiSettingsStore::defaultDataDir() const
{
    return DataDir::defaultPath();
}

} // namespace magpie
