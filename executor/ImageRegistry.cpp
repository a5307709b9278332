#include "ImageRegistry.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <algorithm>

namespace magpie {

ImageRegistry::ImageRegistry(QString dataDir, GuestImage base)
    : m_dataDir(std::move(dataDir)), m_base(std::move(base))
{
    if (m_base.dir.isEmpty())
        m_base = GuestImage::locate();
}

bool ImageRegistry::isValidName(const QString &name)
{
    static const QRegularExpression re(QStringLiteral("^[a-z0-9][a-z0-9._-]{0,39}$"));
    return re.match(name).hasMatch();
}

QStringList ImageRegistry::builtInRecipeDirs()
{
    QStringList dirs;
    const QString env = qEnvironmentVariable("MAGPIE_PROFILES_DIR");
    if (!env.isEmpty())
        dirs << env;
    if (QCoreApplication::instance())
        dirs << QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(QStringLiteral("../share/magpie-desktop/profiles"));
#ifdef MAGPIE_PROFILES_SOURCE_DIR
    dirs << QStringLiteral(MAGPIE_PROFILES_SOURCE_DIR);
#endif
    return dirs;
}

std::optional<ImageProfile> ImageRegistry::parseRecipe(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    ImageProfile p;
    p.recipePath = QFileInfo(path).absoluteFilePath();
    static const QRegularExpression pkgRe(QStringLiteral("^[a-z0-9][a-z0-9+.-]+$"));
    int lineNo = 0;
    while (!f.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        const int eq = line.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            if (error)
                *error = QStringLiteral("%1 line %2: expected KEY=VALUE").arg(path).arg(lineNo);
            return std::nullopt;
        }
        const QString key = line.left(eq).trimmed();
        const QString value = line.mid(eq + 1).trimmed();
        if (key == QLatin1String("name")) {
            p.name = value;
        } else if (key == QLatin1String("description")) {
            p.description = value;
        } else if (key == QLatin1String("packages")) {
            p.packages = QString(value).replace(QLatin1Char(','), QLatin1Char(' ')).split(QLatin1Char(' '), Qt::SkipEmptyParts);
            for (const QString &pkg : p.packages) {
                if (!pkgRe.match(pkg).hasMatch()) {
                    if (error)
                        *error = QStringLiteral("%1: '%2' is not a Debian package name").arg(path, pkg);
                    return std::nullopt;
                }
            }
        } else if (key == QLatin1String("setup")) {
            p.setupScript = value.isEmpty() ? QString() : QFileInfo(path).absoluteDir().absoluteFilePath(value);
        }
    }
    if (!isValidName(p.name)) {
        if (error)
            *error = QStringLiteral("%1: name must be 1-40 of a-z, 0-9, '.', '_', '-' (got '%2')").arg(path, p.name);
        return std::nullopt;
    }
    if (!p.setupScript.isEmpty() && !QFileInfo(p.setupScript).isFile()) {
        if (error)
            *error = QStringLiteral("%1: setup script %2 not found").arg(path, p.setupScript);
        return std::nullopt;
    }
    return p;
}

QList<ImageProfile> ImageRegistry::profiles() const
{
    QList<ImageProfile> builtIn, user;
    QStringList seen;
    auto scan = [&seen](const QString &dir, bool isBuiltIn, QList<ImageProfile> *out) {
        const QStringList files = QDir(dir).entryList({QStringLiteral("*.conf")}, QDir::Files, QDir::Name);
        for (const QString &f : files) {
            QString err;
            auto p = parseRecipe(QDir(dir).filePath(f), &err);
            if (!p || seen.contains(p->name))
                continue;
            p->builtIn = isBuiltIn;
            seen << p->name;
            out->append(*p);
        }
    };
    for (const QString &d : builtInRecipeDirs()) {
        if (QFileInfo(d).isDir()) {
            scan(d, true, &builtIn); // the first folder that exists holds the built-in recipes
            break;
        }
    }
    if (!seen.contains(defaultName())) {
        ImageProfile base;
        base.name = defaultName();
        base.description = QStringLiteral("the default guest image");
        base.builtIn = true;
        builtIn.prepend(base);
        seen << base.name;
    }
    scan(userRecipeDir(), false, &user);
    auto byName = [](const ImageProfile &a, const ImageProfile &b) {
        if ((a.name == QLatin1String("base")) != (b.name == QLatin1String("base")))
            return a.name == QLatin1String("base");
        return a.name < b.name;
    };
    std::sort(builtIn.begin(), builtIn.end(), byName);
    std::sort(user.begin(), user.end(), byName);
    return builtIn + user;
}

QStringList ImageRegistry::names() const
{
    QStringList n;
    for (const ImageProfile &p : profiles())
        n << p.name;
    return n;
}

std::optional<ImageProfile> ImageRegistry::profile(const QString &name) const
{
    for (const ImageProfile &p : profiles())
        if (p.name == name)
            return p;
    return std::nullopt;
}

bool ImageRegistry::installStaged(const QString &staged, const QString &finalDir, QString *error)
{
    const GuestImage img = GuestImage::fromDir(staged);
    if (!img.isValid()) {
        if (error)
            *error = QStringLiteral("the build left no complete image: %1").arg(img.error);
        return false;
    }
    const QString old = finalDir + QStringLiteral(".old");
    QDir(old).removeRecursively();
    QDir().mkpath(QFileInfo(finalDir).absolutePath());
    if (QFileInfo::exists(finalDir) && !QDir().rename(finalDir, old)) {
        if (error)
            *error = QStringLiteral("cannot move %1 aside").arg(finalDir);
        return false;
    }
    if (!QDir().rename(staged, finalDir)) {
        QDir().rename(old, finalDir);
        if (error)
            *error = QStringLiteral("cannot rename %1 to %2").arg(staged, finalDir);
        return false;
    }
    QDir(old).removeRecursively();
    return true;
}

GuestImage ImageRegistry::resolve(const QString &name) const
{
    const QString n = name.isEmpty() ? defaultName() : name;
    if (n == defaultName())
        return m_base;
    GuestImage none;
    if (!profile(n)) {
        none.error = QStringLiteral("unknown image '%1'; available: %2").arg(n, names().join(QStringLiteral(", ")));
        return none;
    }
    QStringList dirs{userImageDir(n)};
    if (!m_base.dir.isEmpty())
        dirs << m_base.dir + QLatin1Char('-') + n;
#ifdef MAGPIE_GUEST_BUILD_DIR
    dirs << QStringLiteral(MAGPIE_GUEST_BUILD_DIR) + QLatin1Char('-') + n;
#endif
    if (QCoreApplication::instance())
        dirs << QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(QStringLiteral("../share/magpie-desktop/guest-") + n);
    for (const QString &d : dirs) {
        GuestImage img = GuestImage::fromDir(d);
        if (img.isValid())
            return img;
    }
    none.error = QStringLiteral("image '%1' is not built yet: build it with `magpie-desktop --build-image %1` "
                                "(or from the New Job dialog); looked in %2")
                     .arg(n, dirs.join(QStringLiteral(", ")));
    return none;
}

} // namespace magpie
