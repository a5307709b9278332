// Router.h — maps a method and a path to a handler and the route's options. The match is made
// from the request head alone, so the connection knows the body limit (and whether the key is
// needed) before it reads a byte of the body.
//
// Patterns are literal segments and {name} captures: "/api/v1/jobs/{id}/logs". A capture
// matches one non-empty segment and is handed to the handler percent-decoded (so "%2F" inside
// a segment stays inside it). HEAD is served by the GET route of the same path.
#pragma once

#include "HttpRequest.h"
#include "HttpResponder.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <functional>

namespace magpie::http {

struct RouteOptions {
    static constexpr qint64 kDefaultMaxBody = 2 * 1024 * 1024;
    qint64 maxBodyBytes = kDefaultMaxBody; // 413 (and the connection closed) above it
    bool needsAuth = true;                 // checked by the server's gate before the body is read
    // The body goes to a temporary file in tempDir (QDir::tempPath() when empty) instead of
    // memory; for uploads far larger than what may be held in memory.
    bool bodyToFile = false;
    QString tempDir;
};

using HttpHandler = std::function<void(HttpRequest &request, HttpResponder responder)>;

class Router
{
public:
    struct Route {
        QByteArray method;
        QList<QString> segments;  // literal text, or empty for a capture
        QList<bool> capture;
        RouteOptions options;
        HttpHandler handler;
        QString pattern;
    };
    struct Match {
        const Route *route = nullptr;
        QStringList args;
        bool pathKnown = false;   // some route has this path (with another method)
    };

    void add(const QByteArray &method, const QString &pattern, HttpHandler handler, RouteOptions options = {});
    Match match(const QByteArray &method, const QByteArray &encodedPath) const;
    int size() const { return int(m_routes.size()); }

private:
    QList<Route> m_routes;
};

} // namespace magpie::http
