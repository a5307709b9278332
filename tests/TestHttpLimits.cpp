// TestHttpLimits — the attacks of issue 9 (items 1, 2 and 11) performed for real against the real
// `magpie-desktop --headless` binary on 127.0.0.1, no VM needed:
//   * 400 MB streamed at the API with a huge Content-Length and chunked, with and without the
//     key, over many connections at once: the server's RSS (from /proc) grows < 50 MB and
//     /api/v1/health keeps answering throughout;
//   * a request head sent one byte a second (slowloris) is closed after ~10 s;
//   * 65+ connections at once: the 65th is refused, health answers again once they go;
//   * heads over 16 KiB (and an endless header line) are refused with 431;
//   * data folders someone else could write, planted api-key files and a planted lock symlink
//     are refused (exit 2 with a message), and every file the app creates is private.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#ifndef MAGPIE_DESKTOP_BIN
#error "MAGPIE_DESKTOP_BIN must name the magpie-desktop executable"
#endif

namespace {

// ---------------------------------------------------------------- plain sockets

int connectTo(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool sendAll(int fd, const QByteArray &data)
{
    qint64 done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd, data.constData() + done, size_t(data.size() - done), MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
}

// Reads until the peer closes, an error, or `ms`. Returns what arrived.
QByteArray readUntilClosed(int fd, int ms, bool *closed = nullptr)
{
    QByteArray out;
    QElapsedTimer t;
    t.start();
    timeval tv{0, 200 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[65536];
    while (t.elapsed() < ms) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            out.append(buf, n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            if (closed)
                *closed = true;
            return out;
        }
    }
    if (closed)
        *closed = false;
    return out;
}

int statusOf(const QByteArray &response)
{
    if (!response.startsWith("HTTP/1.1 "))
        return 0;
    return response.mid(9, 3).toInt();
}

// One request on a fresh connection; the status (0 when no answer).
int simpleGet(quint16 port, const QByteArray &path, const QByteArray &auth = QByteArray(), QByteArray *body = nullptr)
{
    const int fd = connectTo(port);
    if (fd < 0)
        return 0;
    QByteArray req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!auth.isEmpty())
        req += "Authorization: Bearer " + auth + "\r\n";
    req += "\r\n";
    sendAll(fd, req);
    const QByteArray r = readUntilClosed(fd, 10000);
    ::close(fd);
    if (body)
        *body = r.mid(r.indexOf("\r\n\r\n") + 4);
    return statusOf(r);
}

qint64 rssKb(qint64 pid, const char *field = "VmRSS:")
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith(field))
            return line.mid(int(qstrlen(field))).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

// ---------------------------------------------------------------- the server

class Server
{
public:
    QProcess proc;
    quint16 port = 0;
    QByteArray key;
    QString dir;

    ~Server() { stop(); }
    void stop()
    {
        if (proc.state() != QProcess::NotRunning) {
            proc.terminate();
            if (!proc.waitForFinished(20000)) {
                proc.kill();
                proc.waitForFinished(5000);
            }
        }
    }
    static QProcessEnvironment environment(const QString &guestDir)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("MAGPIE_ACCEL"), QStringLiteral("tcg"));
        env.insert(QStringLiteral("MAGPIE_GUEST_DIR"), guestDir); // empty: no VM is ever booted
        env.remove(QStringLiteral("MAGPIE_API_KEY"));
        return env;
    }
    QString start(const QString &dataDir, const QString &guestDir)
    {
        dir = dataDir;
        proc.setProcessEnvironment(environment(guestDir));
        proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        proc.start(QStringLiteral(MAGPIE_DESKTOP_BIN), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir,
                                                        QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")});
        if (!proc.waitForStarted(10000))
            return proc.errorString();
        QByteArray out;
        QElapsedTimer t;
        t.start();
        while (!out.contains('\n') && t.elapsed() < 30000) {
            if (proc.state() == QProcess::NotRunning)
                return QStringLiteral("exited with %1").arg(proc.exitCode());
            proc.waitForReadyRead(200);
            out += proc.readAllStandardOutput();
        }
        const auto m = QRegularExpression(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)")).match(QString::fromUtf8(out));
        if (!m.hasMatch())
            return QStringLiteral("no listening line: ") + QString::fromUtf8(out);
        port = quint16(m.captured(1).toUInt());
        QFile f(dataDir + QStringLiteral("/api-key"));
        if (!f.open(QIODevice::ReadOnly))
            return QStringLiteral("no api-key");
        key = f.readAll().trimmed();
        return QString();
    }
    qint64 pid() const { return proc.processId(); }
};

// Runs the binary on a data folder and returns (exit code, stderr) when it exits by itself.
QPair<int, QString> runOnce(const QString &dataDir, const QString &guestDir, int timeoutMs = 15000)
{
    QProcess p;
    p.setProcessEnvironment(Server::environment(guestDir));
    p.start(QStringLiteral(MAGPIE_DESKTOP_BIN), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir,
                                                 QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")});
    if (!p.waitForFinished(timeoutMs)) {
        p.terminate();
        p.waitForFinished(10000);
        return {-1000, QString::fromLocal8Bit(p.readAllStandardError())};
    }
    return {p.exitCode(), QString::fromLocal8Bit(p.readAllStandardError())};
}

int modeOf(const QString &path)
{
    struct stat st {};
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

} // namespace

class TestHttpLimits : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_noGuest;
    Server m_srv;

    // Streams `total` bytes at the server over `parallel` connections at once, reconnecting
    // whenever the server closes one, with `head` as each connection's request head and zeros
    // (raw, or as 64 KiB chunks when chunked) as the body. Meanwhile it samples the server's
    // RSS and asks for /api/v1/health every 200 ms. Returns bytes the kernel accepted.
    struct AttackResult {
        qint64 sent = 0;
        int connections = 0;
        qint64 rssBeforeKb = 0, rssMaxKb = 0;
        int healthOk = 0, healthFailed = 0;
        QList<int> statuses; // answers seen
    };
    AttackResult attack(const QByteArray &head, bool chunked, qint64 total, int parallel)
    {
        AttackResult res;
        res.rssBeforeKb = rssKb(m_srv.pid());
        res.rssMaxKb = res.rssBeforeKb;
        std::atomic<qint64> sent{0};
        std::atomic<int> conns{0};
        std::atomic<bool> done{false};
        QMutex mutex;
        QByteArray zeros(64 * 1024, '\0');
        const QByteArray chunk = QByteArray::number(zeros.size(), 16) + "\r\n" + zeros + "\r\n";
        const quint16 port = m_srv.port;
        std::vector<std::thread> threads;
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < parallel; ++i) {
            threads.emplace_back([&] {
                while (sent < total && clock.elapsed() < 120000) {
                    const int fd = connectTo(port);
                    if (fd < 0)
                        break;
                    ++conns;
                    bool ok = sendAll(fd, head);
                    while (ok && sent < total) {
                        const QByteArray &piece = chunked ? chunk : zeros;
                        ok = sendAll(fd, piece);
                        if (ok)
                            sent += piece.size();
                    }
                    // Whatever the server answered before it closed.
                    const QByteArray answer = readUntilClosed(fd, 2000);
                    ::close(fd);
                    QMutexLocker lock(&mutex);
                    res.statuses.append(statusOf(answer));
                }
            });
        }
        std::thread watcher([&] {
            while (!done) {
                const qint64 rss = rssKb(m_srv.pid());
                QByteArray body;
                const int st = simpleGet(port, "/api/v1/health", {}, &body);
                QMutexLocker lock(&mutex);
                res.rssMaxKb = qMax(res.rssMaxKb, rss);
                (st == 200 && body.contains("\"ok\"") ? res.healthOk : res.healthFailed)++;
                lock.unlock();
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
            }
        });
        for (auto &t : threads)
            t.join();
        done = true;
        watcher.join();
        res.sent = sent;
        res.connections = conns;
        res.rssMaxKb = qMax(res.rssMaxKb, rssKb(m_srv.pid()));
        return res;
    }

    // Sends `head` and then `bodyBytes` of zeros from another thread while this one reads the
    // answer, as a real client does. The answer's status.
    int probe(const QByteArray &head, bool chunked, qint64 bodyBytes)
    {
        const int fd = connectTo(m_srv.port);
        if (fd < 0)
            return 0;
        sendAll(fd, head);
        std::thread writer([fd, chunked, bodyBytes] {
            const QByteArray zeros(64 * 1024, '\0');
            const QByteArray chunk = QByteArray::number(zeros.size(), 16) + "\r\n" + zeros + "\r\n";
            for (qint64 n = 0; n < bodyBytes; n += zeros.size())
                if (!sendAll(fd, chunked ? chunk : zeros))
                    break;
        });
        QByteArray answer;
        QElapsedTimer t;
        t.start();
        while (!answer.contains("\r\n\r\n") && t.elapsed() < 15000) {
            char buf[4096];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
                break;
            if (n > 0)
                answer.append(buf, n);
        }
        ::shutdown(fd, SHUT_RDWR);
        writer.join();
        ::close(fd);
        return statusOf(answer);
    }

    void report(const char *what, const AttackResult &r)
    {
        qInfo("%s: %lld MB sent over %d connections; server RSS %lld -> max %lld kB (growth %lld kB); health %d ok, %d failed",
              what, r.sent / 1000000, r.connections, r.rssBeforeKb, r.rssMaxKb, r.rssMaxKb - r.rssBeforeKb, r.healthOk,
              r.healthFailed);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_noGuest = m_tmp.filePath(QStringLiteral("no-guest"));
        QVERIFY(QDir().mkpath(m_noGuest));
        const QString err = m_srv.start(m_tmp.filePath(QStringLiteral("main")), m_noGuest);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QCOMPARE(simpleGet(m_srv.port, "/api/v1/health"), 200);
    }

    void hugeBodiesAreNeverBuffered_data()
    {
        QTest::addColumn<bool>("withKey");
        QTest::addColumn<bool>("chunked");
        QTest::newRow("no key, Content-Length 2 GB") << false << false;
        QTest::newRow("no key, chunked") << false << true;
        QTest::newRow("key, Content-Length 2 GB") << true << false;
        QTest::newRow("key, chunked") << true << true;
    }
    void hugeBodiesAreNeverBuffered()
    {
        QFETCH(bool, withKey);
        QFETCH(bool, chunked);
        QByteArray head = "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
        if (withKey)
            head += "Authorization: Bearer " + m_srv.key + "\r\n";
        head += chunked ? QByteArray("Transfer-Encoding: chunked\r\n") : QByteArray("Content-Length: 2000000000\r\n");
        head += "\r\n";
        const qint64 total = 400LL * 1000 * 1000;
        const AttackResult r = attack(head, chunked, total, 4);
        report(QTest::currentDataTag(), r);
        QVERIFY2(r.sent >= total, qPrintable(QStringLiteral("only %1 bytes could be sent").arg(r.sent)));
        QVERIFY2(r.rssMaxKb - r.rssBeforeKb < 50 * 1024, qPrintable(QStringLiteral("RSS grew by %1 kB").arg(r.rssMaxKb - r.rssBeforeKb)));
        QVERIFY(r.healthOk >= 1);
        QCOMPARE(r.healthFailed, 0);
        // Each connection that got an answer got the right one (usually a reset comes first:
        // the client is still sending when the server closes).
        const int expected = withKey ? 413 : 401;
        for (int s : r.statuses)
            QVERIFY2(s == 0 || s == expected, qPrintable(QString::number(s)));
        // A client that reads while it sends sees the refusal.
        QCOMPARE(probe(head, chunked, 8 * 1024 * 1024), expected);
        // Nothing was submitted.
        QByteArray body;
        QCOMPARE(simpleGet(m_srv.port, "/api/v1/jobs", m_srv.key, &body), 200);
        QCOMPARE(QJsonDocument::fromJson(body).object().value(QStringLiteral("total")).toInt(), 0);
    }

    void oversizedHeads()
    {
        // A 17 KiB header: 431 and closed.
        int fd = connectTo(m_srv.port);
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "GET /api/v1/health HTTP/1.1\r\nX-Big: " + QByteArray(17 * 1024, 'x') + "\r\n\r\n"));
        bool closed = false;
        QByteArray answer = readUntilClosed(fd, 15000, &closed);
        ::close(fd);
        QCOMPARE(statusOf(answer), 431);
        QVERIFY(closed);
        // A header line that never ends (100 MB): refused after 16 KiB, memory flat.
        const qint64 before = rssKb(m_srv.pid());
        fd = connectTo(m_srv.port);
        QVERIFY(fd >= 0);
        sendAll(fd, "GET /api/v1/health HTTP/1.1\r\nX-Endless: ");
        qint64 sent = 0;
        const QByteArray xs(64 * 1024, 'x');
        while (sent < 100LL * 1000 * 1000 && sendAll(fd, xs))
            sent += xs.size();
        answer = readUntilClosed(fd, 5000, &closed);
        ::close(fd);
        const qint64 growth = rssKb(m_srv.pid()) - before;
        qInfo("endless header: %lld bytes accepted before the server closed; RSS growth %lld kB", sent, growth);
        QVERIFY2(sent < 100LL * 1000 * 1000, "the server read a 100 MB header line");
        QVERIFY(growth < 50 * 1024);
        QCOMPARE(simpleGet(m_srv.port, "/api/v1/health"), 200);
    }

    void slowHeadIsClosed()
    {
        // One byte a second: the head is not complete after 10 s, so the server closes.
        const int fd = connectTo(m_srv.port);
        QVERIFY(fd >= 0);
        QElapsedTimer t;
        t.start();
        const QByteArray head("GET /api/v1/health HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        QByteArray answer;
        bool closed = false;
        for (int i = 0; i < head.size() && t.elapsed() < 60000; ++i) {
            if (!sendAll(fd, head.mid(i, 1)))
                break;
            answer += readUntilClosed(fd, 1000, &closed);
            if (closed || !answer.isEmpty())
                break;
        }
        if (!closed)
            answer += readUntilClosed(fd, 5000, &closed);
        ::close(fd);
        qInfo("slowloris: closed after %lld ms (answer: %s)", t.elapsed(), answer.left(40).constData());
        QVERIFY2(closed, "the slow connection was not closed");
        QVERIFY2(t.elapsed() >= 9000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(statusOf(answer), 408);
        QCOMPARE(simpleGet(m_srv.port, "/api/v1/health"), 200);
    }

    void connectionLimit()
    {
        // 64 connections that send nothing are held; the 65th and 66th are refused at once.
        std::vector<int> held;
        for (int i = 0; i < 64; ++i) {
            const int fd = connectTo(m_srv.port);
            QVERIFY(fd >= 0);
            held.push_back(fd);
        }
        QTest::qWait(300); // let the server accept them all
        for (int i = 0; i < 2; ++i) {
            const int fd = connectTo(m_srv.port);
            QVERIFY(fd >= 0); // the kernel accepts; the server answers 503 and closes
            bool closed = false;
            const QByteArray answer = readUntilClosed(fd, 5000, &closed);
            ::close(fd);
            QCOMPARE(statusOf(answer), 503);
            QVERIFY(closed);
        }
        // The held ones are still served.
        QVERIFY(sendAll(held.front(), "GET /api/v1/health HTTP/1.1\r\nConnection: close\r\n\r\n"));
        QCOMPARE(statusOf(readUntilClosed(held.front(), 5000)), 200);
        for (int fd : held)
            ::close(fd);
        QTest::qWait(1500); // the server notices the closes (and its own lingering ends)
        QCOMPARE(simpleGet(m_srv.port, "/api/v1/health"), 200);
        QTest::qWait(1500);

        // 70 slow heads at once: 64 held until the head timeout closes them, 6 refused; then
        // the server is free again.
        QElapsedTimer t;
        t.start();
        std::vector<int> slow;
        for (int i = 0; i < 70; ++i) {
            const int fd = connectTo(m_srv.port);
            QVERIFY(fd >= 0);
            sendAll(fd, "GET /api/v1/health HTTP/1.1\r\n");
            slow.push_back(fd);
        }
        int refused = 0, timedOut = 0;
        for (int fd : slow) {
            bool closed = false;
            const int st = statusOf(readUntilClosed(fd, 30000, &closed));
            refused += st == 503;
            timedOut += st == 408;
            ::close(fd);
        }
        qInfo("70 slow heads: %d refused, %d closed by the head timeout after %lld ms", refused, timedOut, t.elapsed());
        QCOMPARE(refused, 6);
        QCOMPARE(timedOut, 64);
        // Free again once it has seen those 64 closes (an answered connection lingers until the
        // client closes, at most 2 s): a few milliseconds, more under load.
        QTRY_COMPARE_WITH_TIMEOUT(simpleGet(m_srv.port, "/api/v1/health"), 200, 5000);
    }

    void createdFilesArePrivate()
    {
        const QString d = m_srv.dir;
        QCOMPARE(modeOf(d), 0700);
        for (const char *f : {"api-key", "magpie.db", "magpie.lock", "endpoint.json"})
            QVERIFY2(modeOf(d + QLatin1Char('/') + QLatin1String(f)) == 0600,
                     qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(f)).arg(modeOf(d + QLatin1Char('/') + QLatin1String(f)), 0, 8)));
        for (const char *f : {"magpie.db-wal", "magpie.db-shm"})
            if (QFileInfo::exists(d + QLatin1Char('/') + QLatin1String(f)))
                QCOMPARE(modeOf(d + QLatin1Char('/') + QLatin1String(f)), 0600);
        // A job's log files (it fails at once: this server has no guest image).
        const int fd = connectTo(m_srv.port);
        QVERIFY(fd >= 0);
        const QByteArray body(R"({"script":"echo hi"})");
        sendAll(fd, "POST /api/v1/jobs HTTP/1.1\r\nConnection: close\r\nAuthorization: Bearer " + m_srv.key +
                        "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        const QByteArray answer = readUntilClosed(fd, 10000);
        ::close(fd);
        QCOMPARE(statusOf(answer), 202);
        const QString id = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object().value(QStringLiteral("request_id")).toString();
        QVERIFY(!id.isEmpty());
        QCOMPARE(modeOf(d + QStringLiteral("/logs")), 0700);
        // A job's log folder is made when it starts (not at submission).
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(d + QStringLiteral("/logs/") + id + QStringLiteral("/stdout.log")), 120000);
        QCOMPARE(modeOf(d + QStringLiteral("/logs/") + id), 0700);
        for (const char *f : {"stdout.log", "stderr.log", "vm.log"})
            QCOMPARE(modeOf(d + QStringLiteral("/logs/") + id + QLatin1Char('/') + QLatin1String(f)), 0600);
    }

    void unsafeDataFoldersAreRefused_data()
    {
        QTest::addColumn<QString>("setup");
        QTest::addColumn<QString>("message");
        QTest::newRow("world-writable folder") << "mode 0777" << "writable by everyone";
        QTest::newRow("group-writable folder") << "mode 0770" << "writable by its group";
        QTest::newRow("sticky world-writable folder") << "mode 1777" << "writable by everyone";
        QTest::newRow("folder of another user") << "owner" << "belongs to uid 65534";
        QTest::newRow("api-key writable by others") << "key 0666" << "writable by group or others";
        QTest::newRow("api-key of another user") << "key owner" << "belongs to uid 65534";
        QTest::newRow("api-key symlink") << "key symlink" << "symbolic link";
    }
    void unsafeDataFoldersAreRefused()
    {
        QFETCH(QString, setup);
        QFETCH(QString, message);
        const QString d = m_tmp.filePath(QStringLiteral("unsafe-") + QString::number(qHash(setup)));
        QVERIFY(QDir().mkpath(d));
        QVERIFY(::chmod(QFile::encodeName(d).constData(), 0700) == 0);
        const QByteArray key = d.toUtf8() + "/api-key";
        const QByteArray planted("planted-key-0123456789");
        auto plant = [&](int mode) {
            QFile f(d + QStringLiteral("/api-key"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(planted + '\n');
            f.close();
            QVERIFY(::chmod(key.constData(), mode_t(mode)) == 0);
        };
        if (setup.startsWith(QLatin1String("mode ")))
            QVERIFY(::chmod(QFile::encodeName(d).constData(), mode_t(setup.mid(5).toInt(nullptr, 8))) == 0);
        else if (setup == QLatin1String("owner"))
            QVERIFY(::chown(QFile::encodeName(d).constData(), 65534, 65534) == 0);
        else if (setup == QLatin1String("key 0666"))
            plant(0666);
        else if (setup == QLatin1String("key owner")) {
            plant(0600);
            QVERIFY(::chown(key.constData(), 65534, 65534) == 0);
        } else if (setup == QLatin1String("key symlink")) {
            QFile target(m_tmp.filePath(QStringLiteral("elsewhere-key")));
            QVERIFY(target.open(QIODevice::WriteOnly));
            target.write(planted);
            target.close();
            QVERIFY(QFile::link(target.fileName(), d + QStringLiteral("/api-key")));
        }
        const auto [code, err] = runOnce(d, m_noGuest);
        QVERIFY2(code == 2, qPrintable(QStringLiteral("exit %1: %2").arg(code).arg(err)));
        QVERIFY2(err.contains(message), qPrintable(err));
        QVERIFY2(err.contains(d), qPrintable(err));
        // Nothing was served, the planted key was not replaced, and no endpoint was written.
        QVERIFY(!QFileInfo::exists(d + QStringLiteral("/endpoint.json")));
        if (setup.startsWith(QLatin1String("key")) && setup != QLatin1String("key symlink")) {
            QFile f(d + QStringLiteral("/api-key"));
            QVERIFY(f.open(QIODevice::ReadOnly));
            QCOMPARE(f.readAll().trimmed(), planted);
        }
    }

    void plantedLockSymlinkIsNotFollowed()
    {
        const QString d = m_tmp.filePath(QStringLiteral("lock-link"));
        QVERIFY(QDir().mkpath(d));
        QVERIFY(::chmod(QFile::encodeName(d).constData(), 0700) == 0);
        QFile victim(m_tmp.filePath(QStringLiteral("victim.txt")));
        QVERIFY(victim.open(QIODevice::WriteOnly));
        victim.write("precious\n");
        victim.close();
        QVERIFY(QFile::link(victim.fileName(), d + QStringLiteral("/magpie.lock")));
        const auto [code, err] = runOnce(d, m_noGuest);
        QVERIFY2(code != 0, qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("magpie.lock")), qPrintable(err));
        QVERIFY(victim.open(QIODevice::ReadOnly));
        QCOMPARE(victim.readAll(), QByteArray("precious\n"));
    }

    void newFolderIsCreatedPrivate()
    {
        const QString d = m_tmp.filePath(QStringLiteral("fresh/nested/data"));
        Server s;
        const QString err = s.start(d, m_noGuest);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QCOMPARE(modeOf(d), 0700);
        QCOMPARE(modeOf(d + QStringLiteral("/api-key")), 0600);
        QCOMPARE(modeOf(d + QStringLiteral("/magpie.db")), 0600);
        s.stop();
        QCOMPARE(s.proc.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestHttpLimits)
#include "TestHttpLimits.moc"
