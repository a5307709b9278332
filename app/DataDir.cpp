#include "DataDir.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace magpie {

DataDir::DataDir(QString path) : m_path(resolve(path)) {}

DataDir::~DataDir()
{
    if (m_wroteEndpoint)
        removeEndpoint();
    unlock();
}

QString DataDir::defaultPath()
{
    // On Linux AppDataLocation is GenericDataLocation/<organization>/<application>, without the
    // organization part when it is empty; this is that for "magpie-desktop" and no
    // organization, computed without touching the QCoreApplication's names.
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.local/share");
    return QDir::cleanPath(base + QLatin1Char('/') + QLatin1String(kAppName));
}

QString DataDir::resolve(const QString &given)
{
    if (given.isEmpty())
        return defaultPath();
    QString p = given;
    if (p == QLatin1String("~") || p.startsWith(QLatin1String("~/")))
        p = QDir::homePath() + p.mid(1);
    return QDir::cleanPath(QDir::current().absoluteFilePath(p));
}

QString DataDir::lockPath() const
{
    return m_path + QStringLiteral("/magpie.lock");
}

QString DataDir::endpointPath() const
{
    return m_path + QStringLiteral("/endpoint.json");
}

QString DataDir::apiKeyPath() const
{
    return m_path + QStringLiteral("/api-key");
}

bool DataDir::isPrivateFolder(const QString &path, QString *why)
{
    struct stat st {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0) {
        *why = QStringLiteral("cannot read %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        *why = QStringLiteral("the data folder %1 exists but is not a folder").arg(path);
        return false;
    }
    if (st.st_uid != ::geteuid()) {
        *why = QStringLiteral("refusing the data folder %1: it belongs to uid %2, not to you (uid %3); "
                              "use a folder of your own (--data-dir)")
                   .arg(path).arg(st.st_uid).arg(::geteuid());
        return false;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        *why = QStringLiteral("refusing the data folder %1: it is writable by %2 (mode %3), so someone else could plant "
                              "files in it; run: chmod go-w '%1' (or chmod 700)")
                   .arg(path, (st.st_mode & S_IWOTH) ? QStringLiteral("everyone") : QStringLiteral("its group"))
                   .arg(QString::number(st.st_mode & 07777, 8).rightJustified(4, QLatin1Char('0')));
        return false;
    }
    return true;
}

bool DataDir::prepare(QString *error, bool *unsafe)
{
    if (unsafe)
        *unsafe = false;
    QFileInfo fi(m_path);
    if (!fi.exists() && !fi.isSymLink()) {
        // The parents as usual, the folder itself created private (no window with looser bits).
        const QString parent = QFileInfo(m_path).absolutePath();
        if (!QDir().mkpath(parent) || (::mkdir(QFile::encodeName(m_path).constData(), 0700) != 0 && errno != EEXIST)) {
            *error = QStringLiteral("cannot create the data folder %1: %2").arg(m_path, QString::fromLocal8Bit(std::strerror(errno)));
            return false;
        }
    }
    QString why;
    if (!isPrivateFolder(m_path, &why)) {
        *error = why;
        if (unsafe)
            *unsafe = true;
        return false;
    }
    if (!QFileInfo(m_path).isWritable()) {
        *error = QStringLiteral("the data folder %1 is not writable").arg(m_path);
        return false;
    }
    return true;
}

bool DataDir::lock(QString *error)
{
    if (m_lockFd >= 0)
        return true;
    const QByteArray path = QFile::encodeName(lockPath());
    // O_CLOEXEC matters: a QEMU child that inherited the descriptor would keep holding the
    // lock after this process died.
    // O_NOFOLLOW: a symlink planted in place of the lock is refused, never followed.
    const int fd = ::open(path.constData(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *error = QStringLiteral("cannot open the lock file %1: %2").arg(lockPath(), QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    int rc;
    do {
        rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int err = errno;
        QByteArray holder(64, '\0');
        const ssize_t n = ::pread(fd, holder.data(), holder.size() - 1, 0);
        ::close(fd);
        holder.truncate(n > 0 ? int(n) : 0);
        const QString pid = QString::fromLatin1(holder.trimmed());
        if (err == EWOULDBLOCK) {
            *error = QStringLiteral("another Magpie Desktop process%1 is already using the data folder %2; "
                                    "stop it first or pass a different --data-dir")
                         .arg(pid.isEmpty() ? QString() : QStringLiteral(" (pid %1)").arg(pid), m_path);
        } else {
            *error = QStringLiteral("cannot lock %1: %2").arg(lockPath(), QString::fromLocal8Bit(std::strerror(err)));
        }
        return false;
    }
    const QByteArray me = QByteArray::number(qint64(::getpid())) + '\n';
    if (::ftruncate(fd, 0) == 0)
        (void)!::pwrite(fd, me.constData(), size_t(me.size()), 0);
    m_lockFd = fd;
    return true;
}

void DataDir::unlock()
{
    if (m_lockFd < 0)
        return;
    // The file stays (removing a flock file races with a process about to lock it); it is
    // emptied so no stale pid is shown.
    (void)!::ftruncate(m_lockFd, 0);
    ::flock(m_lockFd, LOCK_UN);
    ::close(m_lockFd);
    m_lockFd = -1;
}

bool DataDir::writeEndpoint(const QString &url, const QString &apiKeyFile, QString *error)
{
    const QJsonObject o{
        {QStringLiteral("url"), url},
        {QStringLiteral("pid"), qint64(::getpid())},
        {QStringLiteral("api_key_file"), apiKeyFile.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(apiKeyFile)},
        {QStringLiteral("started_at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)},
    };
    QSaveFile f(endpointPath());
    if (!f.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("cannot write %1: %2").arg(endpointPath(), f.errorString());
        return false;
    }
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(QJsonDocument(o).toJson(QJsonDocument::Indented));
    if (!f.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(endpointPath(), f.errorString());
        return false;
    }
    m_wroteEndpoint = true;
    return true;
}

void DataDir::removeEndpoint()
{
    QFile::remove(endpointPath());
    m_wroteEndpoint = false;
}

} // namespace magpie
