#include "HttpResponder.h"

#include "HttpConnection.h"

namespace magpie::http {

HttpResponder::HttpResponder(HttpConnection *connection, quint64 serial) : m_conn(connection), m_serial(serial) {}

bool HttpResponder::alive() const
{
    return m_conn && m_conn->awaitsAnswer(m_serial);
}

void HttpResponder::send(HttpResponse response)
{
    if (alive())
        m_conn->sendResponse(m_serial, std::move(response));
}

bool HttpResponder::beginStream(HttpResponse head)
{
    return alive() && m_conn->beginStream(m_serial, std::move(head));
}

bool HttpResponder::write(const QByteArray &piece)
{
    return m_conn && m_conn->writeStream(m_serial, piece);
}

void HttpResponder::end()
{
    if (m_conn)
        m_conn->endStream(m_serial);
}

qint64 HttpResponder::pendingBytes() const
{
    return m_conn ? m_conn->pendingBytes() : 0;
}

bool HttpResponder::streaming() const
{
    return m_conn && m_conn->isStreaming(m_serial);
}

QMetaObject::Connection HttpResponder::onWritable(QObject *context, std::function<void()> f) const
{
    if (!m_conn)
        return {};
    return QObject::connect(m_conn.data(), &HttpConnection::writable, context, std::move(f));
}

QMetaObject::Connection HttpResponder::onGone(QObject *context, std::function<void()> f) const
{
    if (!m_conn)
        return {};
    return QObject::connect(m_conn.data(), &QObject::destroyed, context, std::move(f));
}

} // namespace magpie::http
