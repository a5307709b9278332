// Settings.h — the desktop app's persistent settings (QSettings, INI format).
//
// The file is <QStandardPaths::AppConfigLocation>/magpie-desktop.conf, normally
// ~/.config/magpie-desktop/magpie-desktop.conf; MAGPIE_SETTINGS_FILE names another file, and
// QStandardPaths::setTestModeEnabled(true) moves it under ~/.qttest/ (for tests).
// Command-line options of a single run (--data-dir, --listen, …) override these values
// without being saved. The window's own state (geometry, columns, last tab) is stored in the
// same file under "ui/…" by the window itself (see store()).
#pragma once

#include "Accelerator.h"

#include <QString>
#include <memory>

class QSettings;

namespace magpie {

class Settings
{
public:
    static constexpr const char *kEnvVar = "MAGPIE_SETTINGS_FILE";
    static constexpr int kDefaultHttpPort = 0;   // 0: any free port (endpoint.json tells clients)

    QString dataDir;             // empty: DataDir::defaultPath()
    int maxParallel = 0;         // 0: the number of cores
    int defaultVcpus = 1;
    int defaultMemoryMb = 512;
    int keepJobs = 0;            // history retention: finished jobs kept (0: all)
    int keepDays = 0;            // finished jobs kept this many days (0: forever)
    AccelMode accel = AccelMode::Auto;
    bool httpEnabled = true;
    int httpPort = kDefaultHttpPort;  // 0..65535
    bool closeToTray = true;     // closing the window keeps the app running in the tray
    QString theme = QStringLiteral("system"); // system | light | dark
    // Where jobs run (docs/slurm.md): "local" or "slurm", with the cluster's partition, account,
    // shared folder and extra sbatch arguments.
    QString backend = QStringLiteral("local");
    QString slurmPartition, slurmAccount, slurmShared, slurmExtra;

    // The settings file in use.
    static QString filePath();
    // A QSettings on that file (for the window's own "ui/…" keys).
    static std::unique_ptr<QSettings> store();

    // Reads the file; missing or out-of-range values fall back to the defaults above.
    static Settings load();
    // Writes every value. False with *error when the file cannot be written.
    bool save(QString *error = nullptr) const;
};

} // namespace magpie
