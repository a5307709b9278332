#include "HttpRequest.h"

#include <QFile>
#include <QTemporaryFile>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace magpie::http {

QByteArray HttpRequest::header(const QByteArray &name) const
{
    for (const auto &h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    return QByteArray();
}

bool HttpRequest::hasHeader(const QByteArray &name) const
{
    for (const auto &h : headers)
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

bool HttpRequest::wantsKeepAlive() const
{
    // Connection is a comma-separated list of tokens; several headers add up.
    bool close = false, keep = false;
    for (const auto &h : headers) {
        if (h.first != "connection")
            continue;
        for (const QByteArray &t : h.second.split(',')) {
            const QByteArray token = t.trimmed().toLower();
            close |= token == "close";
            keep |= token == "keep-alive";
        }
    }
    if (close)
        return false;
    return minorVersion >= 1 || keep;
}

QString HttpRequest::bodyFilePath() const
{
    return bodyFile ? bodyFile->fileName() : QString();
}

bool HttpRequest::takeBodyFile(const QString &destination, QString *error)
{
    if (!bodyFile) {
        if (error)
            *error = QStringLiteral("the request has no body file");
        return false;
    }
    bodyFile->close();
    const QByteArray from = QFile::encodeName(bodyFile->fileName());
    if (std::rename(from.constData(), QFile::encodeName(destination).constData()) != 0) {
        if (error)
            *error = QStringLiteral("cannot move the upload to %1: %2").arg(destination, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    bodyFile->setAutoRemove(false);
    bodyFile.reset();
    return true;
}

} // namespace magpie::http
