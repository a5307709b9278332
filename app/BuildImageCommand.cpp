#include "BuildImageCommand.h"

#include "GuestImageSetup.h"
#include "ImageBuilder.h"
#include "ImageRegistry.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>

#include <cstdio>

namespace magpie {

int buildImageCommand(const QString &name, const QString &dataDir)
{
    const ImageRegistry registry(dataDir);
    const auto profile = registry.profile(name);
    if (!profile) {
        std::fprintf(stderr, "magpie-desktop: unknown image '%s'; available: %s (a recipe of your own goes in %s/NAME.conf)\n",
                     qPrintable(name), qPrintable(registry.names().join(QStringLiteral(", "))), qPrintable(registry.userRecipeDir()));
        return 2;
    }
    ui::ImageSetup setup = guestImageSetup();
    if (!setup.canBuild()) {
        std::fprintf(stderr, "magpie-desktop: this installation has no guest image builder\n");
        return 1;
    }
    QString finalDir;
    if (name != ImageRegistry::defaultName()) {
        finalDir = registry.userImageDir(name);
        setup.recipe = profile->recipePath;
        setup.outDir = ImageRegistry::stagingDir(finalDir);
        QDir(setup.outDir).removeRecursively();
    }
    ui::ImageBuilder builder(setup);
    QEventLoop loop;
    int rc = 1;
    QObject::connect(&builder, &ui::ImageBuilder::output, [](const QString &text) {
        std::fputs(text.toUtf8().constData(), stdout);
        std::fflush(stdout);
    });
    QObject::connect(&builder, &ui::ImageBuilder::finished, [&](bool ok, const QString &message) {
        rc = ok ? 0 : 1;
        if (ok && !finalDir.isEmpty()) {
            QString err;
            if (!ImageRegistry::installStaged(setup.outDir, finalDir, &err)) {
                std::fprintf(stderr, "magpie-desktop: %s\n", qPrintable(err));
                rc = 1;
            }
        } else if (!ok && !finalDir.isEmpty()) {
            QDir(setup.outDir).removeRecursively();
        }
        std::fprintf(rc == 0 ? stdout : stderr, "magpie-desktop: %s\n",
                     qPrintable(rc == 0 ? QStringLiteral("image '%1' is ready in %2").arg(name, finalDir.isEmpty() ? setup.outDir : finalDir)
                                        : message));
        loop.quit();
    });
    std::printf("magpie-desktop: building image '%s': %s\n", qPrintable(name), qPrintable(setup.commandLine(false)));
    QString err;
    if (!builder.start(&err)) {
        std::fprintf(stderr, "magpie-desktop: %s\n", qPrintable(err));
        return 1;
    }
    loop.exec();
    return rc;
}

} // namespace magpie
