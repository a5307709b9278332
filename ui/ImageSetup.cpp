#include "ImageSetup.h"

#include "GuestImage.h"
#include "UiFormat.h"

#include <QDir>
#include <QRegularExpression>

namespace magpie::ui {

QStringList ImageSetup::arguments() const
{
    QStringList args{builder, QStringLiteral("--agent"), agent, QStringLiteral("--out"), outDir};
    if (!recipe.isEmpty())
        args << QStringLiteral("--recipe") << recipe;
    return args;
}

QString ImageSetup::commandLine(bool withSudo) const
{
    QStringList parts{QStringLiteral("bash")};
    for (const QString &a : arguments())
        parts << (a.contains(QRegularExpression(QStringLiteral("[^A-Za-z0-9_./=:-]"))) ? shellQuote(a) : a);
    return (withSudo ? QStringLiteral("sudo ") : QString()) + parts.join(QLatin1Char(' '));
}

ImageStatus ImageStatus::of(const GuestImage &image, const ImageSetup &setup)
{
    ImageStatus s;
    if (!image.isValid()) {
        s.state = Missing;
        s.reason = image.error;
        return s;
    }
    // Only an image this installation builds is compared with the agent it builds.
    const QString why = GuestImage::staleReason(image.dir, QDir::cleanPath(image.dir) == QDir::cleanPath(setup.outDir) ? setup.agent : QString());
    if (!why.isEmpty()) {
        s.state = Stale;
        s.reason = why;
    }
    return s;
}

} // namespace magpie::ui
