// WindowSettings.h — the settings the window shows and changes, and where it keeps them. The
// app (app/GuiSettingsStore) fills them from its settings file and saves them back; ui/ never
// sees that file's format. The window's own state (geometry, columns, last tab) goes to
// stateStore() under "ui/…".
#pragma once

#include "Accelerator.h"

#include <QString>
#include <memory>

class QSettings;

namespace magpie::ui {

struct WindowSettings {
    QString dataDir;             // empty: the default folder (SettingsStore::defaultDataDir)
    int maxParallel = 0;         // 0: the number of cores
    int defaultVcpus = 1;
    int defaultMemoryMb = 512;
    AccelMode accel = AccelMode::Auto;
    int keepJobs = 0;            // history retention: finished jobs kept (0: all)
    int keepDays = 0;            // and for how many days (0: forever)
    bool checkpoints = true;     // a "before-<job>" snapshot before each stateful job
    int keepCheckpoints = 10;    // the newest N of them kept per workspace
    bool httpEnabled = true;
    int httpPort = 0;            // 0: any free port
    bool closeToTray = true;
    QString theme = QStringLiteral("system"); // system | light | dark
    // Where jobs run (docs/slurm.md), read when the app starts: "local" (QEMU here) or "slurm",
    // with the cluster's partition and account (empty: the defaults), the shared folder (an
    // absolute path the nodes see too) and extra sbatch arguments (split by QProcess::splitCommand).
    QString backend = QStringLiteral("local");
    QString slurmPartition, slurmAccount, slurmShared, slurmExtra;
};

class SettingsStore
{
public:
    virtual ~SettingsStore() = default;
    virtual WindowSettings load() const = 0;
    // False with *error when the settings could not be written.
    virtual bool save(const WindowSettings &settings, QString *error) = 0;
    // A QSettings for the window's own keys ("ui/geometry", …).
    virtual std::unique_ptr<QSettings> stateStore() const = 0;
    virtual QString defaultDataDir() const = 0;
};

} // namespace magpie::ui
