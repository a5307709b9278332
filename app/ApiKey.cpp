#include "ApiKey.h"

#include "DataDir.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace magpie {

namespace {
QString sysError()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

// Writes `data` to `path` with mode 0600: a temporary file created 0600 next to it, synced,
// then renamed over the target, so a reader never sees a partial key.
bool writePrivateFile(const QString &path, const QByteArray &data, QString *error)
{
    const QByteArray tmp = QFile::encodeName(path + QStringLiteral(".tmp-%1").arg(::getpid()));
    ::unlink(tmp.constData());
    const int fd = ::open(tmp.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = QStringLiteral("cannot create %1: %2").arg(QFile::decodeName(tmp), sysError());
        return false;
    }
    qint64 done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.constData() + done, size_t(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error = QStringLiteral("cannot write %1: %2").arg(QFile::decodeName(tmp), sysError());
            ::close(fd);
            ::unlink(tmp.constData());
            return false;
        }
        done += n;
    }
    ::fchmod(fd, 0600); // in case of an unusual umask or ACL default
    ::fsync(fd);
    ::close(fd);
    if (::rename(tmp.constData(), QFile::encodeName(path).constData()) != 0) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, sysError());
        ::unlink(tmp.constData());
        return false;
    }
    return true;
}
} // namespace

QByteArray ApiKey::generate()
{
    QByteArray raw(32, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(raw.data()),
                                         reinterpret_cast<quint32 *>(raw.data() + raw.size()));
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

bool ApiKey::equals(const QByteArray &a, const QByteArray &b)
{
    // Hashing first makes both sides the same length, so neither the position of the first
    // difference nor the length of the secret shows in the time taken.
    const QByteArray ha = QCryptographicHash::hash(a, QCryptographicHash::Sha256);
    const QByteArray hb = QCryptographicHash::hash(b, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (int i = 0; i < ha.size(); ++i)
        diff |= static_cast<unsigned char>(ha.at(i) ^ hb.at(i));
    return diff == 0 && !a.isEmpty();
}

bool ApiKey::isUsable(const QByteArray &key, QString *why)
{
    if (key.isEmpty() || key.size() > 4096) {
        if (why)
            *why = QStringLiteral("the key must be 1 to 4096 characters long");
        return false;
    }
    for (char c : key) {
        if (c <= 0x20 || c >= 0x7f) {
            if (why)
                *why = QStringLiteral("the key may only hold printable ASCII characters without spaces");
            return false;
        }
    }
    return true;
}

std::optional<ApiKey> ApiKey::load(const QString &dataDir, QString *error, bool *unsafe)
{
    if (unsafe)
        *unsafe = false;
    auto refuse = [&](const QString &why) -> std::optional<ApiKey> {
        *error = why;
        if (unsafe)
            *unsafe = true;
        return std::nullopt;
    };
    ApiKey k;
    const QByteArray env = qgetenv(kEnvVar).trimmed();
    if (!env.isEmpty()) {
        QString why;
        if (!isUsable(env, &why)) {
            *error = QStringLiteral("%1 is not usable: %2").arg(QLatin1String(kEnvVar), why);
            return std::nullopt;
        }
        k.m_key = env;
        return k;
    }

    // A key in a folder that someone else can write may have been planted there.
    QString why;
    if (!DataDir::isPrivateFolder(dataDir, &why))
        return refuse(why);

    const QString path = QDir(dataDir).filePath(QLatin1String(kFileName));
    const QByteArray native = QFile::encodeName(path);
    k.m_file = path;
    const int fd = ::open(native.constData(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ELOOP)
        return refuse(QStringLiteral("refusing the API key file %1: it is a symbolic link; delete it to get a new key").arg(path));
    if (fd < 0 && errno != ENOENT) {
        *error = QStringLiteral("cannot read the API key file %1: %2").arg(path, sysError());
        return std::nullopt;
    }
    if (fd >= 0) {
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            return refuse(QStringLiteral("refusing the API key file %1: it is not a regular file; delete it to get a new key").arg(path));
        }
        if (st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
            ::close(fd);
            return refuse(QStringLiteral("refusing the API key file %1: it %2, so someone else could have written it; "
                                         "delete it to get a new key")
                              .arg(path, st.st_uid != ::geteuid() ? QStringLiteral("belongs to uid %1").arg(st.st_uid)
                                                                  : QStringLiteral("is writable by group or others")));
        }
        QByteArray stored(8192, Qt::Uninitialized);
        const ssize_t n = ::read(fd, stored.data(), size_t(stored.size()));
        if (st.st_mode & 077)
            ::fchmod(fd, 0600); // readable by others: tightened
        ::close(fd);
        stored.truncate(n > 0 ? int(n) : 0);
        stored = stored.trimmed();
        if (!stored.isEmpty()) {
            if (!isUsable(stored, &why)) {
                *error = QStringLiteral("the API key file %1 is not usable (%2); delete it to get a new key").arg(path, why);
                return std::nullopt;
            }
            k.m_key = stored;
            return k;
        }
        // An empty file: make a new key below.
    }
    k.m_key = generate();
    if (!writePrivateFile(path, k.m_key + '\n', error))
        return std::nullopt;
    return k;
}

} // namespace magpie
