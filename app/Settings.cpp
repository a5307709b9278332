#include "Settings.h"

#include "JobRequest.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

namespace magpie {

QString Settings::filePath()
{
    const QString env = qEnvironmentVariable(kEnvVar);
    if (!env.isEmpty())
        return QFileInfo(env).absoluteFilePath();
    // AppConfigLocation depends on the application and organization names; build the path
    // from GenericConfigLocation so it is the same whatever those are set to.
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation);
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.config");
    return base + QStringLiteral("/magpie-desktop/magpie-desktop.conf");
}

std::unique_ptr<QSettings> Settings::store()
{
    const QString path = filePath();
    QDir().mkpath(QFileInfo(path).absolutePath());
    return std::make_unique<QSettings>(path, QSettings::IniFormat);
}

Settings Settings::load()
{
    Settings s;
    auto st = store();
    auto intIn = [&](const char *key, int def, int lo, int hi) {
        bool ok = false;
        const int v = st->value(QLatin1String(key), def).toInt(&ok);
        return ok && v >= lo && v <= hi ? v : def;
    };
    s.dataDir = st->value(QStringLiteral("dataDir")).toString().trimmed();
    s.maxParallel = intIn("maxParallel", 0, 0, 256);
    s.defaultVcpus = intIn("defaultVcpus", JobLimits::kDefaultVcpus, JobLimits::kMinVcpus, JobLimits::kMaxVcpus);
    s.defaultMemoryMb = intIn("defaultMemoryMb", JobLimits::kDefaultMemoryMb, JobLimits::kMinMemoryMb, JobLimits::kMaxMemoryMb);
    s.keepJobs = intIn("history/keepJobs", 0, 0, 10000000);
    s.keepDays = intIn("history/keepDays", 0, 0, 36500);
    AccelMode mode = AccelMode::Auto;
    if (parseAccelMode(st->value(QStringLiteral("accelerator"), QStringLiteral("auto")).toString(), &mode))
        s.accel = mode;
    s.httpEnabled = st->value(QStringLiteral("http/enabled"), true).toBool();
    s.httpPort = intIn("http/port", kDefaultHttpPort, 0, 65535);
    s.closeToTray = st->value(QStringLiteral("closeToTray"), true).toBool();
    const QString theme = st->value(QStringLiteral("theme"), QStringLiteral("system")).toString();
    s.theme = (theme == QLatin1String("light") || theme == QLatin1String("dark")) ? theme : QStringLiteral("system");
    s.backend = st->value(QStringLiteral("backend/kind"), QStringLiteral("local")).toString() == QLatin1String("slurm") ? QStringLiteral("slurm")
                                                                                                                    : QStringLiteral("local");
    s.slurmPartition = st->value(QStringLiteral("backend/slurmPartition")).toString().trimmed();
    s.slurmAccount = st->value(QStringLiteral("backend/slurmAccount")).toString().trimmed();
    s.slurmShared = st->value(QStringLiteral("backend/slurmShared")).toString().trimmed();
    s.slurmExtra = st->value(QStringLiteral("backend/slurmExtra")).toString().trimmed();
    return s;
}

bool Settings::save(QString *error) const
{
    auto st = store();
    st->setValue(QStringLiteral("dataDir"), dataDir);
    st->setValue(QStringLiteral("maxParallel"), maxParallel);
    st->setValue(QStringLiteral("defaultVcpus"), defaultVcpus);
    st->setValue(QStringLiteral("defaultMemoryMb"), defaultMemoryMb);
    st->setValue(QStringLiteral("history/keepJobs"), keepJobs);
    st->setValue(QStringLiteral("history/keepDays"), keepDays);
    st->setValue(QStringLiteral("accelerator"), accelModeName(accel));
    st->setValue(QStringLiteral("http/enabled"), httpEnabled);
    st->setValue(QStringLiteral("http/port"), httpPort);
    st->setValue(QStringLiteral("closeToTray"), closeToTray);
    st->setValue(QStringLiteral("theme"), theme);
    st->setValue(QStringLiteral("backend/kind"), backend);
    st->setValue(QStringLiteral("backend/slurmPartition"), slurmPartition);
    st->setValue(QStringLiteral("backend/slurmAccount"), slurmAccount);
    st->setValue(QStringLiteral("backend/slurmShared"), slurmShared);
    st->setValue(QStringLiteral("backend/slurmExtra"), slurmExtra);
    st->sync();
    if (st->status() != QSettings::NoError) {
        if (error)
            *error = QStringLiteral("cannot write the settings file %1").arg(st->fileName());
        return false;
    }
    return true;
}

} // namespace magpie
