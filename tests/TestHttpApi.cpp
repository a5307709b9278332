// TestHttpApi — the real `magpie-desktop --headless` binary, its HTTP API (docs/api.md) and its
// process behaviour (lock, signals, crash recovery), with real VMs (TCG).
//
// The server runs as a child process on a temporary data folder and port 0; requests go over a
// small blocking HTTP/1.1 client on QTcpSocket, so exact bytes (encoded paths, broken bodies)
// reach the server unchanged.
#include "HeadlessTestSupport.h"
#include "VmTestSupport.h"

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
#include <sys/stat.h>

#ifndef MAGPIE_DESKTOP_BIN
#error "MAGPIE_DESKTOP_BIN must name the magpie-desktop executable"
#endif

using namespace magpie::test;

namespace {

using namespace magpie::test::headless; // the HTTP client and the server process, shared with TestSlurm

// What a rejected request must leave untouched.
struct Snapshot {
    int jobsTotal = -1;
    QByteArray workspaces;
    QStringList diskFiles;
    QStringList logDirs;
    bool operator==(const Snapshot &o) const
    {
        return jobsTotal == o.jobsTotal && workspaces == o.workspaces && diskFiles == o.diskFiles && logDirs == o.logDirs;
    }
};

} // namespace

class TestHttpApi : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<Server> m_srv;

    QString dir(const QString &name) const { return m_tmp.filePath(name); }

    Snapshot snapshot() const
    {
        Snapshot s;
        s.jobsTotal = m_srv->get("/api/v1/jobs").json().value(QStringLiteral("total")).toInt(-1);
        s.workspaces = m_srv->get("/api/v1/workspaces").body;
        s.diskFiles = QDir(m_srv->dataDir + QStringLiteral("/workspaces")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
        s.logDirs = QDir(m_srv->dataDir + QStringLiteral("/logs")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot);
        return s;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QVERIFY2(QFileInfo(QStringLiteral(MAGPIE_DESKTOP_BIN)).isExecutable(), MAGPIE_DESKTOP_BIN);
        for (const char *f : {"vmlinuz", "initrd.img", "rootfs.qcow2"})
            QVERIFY2(QFileInfo::exists(guestDir() + QLatin1Char('/') + QLatin1String(f)),
                     qPrintable(QStringLiteral("no guest image in %1 (build the guest-image target)").arg(guestDir())));
        m_srv = std::make_unique<Server>();
        const QString err = m_srv->start(dir(QStringLiteral("main")));
        QVERIFY2(err.isEmpty(), qPrintable(err));
    }

    void startupFiles()
    {
        const QString d = m_srv->dataDir;
        // api-key: generated, private, 32 random bytes in base64url.
        QFileInfo key(d + QStringLiteral("/api-key"));
        QVERIFY(key.exists());
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(key.filePath()).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0600);
        QVERIFY2(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]{43}$")).match(QString::fromLatin1(m_srv->key)).hasMatch(), m_srv->key.constData());
        // endpoint.json
        QFile ep(d + QStringLiteral("/endpoint.json"));
        QVERIFY(ep.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(ep.readAll()).object();
        QCOMPARE(o.value(QStringLiteral("url")).toString(), QStringLiteral("http://127.0.0.1:%1").arg(m_srv->port));
        QCOMPARE(qint64(o.value(QStringLiteral("pid")).toDouble()), m_srv->proc.processId());
        QCOMPARE(o.value(QStringLiteral("api_key_file")).toString(), key.filePath());
        QVERIFY(isoTime(o.value(QStringLiteral("started_at"))).isValid());
        // Exactly one line on stdout.
        QTest::qWait(200);
        QCOMPARE(m_srv->proc.readAllStandardOutput(), QByteArray());
    }

    void health()
    {
        for (const QByteArray &auth : {QByteArray(), QByteArray("Bearer wrong")}) {
            const Response r = http(m_srv->port, "GET", "/api/v1/health", auth);
            QCOMPARE(r.status, 200);
            QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
            QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
            QCOMPARE(r.json().value(QStringLiteral("version")).toString(), QStringLiteral(MAGPIE_TEST_VERSION));
        }
    }

    void unauthorized_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("auth");
        const QByteArray key = m_srv->key;
        const QList<QPair<QByteArray, QByteArray>> routes{
            {"GET", "/api/v1/jobs"}, {"POST", "/api/v1/jobs"}, {"GET", "/api/v1/jobs/x"}, {"POST", "/api/v1/jobs/x/cancel"},
            {"GET", "/api/v1/jobs/x/logs"}, {"GET", "/api/v1/workspaces"}, {"GET", "/api/v1/workspaces/w"},
            {"DELETE", "/api/v1/workspaces/w"}, {"GET", "/api/v1/workspaces/w/files"}, {"GET", "/api/v1/workspaces/w/file?path=a"},
            {"GET", "/api/v1/workspaces/w/usage"}, {"GET", "/api/v1/pool"}, {"GET", "/api/v1/jobs/x/status"},
            {"GET", "/api/v1/jobs/x/details"}, {"DELETE", "/api/v1/jobs/x"}, {"POST", "/api/v1/jobs:batch"},
            {"GET", "/api/v1/job-templates"}};
        for (const auto &rt : routes) {
            const QByteArray name = rt.first + ' ' + rt.second;
            QTest::newRow((name + " no key").constData()) << rt.first << rt.second << QByteArray();
            QTest::newRow((name + " wrong key").constData()) << rt.first << rt.second << QByteArray("Bearer not-the-key");
        }
        QTest::newRow("basic scheme") << QByteArray("GET") << QByteArray("/api/v1/jobs") << QByteArray("Basic " + key);
        QTest::newRow("bare key") << QByteArray("GET") << QByteArray("/api/v1/jobs") << key;
        QTest::newRow("bearer without key") << QByteArray("GET") << QByteArray("/api/v1/jobs") << QByteArray("Bearer");
        QTest::newRow("key plus one") << QByteArray("GET") << QByteArray("/api/v1/jobs") << QByteArray("Bearer " + key + "x");
        QTest::newRow("key prefix") << QByteArray("GET") << QByteArray("/api/v1/jobs") << QByteArray("Bearer " + key.left(key.size() - 1));
        QTest::newRow("key case") << QByteArray("GET") << QByteArray("/api/v1/jobs") << QByteArray("Bearer " + key.toUpper());
    }

    void unauthorized()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, auth);
        const Snapshot before = snapshot();
        const QByteArray body = method == "POST" ? QByteArray(R"({"script":"echo hi"})") : QByteArray();
        const Response r = http(m_srv->port, method, target, auth, body);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.errorCode(), QStringLiteral("unauthorized"));
        QVERIFY(!r.errorMessage().isEmpty());
        QVERIFY(r.header("WWW-Authenticate").startsWith("Bearer"));
        QVERIFY(snapshot() == before);
    }

    void keySchemeIsCaseInsensitive()
    {
        const Response r = http(m_srv->port, "GET", "/api/v1/jobs", "bearer " + m_srv->key);
        QCOMPARE(r.status, 200);
    }

    void badInput_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message"); // a part of the message, case-insensitive

        const QString req = QStringLiteral("invalid_request");
        const QString wsid = QStringLiteral("invalid_workspace_id");
        const QString path = QStringLiteral("invalid_path");
        auto job = [&](const char *name, const QByteArray &body, int status, const QString &code, const QString &field, const QString &msg) {
            QTest::newRow(name) << QByteArray("POST") << QByteArray("/api/v1/jobs") << body << status << code << field << msg;
        };
        auto get = [&](const char *name, const QByteArray &target, int status, const QString &code, const QString &field, const QString &msg) {
            QTest::newRow(name) << QByteArray("GET") << target << QByteArray() << status << code << field << msg;
        };

        // Bodies that are not a JSON object.
        job("empty body", "", 400, req, "", "empty");
        job("blank body", " \r\n\t ", 400, req, "", "empty");
        job("invalid json", "{", 400, req, "", "not valid json");
        job("invalid json trailing", R"({"script":"echo"} x)", 400, req, "", "not valid json");
        job("json array", "[]", 400, req, "", "json object");
        job("json array of object", R"([{"script":"echo"}])", 400, req, "", "json object");
        job("json string", R"("echo hi")", 400, req, "", "");
        job("json number", "42", 400, req, "", "");
        job("json null", "null", 400, req, "", "");
        job("json true", "true", 400, req, "", "");
        // script
        job("missing script", "{}", 422, req, "script", "required");
        job("null script", R"({"script":null})", 422, req, "script", "required");
        job("empty script", R"({"script":""})", 422, req, "script", "empty");
        job("blank script", R"({"script":"  \n\t "})", 422, req, "script", "white space");
        job("script number", R"({"script":42})", 422, req, "script", "string");
        job("script array", R"({"script":["echo"]})", 422, req, "script", "string");
        job("script object", R"({"script":{"a":1}})", 422, req, "script", "string");
        job("script too large", "{\"script\":\"" + QByteArray(1024 * 1024 + 1, 'a') + "\"}", 413, "payload_too_large", "script", "1048576");
        {
            // 349526 x "€" (3 bytes each) = 1048578 bytes of UTF-8, though only 349526 characters.
            QString euros(349526, QChar(0x20AC));
            job("script too large in utf-8", "{\"script\":\"" + euros.toUtf8() + "\"}", 413, "payload_too_large", "script", "1048576");
        }
        job("body too large", "{\"script\":\"echo\",\"name\":\"" + QByteArray(2 * 1024 * 1024 + 16, 'n') + "\"}", 413,
            "payload_too_large", "", "2097152");
        // other fields
        job("name number", R"({"script":"echo","name":5})", 422, req, "name", "string");
        job("name too long", "{\"script\":\"echo\",\"name\":\"" + QByteArray(201, 'n') + "\"}", 422, req, "name", "200");
        job("stateful string", R"({"script":"echo","stateful":"true"})", 422, req, "stateful", "true or false");
        job("stateful number", R"({"script":"echo","stateful":1})", 422, req, "stateful", "true or false");
        job("network string", R"({"script":"echo","network":"no"})", 422, req, "network", "true or false");
        job("env array", R"({"script":"echo","env":["A=1"]})", 422, req, "env", "object");
        job("env string", R"({"script":"echo","env":"A=1"})", 422, req, "env", "object");
        job("env value number", R"({"script":"echo","env":{"A":1}})", 422, req, "env", "string");
        job("env bad name", R"({"script":"echo","env":{"1A":"x"}})", 422, req, "env", "not valid");
        job("env name with equals", R"({"script":"echo","env":{"A=B":"x"}})", 422, req, "env", "not valid");
        job("vcpus string", R"({"script":"echo","vcpus":"2"})", 422, req, "vcpus", "whole number");
        job("vcpus zero", R"({"script":"echo","vcpus":0})", 422, req, "vcpus", "from 1 to 16");
        job("vcpus too many", R"({"script":"echo","vcpus":17})", 422, req, "vcpus", "from 1 to 16");
        job("vcpus fraction", R"({"script":"echo","vcpus":1.5})", 422, req, "vcpus", "whole number");
        job("memory too small", R"({"script":"echo","memory_mb":64})", 422, req, "memory_mb", "128");
        job("memory too large", R"({"script":"echo","memory_mb":16385})", 422, req, "memory_mb", "16384");
        job("timeout zero", R"({"script":"echo","timeout":0})", 422, req, "timeout", "");
        job("timeout fraction", R"({"script":"echo","timeout":2.5})", 422, req, "timeout", "whole number");
        job("timeout too long", R"({"script":"echo","timeout":604801})", 422, req, "timeout", "604800");
        // workspace id and size
        job("workspace id upper case", R"({"script":"echo","stateful":true,"workspace_id":"My-WS"})", 422, wsid, "workspace_id", "");
        job("workspace id underscore", R"({"script":"echo","stateful":true,"workspace_id":"my_ws"})", 422, wsid, "workspace_id", "");
        job("workspace id leading hyphen", R"({"script":"echo","stateful":true,"workspace_id":"-ws"})", 422, wsid, "workspace_id", "");
        job("workspace id too long", "{\"script\":\"echo\",\"stateful\":true,\"workspace_id\":\"" + QByteArray(64, 'a') + "\"}", 422, wsid,
            "workspace_id", "63");
        job("workspace id empty", R"({"script":"echo","stateful":true,"workspace_id":""})", 422, wsid, "workspace_id", "");
        job("workspace id traversal", R"({"script":"echo","stateful":true,"workspace_id":"../etc"})", 422, wsid, "workspace_id", "");
        job("workspace id slash", R"({"script":"echo","stateful":true,"workspace_id":"a/b"})", 422, wsid, "workspace_id", "");
        job("workspace id space", R"({"script":"echo","stateful":true,"workspace_id":"a b"})", 422, wsid, "workspace_id", "");
        job("workspace id unicode", R"({"script":"echo","stateful":true,"workspace_id":"café"})", 422, wsid, "workspace_id", "");
        job("workspace id number", R"({"script":"echo","stateful":true,"workspace_id":5})", 422, wsid, "workspace_id", "string");
        job("workspace id without stateful", R"({"script":"echo","workspace_id":"ok-ws"})", 422, req, "workspace_id", "stateful");
        job("workspace id with stateful false", R"({"script":"echo","stateful":false,"workspace_id":"ok-ws"})", 422, req, "workspace_id",
            "stateful");
        job("size without stateful", R"({"script":"echo","workspace_size_gb":5})", 422, req, "workspace_size_gb", "stateful");
        job("size zero", R"({"script":"echo","stateful":true,"workspace_id":"ok-ws","workspace_size_gb":0})", 422, req, "workspace_size_gb", "");
        job("size negative", R"({"script":"echo","stateful":true,"workspace_size_gb":-1})", 422, req, "workspace_size_gb", "");
        job("size 1025", R"({"script":"echo","stateful":true,"workspace_id":"ok-ws","workspace_size_gb":1025})", 422, req, "workspace_size_gb", "1024");
        job("size huge", R"({"script":"echo","stateful":true,"workspace_size_gb":1e300})", 422, req, "workspace_size_gb", "");
        job("size fraction", R"({"script":"echo","stateful":true,"workspace_size_gb":1.5})", 422, req, "workspace_size_gb", "whole number");
        job("size string", R"({"script":"echo","stateful":true,"workspace_size_gb":"10"})", 422, req, "workspace_size_gb", "whole number");
        job("size bool", R"({"script":"echo","stateful":true,"workspace_size_gb":true})", 422, req, "workspace_size_gb", "whole number");

        // Query parameters.
        const QByteArray uuid = QUuid::createUuid().toString(QUuid::WithoutBraces).toUtf8();
        get("limit zero", "/api/v1/jobs?limit=0", 422, req, "limit", "from 1 to 500");
        get("limit 501", "/api/v1/jobs?limit=501", 422, req, "limit", "from 1 to 500");
        get("limit text", "/api/v1/jobs?limit=abc", 422, req, "limit", "whole number");
        get("limit negative", "/api/v1/jobs?limit=-1", 422, req, "limit", "");
        get("limit fraction", "/api/v1/jobs?limit=1.5", 422, req, "limit", "");
        get("limit empty", "/api/v1/jobs?limit=", 422, req, "limit", "");
        get("limit huge", "/api/v1/jobs?limit=99999999999999999999", 422, req, "limit", "");
        get("offset negative", "/api/v1/jobs?offset=-1", 422, req, "offset", "");
        get("offset text", "/api/v1/jobs?offset=x", 422, req, "offset", "");
        get("status unknown", "/api/v1/jobs?status=done", 422, req, "status", "queued");
        get("status upper case", "/api/v1/jobs?status=RUNNING", 422, req, "status", "");
        get("jobs workspace filter invalid", "/api/v1/jobs?workspace_id=Bad_Id", 422, wsid, "workspace_id", "");
        get("logs stream stdin", "/api/v1/jobs/" + uuid + "/logs?stream=stdin", 422, req, "stream", "stdout or stderr");
        get("logs stream empty", "/api/v1/jobs/" + uuid + "/logs?stream=", 422, req, "stream", "");
        get("logs offset negative", "/api/v1/jobs/" + uuid + "/logs?offset=-5", 422, req, "offset", "");
        get("logs offset text", "/api/v1/jobs/" + uuid + "/logs?offset=ten", 422, req, "offset", "");
        get("logs wait 61", "/api/v1/jobs/" + uuid + "/logs?wait=61", 422, req, "wait", "from 0 to 60");
        get("logs wait negative", "/api/v1/jobs/" + uuid + "/logs?wait=-1", 422, req, "wait", "");
        get("logs wait text", "/api/v1/jobs/" + uuid + "/logs?wait=soon", 422, req, "wait", "");
        get("logs wait fraction", "/api/v1/jobs/" + uuid + "/logs?wait=0.5", 422, req, "wait", "");
        get("usage limit zero", "/api/v1/workspaces/ghost-ws/usage?limit=0", 422, req, "limit", "");
        get("usage limit 501", "/api/v1/workspaces/ghost-ws/usage?limit=501", 422, req, "limit", "");

        // File paths that escape the workspace, plain and encoded (checked before anything else).
        const QList<QPair<const char *, QByteArray>> paths{
            {"dotdot", ".."}, {"dotdot slash", "../"}, {"dotdot etc", "../etc/passwd"}, {"absolute", "/etc/passwd"},
            {"absolute encoded", "%2Fetc%2Fpasswd"}, {"inner dotdot", "a/../../b"}, {"trailing dotdot", "a/.."},
            {"encoded dotdot", "%2e%2e"}, {"encoded dotdot upper", "%2E%2E"}, {"encoded dotdot slash", "%2e%2e%2fetc"},
            {"mixed encoding", ".%2e/x"}, {"dotdot encoded slash", "..%2fx"}, {"double encoded", "%252e%252e"},
            {"double encoded slash", "..%252f..%252fetc"}, {"nul", "a%00b"}, {"home", "~/x"}};
        for (const auto &p : paths) {
            for (const char *route : {"files", "file"}) {
                const QByteArray name = QByteArray(route) + " path " + p.first;
                QTest::newRow(name.constData()) << QByteArray("GET") << QByteArray("/api/v1/workspaces/ghost-ws/") + route + "?path=" + p.second
                                                << QByteArray() << 422 << path << QStringLiteral("path") << QString();
            }
        }
        get("file path empty", "/api/v1/workspaces/ghost-ws/file?path=", 422, path, "path", "");
        get("file path missing", "/api/v1/workspaces/ghost-ws/file", 422, path, "path", "");
        // Workspace ids in the URL.
        get("workspace get bad id", "/api/v1/workspaces/Bad_ID", 422, wsid, "workspace_id", "");
        get("workspace files bad id", "/api/v1/workspaces/UPPER/files", 422, wsid, "workspace_id", "");
        get("workspace file bad id", "/api/v1/workspaces/-x/file?path=a", 422, wsid, "workspace_id", "");
        get("workspace usage bad id", "/api/v1/workspaces/a_b/usage", 422, wsid, "workspace_id", "");
        get("workspace encoded dotdot id", "/api/v1/workspaces/%2e%2e", 422, wsid, "workspace_id", "");
        QTest::newRow("workspace delete bad id") << QByteArray("DELETE") << QByteArray("/api/v1/workspaces/Bad_ID") << QByteArray() << 422
                                                 << wsid << QStringLiteral("workspace_id") << QString();

        // Unknown things.
        const QString nf = QStringLiteral("not_found");
        get("unknown job", "/api/v1/jobs/" + uuid, 404, nf, "", "no job");
        get("unknown job not a uuid", "/api/v1/jobs/not-a-job", 404, nf, "", "no job");
        get("unknown job logs", "/api/v1/jobs/" + uuid + "/logs", 404, nf, "", "no job");
        get("unknown job logs with wait", "/api/v1/jobs/" + uuid + "/logs?wait=5", 404, nf, "", "no job");
        QTest::newRow("cancel unknown job") << QByteArray("POST") << "/api/v1/jobs/" + uuid + "/cancel" << QByteArray() << 404 << nf
                                            << QString() << QStringLiteral("no job");
        get("unknown workspace", "/api/v1/workspaces/ghost-ws", 404, nf, "", "no workspace");
        get("unknown workspace files", "/api/v1/workspaces/ghost-ws/files", 404, nf, "", "no workspace");
        get("unknown workspace file", "/api/v1/workspaces/ghost-ws/file?path=a.txt", 404, nf, "", "no workspace");
        get("unknown workspace usage", "/api/v1/workspaces/ghost-ws/usage", 404, nf, "", "no workspace");
        QTest::newRow("delete unknown workspace") << QByteArray("DELETE") << QByteArray("/api/v1/workspaces/ghost-ws") << QByteArray() << 404
                                                  << nf << QString() << QStringLiteral("no workspace");
        get("unknown route", "/api/v1/nope", 404, nf, "", "no such route");
        get("root", "/", 404, nf, "", "");
        get("other version", "/api/v2/health", 404, nf, "", "");
        get("trailing slash", "/api/v1/jobs/", 404, nf, "", "");
        get("too deep", "/api/v1/jobs/a/b/c", 404, nf, "", "");
        QTest::newRow("wrong method PUT jobs") << QByteArray("PUT") << QByteArray("/api/v1/jobs") << QByteArray(R"({"script":"echo"})") << 404
                                               << nf << QString() << QStringLiteral("PUT");
        QTest::newRow("delete unknown job") << QByteArray("DELETE") << "/api/v1/jobs/" + uuid << QByteArray() << 404 << nf << QString()
                                            << QStringLiteral("no job");
        get("unknown job status", "/api/v1/jobs/" + uuid + "/status", 404, nf, "", "no job");
        get("unknown job details", "/api/v1/jobs/" + uuid + "/details", 404, nf, "", "no job");
        // Magpie Cloud's fields and calls that have no local meaning.
        const QString ns = QStringLiteral("not_supported");
        job("persist true", R"({"script":"echo","persist":true})", 422, ns, "persist", "not supported locally");
        job("ip_lease true", R"({"script":"echo","ip_lease":true})", 422, ns, "ip_lease", "not supported locally");
        job("docker_image", R"({"script":"echo","docker_image":"alpine"})", 422, ns, "docker_image", "not supported locally");
        job("proxy_port", R"({"script":"echo","proxy_port":8080})", 422, ns, "proxy_port", "not supported locally");
        job("type ruby", R"({"script":"echo","type":"ruby"})", 422, req, "type", "inline, bash or python");
        job("env and environment differ", R"({"script":"echo","env":{"A":"1"},"environment":{"A":"2"}})", 422, req, "environment", "different");
        job("description number", R"({"script":"echo","description":1})", 422, req, "description", "string");
        for (const auto &[m, t] : QList<QPair<QByteArray, QByteArray>>{
                 {"GET", "/api/v1/jobs/" + uuid + "/vm-info"}, {"GET", "/api/v1/jobs/" + uuid + "/ssh"},
                 {"POST", "/api/v1/jobs/" + uuid + "/ssh"}, {"PUT", "/api/v1/jobs/" + uuid}, {"POST", "/api/v1/jobs/" + uuid + "/run"},
                 {"GET", "/api/v1/job-templates"}, {"POST", "/api/v1/job-templates"}, {"GET", "/api/v1/job-templates/t1"},
                 {"DELETE", "/api/v1/job-templates/t1"}, {"GET", "/api/v1/proxy-targets"}, {"POST", "/api/v1/proxy-targets"},
                 {"DELETE", "/api/v1/proxy-targets/p1"}})
            QTest::newRow((m + ' ' + t + " 501").constData()) << m << t << QByteArray("{}") << 501 << ns << QString()
                                                              << QStringLiteral("is a Magpie Cloud feature; Magpie Desktop runs one-shot VMs");
        // Listing parameters.
        get("page zero", "/api/v1/jobs?page=0", 422, req, "page", "");
        get("page_size 501", "/api/v1/jobs?page_size=501", 422, req, "page_size", "");
        get("page with limit", "/api/v1/jobs?page=1&limit=5", 422, req, "page", "not both");
        get("cursor text", "/api/v1/jobs?cursor=abc", 422, req, "cursor", "next_cursor");
        get("cursor with offset", "/api/v1/jobs?cursor=5&offset=5", 422, req, "cursor", "");
        get("count not a bool", "/api/v1/jobs?count=maybe", 422, req, "count", "true or false");
        get("created_after not a time", "/api/v1/jobs?created_after=yesterday", 422, req, "created_after", "ISO-8601");
        // Batches: all or nothing.
        auto batch = [&](const char *name, const QByteArray &body, int status, const QString &code, const QString &field, const QString &msg) {
            QTest::newRow(name) << QByteArray("POST") << QByteArray("/api/v1/jobs:batch") << body << status << code << field << msg;
        };
        batch("batch not json", "[", 400, req, "", "not valid json");
        batch("batch not a list", R"({"script":"echo"})", 400, req, "", "jobs");
        batch("batch empty", R"({"jobs":[]})", 422, req, "jobs", "empty");
        batch("batch one bad", R"({"jobs":[{"script":"echo 1"},{"script":""},{"script":"echo 3"}]})", 422, req, "jobs[1].script", "jobs[1]");
        batch("batch item not an object", R"([{"script":"echo 1"},"echo 2"])", 422, req, "jobs[1]", "job object");
        {
            QByteArray many = "[";
            for (int i = 0; i < 1001; ++i)
                many += QByteArray(i ? "," : "") + R"({"script":"echo"})";
            batch("batch of 1001", many + "]", 422, req, "jobs", "1000");
        }
        QTest::newRow("wrong method PUT workspaces") << QByteArray("PUT") << QByteArray("/api/v1/workspaces") << QByteArray("{}") << 404 << nf
                                                      << QString() << QString();
    }

    void badInput()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(QString, field);
        QFETCH(QString, message);
        const Snapshot before = snapshot();
        QVERIFY(before.jobsTotal >= 0);
        const Response r = http(m_srv->port, method, target, m_srv->auth(), body);
        QVERIFY2(r.failure.isEmpty(), qPrintable(r.failure));
        QVERIFY2(r.status == status, qPrintable(r.describe()));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(r.errorCode(), code);
        QVERIFY2(!r.errorMessage().isEmpty(), qPrintable(r.describe()));
        QVERIFY2(r.errorMessage().contains(message, Qt::CaseInsensitive), qPrintable(r.errorMessage()));
        QCOMPARE(r.errorField(), field);
        QVERIFY2(snapshot() == before, "a rejected request changed the job history, the workspaces or the data folder");
    }

    void realJobAndLogs()
    {
        const QJsonObject j = m_srv->submit(QJsonObject{{QStringLiteral("name"), QStringLiteral("logs")},
                                                        {QStringLiteral("script"), QStringLiteral("echo first; echo oops >&2; sleep 6; echo second")}});
        const QString id = j.value(QStringLiteral("request_id")).toString();
        QVERIFY(!id.isEmpty());
        QCOMPARE(j.value(QStringLiteral("job_status")).toString(), QStringLiteral("queued"));
        QCOMPARE(j.value(QStringLiteral("status")).toString(), QStringLiteral("not_started")); // Magpie Cloud's JobRun
        QCOMPARE(j.value(QStringLiteral("name")).toString(), QStringLiteral("logs"));
        QCOMPARE(j.value(QStringLiteral("stateful")).toBool(), false);
        QVERIFY(j.value(QStringLiteral("workspace_id")).isNull());
        QVERIFY(j.value(QStringLiteral("exit_code")).isNull());
        QCOMPARE(j.value(QStringLiteral("source")).toString(), QStringLiteral("api"));
        const QByteArray base = "/api/v1/jobs/" + id.toUtf8();

        // Long-poll: the first line arrives while the job still runs.
        Response r = m_srv->get(base + "/logs?wait=60");
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/octet-stream"));
        QCOMPARE(r.body, QByteArray("first\n"));
        QCOMPARE(r.header("X-Magpie-Offset"), QByteArray("0"));
        QCOMPARE(r.header("X-Magpie-Next-Offset"), QByteArray("6"));
        QCOMPARE(r.header("X-Magpie-Job-Status"), QByteArray("running"));
        QVERIFY(r.header("X-Magpie-Complete").isEmpty());
        QCOMPARE(m_srv->job(id).value(QStringLiteral("status")).toString(), QStringLiteral("running"));
        // A running job cannot be deleted.
        r = m_srv->del(base);
        QCOMPARE(r.status, 409);
        QCOMPARE(r.errorCode(), QStringLiteral("conflict"));

        // The next request is held until "second" is written (about 6 s later).
        QElapsedTimer t;
        t.start();
        r = m_srv->get(base + "/logs?offset=6&wait=60");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("second\n"));
        QCOMPARE(r.header("X-Magpie-Offset"), QByteArray("6"));
        QCOMPARE(r.header("X-Magpie-Next-Offset"), QByteArray("13"));
        QVERIFY2(t.elapsed() > 2000, qPrintable(QString::number(t.elapsed())));

        // Nothing more: held until the job finishes, then complete.
        r = m_srv->get(base + "/logs?offset=13&wait=60");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray());
        QCOMPARE(r.header("X-Magpie-Complete"), QByteArray("true"));
        QCOMPARE(r.header("X-Magpie-Job-Status"), QByteArray("completed"));

        const QJsonObject done = m_srv->waitJob(id);
        QCOMPARE(done.value(QStringLiteral("status")).toString(), QStringLiteral("completed"));
        QCOMPARE(done.value(QStringLiteral("exit_code")).toInt(-1), 0);
        QVERIFY(done.value(QStringLiteral("error")).isNull());
        QCOMPARE(done.value(QStringLiteral("stdout_bytes")).toInt(), 13);
        QCOMPARE(done.value(QStringLiteral("stderr_bytes")).toInt(), 5);
        QCOMPARE(done.value(QStringLiteral("script")).toString(), QStringLiteral("echo first; echo oops >&2; sleep 6; echo second"));
        QCOMPARE(done.value(QStringLiteral("accelerator")).toString(), QStringLiteral("tcg"));
        QVERIFY(isoTime(done.value(QStringLiteral("started_at"))) <= isoTime(done.value(QStringLiteral("finished_at"))));
        QVERIFY(done.value(QStringLiteral("duration_ms")).toDouble() >= 6000);

        // Offsets, stderr, and a finished log without waiting.
        r = m_srv->get(base + "/logs?offset=2");
        QCOMPARE(r.body, QByteArray("rst\nsecond\n"));
        QCOMPARE(r.header("X-Magpie-Complete"), QByteArray("true"));
        r = m_srv->get(base + "/logs?stream=stderr&wait=10");
        QCOMPARE(r.body, QByteArray("oops\n"));
        QCOMPARE(r.header("X-Magpie-Complete"), QByteArray("true"));

        // Cancelling a finished job is a conflict and changes nothing.
        r = m_srv->post(base + "/cancel", QByteArray());
        QCOMPARE(r.status, 409);
        QCOMPARE(r.errorCode(), QStringLiteral("conflict"));
        QCOMPARE(m_srv->job(id).value(QStringLiteral("status")).toString(), QStringLiteral("completed"));

        // Listing: newest first, without the script; filters.
        QJsonObject list = m_srv->get("/api/v1/jobs").json();
        QVERIFY(list.value(QStringLiteral("total")).toInt() >= 1);
        QCOMPARE(list.value(QStringLiteral("limit")).toInt(), 50);
        QCOMPARE(list.value(QStringLiteral("offset")).toInt(), 0);
        const QJsonObject first = list.value(QStringLiteral("jobs")).toArray().first().toObject();
        QCOMPARE(first.value(QStringLiteral("request_id")).toString(), id);
        QCOMPARE(first.value(QStringLiteral("script")).toString(), done.value(QStringLiteral("script")).toString());
        list = m_srv->get("/api/v1/jobs?status=completed&limit=1").json();
        QCOMPARE(list.value(QStringLiteral("jobs")).toArray().size(), 1);
        QCOMPARE(list.value(QStringLiteral("limit")).toInt(), 1);
        QCOMPARE(m_srv->get("/api/v1/jobs?status=running").json().value(QStringLiteral("total")).toInt(), 0);
        QCOMPARE(m_srv->get("/api/v1/jobs?workspace_id=&status=&limit=50&offset=0").status, 200);
        QCOMPARE(m_srv->get("/api/v1/jobs?offset=1000").json().value(QStringLiteral("jobs")).toArray().size(), 0);
        // Keyset paging gives the same jobs as offsets; page/page_size as Magpie Cloud sends them.
        {
            QStringList byCursor, byOffset;
            QString cursor;
            do {
                const QJsonObject p = m_srv->get("/api/v1/jobs?limit=1&count=false" + (cursor.isEmpty() ? QByteArray() : "&cursor=" + cursor.toUtf8())).json();
                QVERIFY(p.value(QStringLiteral("total")).isNull());
                for (const QJsonValue &v : p.value(QStringLiteral("jobs")).toArray())
                    byCursor << v.toObject().value(QStringLiteral("request_id")).toString();
                cursor = p.value(QStringLiteral("next_cursor")).toString();
            } while (!cursor.isEmpty() && byCursor.size() < 50);
            for (const QJsonValue &v : m_srv->get("/api/v1/jobs?limit=500").json().value(QStringLiteral("jobs")).toArray())
                byOffset << v.toObject().value(QStringLiteral("request_id")).toString();
            QCOMPARE(byCursor, byOffset.mid(0, byCursor.size()));
            QCOMPARE(byCursor.size(), byOffset.size());
            const QJsonObject paged = m_srv->get("/api/v1/jobs?page=1&page_size=1").json();
            QCOMPARE(paged.value(QStringLiteral("page_size")).toInt(), 1);
            QCOMPARE(paged.value(QStringLiteral("jobs")).toArray().first().toObject().value(QStringLiteral("id")).toString(), byOffset.first());
        }

        // Deleting a finished job: its record and logs go, the rest of the history stays.
        const int totalBefore = m_srv->get("/api/v1/jobs").json().value(QStringLiteral("total")).toInt();
        r = m_srv->del(base);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.json().value(QStringLiteral("deleted")).toString(), id);
        QCOMPARE(m_srv->get(base).status, 404);
        QCOMPARE(m_srv->del(base).status, 404);
        QVERIFY(!QFileInfo::exists(m_srv->dataDir + QStringLiteral("/logs/") + id));
        QCOMPARE(m_srv->get("/api/v1/jobs").json().value(QStringLiteral("total")).toInt(), totalBefore - 1);

        const QJsonObject pool = m_srv->get("/api/v1/pool").json();
        QCOMPARE(pool.value(QStringLiteral("max_parallel")).toInt(), 2);
        QCOMPARE(pool.value(QStringLiteral("accelerator")).toString(), QStringLiteral("tcg"));
    }

    void twentyIncrementsAtOnce()
    {
        const QString script = QStringLiteral("c=$(cat /workspace/counter 2>/dev/null || echo 0)\n"
                                              "c=$((c + 1))\n"
                                              "echo $c > /workspace/counter\n"
                                              "echo \"counter=$c\"\n");
        const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("script"), script},
                                                          {QStringLiteral("stateful"), true},
                                                          {QStringLiteral("workspace_id"), QStringLiteral("counter")},
                                                          {QStringLiteral("network"), false}})
                                    .toJson(QJsonDocument::Compact);
        QMutex mutex;
        QStringList ids;
        QStringList failures;
        QList<QThread *> threads;
        const quint16 port = m_srv->port;
        const QByteArray auth = m_srv->auth();
        for (int t = 0; t < 4; ++t) {
            threads << QThread::create([&, port, auth] {
                for (int i = 0; i < 5; ++i) {
                    const Response r = http(port, "POST", "/api/v1/jobs", auth, body);
                    QMutexLocker lock(&mutex);
                    if (r.status == 202)
                        ids << r.json().value(QStringLiteral("request_id")).toString();
                    else
                        failures << r.describe();
                }
            });
        }
        for (QThread *t : threads)
            t->start();
        for (QThread *t : threads) {
            t->wait();
            delete t;
        }
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
        QCOMPARE(ids.size(), 20);
        QCOMPARE(QSet<QString>(ids.begin(), ids.end()).size(), 20);

        // Busy: deleting is refused while jobs are queued or running, and nothing is lost.
        Response r = m_srv->del("/api/v1/workspaces/counter");
        QCOMPARE(r.status, 409);
        QCOMPARE(r.errorCode(), QStringLiteral("conflict"));
        const QJsonObject ws = m_srv->get("/api/v1/workspaces/counter").json();
        QVERIFY2(ws.value(QStringLiteral("state")).toString() != QLatin1String("idle"), qPrintable(ws.value(QStringLiteral("state")).toString()));
        QVERIFY(ws.value(QStringLiteral("queued")).toInt() >= 1);

        struct Run {
            QDateTime start, end;
            int value;
            QString id;
        };
        QList<Run> runs;
        for (const QString &id : std::as_const(ids)) {
            const QJsonObject j = m_srv->waitJob(id, 400000);
            QVERIFY2(j.value(QStringLiteral("status")).toString() == QLatin1String("completed"), qPrintable(QJsonDocument(j).toJson()));
            QCOMPARE(j.value(QStringLiteral("exit_code")).toInt(-1), 0);
            const QByteArray out = m_srv->log(id).trimmed();
            QVERIFY2(out.startsWith("counter="), out.constData());
            runs.append({isoTime(j.value(QStringLiteral("started_at"))), isoTime(j.value(QStringLiteral("finished_at"))),
                         out.mid(8).toInt(), id});
        }
        std::sort(runs.begin(), runs.end(), [](const Run &a, const Run &b) { return a.start < b.start; });
        for (int i = 0; i < runs.size(); ++i) {
            QVERIFY(runs[i].start.isValid() && runs[i].end.isValid());
            QCOMPARE(runs[i].value, i + 1); // each saw the previous one's write
            if (i > 0)
                QVERIFY2(runs[i - 1].end <= runs[i].start,
                         qPrintable(QStringLiteral("jobs %1 and %2 on one workspace overlapped").arg(runs[i - 1].id, runs[i].id)));
        }

        // The file the jobs wrote, through the files routes.
        r = m_srv->get("/api/v1/workspaces/counter/files");
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.json().value(QStringLiteral("workspace_id")).toString(), QStringLiteral("counter"));
        QCOMPARE(r.json().value(QStringLiteral("path")).toString(), QString());
        bool found = false;
        for (const QJsonValue &v : r.json().value(QStringLiteral("entries")).toArray()) {
            const QJsonObject e = v.toObject();
            if (e.value(QStringLiteral("name")).toString() == QLatin1String("counter")) {
                found = true;
                QCOMPARE(e.value(QStringLiteral("type")).toString(), QStringLiteral("file"));
                QCOMPARE(e.value(QStringLiteral("size")).toInt(), 3);
                QCOMPARE(e.value(QStringLiteral("path")).toString(), QStringLiteral("counter"));
                QVERIFY(isoTime(e.value(QStringLiteral("modified_at"))).isValid());
            }
        }
        QVERIFY2(found, r.body.constData());
        r = m_srv->get("/api/v1/workspaces/counter/file?path=counter");
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.body, QByteArray("20\n"));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/octet-stream"));
        QVERIFY2(r.header("Content-Disposition").startsWith("attachment; filename=\"counter\""), r.header("Content-Disposition").constData());
        r = m_srv->get("/api/v1/workspaces/counter/file?path=no-such-file");
        QCOMPARE(r.status, 404);
        QCOMPARE(r.errorCode(), QStringLiteral("not_found"));
        r = m_srv->get("/api/v1/workspaces/counter/files?path=counter"); // a file, not a folder
        QCOMPARE(r.status, 404);

        const QJsonObject after = m_srv->get("/api/v1/workspaces/counter").json();
        QCOMPARE(after.value(QStringLiteral("state")).toString(), QStringLiteral("idle"));
        QCOMPARE(after.value(QStringLiteral("job_count")).toInt(), 20);
        QCOMPARE(m_srv->get("/api/v1/jobs?workspace_id=counter&limit=500").json().value(QStringLiteral("total")).toInt(), 20);
    }

    void differentWorkspacesRunInParallel()
    {
        const QJsonObject a = m_srv->submit(QJsonObject{{QStringLiteral("script"), QStringLiteral("sleep 4")},
                                                        {QStringLiteral("stateful"), true},
                                                        {QStringLiteral("workspace_id"), QStringLiteral("par-a")},
                                                        {QStringLiteral("workspace_size_gb"), 1}});
        const QJsonObject b = m_srv->submit(QJsonObject{{QStringLiteral("script"), QStringLiteral("sleep 4; exit 7")},
                                                        {QStringLiteral("stateful"), true},
                                                        {QStringLiteral("workspace_id"), QStringLiteral("par-b")}});
        QCOMPARE(a.value(QStringLiteral("workspace_size_gb")).toInt(), 1);
        QCOMPARE(b.value(QStringLiteral("workspace_size_gb")).toInt(), 10);
        const QJsonObject ra = m_srv->waitJob(a.value(QStringLiteral("request_id")).toString());
        const QJsonObject rb = m_srv->waitJob(b.value(QStringLiteral("request_id")).toString());
        QCOMPARE(ra.value(QStringLiteral("status")).toString(), QStringLiteral("completed"));
        QCOMPARE(rb.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QCOMPARE(rb.value(QStringLiteral("exit_code")).toInt(), 7);
        QVERIFY(rb.value(QStringLiteral("error")).isNull());
        const QDateTime as = isoTime(ra.value(QStringLiteral("started_at"))), ae = isoTime(ra.value(QStringLiteral("finished_at")));
        const QDateTime bs = isoTime(rb.value(QStringLiteral("started_at"))), be = isoTime(rb.value(QStringLiteral("finished_at")));
        QVERIFY2(as < be && bs < ae, "jobs on two different workspaces did not overlap in time");

        // Deleting an idle workspace; afterwards it is gone, its history stays.
        Response r = m_srv->del("/api/v1/workspaces/par-a");
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.json().value(QStringLiteral("deleted")).toString(), QStringLiteral("par-a"));
        QCOMPARE(m_srv->get("/api/v1/workspaces/par-a").status, 404);
        QCOMPARE(m_srv->del("/api/v1/workspaces/par-a").status, 404);
        QVERIFY(!QFileInfo::exists(m_srv->dataDir + QStringLiteral("/workspaces/par-a.qcow2")));
        QCOMPARE(m_srv->get("/api/v1/jobs?workspace_id=par-a").json().value(QStringLiteral("total")).toInt(), 1);
        bool listed = false;
        for (const QJsonValue &v : m_srv->get("/api/v1/workspaces").json().value(QStringLiteral("workspaces")).toArray())
            listed |= v.toObject().value(QStringLiteral("id")).toString() == QLatin1String("par-a");
        QVERIFY(!listed);
    }

    void secondServerOnSameDataDirExits()
    {
        QProcess p;
        p.setProcessEnvironment(Server::environment());
        QElapsedTimer t;
        t.start();
        p.start(QStringLiteral(MAGPIE_DESKTOP_BIN), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), m_srv->dataDir,
                                                     QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")});
        QVERIFY(p.waitForFinished(10000));
        QVERIFY2(t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QVERIFY(p.exitCode() != 0);
        const QString err = QString::fromLocal8Bit(p.readAllStandardError());
        QVERIFY2(err.contains(QStringLiteral("already using")) && err.contains(m_srv->dataDir), qPrintable(err));
        QVERIFY2(err.contains(QString::number(m_srv->proc.processId())), qPrintable(err));
        QCOMPARE(p.readAllStandardOutput(), QByteArray());
        // The first one is unharmed.
        QCOMPARE(http(m_srv->port, "GET", "/api/v1/health", {}).status, 200);
        QFile ep(m_srv->dataDir + QStringLiteral("/endpoint.json"));
        QVERIFY(ep.open(QIODevice::ReadOnly));
        QCOMPARE(qint64(QJsonDocument::fromJson(ep.readAll()).object().value(QStringLiteral("pid")).toDouble()), m_srv->proc.processId());
    }

    void keyFromEnvironmentAndLoopbackOnly()
    {
        {
            Server s;
            QProcessEnvironment env = Server::environment();
            env.insert(QStringLiteral("MAGPIE_API_KEY"), QStringLiteral("env-key-0123456789"));
            const QString err = s.start(dir(QStringLiteral("envkey")), {}, env);
            QVERIFY2(err.isEmpty(), qPrintable(err));
            QCOMPARE(http(s.port, "GET", "/api/v1/jobs", "Bearer env-key-0123456789").status, 200);
            QCOMPARE(http(s.port, "GET", "/api/v1/jobs", "Bearer " + m_srv->key).status, 401);
            QVERIFY(!QFileInfo::exists(s.dataDir + QStringLiteral("/api-key")));
            QFile ep(s.dataDir + QStringLiteral("/endpoint.json"));
            QVERIFY(ep.open(QIODevice::ReadOnly));
            QVERIFY(QJsonDocument::fromJson(ep.readAll()).object().value(QStringLiteral("api_key_file")).isNull());
            QCOMPARE(s.signalAndWait(SIGINT), 0);
            QVERIFY(!QFileInfo::exists(s.dataDir + QStringLiteral("/endpoint.json")));
        }
        for (const QString &listen : {QStringLiteral("0.0.0.0:0"), QStringLiteral("192.168.1.10:8080"), QStringLiteral("[::]:0")}) {
            QProcess p;
            p.setProcessEnvironment(Server::environment());
            p.start(QStringLiteral(MAGPIE_DESKTOP_BIN), {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dir(QStringLiteral("refused")),
                                                         QStringLiteral("--listen"), listen});
            QVERIFY(p.waitForFinished(10000));
            QVERIFY(p.exitCode() != 0);
            const QString err = QString::fromLocal8Bit(p.readAllStandardError());
            QVERIFY2(err.contains(QStringLiteral("loopback")), qPrintable(err));
            QCOMPARE(p.readAllStandardOutput(), QByteArray());
        }
    }

    // Bad command-line values: the server does not start, says which option and why, and
    // leaves no data folder behind.
    void badOptions_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("max-parallel negative") << QStringList{"--max-parallel", "-1"} << "--max-parallel must be a whole number from 0 to 256";
        QTest::newRow("max-parallel word") << QStringList{"--max-parallel", "many"} << "--max-parallel must be a whole number";
        QTest::newRow("keep-jobs too many") << QStringList{"--keep-jobs", "10000001"} << "--keep-jobs must be a whole number from 0 to 10000000";
        QTest::newRow("keep-days fraction") << QStringList{"--keep-days", "1.5"} << "--keep-days must be a whole number";
        QTest::newRow("keep-checkpoints") << QStringList{"--keep-checkpoints", "1001"} << "--keep-checkpoints must be a whole number from 0 to 1000";
        QTest::newRow("checkpoints") << QStringList{"--checkpoints", "maybe"} << "--checkpoints must be on or off";
        QTest::newRow("accel") << QStringList{"--accel", "hvf"} << "--accel must be auto, tcg or kvm";
        QTest::newRow("backend") << QStringList{"--backend", "k8s"} << "--backend must be local or slurm";
        QTest::newRow("slurm without shared") << QStringList{"--backend", "slurm"} << "needs --slurm-shared DIR";
        QTest::newRow("slurm relative shared") << QStringList{"--backend", "slurm", "--slurm-shared", "rel/dir"} << "needs --slurm-shared DIR";
    }
    void badOptions()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const QString data = dir(QStringLiteral("badopt-") + QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-')));
        QProcess p;
        p.setProcessEnvironment(Server::environment());
        p.start(QStringLiteral(MAGPIE_DESKTOP_BIN), QStringList{QStringLiteral("--headless"), QStringLiteral("--data-dir"), data} + args);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 2);
        const QString err = QString::fromLocal8Bit(p.readAllStandardError());
        QVERIFY2(err.contains(message), qPrintable(err));
        QCOMPARE(p.readAllStandardOutput(), QByteArray());
        QVERIFY2(!QFileInfo::exists(data + QStringLiteral("/magpie.db")), "a refused start made a database");
    }

    void killedServerRecovers()
    {
        auto s = std::make_unique<Server>();
        const QString d = dir(QStringLiteral("crash"));
        QString err = s->start(d);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QJsonObject a = s->submit(QJsonObject{
            {QStringLiteral("script"), QStringLiteral("echo synced > /workspace/s; sync; echo ready; sleep 1000")},
            {QStringLiteral("stateful"), true},
            {QStringLiteral("workspace_id"), QStringLiteral("crash")}});
        const QJsonObject b = s->submit(QJsonObject{{QStringLiteral("script"), QStringLiteral("cat /workspace/s")},
                                                    {QStringLiteral("stateful"), true},
                                                    {QStringLiteral("workspace_id"), QStringLiteral("crash")}});
        const QString ida = a.value(QStringLiteral("request_id")).toString();
        const QString idb = b.value(QStringLiteral("request_id")).toString();
        QVERIFY(!ida.isEmpty() && !idb.isEmpty());
        QByteArray out;
        QElapsedTimer t;
        t.start();
        while (!out.contains("ready") && t.elapsed() < 120000) {
            const Response r = s->get("/api/v1/jobs/" + ida.toUtf8() + "/logs?wait=30&offset=" + QByteArray::number(out.size()));
            QCOMPARE(r.status, 200);
            out += r.body;
            QVERIFY(r.header("X-Magpie-Complete").isEmpty());
        }
        QVERIFY2(out.contains("ready"), out.constData());
        QCOMPARE(s->job(idb).value(QStringLiteral("status")).toString(), QStringLiteral("queued"));

        QCOMPARE(s->signalAndWait(SIGKILL), -SIGKILL);
        s.reset();
        qInfo("qemu processes of the first job left after SIGKILL of the server: %d", qemuProcessesWith(ida));

        auto s2 = std::make_unique<Server>();
        err = s2->start(d);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QJsonObject ra = s2->job(ida);
        QCOMPARE(ra.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QVERIFY2(ra.value(QStringLiteral("error")).toString().contains(QStringLiteral("interrupted")),
                 qPrintable(ra.value(QStringLiteral("error")).toString()));
        QVERIFY(ra.value(QStringLiteral("exit_code")).isNull());
        QVERIFY(!ra.value(QStringLiteral("finished_at")).toString().isEmpty());
        QCOMPARE(qemuProcessesWith(ida), 0);

        const QJsonObject rb = s2->waitJob(idb);
        QCOMPARE(rb.value(QStringLiteral("status")).toString(), QStringLiteral("completed"));
        QCOMPARE(s2->log(idb), QByteArray("synced\n"));
        QCOMPARE(qemuProcessesWith(ida), 0);
        QCOMPARE(s2->signalAndWait(SIGTERM), 0);
    }

    void sigtermStopsCleanly()
    {
        // A running job is stopped and recorded as interrupted; the process exits 0 and leaves
        // no endpoint.json and no lock behind.
        const QJsonObject j = m_srv->submit(QJsonObject{{QStringLiteral("script"), QStringLiteral("echo up; sleep 1000")}});
        const QString id = j.value(QStringLiteral("request_id")).toString();
        const Response r = m_srv->get("/api/v1/jobs/" + id.toUtf8() + "/logs?wait=60");
        QCOMPARE(r.body, QByteArray("up\n"));
        // A held request is answered when the server stops.
        const quint16 port = m_srv->port;
        const QByteArray auth = m_srv->auth();
        Response held;
        QThread *waiter = QThread::create([&] { held = http(port, "GET", "/api/v1/jobs/" + id.toUtf8() + "/logs?offset=3&wait=60", auth); });
        waiter->start();
        QTest::qWait(500);
        QElapsedTimer t;
        t.start();
        QCOMPARE(m_srv->signalAndWait(SIGTERM), 0);
        QVERIFY2(t.elapsed() < 30000, qPrintable(QString::number(t.elapsed())));
        waiter->wait();
        delete waiter;
        QVERIFY2(held.status == 200 || !held.failure.isEmpty(), qPrintable(held.describe()));
        QVERIFY(!QFileInfo::exists(m_srv->dataDir + QStringLiteral("/endpoint.json")));
        QCOMPARE(qemuProcessesWith(id), 0);

        Server again;
        const QString err = again.start(m_srv->dataDir);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QJsonObject rj = again.job(id);
        QCOMPARE(rj.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QVERIFY2(rj.value(QStringLiteral("error")).toString().contains(QStringLiteral("interrupted")), qPrintable(rj.value(QStringLiteral("error")).toString()));
        QCOMPARE(again.signalAndWait(SIGTERM), 0);
    }
};

QTEST_GUILESS_MAIN(TestHttpApi)
#include "TestHttpApi.moc"
