// HttpConnection.h — one client connection of the HttpServer: reads a request head (bounded in
// size and time), routes it and asks the gate (the API key) before reading any of the body,
// reads the body within the route's limit at a minimum rate (to memory or a temporary file),
// hands the request to the route's handler, and writes its answer with backpressure. Requests
// on one connection are answered in order (keep-alive, pipelining); while a request is being
// handled nothing more is read, and Qt's socket buffer is capped, so a client that floods the
// connection only fills kernel buffers.
//
// Answers that end the connection (a rejected body, a parse error, "Connection: close") are
// followed by a short lingering close: the write side is shut, unread input drained for at most
// HttpLimits::lingerMs / lingerBytes, so the client reads the answer rather than a reset.
#pragma once

#include "ChunkedDecoder.h"
#include "HeadParser.h"
#include "HttpLimits.h"
#include "HttpRequest.h"
#include "HttpResponse.h"
#include "Router.h"

#include <QByteArray>
#include <QObject>
#include <QTimer>
#include <functional>
#include <optional>

class QTcpSocket;

namespace magpie::http {

// What every connection of one server shares.
struct ConnectionContext {
    const Router *router = nullptr;
    HttpLimits limits;
    // Called with the request head of a route whose options say needsAuth, before any body is
    // read: an answer to send instead (e.g. 401), or nullopt to go on.
    std::function<std::optional<HttpResponse>(const HttpRequest &head, const RouteOptions &options)> gate;
    // The answer for a request no route matches (404 by default).
    std::function<HttpResponse(const HttpRequest &head)> notFound;
};

class HttpConnection : public QObject
{
    Q_OBJECT
public:
    // Takes ownership of `socket` (connected).
    HttpConnection(QTcpSocket *socket, const ConnectionContext &context, QObject *parent = nullptr);
    ~HttpConnection() override;

    void abort();                              // closes now, pending output dropped
    int requestsServed() const { return m_served; }

signals:
    void writable();                           // a streamed answer may take more
    void finished();                           // closed; the object deletes itself

private:
    friend class HttpResponder;
    enum class State {
        Head,       // waiting for (the rest of) a request head
        Body,       // reading the body of an accepted request
        Handling,   // the handler has the request; nothing more is read
        Sending,    // writing a fixed answer's body
        Streaming,  // the handler writes a streamed body
        Lingering,  // answer written, connection closing
        Done,
    };

    bool awaitsAnswer(quint64 serial) const { return serial == m_serial && m_state == State::Handling; }
    bool isStreaming(quint64 serial) const { return serial == m_serial && m_state == State::Streaming; }
    void sendResponse(quint64 serial, HttpResponse &&response);
    bool beginStream(quint64 serial, HttpResponse &&head);
    bool writeStream(quint64 serial, const QByteArray &piece);
    void endStream(quint64 serial);
    qint64 pendingBytes() const;

    void processInput();
    void scheduleInput();
    void startHead();
    void onHead(const HeadResult &head);
    void readBody();
    bool sinkBody(const char *data, qint64 size);
    void dispatch();
    // Answers without (or instead of) the handler; `close` ends the connection afterwards.
    void answerNow(HttpResponse &&response, bool close);
    void fail(int status, const QString &message);
    QByteArray headBytes(const HttpResponse &response, bool chunked) const;
    void pump();
    void responseDone();
    void startLinger();
    void shutdownWrite();
    void onTimer();
    void onBytesWritten();
    void finish();

    QTcpSocket *m_socket;
    const ConnectionContext &m_ctx;
    State m_state = State::Head;
    QByteArray m_in;                 // read from the socket, not yet consumed
    HttpRequest m_req;
    const Router::Route *m_route = nullptr;
    quint64 m_serial = 0;
    int m_served = 0;
    bool m_closeAfter = false;
    // body
    qint64 m_contentLength = -1;
    bool m_chunked = false;
    ChunkedDecoder m_decoder;
    qint64 m_received = 0;
    qint64 m_windowBytes = 0;
    // output
    QByteArray m_outBody;
    qint64 m_outPos = 0;
    bool m_streamChunked = false;
    bool m_lingerWaitsFlush = false;
    qint64 m_lingerDrained = 0;
    bool m_inputQueued = false;
    bool m_flushing = false;          // inside our own flush(): bytesWritten is not acted on
    void flushNow();
    QTimer m_timer;                  // head deadline, body rate window, linger
    QTimer m_writeTimer;             // write stall
};

} // namespace magpie::http
