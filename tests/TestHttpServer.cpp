// TestHttpServer — the bounded HTTP/1.1 front (app/http/) in-process, no VM: the head parser,
// the chunked decoder and the router as functions, then a real HttpServer on 127.0.0.1 (in its
// own thread) driven over real sockets with short limits: keep-alive and pipelining, HEAD,
// unknown methods, the gate deciding before any body is read, 413 for Content-Length and for
// chunked bodies, 431, head and body timeouts, the connection limit, bodies streamed to a
// file, streamed answers and Expect: 100-continue.
#include "http/ChunkedDecoder.h"
#include "http/HeadParser.h"
#include "http/HttpServer.h"
#include "http/Router.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QSemaphore>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QtTest>

#include <atomic>

using namespace magpie::http;

namespace {

// What the server side saw, read by the test thread.
struct Seen {
    std::atomic<int> echoCalls{0};
    std::atomic<int> secureCalls{0};
    std::atomic<qint64> lastUploadSize{-1};
    QMutex mutex;
    QString lastUploadPath;
    QByteArray lastUploadSha;
};

// The server and its routes in a thread of their own, so the test can use blocking sockets.
class ServerThread : public QThread
{
public:
    ServerThread(HttpLimits limits, Seen &seen, QString tmp) : m_limits(limits), m_seen(seen), m_tmp(std::move(tmp)) {}
    quint16 port = 0;
    QSemaphore ready;

    void run() override
    {
        Router router;
        router.add("GET", QStringLiteral("/hello"), [](HttpRequest &, HttpResponder r) {
            r.send(HttpResponse(200, "text/plain", "hello"));
        });
        router.add("GET", QStringLiteral("/items/{id}"), [](HttpRequest &q, HttpResponder r) {
            r.send(HttpResponse(200, "text/plain", q.args.at(0).toUtf8()));
        });
        RouteOptions small;
        small.maxBodyBytes = 1024;
        router.add("POST", QStringLiteral("/echo"), [this](HttpRequest &q, HttpResponder r) {
            ++m_seen.echoCalls;
            r.send(HttpResponse(200, "application/octet-stream", q.body));
        }, small);
        RouteOptions upload;
        upload.maxBodyBytes = 8 * 1024 * 1024;
        upload.bodyToFile = true;
        upload.tempDir = m_tmp;
        router.add("PUT", QStringLiteral("/upload"), [this](HttpRequest &q, HttpResponder r) {
            QFile f(q.bodyFilePath());
            QByteArray sha;
            if (f.open(QIODevice::ReadOnly))
                sha = QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex();
            {
                QMutexLocker lock(&m_seen.mutex);
                m_seen.lastUploadPath = q.bodyFilePath();
                m_seen.lastUploadSha = sha;
            }
            m_seen.lastUploadSize = q.bodySize;
            r.send(HttpResponse(200, "text/plain", QByteArray::number(q.bodySize) + " " + QByteArray::number(q.body.size()) + sha));
        }, upload);
        RouteOptions secure;
        secure.maxBodyBytes = 64 * 1024 * 1024;
        router.add("POST", QStringLiteral("/secure"), [this](HttpRequest &q, HttpResponder r) {
            ++m_seen.secureCalls;
            r.send(HttpResponse(200, "text/plain", QByteArray::number(q.body.size())));
        }, secure);
        router.add("GET", QStringLiteral("/held"), [](HttpRequest &, HttpResponder r) {
            QTimer::singleShot(300, [r]() mutable { r.send(HttpResponse(200, "text/plain", "late")); });
        });
        // A streamed answer: 40 pieces of 64 KiB, written only while little is queued.
        router.add("GET", QStringLiteral("/stream"), [](HttpRequest &, HttpResponder r) {
            if (!r.beginStream(HttpResponse(200, "application/octet-stream", QByteArray())))
                return;
            auto sent = std::make_shared<int>(0);
            auto ctx = new QObject;
            auto more = [r, sent, ctx]() mutable {
                while (*sent < 40 && r.pendingBytes() < 256 * 1024) {
                    if (!r.write(QByteArray(64 * 1024, char('a' + *sent % 26)))) {
                        ctx->deleteLater();
                        return;
                    }
                    ++*sent;
                }
                if (*sent == 40) {
                    r.end();
                    ctx->deleteLater();
                }
            };
            r.onWritable(ctx, more);
            r.onGone(ctx, [ctx] { ctx->deleteLater(); });
            more();
        });
        HttpServer server(router, m_limits);
        server.setGate([](const HttpRequest &head, const RouteOptions &) -> std::optional<HttpResponse> {
            if (head.path == "/secure" && head.header("x-key") != "k")
                return HttpResponse::error(401, QStringLiteral("unauthorized"), QStringLiteral("no key"));
            return std::nullopt;
        });
        QString err;
        if (server.listen(QHostAddress::LocalHost, 0, &err))
            port = server.port();
        ready.release();
        exec();
    }

private:
    HttpLimits m_limits;
    Seen &m_seen;
    QString m_tmp;
};

struct Reply {
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    bool closed = false;   // the server closed the connection after this answer
    QByteArray header(const QByteArray &n) const
    {
        for (const auto &h : headers)
            if (h.first.compare(n, Qt::CaseInsensitive) == 0)
                return h.second;
        return QByteArray();
    }
};

// Reads one answer from a blocking socket (Content-Length, chunked or until close).
std::optional<Reply> readReply(QTcpSocket &s, QByteArray &buf, bool head = false, int timeoutMs = 10000)
{
    QDeadlineTimer dl(timeoutMs);
    auto fill = [&]() -> bool {
        if (s.bytesAvailable() == 0 && !s.waitForReadyRead(int(qMax<qint64>(1, dl.remainingTime()))))
            return false;
        buf += s.readAll();
        return true;
    };
    qsizetype end;
    while ((end = buf.indexOf("\r\n\r\n")) < 0)
        if (!fill())
            return std::nullopt;
    Reply r;
    const QList<QByteArray> lines = buf.left(end).split('\n');
    r.status = lines.value(0).split(' ').value(1).toInt();
    for (int i = 1; i < lines.size(); ++i) {
        const qsizetype c = lines[i].indexOf(':');
        if (c > 0)
            r.headers.append({lines[i].left(c).trimmed(), lines[i].mid(c + 1).trimmed()});
    }
    buf.remove(0, end + 4);
    if (r.status == 100)
        return r;
    if (head)
        return r;
    if (r.header("Transfer-Encoding") == "chunked") {
        for (;;) {
            qsizetype nl;
            while ((nl = buf.indexOf("\r\n")) < 0)
                if (!fill())
                    return std::nullopt;
            const qint64 size = buf.left(nl).toLongLong(nullptr, 16);
            while (buf.size() < nl + 2 + size + 2)
                if (!fill())
                    return std::nullopt;
            r.body += buf.mid(nl + 2, size);
            buf.remove(0, nl + 2 + size + 2);
            if (size == 0)
                break;
        }
    } else if (!r.header("Content-Length").isEmpty()) {
        const qint64 len = r.header("Content-Length").toLongLong();
        while (buf.size() < len)
            if (!fill())
                return std::nullopt;
        r.body = buf.left(len);
        buf.remove(0, len);
    } else {
        while (fill()) {
        }
        r.body = buf;
        buf.clear();
    }
    r.closed = r.header("Connection") == "close";
    return r;
}

// Whether the server closes the connection within `ms` (reads and drops what comes).
bool closedWithin(QTcpSocket &s, int ms)
{
    QDeadlineTimer dl(ms);
    while (!dl.hasExpired()) {
        if (s.state() != QAbstractSocket::ConnectedState)
            return true;
        if (s.waitForReadyRead(int(qMax<qint64>(1, dl.remainingTime()))))
            s.readAll();
        else if (s.state() != QAbstractSocket::ConnectedState || s.error() == QAbstractSocket::RemoteHostClosedError)
            return true;
    }
    return s.state() != QAbstractSocket::ConnectedState;
}

HttpLimits testLimits()
{
    HttpLimits l;
    l.headTimeoutMs = 600;
    l.bodyWindowMs = 500;
    l.minBodyBytesPerWindow = 1024;
    l.maxConnections = 6;
    l.lingerMs = 300;
    return l;
}

} // namespace

class TestHttpServer : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    Seen m_seen;
    std::unique_ptr<ServerThread> m_server;

    bool connect(QTcpSocket &s)
    {
        s.connectToHost(QHostAddress::LocalHost, m_server->port);
        return s.waitForConnected(3000);
    }
    std::optional<Reply> request(const QByteArray &raw, bool head = false)
    {
        QTcpSocket s;
        if (!connect(s))
            return std::nullopt;
        s.write(raw);
        s.waitForBytesWritten(3000);
        QByteArray buf;
        return readReply(s, buf, head);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_server = std::make_unique<ServerThread>(testLimits(), m_seen, m_tmp.path());
        m_server->start();
        m_server->ready.acquire();
        QVERIFY(m_server->port != 0);
    }
    void cleanupTestCase()
    {
        m_server->quit();
        m_server->wait();
    }

    // ---------------------------------------------------------------- functions
    void headParser_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<int>("outcome");
        QTest::addColumn<int>("status");
        const int C = HeadResult::Complete, I = HeadResult::Incomplete, E = HeadResult::Error;
        QTest::newRow("simple") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << C << 0;
        QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost: x\n\n") << C << 0;
        QTest::newRow("leading CRLF") << QByteArray("\r\n\r\nGET / HTTP/1.1\r\n\r\n") << C << 0;
        QTest::newRow("incomplete") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n") << I << 0;
        QTest::newRow("http/1.0") << QByteArray("GET / HTTP/1.0\r\n\r\n") << C << 0;
        QTest::newRow("http/2") << QByteArray("GET / HTTP/2.0\r\n\r\n") << E << 505;
        QTest::newRow("no version") << QByteArray("GET /\r\n\r\n") << E << 400;
        QTest::newRow("two spaces") << QByteArray("GET  / HTTP/1.1\r\n\r\n") << E << 400;
        QTest::newRow("bad target") << QByteArray("GET x HTTP/1.1\r\n\r\n") << E << 400;
        QTest::newRow("absolute form") << QByteArray("GET http://h:1/a?b HTTP/1.1\r\n\r\n") << C << 0;
        QTest::newRow("folding") << QByteArray("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n") << E << 400;
        QTest::newRow("no colon") << QByteArray("GET / HTTP/1.1\r\nAb\r\n\r\n") << E << 400;
        QTest::newRow("space in name") << QByteArray("GET / HTTP/1.1\r\nA b: c\r\n\r\n") << E << 400;
        QTest::newRow("NUL") << QByteArray("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 27) << E << 400;
        QTest::newRow("bare CR") << QByteArray("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n") << E << 400;
        QTest::newRow("CL and TE") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") << E << 400;
        QTest::newRow("two CLs") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n") << E << 400;
        QTest::newRow("same CL twice") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n") << C << 0;
        QTest::newRow("CL negative") << QByteArray("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") << E << 400;
        QTest::newRow("CL hex") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n") << E << 400;
        QTest::newRow("CL huge") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") << E << 400;
        QTest::newRow("TE gzip") << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") << E << 501;
        QTest::newRow("TE in 1.0") << QByteArray("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") << E << 400;
        QTest::newRow("head too large") << QByteArray("GET / HTTP/1.1\r\nA: " + QByteArray(17000, 'a')) << E << 431;
        QTest::newRow("head too large complete") << QByteArray("GET / HTTP/1.1\r\nA: " + QByteArray(17000, 'a') + "\r\n\r\n") << E << 431;
        QByteArray many("GET / HTTP/1.1\r\n");
        for (int i = 0; i < 101; ++i)
            many += "H" + QByteArray::number(i) + ": v\r\n";
        QTest::newRow("101 headers") << many + "\r\n" << E << 431;
    }
    void headParser()
    {
        QFETCH(QByteArray, raw);
        QFETCH(int, outcome);
        QFETCH(int, status);
        HttpRequest r;
        const HeadResult res = HeadParser::parse(raw, HttpLimits(), &r);
        QVERIFY2(res.outcome == outcome, qPrintable(res.message));
        QCOMPARE(res.status, status);
        if (outcome == HeadResult::Complete)
            QVERIFY(r.path.startsWith('/'));
    }
    void headParserFields()
    {
        HttpRequest r;
        const QByteArray raw("POST /a/b%20c?x=1&y=%2B HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                             "Connection: close\r\n\r\nhello");
        const HeadResult res = HeadParser::parse(raw, HttpLimits(), &r);
        QCOMPARE(res.outcome, HeadResult::Complete);
        QCOMPARE(res.consumed, raw.size() - 5);
        QCOMPARE(res.contentLength, 5);
        QVERIFY(res.expectContinue);
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.path, QByteArray("/a/b%20c"));
        QCOMPARE(r.query, QByteArray("x=1&y=%2B"));
        QCOMPARE(r.header("HOST"), QByteArray("h"));
        QVERIFY(!r.wantsKeepAlive());
        HttpRequest a;
        HeadParser::parse("GET http://host:8/p/q?z HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HttpLimits(), &a);
        QCOMPARE(a.path, QByteArray("/p/q"));
        QCOMPARE(a.query, QByteArray("z"));
        QCOMPARE(a.minorVersion, 0);
        QVERIFY(a.wantsKeepAlive());
    }

    void chunkedDecoder()
    {
        // Fed one byte at a time and all at once, the payload is the same; what follows stays.
        const QByteArray body("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT");
        for (int step : {1, 3, int(body.size())}) {
            ChunkedDecoder d;
            QByteArray in, out;
            for (int i = 0; i < body.size(); i += step) {
                in += body.mid(i, step);
                QVERIFY2(d.feed(in, &out), qPrintable(d.error()));
                if (d.done())
                    break;
            }
            QVERIFY(d.done());
            QCOMPARE(out, QByteArray("hello world"));
            QCOMPARE(d.decoded(), 11);
            // What is left after the trailer is the next request's.
            QVERIFY2(QByteArray("NEXT").startsWith(in), in.constData());
        }
        for (const QByteArray &bad : {QByteArray("zz\r\n"), QByteArray("5\r\nhelloXX"), QByteArray(5000, '1'),
                                      QByteArray("1234567890abcdef0\r\n")}) {
            ChunkedDecoder d;
            QByteArray in = bad, out;
            QVERIFY2(!d.feed(in, &out), bad.left(30).constData());
            QVERIFY(!d.error().isEmpty());
        }
    }

    void router()
    {
        Router r;
        int hit = 0;
        r.add("GET", QStringLiteral("/api/v1/jobs"), [&](HttpRequest &, HttpResponder) { hit = 1; });
        r.add("GET", QStringLiteral("/api/v1/jobs/{id}"), [&](HttpRequest &, HttpResponder) { hit = 2; });
        r.add("POST", QStringLiteral("/api/v1/jobs/{id}/cancel"), [&](HttpRequest &, HttpResponder) { hit = 3; });
        r.add("POST", QStringLiteral("/api/v1/jobs:batch"), [&](HttpRequest &, HttpResponder) { hit = 4; });
        auto m = r.match("GET", "/api/v1/jobs/abc%2Fdef");
        QVERIFY(m.route);
        QCOMPARE(m.args, QStringList{QStringLiteral("abc/def")});
        QVERIFY(r.match("HEAD", "/api/v1/jobs").route); // HEAD falls back to GET
        QCOMPARE(r.match("HEAD", "/api/v1/jobs").route->pattern, QStringLiteral("/api/v1/jobs"));
        m = r.match("PUT", "/api/v1/jobs");
        QVERIFY(!m.route);
        QVERIFY(m.pathKnown);
        QVERIFY(!r.match("GET", "/api/v1/jobs/").route);          // an empty capture matches nothing
        QVERIFY(!r.match("GET", "/api/v1/jobs/a/b").route);
        QVERIFY(!r.match("GET", "api/v1/jobs").route);
        QVERIFY(r.match("POST", "/api/v1/jobs:batch").route);
        QCOMPARE(r.match("POST", "/api/v1/jobs:batch").route->pattern, QStringLiteral("/api/v1/jobs:batch"));
        QCOMPARE(r.match("POST", "/api/v1/jobs/x/cancel").args, QStringList{QStringLiteral("x")});
    }

    // ---------------------------------------------------------------- over sockets
    void keepAliveAndPipelining()
    {
        QTcpSocket s;
        QVERIFY(connect(s));
        // Three requests in one write; the answers come in order on the same connection.
        s.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /items/a%20b HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
        QByteArray buf;
        auto a = readReply(s, buf), b = readReply(s, buf), c = readReply(s, buf);
        QVERIFY(a && b && c);
        QCOMPARE(a->body, QByteArray("hello"));
        QCOMPARE(b->body, QByteArray("a b"));
        QCOMPARE(c->body, QByteArray("abc"));
        QVERIFY(!c->closed);
        // A held answer, then another request on the same connection.
        s.write("GET /held HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
        auto d = readReply(s, buf), e = readReply(s, buf);
        QVERIFY(d && e);
        QCOMPARE(d->body, QByteArray("late"));
        QCOMPARE(e->body, QByteArray("hello"));
        // Connection: close is honoured.
        s.write("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
        auto f = readReply(s, buf);
        QVERIFY(f && f->closed);
        QVERIFY(closedWithin(s, 2000));
    }

    void headAndMethods()
    {
        auto h = request("HEAD /hello HTTP/1.1\r\n\r\n", true);
        QVERIFY(h);
        QCOMPARE(h->status, 200);
        QCOMPARE(h->header("Content-Length"), QByteArray("5"));
        QTcpSocket s;
        QVERIFY(connect(s));
        s.write("HEAD /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
        QByteArray buf;
        auto h1 = readReply(s, buf, true), g = readReply(s, buf);
        QVERIFY(h1 && g);
        QCOMPARE(g->body, QByteArray("hello")); // the HEAD answer had no body
        auto u = request("BREW /hello HTTP/1.1\r\n\r\n");
        QVERIFY(u);
        QCOMPARE(u->status, 501);
        QCOMPARE(QJsonDocument::fromJson(u->body).object().value("error").toObject().value("code").toString(), QStringLiteral("not_implemented"));
        auto n = request("DELETE /hello HTTP/1.1\r\n\r\n");
        QVERIFY(n);
        QCOMPARE(n->status, 404);
        auto bad = request("GARBAGE\r\n\r\n");
        QVERIFY(bad);
        QCOMPARE(bad->status, 400);
        QVERIFY(bad->closed);
    }

    void gateBeforeBody()
    {
        // Without the key the body is never read: the server answers 401 at once although the
        // announced 50 MB never come, and the handler does not run.
        const int before = m_seen.secureCalls;
        QTcpSocket s;
        QVERIFY(connect(s));
        s.write("POST /secure HTTP/1.1\r\nContent-Length: 50000000\r\n\r\n");
        QByteArray buf;
        QElapsedTimer t;
        t.start();
        auto r = readReply(s, buf);
        QVERIFY(r);
        QCOMPARE(r->status, 401);
        QVERIFY(r->closed);
        QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(int(m_seen.secureCalls), before);
        // With the key and Expect: 100-continue the server asks for the body, then reads it.
        QTcpSocket k;
        QVERIFY(connect(k));
        k.write("POST /secure HTTP/1.1\r\nX-Key: k\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        QByteArray kb;
        auto cont = readReply(k, kb);
        QVERIFY(cont);
        QCOMPARE(cont->status, 100);
        k.write("abcd");
        auto ok = readReply(k, kb);
        QVERIFY(ok);
        QCOMPARE(ok->status, 200);
        QCOMPARE(ok->body, QByteArray("4"));
    }

    void bodyLimits()
    {
        const int before = m_seen.echoCalls;
        // Content-Length over the route's limit: 413 from the head alone, closed.
        QTcpSocket s;
        QVERIFY(connect(s));
        s.write("POST /echo HTTP/1.1\r\nContent-Length: 1025\r\n\r\n");
        QByteArray buf;
        auto r = readReply(s, buf);
        QVERIFY(r);
        QCOMPARE(r->status, 413);
        QVERIFY(r->closed);
        QVERIFY(closedWithin(s, 3000));
        // A chunked body that passes the limit: 413 once it does, closed.
        QTcpSocket c;
        QVERIFY(connect(c));
        c.write("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 5; ++i)
            c.write("100\r\n" + QByteArray(256, 'x') + "\r\n");
        QByteArray cb;
        auto cr = readReply(c, cb);
        QVERIFY(cr);
        QCOMPARE(cr->status, 413);
        QVERIFY(closedWithin(c, 3000));
        QCOMPARE(int(m_seen.echoCalls), before);
        // Exactly at the limit is fine, chunked too.
        auto ok = request("POST /echo HTTP/1.1\r\nContent-Length: 1024\r\n\r\n" + QByteArray(1024, 'y'));
        QVERIFY(ok);
        QCOMPARE(ok->status, 200);
        QCOMPARE(ok->body.size(), 1024);
        auto okc = request("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        QVERIFY(okc);
        QCOMPARE(okc->body, QByteArray("abc"));
        // A broken chunked body: 400.
        auto broken = request("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n");
        QVERIFY(broken);
        QCOMPARE(broken->status, 400);
    }

    void headLimits()
    {
        auto big = request("GET /hello HTTP/1.1\r\nX-Big: " + QByteArray(17 * 1024, 'b') + "\r\n\r\n");
        QVERIFY(big);
        QCOMPARE(big->status, 431);
        QVERIFY(big->closed);
        // Just under the limit is served.
        const QByteArray start("GET /hello HTTP/1.1\r\nX-Big: ");
        auto fits = request(start + QByteArray(16 * 1024 - start.size() - 4, 'b') + "\r\n\r\n");
        QVERIFY(fits);
        QCOMPARE(fits->status, 200);
    }

    void timeouts()
    {
        // A head that does not complete: 408 and closed after headTimeoutMs (600 ms here).
        QTcpSocket s;
        QVERIFY(connect(s));
        QElapsedTimer t;
        t.start();
        s.write("GET /hello HTTP/1.1\r\nX-Slow: ");
        for (int i = 0; i < 20 && s.state() == QAbstractSocket::ConnectedState; ++i) {
            s.write("a");
            s.waitForBytesWritten(100);
            if (s.waitForReadyRead(100))
                break;
        }
        QByteArray buf = s.readAll();
        QVERIFY2(buf.startsWith("HTTP/1.1 408"), buf.constData());
        QVERIFY(closedWithin(s, 2000));
        QVERIFY2(t.elapsed() >= 500, qPrintable(QString::number(t.elapsed())));
        // An idle connection is closed quietly.
        QTcpSocket idle;
        QVERIFY(connect(idle));
        QVERIFY(closedWithin(idle, 3000));
        QCOMPARE(idle.readAll(), QByteArray());
        // A body that stops coming: 408.
        QTcpSocket b;
        QVERIFY(connect(b));
        b.write("POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
        QByteArray bb;
        auto r = readReply(b, bb, false, 5000);
        QVERIFY(r);
        QCOMPARE(r->status, 408);
    }

    void connectionLimit()
    {
        // A server of its own whose idle connections are not closed during the test.
        HttpLimits limits = testLimits();
        limits.headTimeoutMs = 30000;
        Seen seen;
        ServerThread server(limits, seen, m_tmp.path());
        server.start();
        server.ready.acquire();
        auto cleanup = qScopeGuard([&] { server.quit(); server.wait(); });
        auto connectTo = [&](QTcpSocket &s) {
            s.connectToHost(QHostAddress::LocalHost, server.port);
            return s.waitForConnected(3000);
        };
        // maxConnections is 6 here: six idle connections are served, the seventh refused.
        std::vector<std::unique_ptr<QTcpSocket>> held;
        for (int i = 0; i < 6; ++i) {
            held.push_back(std::make_unique<QTcpSocket>());
            QVERIFY(connectTo(*held.back()));
            held.back()->write("GET /hello HTTP/1.1\r\n\r\n");
            QByteArray buf;
            QVERIFY(readReply(*held.back(), buf));
        }
        QTcpSocket extra;
        QVERIFY(connectTo(extra));
        QByteArray buf;
        auto r = readReply(extra, buf);
        QVERIFY(r);
        QCOMPARE(r->status, 503);
        QVERIFY(closedWithin(extra, 2000));
        held.clear(); // closing them frees the slots
        QTest::qWait(300);
        QTcpSocket again;
        QVERIFY(connectTo(again));
        again.write("GET /hello HTTP/1.1\r\n\r\n");
        QByteArray ab;
        auto ok = readReply(again, ab);
        QVERIFY(ok);
        QCOMPARE(ok->status, 200);
    }

    void bodyToFile()
    {
        QByteArray data(5 * 1024 * 1024 + 7, Qt::Uninitialized);
        for (int i = 0; i < data.size(); ++i)
            data[i] = char(i * 7 + i / 4096);
        const QByteArray sha = QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
        for (bool chunked : {false, true}) {
            QTcpSocket s;
            QVERIFY(connect(s));
            if (chunked) {
                s.write("PUT /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int i = 0; i < data.size(); i += 100000) {
                    const QByteArray piece = data.mid(i, 100000);
                    s.write(QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n");
                }
                s.write("0\r\n\r\n");
            } else {
                s.write("PUT /upload HTTP/1.1\r\nContent-Length: " + QByteArray::number(data.size()) + "\r\n\r\n");
                s.write(data);
            }
            QByteArray buf;
            auto r = readReply(s, buf, false, 20000);
            QVERIFY(r);
            QCOMPARE(r->status, 200);
            QCOMPARE(r->body, QByteArray::number(data.size()) + " 0" + sha); // the body was not in memory
            QCOMPARE(m_seen.lastUploadSize.load(), qint64(data.size()));
            QString path;
            {
                QMutexLocker lock(&m_seen.mutex);
                path = m_seen.lastUploadPath;
            }
            QVERIFY(path.startsWith(m_tmp.path()));
            QTest::qWait(100);
            QVERIFY2(!QFileInfo::exists(path), "the temporary upload file outlived its request");
        }
        // Over the route's 8 MiB limit: 413.
        auto over = request("PUT /upload HTTP/1.1\r\nContent-Length: 8388609\r\n\r\n");
        QVERIFY(over);
        QCOMPARE(over->status, 413);
    }

    void streamedAnswer()
    {
        QTcpSocket s;
        QVERIFY(connect(s));
        s.write("GET /stream HTTP/1.1\r\n\r\n");
        QByteArray buf;
        auto r = readReply(s, buf, false, 20000);
        QVERIFY(r);
        QCOMPARE(r->header("Transfer-Encoding"), QByteArray("chunked"));
        QCOMPARE(r->body.size(), 40 * 64 * 1024);
        QCOMPARE(r->body.at(0), 'a');
        QCOMPARE(r->body.at(39 * 64 * 1024), char('a' + 39 % 26));
        // The connection stays usable after a stream.
        s.write("GET /hello HTTP/1.1\r\n\r\n");
        auto h = readReply(s, buf);
        QVERIFY(h);
        QCOMPARE(h->body, QByteArray("hello"));
        // HTTP/1.0: no chunked coding; the end of the body is the end of the connection.
        QTcpSocket o;
        QVERIFY(connect(o));
        o.write("GET /stream HTTP/1.0\r\n\r\n");
        QByteArray ob;
        auto r0 = readReply(o, ob, false, 20000);
        QVERIFY(r0);
        QVERIFY(r0->header("Transfer-Encoding").isEmpty());
        QCOMPARE(r0->body.size(), 40 * 64 * 1024);
    }
};

QTEST_GUILESS_MAIN(TestHttpServer)
#include "TestHttpServer.moc"
