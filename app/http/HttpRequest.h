// HttpRequest.h — one parsed HTTP/1.x request as a handler sees it: the head (method, target,
// headers), the path segments the route captured, and the body, held in memory or — for a route
// with RouteOptions::bodyToFile — in a temporary file that is removed with the request unless
// the handler takes it.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <memory>

class QTemporaryFile;

namespace magpie::http {

class HttpRequest
{
public:
    QByteArray method;        // as sent ("GET", "POST", ...)
    QByteArray target;        // the request-target as sent
    QByteArray path;          // its path, still percent-encoded ("/api/v1/jobs/abc")
    QByteArray query;         // its query without '?', still encoded
    int minorVersion = 1;     // HTTP/1.<minorVersion>
    QList<QPair<QByteArray, QByteArray>> headers; // names in lower case, values trimmed
    QStringList args;         // the decoded path segments matched by the route's {…} parts
    QByteArray body;          // the body (empty for a bodyToFile route)
    qint64 bodySize = 0;      // bytes of body received (memory or file)
    QHostAddress peer;

    // The first value of a header (name compared case-insensitively), or empty.
    QByteArray header(const QByteArray &name) const;
    bool hasHeader(const QByteArray &name) const;
    // HTTP/1.1 keeps the connection unless "Connection: close"; 1.0 only with "keep-alive".
    bool wantsKeepAlive() const;
    bool isHead() const { return method == "HEAD"; }

    // bodyToFile routes: the temporary file holding the body (empty path otherwise).
    QString bodyFilePath() const;
    // Moves the body file to `destination` (same filesystem); it is then no longer removed.
    bool takeBodyFile(const QString &destination, QString *error);

    // Set by the connection.
    std::shared_ptr<QTemporaryFile> bodyFile;
};

} // namespace magpie::http
