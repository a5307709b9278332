#include "ConsoleCapture.h"

#include <QLocalServer>
#include <QLocalSocket>

namespace magpie {

ConsoleCapture::ConsoleCapture(QObject *parent)
    : QObject(parent)
{
}

ConsoleCapture::~ConsoleCapture()
{
    close();
}

bool ConsoleCapture::listen(const QString &path, QString *error)
{
    QLocalServer::removeServer(path);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(path)) {
        *error = QStringLiteral("cannot listen on %1: %2").arg(path, m_server->errorString());
        return false;
    }
    connect(m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket *s = m_server->nextPendingConnection()) {
            if (m_sock) {
                s->abort();
                s->deleteLater();
                continue;
            }
            m_sock = s;
            connect(m_sock, &QLocalSocket::readyRead, this, &ConsoleCapture::onReadyRead);
        }
    });
    return true;
}

void ConsoleCapture::onReadyRead()
{
    const QByteArray data = m_sock->readAll();
    m_total += data.size();
    m_buf += data;
    if (m_buf.size() > 2 * kKeepBytes)
        m_buf = m_buf.right(kKeepBytes);
}

QByteArray ConsoleCapture::tail() const
{
    return m_buf.size() > kKeepBytes ? m_buf.right(kKeepBytes) : m_buf;
}

void ConsoleCapture::close()
{
    if (m_sock) {
        if (m_sock->bytesAvailable() > 0)
            onReadyRead();
        m_sock->abort();
    }
    if (m_server) {
        const QString path = m_server->fullServerName();
        m_server->close();
        QLocalServer::removeServer(path);
    }
}

} // namespace magpie
