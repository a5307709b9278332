// HttpResponse.h — an answer: status, headers and a body sent with Content-Length. (A body that
// is produced while it is sent goes through HttpResponder::beginStream instead.) The connection
// adds Content-Length, Connection and, for streams, Transfer-Encoding itself.
//
// Errors use the API's one shape: {"error": {"code", "message", "field"?}}.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>

namespace magpie::http {

class HttpResponse
{
public:
    HttpResponse() = default;
    HttpResponse(int status, QByteArray contentType, QByteArray body);

    // application/json with Cache-Control: no-store.
    static HttpResponse json(int status, const QJsonObject &object);
    // The error shape above; a 401 also carries WWW-Authenticate.
    static HttpResponse error(int status, const QString &code, const QString &message, const QString &field = QString());

    void addHeader(const QByteArray &name, const QByteArray &value) { headers.append({name, value}); }
    QByteArray header(const QByteArray &name) const;
    bool hasHeader(const QByteArray &name) const;

    static QByteArray reasonPhrase(int status);
    // Whether a response with this status carries no body by definition (1xx, 204, 304).
    static bool bodyless(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

    int status = 200;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
};

} // namespace magpie::http
