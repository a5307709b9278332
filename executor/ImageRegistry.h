// ImageRegistry.h — the guest image profiles a job can run on (`image` of a job) and where each
// one's built image is.
//
// Profiles come from recipes (KEY=VALUE files: name, description, packages, setup):
//   - built-in ones (packaging/guest/profiles/*.conf; installed to share/magpie-desktop/profiles)
//   - the user's, <data folder>/images/recipes/NAME.conf (a setup script path is relative to it)
// `base` is always there: it is the image GuestImage::locate() finds. Another profile's image is
// the first folder holding one of: <data folder>/images/NAME (what --build-image writes),
// <base image folder>-NAME, <build tree guest folder>-NAME, share/magpie-desktop/guest-NAME.
#pragma once

#include "GuestImage.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace magpie {

struct ImageProfile {
    QString name;
    QString description;
    QStringList packages;   // extra Debian packages over base
    QString setupScript;    // absolute path, or empty
    QString recipePath;     // the .conf file ("" for a base with no recipe file)
    bool builtIn = false;
};

class ImageRegistry
{
public:
    explicit ImageRegistry(QString dataDir, GuestImage base = GuestImage());

    static QString defaultName() { return QStringLiteral("base"); }
    static bool isValidName(const QString &name);
    // Parses a recipe file; nullopt (and *error) when it is unreadable or malformed.
    static std::optional<ImageProfile> parseRecipe(const QString &path, QString *error);
    // Folders searched for the built-in recipes.
    static QStringList builtInRecipeDirs();

    QString userRecipeDir() const { return m_dataDir + QStringLiteral("/images/recipes"); }
    // Where --build-image NAME puts the image it builds.
    QString userImageDir(const QString &name) const { return m_dataDir + QStringLiteral("/images/") + name; }

    // Every profile (built-in first, then the user's), sorted by name within each group.
    QList<ImageProfile> profiles() const;
    QStringList names() const;
    std::optional<ImageProfile> profile(const QString &name) const;
    // The built image of a profile, or an invalid GuestImage whose error says why (unknown
    // profile, or not built yet and how to build it).
    GuestImage resolve(const QString &name) const;
    bool isBuilt(const QString &name) const { return resolve(name).isValid(); }

    // A build writes into stagingDir(final) first; installStaged() then swaps it in (the old
    // image is removed only after the new one is in place), so a failed build changes nothing.
    static QString stagingDir(const QString &finalDir) { return finalDir + QStringLiteral(".partial"); }
    static bool installStaged(const QString &staged, const QString &finalDir, QString *error);

private:
    QString m_dataDir;
    GuestImage m_base;
};

} // namespace magpie
