// HeadlessTestSupport.h — a blocking HTTP/1.1 client on QTcpSocket and the real
// `magpie-desktop --headless` as a child process (the helpers of TestHttpApi, for tests of other
// backends).
#pragma once

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QUuid>
#include <QtTest>

#include <csignal>

#include <csignal>

namespace magpie::test::headless {

// ---------------------------------------------------------------- a blocking HTTP client

struct Response {
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QString failure; // set when no complete response arrived

    QByteArray header(const QByteArray &name) const
    {
        for (const auto &h : headers)
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        return QByteArray();
    }
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString errorCode() const { return json().value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(); }
    QString errorMessage() const { return json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString(); }
    QString errorField() const { return json().value(QStringLiteral("error")).toObject().value(QStringLiteral("field")).toString(); }
    QString describe() const
    {
        return failure.isEmpty() ? QStringLiteral("HTTP %1: %2").arg(status).arg(QString::fromUtf8(body.left(600))) : failure;
    }
};

// `auth` is the whole Authorization header value; an empty one sends none.
inline Response http(quint16 port, const QByteArray &method, const QByteArray &target, const QByteArray &auth,
              const QByteArray &body = QByteArray(), int timeoutMs = 90000)
{
    Response r;
    QTcpSocket s;
    s.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!s.waitForConnected(5000)) {
        r.failure = QStringLiteral("connect: ") + s.errorString();
        return r;
    }
    QByteArray req = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) + "\r\n";
    if (!auth.isEmpty())
        req += "Authorization: " + auth + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT")
        req += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    req += "\r\n";
    s.write(req + body);
    QDeadlineTimer deadline(timeoutMs);
    while (s.bytesToWrite() > 0 && !deadline.hasExpired())
        if (!s.waitForBytesWritten(int(qMax<qint64>(1, deadline.remainingTime()))))
            break;
    QByteArray buf;
    int headerEnd = -1;
    qint64 contentLength = -1;
    while (!deadline.hasExpired()) {
        if (headerEnd < 0 && (headerEnd = buf.indexOf("\r\n\r\n")) >= 0) {
            const QList<QByteArray> lines = buf.left(headerEnd).split('\n');
            const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
            r.status = statusLine.value(1).toInt();
            for (int i = 1; i < lines.size(); ++i) {
                const int colon = lines[i].indexOf(':');
                if (colon > 0)
                    r.headers.append({lines[i].left(colon).trimmed(), lines[i].mid(colon + 1).trimmed()});
            }
            contentLength = r.header("Content-Length").isEmpty() ? 0 : r.header("Content-Length").toLongLong();
        }
        if (headerEnd >= 0 && buf.size() - (headerEnd + 4) >= contentLength) {
            r.body = buf.mid(headerEnd + 4, contentLength);
            return r;
        }
        if (s.bytesAvailable() == 0 && !s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())))) {
            if (s.state() != QAbstractSocket::ConnectedState && s.bytesAvailable() == 0)
                break;
            continue;
        }
        buf += s.readAll();
    }
    r.failure = QStringLiteral("no complete response to %1 %2 (got %3 bytes: %4)")
                    .arg(QString::fromLatin1(method), QString::fromUtf8(target))
                    .arg(buf.size())
                    .arg(QString::fromUtf8(buf.left(200)));
    return r;
}

inline QDateTime isoTime(const QJsonValue &v)
{
    return QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
}

inline bool finished(const QString &status)
{
    return status != QLatin1String("queued") && status != QLatin1String("running") && !status.isEmpty();
}
inline QString guestDir()
{
    const QString env = qEnvironmentVariable("MAGPIE_GUEST_DIR");
#ifdef MAGPIE_TEST_GUEST_DIR
    return env.isEmpty() ? QStringLiteral(MAGPIE_TEST_GUEST_DIR) : env;
#else
    return env;
#endif
}

// ---------------------------------------------------------------- the server process

class Server
{
public:
    QString dataDir;
    quint16 port = 0;
    QByteArray key;
    QString line; // the "listening on" line
    QProcess proc;

    ~Server()
    {
        if (proc.state() != QProcess::NotRunning) {
            proc.terminate();
            if (!proc.waitForFinished(30000)) {
                proc.kill();
                proc.waitForFinished(5000);
            }
        }
    }

    static QProcessEnvironment environment()
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("MAGPIE_ACCEL"), QStringLiteral("tcg"));
        env.insert(QStringLiteral("MAGPIE_GUEST_DIR"), guestDir());
        env.remove(QStringLiteral("MAGPIE_API_KEY"));
        return env;
    }

    // Starts the server and waits for its "listening on" line. Empty string on success.
    QString start(const QString &dir, const QStringList &extra = {}, const QProcessEnvironment &env = environment())
    {
        dataDir = dir;
        proc.setProcessEnvironment(env);
        proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        proc.start(QStringLiteral(MAGPIE_DESKTOP_BIN),
                   QStringList{QStringLiteral("--headless"), QStringLiteral("--data-dir"), dir, QStringLiteral("--listen"),
                               QStringLiteral("127.0.0.1:0"), QStringLiteral("--max-parallel"), QStringLiteral("2")} + extra);
        if (!proc.waitForStarted(10000))
            return QStringLiteral("could not start %1: %2").arg(QStringLiteral(MAGPIE_DESKTOP_BIN), proc.errorString());
        QElapsedTimer t;
        t.start();
        QByteArray out;
        while (!out.contains('\n') && t.elapsed() < 60000) {
            if (proc.state() == QProcess::NotRunning)
                return QStringLiteral("the server exited (code %1) before listening").arg(proc.exitCode());
            proc.waitForReadyRead(500);
            out += proc.readAllStandardOutput();
        }
        line = QString::fromUtf8(out.left(out.indexOf('\n')));
        static const QRegularExpression re(QStringLiteral("^listening on http://127\\.0\\.0\\.1:(\\d+)$"));
        const auto m = re.match(line);
        if (!m.hasMatch())
            return QStringLiteral("unexpected first line on stdout: '%1'").arg(QString::fromUtf8(out));
        port = quint16(m.captured(1).toUInt());
        if (env.contains(QStringLiteral("MAGPIE_API_KEY")))
            key = env.value(QStringLiteral("MAGPIE_API_KEY")).toUtf8();
        else {
            QFile f(dir + QStringLiteral("/api-key"));
            if (!f.open(QIODevice::ReadOnly))
                return QStringLiteral("no api-key file in %1").arg(dir);
            key = f.readAll().trimmed();
        }
        return QString();
    }

    QByteArray auth() const { return "Bearer " + key; }
    Response get(const QByteArray &target, int timeoutMs = 90000) const { return http(port, "GET", target, auth(), {}, timeoutMs); }
    Response post(const QByteArray &target, const QByteArray &body) const { return http(port, "POST", target, auth(), body); }
    Response del(const QByteArray &target) const { return http(port, "DELETE", target, auth()); }

    QJsonObject submit(const QJsonObject &job) const
    {
        const Response r = post("/api/v1/jobs", QJsonDocument(job).toJson(QJsonDocument::Compact));
        if (r.status != 202)
            qWarning("submit failed: %s", qPrintable(r.describe()));
        return r.status == 202 ? r.json() : QJsonObject();
    }
    QJsonObject job(const QString &id) const { return get("/api/v1/jobs/" + id.toUtf8()).json(); }
    QJsonObject waitJob(const QString &id, int timeoutMs = 180000) const
    {
        QElapsedTimer t;
        t.start();
        QJsonObject j;
        do {
            j = job(id);
            if (finished(j.value(QStringLiteral("status")).toString()))
                return j;
            QThread::msleep(300);
        } while (t.elapsed() < timeoutMs);
        return j;
    }
    QByteArray log(const QString &id, const QByteArray &stream = "stdout") const
    {
        return get("/api/v1/jobs/" + id.toUtf8() + "/logs?stream=" + stream).body;
    }

    int signalAndWait(int sig, int timeoutMs = 60000)
    {
        ::kill(pid_t(proc.processId()), sig);
        if (!proc.waitForFinished(timeoutMs))
            return -1000;
        return proc.exitStatus() == QProcess::NormalExit ? proc.exitCode() : -sig;
    }
};


} // namespace magpie::test::headless
