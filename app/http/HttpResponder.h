// HttpResponder.h — how a handler answers its request: at once or later (a held long-poll, a
// file operation that boots a VM), in one piece or streamed. A small copyable handle: it stays
// valid after the handler returns, and every call on it is a no-op once the client has gone or
// the answer was sent.
//
// Streaming (large downloads): beginStream() sends the head with Transfer-Encoding: chunked
// (HTTP/1.0: no length, the connection closes at the end), then write() pieces and end().
// Keep pendingBytes() small: write while it is under HttpLimits::streamLowWater and resume
// from onWritable().
#pragma once

#include "HttpResponse.h"

#include <QMetaObject>
#include <QPointer>
#include <functional>

namespace magpie::http {

class HttpConnection;

class HttpResponder
{
public:
    HttpResponder() = default;

    // The client is connected and this request has not been answered yet.
    bool alive() const;
    void send(HttpResponse response);

    bool beginStream(HttpResponse head);     // the head's body is ignored
    bool write(const QByteArray &piece);     // false once the client is gone (stop producing)
    void end();
    qint64 pendingBytes() const;             // written, not yet taken by the kernel
    bool streaming() const;

    // Calls `f` (in `context`'s thread) when a stream may take more, or when the client is gone.
    QMetaObject::Connection onWritable(QObject *context, std::function<void()> f) const;
    QMetaObject::Connection onGone(QObject *context, std::function<void()> f) const;

private:
    friend class HttpConnection;
    HttpResponder(HttpConnection *connection, quint64 serial);
    QPointer<HttpConnection> m_conn;
    quint64 m_serial = 0;
};

} // namespace magpie::http
