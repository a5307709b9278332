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
    const QString installed = share.absoluteFilePath(QStringLiteral("guest-builder/build-image.sh"));
    if (QFileInfo::exists(installed)) {
        s.builder = QDir::cleanPath(installed);
        s.agent = QDir::cleanPath(share.absoluteFilePath(QStringLiteral("guest-builder/magpie-agent")));
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
