#include "GuestImageSetup.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace magpie {

ui::ImageSetup guestImageSetup()
{
    ui::ImageSetup s;
    const QString env = qEnvironmentVariable("MAGPIE_GUEST_DIR");
    const QDir share(QCoreApplication::applicationDirPath() + QStringLiteral("/../share/magpie-desktop"));
    // The Debian package keeps the builder and its agent (arch-dependent) under lib/.
    const QDir lib(QCoreApplication::applicationDirPath() + QStringLiteral("/../lib/magpie-desktop"));
    QString installed = lib.absoluteFilePath(QStringLiteral("guest-builder/build-image.sh"));
    if (!QFileInfo::exists(installed))
        installed = share.absoluteFilePath(QStringLiteral("guest-builder/build-image.sh"));
    if (QFileInfo::exists(installed)) {
        s.builder = QDir::cleanPath(installed);
        s.agent = QDir::cleanPath(QFileInfo(installed).absoluteDir().absoluteFilePath(QStringLiteral("magpie-agent")));
        s.outDir = QDir::cleanPath(env.isEmpty() ? share.absoluteFilePath(QStringLiteral("guest")) : QDir(env).absolutePath());
        return s;
    }
    const QString script = QStringLiteral(MAGPIE_SOURCE_DIR "/packaging/guest/build-image.sh");
    if (QFileInfo::exists(script) && QFileInfo::exists(QStringLiteral(MAGPIE_AGENT_BUILD_PATH))) {
        s.builder = script;
        s.agent = QStringLiteral(MAGPIE_AGENT_BUILD_PATH);
    }
    s.outDir = QDir::cleanPath(env.isEmpty() ? QStringLiteral(MAGPIE_GUEST_BUILD_DIR) : QDir(env).absolutePath());
    return s;
}

} // namespace magpie
