#include "HttpConnection.h"

#include "HttpResponder.h"

#include <QDir>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTemporaryFile>

#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcHttpConn, "magpie.http.connection", QtWarningMsg)

namespace magpie::http {

namespace {
constexpr qint64 kPiece = 64 * 1024;          // socket reads and body writes, at most

QString codeFor(int status)
{
    switch (status) {
    case 400: return QStringLiteral("invalid_request");
    case 408: return QStringLiteral("timeout");
    case 413: return QStringLiteral("payload_too_large");
    case 417: return QStringLiteral("expectation_failed");
    case 431: return QStringLiteral("headers_too_large");
    case 501: return QStringLiteral("not_implemented");
    case 503: return QStringLiteral("unavailable");
    case 505: return QStringLiteral("http_version_not_supported");
    default: return status >= 500 ? QStringLiteral("internal") : QStringLiteral("invalid_request");
    }
}
} // namespace

HttpConnection::HttpConnection(QTcpSocket *socket, const ConnectionContext &context, QObject *parent)
    : QObject(parent), m_socket(socket), m_ctx(context)
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(m_ctx.limits.socketReadBuffer);
    // Answers go out in one or two writes; with Nagle a second small segment would wait for
    // the client's delayed ACK (40 ms).
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer); // a coarse timer may fire 5% early
    m_writeTimer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &HttpConnection::onTimer);
    connect(&m_writeTimer, &QTimer::timeout, this, [this] {
        qCDebug(lcHttpConn) << "the client read nothing for" << m_ctx.limits.writeStallMs << "ms; dropped";
        abort();
    });
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::processInput);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &HttpConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::finish);
    startHead();
    scheduleInput();
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::abort()
{
    if (m_state == State::Done)
        return;
    m_socket->abort();
    finish();
}

void HttpConnection::finish()
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    m_timer.stop();
    m_writeTimer.stop();
    m_req.bodyFile.reset();
    emit finished();
    deleteLater();
}

void HttpConnection::scheduleInput()
{
    if (m_inputQueued)
        return;
    m_inputQueued = true;
    QMetaObject::invokeMethod(this, [this] {
        m_inputQueued = false;
        processInput();
    }, Qt::QueuedConnection);
}

void HttpConnection::startHead()
{
    m_state = State::Head;
    m_req = HttpRequest();
    m_req.peer = m_socket->peerAddress();
    m_route = nullptr;
    m_contentLength = -1;
    m_chunked = false;
    m_decoder.reset();
    m_received = 0;
    m_windowBytes = 0;
    m_closeAfter = false;
    m_timer.start(m_ctx.limits.headTimeoutMs);
}

void HttpConnection::processInput()
{
    switch (m_state) {
    case State::Head: {
        if (m_in.size() <= m_ctx.limits.maxHeadBytes + 4 && m_socket->bytesAvailable() > 0)
            m_in += m_socket->read(kPiece);
        if (m_in.isEmpty())
            return;
        const HeadResult head = HeadParser::parse(m_in, m_ctx.limits, &m_req);
        if (head.outcome == HeadResult::Incomplete) {
            if (m_socket->bytesAvailable() > 0)
                scheduleInput();
            return;
        }
        if (head.outcome == HeadResult::Error)
            return fail(head.status, head.message);
        m_in.remove(0, head.consumed);
        onHead(head);
        return;
    }
    case State::Body:
        readBody();
        return;
    case State::Lingering:
        if (!m_lingerWaitsFlush) {
            m_lingerDrained += m_in.size();
            m_in.clear();
            while (m_socket->bytesAvailable() > 0)
                m_lingerDrained += m_socket->skip(m_socket->bytesAvailable());
            if (m_lingerDrained > m_ctx.limits.lingerBytes)
                abort();
        }
        return;
    default:
        return; // one request at a time: the rest waits (in bounded buffers)
    }
}

void HttpConnection::onHead(const HeadResult &head)
{
    m_timer.stop();
    m_closeAfter = !m_req.wantsKeepAlive();
    const bool hasBody = head.chunked || head.contentLength > 0;
    qCDebug(lcHttpConn) << m_req.method << m_req.target;
    if (!HeadParser::knownMethod(m_req.method))
        return answerNow(HttpResponse::error(501, codeFor(501),
                                             QStringLiteral("the method %1 is not supported").arg(QString::fromLatin1(m_req.method.left(32)))),
                         hasBody);
    const Router::Match match = m_ctx.router->match(m_req.method, m_req.path);
    if (!match.route) {
        HttpResponse r = m_ctx.notFound ? m_ctx.notFound(m_req)
                                        : HttpResponse::error(404, QStringLiteral("not_found"), QStringLiteral("no such route"));
        return answerNow(std::move(r), hasBody);
    }
    m_route = match.route;
    m_req.args = match.args;
    const RouteOptions &opt = m_route->options;
    if (opt.needsAuth && m_ctx.gate) {
        if (auto rejected = m_ctx.gate(m_req, opt))
            return answerNow(std::move(*rejected), hasBody); // the body is never read
    }
    if (head.badExpect)
        return answerNow(HttpResponse::error(417, codeFor(417), QStringLiteral("only 'Expect: 100-continue' is understood")), true);
    if (head.contentLength > opt.maxBodyBytes)
        return answerNow(HttpResponse::error(413, codeFor(413),
                                             QStringLiteral("the request body is %1 bytes; the limit is %2 bytes")
                                                 .arg(head.contentLength).arg(opt.maxBodyBytes)),
                         true);
    if (!hasBody)
        return dispatch();

    m_contentLength = head.chunked ? -1 : head.contentLength;
    m_chunked = head.chunked;
    if (opt.bodyToFile) {
        const QString dir = opt.tempDir.isEmpty() ? QDir::tempPath() : opt.tempDir;
        auto file = std::make_shared<QTemporaryFile>(dir + QStringLiteral("/magpie-upload-XXXXXX"));
        if (!file->open())
            return answerNow(HttpResponse::error(500, QStringLiteral("internal"),
                                                 QStringLiteral("cannot create a temporary file in %1: %2").arg(dir, file->errorString())),
                             true);
        m_req.bodyFile = std::move(file);
    } else if (m_contentLength > 0) {
        m_req.body.reserve(m_contentLength);
    }
    if (head.expectContinue)
        m_socket->write(QByteArrayLiteral("HTTP/1.1 100 Continue\r\n\r\n"));
    m_state = State::Body;
    m_timer.start(m_ctx.limits.bodyWindowMs);
    readBody();
}

bool HttpConnection::sinkBody(const char *data, qint64 size)
{
    if (size <= 0)
        return true;
    if (m_req.bodyFile) {
        if (m_req.bodyFile->write(data, size) != size) {
            fail(500, QStringLiteral("cannot write the request body to %1: %2").arg(m_req.bodyFile->fileName(), m_req.bodyFile->errorString()));
            return false;
        }
    } else {
        m_req.body.append(data, size);
    }
    return true;
}

void HttpConnection::readBody()
{
    const qint64 max = m_route->options.maxBodyBytes;
    bool needMore = false; // the decoder holds a partial size line: it needs more bytes
    while (m_state == State::Body) {
        if (m_in.isEmpty() || needMore) {
            const qint64 want = m_chunked ? kPiece : qMin(kPiece, m_contentLength - m_received);
            if (m_socket->bytesAvailable() <= 0)
                return; // more on readyRead
            const QByteArray more = m_socket->read(want);
            if (more.isEmpty())
                return;
            m_in += more;
            needMore = false;
        }
        if (!m_chunked) {
            const qint64 take = qMin<qint64>(m_contentLength - m_received, m_in.size());
            if (!sinkBody(m_in.constData(), take))
                return;
            m_in.remove(0, take);
            m_received += take;
            m_windowBytes += take;
            if (m_received == m_contentLength) {
                m_timer.stop();
                m_req.bodySize = m_received;
                dispatch();
            }
            continue;
        }
        const qint64 before = m_in.size();
        QByteArray payload;
        if (!m_decoder.feed(m_in, &payload))
            return fail(400, QStringLiteral("bad chunked body: %1").arg(m_decoder.error()));
        m_windowBytes += before - m_in.size();
        if (m_decoder.decoded() > max)
            return answerNow(HttpResponse::error(413, codeFor(413),
                                                 QStringLiteral("the chunked request body is over the limit of %1 bytes").arg(max)),
                             true);
        if (!sinkBody(payload.constData(), payload.size()))
            return;
        m_received = m_decoder.decoded();
        needMore = !m_in.isEmpty() && !m_decoder.done();
        if (m_decoder.done()) {
            m_timer.stop();
            m_req.bodySize = m_received;
            dispatch();
        }
    }
}

void HttpConnection::dispatch()
{
    m_state = State::Handling;
    ++m_serial;
    if (m_req.bodyFile)
        m_req.bodyFile->flush();
    // The handler gets its own copy (cheap: shared data), so that an answer sent from inside
    // it, which readies the connection for the next request, does not pull it away.
    HttpRequest request = m_req;
    m_route->handler(request, HttpResponder(this, m_serial));
}

void HttpConnection::answerNow(HttpResponse &&response, bool close)
{
    m_timer.stop();
    m_closeAfter = m_closeAfter || close;
    m_state = State::Handling;
    ++m_serial;
    sendResponse(m_serial, std::move(response));
}

void HttpConnection::fail(int status, const QString &message)
{
    qCDebug(lcHttpConn) << "rejected:" << status << message;
    answerNow(HttpResponse::error(status, codeFor(status), message), true);
}

QByteArray HttpConnection::headBytes(const HttpResponse &r, bool chunked) const
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(r.status) + ' ' + HttpResponse::reasonPhrase(r.status) + "\r\n";
    for (const auto &h : r.headers) {
        const QByteArray n = h.first.toLower();
        if (n == "content-length" || n == "transfer-encoding" || n == "connection")
            continue; // the connection's business
        out += h.first + ": " + h.second + "\r\n";
    }
    if (chunked)
        out += "Transfer-Encoding: chunked\r\n";
    else if (!HttpResponse::bodyless(r.status) && !(m_state == State::Streaming))
        out += "Content-Length: " + QByteArray::number(r.body.size()) + "\r\n";
    if (m_closeAfter)
        out += "Connection: close\r\n";
    else if (m_req.minorVersion == 0)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    return out;
}

void HttpConnection::sendResponse(quint64 serial, HttpResponse &&r)
{
    if (!awaitsAnswer(serial))
        return;
    m_state = State::Sending;
    QByteArray head = headBytes(r, false);
    m_outBody = (m_req.isHead() || HttpResponse::bodyless(r.status)) ? QByteArray() : std::move(r.body);
    m_outPos = 0;
    if (m_outBody.size() <= 64 * 1024) { // small: head and body in one write
        head += m_outBody;
        m_outPos = m_outBody.size();
    }
    m_socket->write(head);
    pump();
}

void HttpConnection::pump()
{
    const qint64 low = m_ctx.limits.streamLowWater;
    while (m_state == State::Sending && m_outPos < m_outBody.size() && m_socket->bytesToWrite() < low) {
        const qint64 n = qMin<qint64>(low, m_outBody.size() - m_outPos);
        m_socket->write(m_outBody.constData() + m_outPos, n);
        m_outPos += n;
    }
    flushNow();
    if (m_socket->bytesToWrite() > 0 && !m_writeTimer.isActive())
        m_writeTimer.start(m_ctx.limits.writeStallMs);
    if (m_state == State::Sending && m_outPos >= m_outBody.size())
        responseDone();
}

bool HttpConnection::beginStream(quint64 serial, HttpResponse &&head)
{
    if (!awaitsAnswer(serial))
        return false;
    m_streamChunked = m_req.minorVersion >= 1;
    if (!m_streamChunked)
        m_closeAfter = true; // HTTP/1.0: the end of the body is the end of the connection
    m_state = State::Streaming;
    m_socket->write(headBytes(head, m_streamChunked));
    if (m_req.isHead()) {
        m_state = State::Sending;
        m_outBody.clear();
        m_outPos = 0;
        pump();
        return false;
    }
    return true;
}

bool HttpConnection::writeStream(quint64 serial, const QByteArray &piece)
{
    if (!isStreaming(serial))
        return false;
    if (piece.isEmpty())
        return true;
    if (m_streamChunked)
        m_socket->write(QByteArray::number(piece.size(), 16) + "\r\n");
    m_socket->write(piece);
    if (m_streamChunked)
        m_socket->write("\r\n", 2);
    flushNow();
    if (!m_writeTimer.isActive())
        m_writeTimer.start(m_ctx.limits.writeStallMs);
    return true;
}

void HttpConnection::endStream(quint64 serial)
{
    if (!isStreaming(serial))
        return;
    if (m_streamChunked)
        m_socket->write("0\r\n\r\n", 5);
    responseDone();
}

// Hands the bytes to the kernel now, not when the event loop next gets to this socket (it may
// first run the work the request queued, e.g. a thousand submitted jobs). Qt may report
// bytesWritten from inside flush(); that must not re-enter pump() or a stream's producer.
void HttpConnection::flushNow()
{
    m_flushing = true;
    m_socket->flush();
    m_flushing = false;
    if (m_socket->bytesToWrite() == 0)
        m_writeTimer.stop();
}

qint64 HttpConnection::pendingBytes() const
{
    return m_socket->bytesToWrite();
}

void HttpConnection::responseDone()
{
    ++m_served;
    m_outBody.clear();
    m_outPos = 0;
    m_req.bodyFile.reset();
    if (m_closeAfter)
        return startLinger();
    startHead();
    scheduleInput();
}

void HttpConnection::startLinger()
{
    m_state = State::Lingering;
    m_timer.stop();
    m_lingerDrained = 0;
    if (m_socket->bytesToWrite() > 0) {
        m_lingerWaitsFlush = true; // shut the write side once everything is out (onBytesWritten)
        return;
    }
    shutdownWrite();
}

void HttpConnection::shutdownWrite()
{
    m_lingerWaitsFlush = false;
    const qintptr fd = m_socket->socketDescriptor();
    if (fd < 0 || ::shutdown(int(fd), SHUT_WR) != 0)
        return abort();
    m_timer.start(m_ctx.limits.lingerMs);
    processInput(); // drain what is already there
}

void HttpConnection::onBytesWritten()
{
    if (m_flushing)
        return; // the writer is still in its loop; later bytesWritten signals drive it
    if (m_socket->bytesToWrite() > 0)
        m_writeTimer.start(m_ctx.limits.writeStallMs);
    else
        m_writeTimer.stop();
    switch (m_state) {
    case State::Sending:
        pump();
        break;
    case State::Streaming:
        if (m_socket->bytesToWrite() < m_ctx.limits.streamLowWater)
            emit writable();
        break;
    case State::Lingering:
        if (m_lingerWaitsFlush && m_socket->bytesToWrite() == 0)
            shutdownWrite();
        break;
    default:
        break;
    }
}

void HttpConnection::onTimer()
{
    switch (m_state) {
    case State::Head: {
        // Nothing at all since the last answer: an idle keep-alive connection, closed quietly.
        bool partial = false;
        for (char c : std::as_const(m_in))
            partial |= c != '\r' && c != '\n';
        if (!partial && m_socket->bytesAvailable() == 0) {
            m_state = State::Lingering;
            m_socket->disconnectFromHost();
            if (m_socket->state() == QAbstractSocket::UnconnectedState)
                finish();
            return;
        }
        return fail(408, QStringLiteral("the request head did not arrive within %1 ms").arg(m_ctx.limits.headTimeoutMs));
    }
    case State::Body: {
        const qint64 left = m_chunked ? m_ctx.limits.minBodyBytesPerWindow : m_contentLength - m_received;
        if (m_windowBytes < qMin(left, m_ctx.limits.minBodyBytesPerWindow))
            return fail(408, QStringLiteral("the request body arrived too slowly (%1 bytes in %2 ms; at least %3 are needed)")
                                 .arg(m_windowBytes).arg(m_ctx.limits.bodyWindowMs).arg(m_ctx.limits.minBodyBytesPerWindow));
        m_windowBytes = 0;
        m_timer.start(m_ctx.limits.bodyWindowMs);
        return;
    }
    case State::Lingering:
        return abort();
    default:
        return;
    }
}

} // namespace magpie::http
