// TestWorkspaceRoutes — issue 11's HTTP routes over real HTTP on 127.0.0.1 (HttpApi in-process
// on a real Executor with real VMs): create, upload (and its bounds before and after the key),
// changes, snapshots, rollback, grow, clone, delete, export -> import, and the bad inputs.
#include "ExecutorTestSupport.h"
#include "HttpApi.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>

using namespace magpie;
using namespace magpie::test;

namespace {
const QByteArray kKey = "test-key-0123456789abcdef0123456789abcdef";

struct Reply {
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString code() const { return json().value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(); }
};
} // namespace

class TestWorkspaceRoutes : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void lifecycleOverHttp();
    void bodyBoundsBeforeAndAfterTheKey();

private:
    Reply call(const QByteArray &method, const QString &path, const QByteArray &body = QByteArray(), bool auth = true,
               const QByteArray &type = "application/json", int ms = 300000);
    QString waitJob(const QString &id);
    QTemporaryDir m_dir;
    std::unique_ptr<Executor> m_ex;
    std::unique_ptr<HttpApi> m_api;
    QNetworkAccessManager m_nam;
};

void TestWorkspaceRoutes::initTestCase()
{
    m_ex = openExecutor(m_dir.path());
    m_api = std::make_unique<HttpApi>(*m_ex, kKey);
    QString err;
    QVERIFY2(m_api->listen(QHostAddress::LocalHost, 0, &err), qPrintable(err));
}

void TestWorkspaceRoutes::cleanupTestCase()
{
    m_api.reset();
    m_ex.reset();
}

Reply TestWorkspaceRoutes::call(const QByteArray &method, const QString &path, const QByteArray &body, bool auth, const QByteArray &type, int ms)
{
    QNetworkRequest req(QUrl(m_api->url() + path));
    if (auth)
        req.setRawHeader("Authorization", "Bearer " + kKey);
    req.setHeader(QNetworkRequest::ContentTypeHeader, type);
    req.setTransferTimeout(ms);
    QNetworkReply *r = m_nam.sendCustomRequest(req, method, body);
    QEventLoop loop;
    connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Reply out;
    out.status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    out.body = r->readAll();
    r->deleteLater();
    return out;
}

QString TestWorkspaceRoutes::waitJob(const QString &id)
{
    QString status;
    for (int i = 0; i < 1200; ++i) {
        status = call("GET", QStringLiteral("/api/v1/jobs/%1").arg(id)).json().value(QStringLiteral("job_status")).toString();
        if (status.isEmpty())
            status = call("GET", QStringLiteral("/api/v1/jobs/%1").arg(id)).json().value(QStringLiteral("status")).toString();
        if (status != QLatin1String("queued") && status != QLatin1String("running"))
            return status;
        QTest::qWait(250);
    }
    return status;
}

void TestWorkspaceRoutes::lifecycleOverHttp()
{
    // Create empty: 201, then 409; bad ids and bodies 400, nothing made.
    Reply r = call("POST", QStringLiteral("/api/v1/workspaces"), R"({"id": "web", "size_gb": 1})");
    QCOMPARE(r.status, 201);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces"), R"({"id": "web", "size_gb": 1})").status, 409);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces"), R"({"id": "Web!", "size_gb": 1})").status, 400);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces"), "not json").status, 400);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces"), R"({"id": "toolarge", "size_gb": 99999})").status, 422);
    QVERIFY(!m_ex->workspace(QStringLiteral("web-")) && !m_ex->workspace(QStringLiteral("toolarge")));

    // Upload, with traversal refused.
    r = call("PUT", QStringLiteral("/api/v1/workspaces/web/file?path=in/data.txt"), "hello upload", true, "application/octet-stream");
    QVERIFY2(r.status == 201, r.body.constData());
    for (const char *p : {"../x", "/etc/passwd", "in/%2e%2e/x", "a/../../b"}) {
        r = call("PUT", QStringLiteral("/api/v1/workspaces/web/file?path=") + QLatin1String(p), "x", true, "application/octet-stream");
        QVERIFY2(r.status == 400, p);
    }
    QCOMPARE(call("DELETE", QStringLiteral("/api/v1/workspaces/web/file?path=")).status, 400);

    // A job reads the upload back and changes the workspace; its changes and checkpoint are listed.
    r = call("POST", QStringLiteral("/api/v1/jobs"),
             R"({"script": "cat in/data.txt; echo x > out.txt; rm in/data.txt", "stateful": true, "workspace_id": "web", "network": false})");
    QCOMPARE(r.status, 202);
    const QString job = r.json().value(QStringLiteral("request_id")).toString();
    QCOMPARE(waitJob(job), QStringLiteral("completed"));
    QCOMPARE(call("GET", QStringLiteral("/api/v1/jobs/%1/logs?stream=stdout").arg(job)).body.contains("hello upload") ||
                 m_ex->readLog(job, 1, 0, 1000).data == "hello upload",
             true);
    r = call("GET", QStringLiteral("/api/v1/jobs/%1/changes").arg(job));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("added")).toArray().at(0).toObject().value(QStringLiteral("path")).toString(), QStringLiteral("out.txt"));
    QCOMPARE(r.json().value(QStringLiteral("deleted")).toArray().at(0).toObject().value(QStringLiteral("path")).toString(), QStringLiteral("in/data.txt"));
    QCOMPARE(call("GET", QStringLiteral("/api/v1/jobs/nope/changes")).status, 404);
    r = call("GET", QStringLiteral("/api/v1/workspaces/web/snapshots"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("snapshots")).toArray().at(0).toObject().value(QStringLiteral("job_id")).toString(), job);

    // Snapshots: take, bad names, unknown ones.
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces/web/snapshots"), R"({"name": "s1"})").status, 201);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces/web/snapshots"), R"({"name": "s1"})").status, 409);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces/web/snapshots"), R"({"name": "S 1"})").status, 400);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces/web/snapshots/nope/restore")).status, 404);
    QCOMPARE(call("DELETE", QStringLiteral("/api/v1/workspaces/web/snapshots/nope")).status, 404);
    QCOMPARE(call("DELETE", QStringLiteral("/api/v1/workspaces/web/snapshots/s1")).status, 200);

    // Roll the job back: the upload is back, out.txt gone (seen in the export below).
    r = call("POST", QStringLiteral("/api/v1/jobs/%1/rollback").arg(job));
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json().value(QStringLiteral("undone_jobs")).toInt(), 0);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/jobs/nope/rollback")).status, 404);

    // Grow: smaller or equal 422; clone 201 then 409.
    QCOMPARE(call("PATCH", QStringLiteral("/api/v1/workspaces/web"), R"({"size_gb": 1})").status, 422);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces/web/clone"), R"({"id": "web2"})").status, 201);
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces/web/clone"), R"({"id": "web2"})").status, 409);
    QCOMPARE(m_ex->workspace(QStringLiteral("web2"))->info.sizeGb, 1);

    // Export -> import -> read a file back.
    r = call("GET", QStringLiteral("/api/v1/workspaces/web/export"));
    QCOMPARE(r.status, 200);
    QVERIFY(r.body.startsWith("\x1f\x8b"));
    const QByteArray archive = r.body;
    r = call("POST", QStringLiteral("/api/v1/workspaces/web3/import?size_gb=1"), archive, true, "application/gzip");
    QVERIFY2(r.status == 201, r.body.constData());
    QCOMPARE(call("POST", QStringLiteral("/api/v1/workspaces/web3/import?size_gb=1"), archive, true, "application/gzip").status, 409);
    r = call("GET", QStringLiteral("/api/v1/workspaces/web3/file?path=in/data.txt"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray("hello upload"));
    QCOMPARE(call("GET", QStringLiteral("/api/v1/workspaces/web3/file?path=out.txt")).status, 404);

    // An archive that climbs out: 400, no workspace.
    QDir(m_dir.path()).mkpath(QStringLiteral("t"));
    QFile(m_dir.filePath(QStringLiteral("t/f"))).open(QIODevice::WriteOnly);
    const QString evil = m_dir.filePath(QStringLiteral("evil.tar.gz"));
    QCOMPARE(QProcess::execute(QStringLiteral("tar"), {QStringLiteral("-C"), m_dir.filePath(QStringLiteral("t")), QStringLiteral("-czPf"), evil, QStringLiteral("../t/f")}), 0);
    QFile ef(evil);
    QVERIFY(ef.open(QIODevice::ReadOnly));
    r = call("POST", QStringLiteral("/api/v1/workspaces/evil/import?size_gb=1"), ef.readAll(), true, "application/gzip");
    QCOMPARE(r.status, 400);
    QCOMPARE(r.code(), QStringLiteral("invalid_archive"));
    QCOMPARE(call("GET", QStringLiteral("/api/v1/workspaces/evil")).status, 404);
}

// An upload route accepts a body beyond 2 MiB only after the key was checked, and never beyond
// 256 MiB (+1 MiB for imports): the answer comes from the head alone.
void TestWorkspaceRoutes::bodyBoundsBeforeAndAfterTheKey()
{
    // The server runs in this thread: wait with the event loop, never blocking.
    auto headOnly = [this](const QByteArray &head) {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, QUrl(m_api->url()).port());
        for (int i = 0; i < 250 && s.state() != QAbstractSocket::ConnectedState; ++i)
            QTest::qWait(20);
        s.write(head);
        QByteArray got;
        for (int i = 0; i < 500 && !got.contains("\r\n"); ++i) {
            QTest::qWait(20);
            got += s.readAll();
        }
        return got.left(got.indexOf("\r\n"));
    };
    const QByteArray big = QByteArray::number(300LL << 20);
    QCOMPARE(headOnly("PUT /api/v1/workspaces/web/file?path=a HTTP/1.1\r\nHost: x\r\nContent-Length: " + big + "\r\n\r\n"),
             QByteArray("HTTP/1.1 401 Unauthorized"));
    QCOMPARE(headOnly("PUT /api/v1/workspaces/web/file?path=a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kKey +
                      "\r\nContent-Length: " + big + "\r\n\r\n"),
             QByteArray("HTTP/1.1 413 Content Too Large"));
    // 3 MiB on a JSON route: 413 even with the key.
    QCOMPARE(headOnly("POST /api/v1/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kKey + "\r\nContent-Length: 3145728\r\n\r\n"),
             QByteArray("HTTP/1.1 413 Content Too Large"));
}

QTEST_GUILESS_MAIN(TestWorkspaceRoutes)
#include "TestWorkspaceRoutes.moc"
