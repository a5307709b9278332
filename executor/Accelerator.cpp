#include "Accelerator.h"

#include <QFile>
#include <unistd.h>

namespace magpie {

QString accelName(Accelerator a)
{
    return a == Accelerator::Kvm ? QStringLiteral("kvm") : QStringLiteral("tcg");
}

QString accelModeName(AccelMode m)
{
    switch (m) {
    case AccelMode::Auto: return QStringLiteral("auto");
    case AccelMode::Tcg: return QStringLiteral("tcg");
    case AccelMode::Kvm: return QStringLiteral("kvm");
    }
    return QString();
}

bool parseAccelMode(const QString &text, AccelMode *out)
{
    const QString t = text.trimmed().toLower();
    if (t == QLatin1String("auto")) *out = AccelMode::Auto;
    else if (t == QLatin1String("tcg")) *out = AccelMode::Tcg;
    else if (t == QLatin1String("kvm")) *out = AccelMode::Kvm;
    else return false;
    return true;
}

AccelMode accelModeFromEnvironment(AccelMode fallback)
{
    AccelMode m;
    if (parseAccelMode(qEnvironmentVariable("MAGPIE_ACCEL"), &m))
        return m;
    return fallback;
}

bool kvmDeviceUsable()
{
    return ::access("/dev/kvm", R_OK | W_OK) == 0;
}

} // namespace magpie
