#include "GuestImage.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace magpie {

QStringList GuestImage::searchPath()
{
    QStringList dirs;
    const QString env = qEnvironmentVariable("MAGPIE_GUEST_DIR");
    if (!env.isEmpty())
        dirs << env;
    if (QCoreApplication::instance())
        dirs << QDir(QCoreApplication::applicationDirPath()).absoluteFilePath(QStringLiteral("../share/magpie-desktop/guest"));
#ifdef MAGPIE_GUEST_BUILD_DIR
    dirs << QStringLiteral(MAGPIE_GUEST_BUILD_DIR);
#endif
    return dirs;
}

GuestImage GuestImage::fromDir(const QString &dir)
{
    GuestImage img;
    img.dir = QDir(dir).absolutePath();
    img.kernel = img.dir + QStringLiteral("/vmlinuz");
    img.initrd = img.dir + QStringLiteral("/initrd.img");
    img.rootfs = img.dir + QStringLiteral("/rootfs.qcow2");
    QStringList missing;
    QString identity;
    for (const QString &f : {img.kernel, img.initrd, img.rootfs}) {
        QFileInfo fi(f);
        if (!fi.exists())
            missing << fi.fileName();
        else
            identity += QStringLiteral("%1:%2:%3;").arg(fi.canonicalFilePath()).arg(fi.size()).arg(fi.lastModified().toMSecsSinceEpoch());
    }
    if (!missing.isEmpty())
        img.error = QStringLiteral("%1 lacks %2").arg(img.dir, missing.join(QStringLiteral(", ")));
    img.identity = identity;
    return img;
}

GuestImage GuestImage::locate()
{
    const QStringList dirs = searchPath();
    QStringList tried;
    for (const QString &d : dirs) {
        GuestImage img = fromDir(d);
        if (img.isValid())
            return img;
        tried << img.error;
    }
    GuestImage none;
    none.error = QStringLiteral("no guest image found (build it with `cmake --build build --target guest-image` "
                                "or set MAGPIE_GUEST_DIR); looked in: %1")
                     .arg(tried.join(QStringLiteral("; ")));
    return none;
}

QString GuestImage::staleReason(const QString &dir, const QString &agentPath)
{
    QFile m(QDir(dir).filePath(QStringLiteral("manifest.json")));
    if (!m.open(QIODevice::ReadOnly))
        return QStringLiteral("%1 has no manifest.json (it was not made by packaging/guest/build-image.sh)").arg(dir);
    const QString have = QJsonDocument::fromJson(m.readAll()).object().value(QStringLiteral("agent_hash")).toString();
    QFile agent(agentPath);
    if (agentPath.isEmpty() || !agent.open(QIODevice::ReadOnly))
        return QString();
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&agent);
    const QString want = QString::fromLatin1(h.result().toHex());
    if (have != want)
        return QStringLiteral("the guest agent in %1 (%2) is not the one this build made (%3)")
            .arg(dir, have.isEmpty() ? QStringLiteral("unknown") : have.left(12), want.left(12));
    return QString();
}

} // namespace magpie
