// BenchHttp.h — a minimal blocking HTTP/1.1 client over one kept-alive socket, for the bench
// programs that drive the real server (no Qt network stack in the measured path).
#pragma once

#include <QByteArray>
#include <QRegularExpression>
#include <QTcpSocket>

namespace magpie::bench {

class Http
{
public:
    Http(quint16 port, QByteArray key) : m_port(port), m_key(std::move(key)) {}
    int request(const QByteArray &method, const QByteArray &target, const QByteArray &body = QByteArray(), QByteArray *out = nullptr)
    {
        if (m_s.state() != QAbstractSocket::ConnectedState) {
            m_s.connectToHost(QStringLiteral("127.0.0.1"), m_port);
            if (!m_s.waitForConnected(5000))
                return 0;
        }
        QByteArray req = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_key + "\r\n";
        if (!body.isEmpty() || method == "POST")
            req += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
        m_s.write(req + "\r\n" + body);
        QByteArray buf;
        qsizetype end = -1;
        qint64 len = -1;
        while (true) {
            if (end < 0 && (end = buf.indexOf("\r\n\r\n")) >= 0) {
                const QRegularExpression re(QStringLiteral("content-length: *(\\d+)"), QRegularExpression::CaseInsensitiveOption);
                len = re.match(QString::fromLatin1(buf.left(end))).captured(1).toLongLong();
            }
            if (end >= 0 && buf.size() >= end + 4 + len)
                break;
            if (!m_s.waitForReadyRead(30000))
                return 0;
            buf += m_s.readAll();
        }
        if (out)
            *out = buf.mid(end + 4, len);
        return buf.mid(9, 3).toInt();
    }

private:
    QTcpSocket m_s;
    quint16 m_port;
    QByteArray m_key;
};

} // namespace magpie::bench
