// TestJobRequest — validation of job requests shared by the HTTP API and the GUI.
#include "JobRequest.h"

#include <QJsonDocument>
#include <QtTest>

using namespace magpie;

static QJsonObject obj(const char *json)
{
    return QJsonDocument::fromJson(json).object();
}

class TestJobRequest : public QObject
{
    Q_OBJECT
private slots:
    void accepted()
    {
        RequestError e;
        auto r = JobRequest::fromJson(obj(R"({"name":"Init","script":"echo hi","stateful":true,"workspace_id":"my-ws",
            "workspace_size_gb":5,"env":{"A":"1"},"vcpus":2,"memory_mb":1024,"timeout":60,"network":false})"), &e);
        QVERIFY2(r, qPrintable(e.message));
        QCOMPARE(r->name, QStringLiteral("Init"));
        QCOMPARE(r->workspaceId, QStringLiteral("my-ws"));
        QCOMPARE(*r->workspaceSizeGb, 5);
        QCOMPARE(r->env.size(), 1);
        QCOMPARE(*r->vcpus, 2);
        QCOMPARE(*r->memoryMb, 1024);
        QCOMPARE(*r->timeoutSec, 60);
        QCOMPARE(r->network, false);
        // 5.0 is a whole number in JSON
        QVERIFY(JobRequest::fromJson(obj(R"({"script":"x","stateful":true,"workspace_size_gb":5.0})"), &e));
        // defaults
        r = JobRequest::fromJson(obj(R"({"script":"x"})"), &e);
        QVERIFY(r);
        QVERIFY(!r->stateful);
        QVERIFY(r->network);
        QVERIFY(!r->timeoutSec);
    }

    void rejected_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("field");
        QTest::newRow("no script") << R"({"name":"x"})" << 422 << "script";
        QTest::newRow("empty script") << R"({"script":""})" << 422 << "script";
        QTest::newRow("blank script") << R"({"script":"  \n "})" << 422 << "script";
        QTest::newRow("script number") << R"({"script":5})" << 422 << "script";
        QTest::newRow("script null") << R"({"script":null})" << 422 << "script";
        QTest::newRow("name number") << R"({"script":"x","name":3})" << 422 << "name";
        QTest::newRow("stateful string") << R"({"script":"x","stateful":"yes"})" << 422 << "stateful";
        QTest::newRow("bad ws id") << R"({"script":"x","stateful":true,"workspace_id":"Bad_Id"})" << 422 << "workspace_id";
        QTest::newRow("ws id number") << R"({"script":"x","stateful":true,"workspace_id":7})" << 422 << "workspace_id";
        QTest::newRow("ws id too long") << QStringLiteral(R"({"script":"x","stateful":true,"workspace_id":"%1"})").arg(QString(64, QLatin1Char('a'))) << 422 << "workspace_id";
        QTest::newRow("size zero") << R"({"script":"x","stateful":true,"workspace_size_gb":0})" << 422 << "workspace_size_gb";
        QTest::newRow("size huge") << R"({"script":"x","stateful":true,"workspace_size_gb":100000})" << 422 << "workspace_size_gb";
        QTest::newRow("size fraction") << R"({"script":"x","stateful":true,"workspace_size_gb":2.5})" << 422 << "workspace_size_gb";
        QTest::newRow("size string") << R"({"script":"x","stateful":true,"workspace_size_gb":"5"})" << 422 << "workspace_size_gb";
        QTest::newRow("size negative") << R"({"script":"x","stateful":true,"workspace_size_gb":-1})" << 422 << "workspace_size_gb";
        QTest::newRow("ws without stateful") << R"({"script":"x","workspace_id":"abc"})" << 422 << "workspace_id";
        QTest::newRow("env array") << R"({"script":"x","env":["A=1"]})" << 422 << "env";
        QTest::newRow("env number value") << R"({"script":"x","env":{"A":1}})" << 422 << "env";
        QTest::newRow("env bad name") << R"({"script":"x","env":{"1A":"v"}})" << 422 << "env";
        QTest::newRow("vcpus zero") << R"({"script":"x","vcpus":0})" << 422 << "vcpus";
        QTest::newRow("vcpus string") << R"({"script":"x","vcpus":"2"})" << 422 << "vcpus";
        QTest::newRow("memory small") << R"({"script":"x","memory_mb":16})" << 422 << "memory_mb";
        QTest::newRow("timeout zero") << R"({"script":"x","timeout":0})" << 422 << "timeout";
        QTest::newRow("timeout bool") << R"({"script":"x","timeout":true})" << 422 << "timeout";
        QTest::newRow("network string") << R"({"script":"x","network":"on"})" << 422 << "network";
        // Magpie Cloud's fields.
        QTest::newRow("env and environment differ") << R"({"script":"x","env":{"A":"1"},"environment":{"A":"2"}})" << 422 << "environment";
        QTest::newRow("environment array") << R"({"script":"x","environment":["A=1"]})" << 422 << "environment";
        QTest::newRow("environment bad name") << R"({"script":"x","environment":{"1A":"v"}})" << 422 << "env";
        QTest::newRow("type unknown") << R"({"script":"x","type":"ruby"})" << 422 << "type";
        QTest::newRow("type number") << R"({"script":"x","type":1})" << 422 << "type";
        QTest::newRow("type and script_type differ") << R"({"script":"x","type":"python","script_type":"bash"})" << 422 << "script_type";
        QTest::newRow("persist true") << R"({"script":"x","persist":true})" << 422 << "persist";
        QTest::newRow("ip_lease true") << R"({"script":"x","ip_lease":true})" << 422 << "ip_lease";
        QTest::newRow("persist string") << R"({"script":"x","persist":"no"})" << 422 << "persist";
        QTest::newRow("docker_image") << R"({"script":"x","docker_image":"ubuntu:22.04"})" << 422 << "docker_image";
        QTest::newRow("proxy_port") << R"({"script":"x","proxy_port":8080})" << 422 << "proxy_port";
        QTest::newRow("description number") << R"({"script":"x","description":5})" << 422 << "description";
        QTest::newRow("description too long") << QStringLiteral(R"({"script":"x","description":"%1"})").arg(QString(4097, QLatin1Char('d'))) << 422 << "description";
        const QString big = QString(JobLimits::kMaxScriptBytes + 1, QLatin1Char('a'));
        QTest::newRow("script too big") << QStringLiteral(R"({"script":"%1"})").arg(big) << 413 << "script";
    }
    void rejected()
    {
        QFETCH(QString, json);
        QFETCH(int, status);
        QFETCH(QString, field);
        RequestError e;
        const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8());
        QVERIFY(doc.isObject());
        QVERIFY(!JobRequest::fromJson(doc.object(), &e));
        QCOMPARE(e.httpStatus, status);
        QCOMPARE(e.field, field);
        QVERIFY(!e.message.isEmpty());
    }

    void cloudFieldsAccepted()
    {
        // What Magpie Cloud's SDK sends by default.
        RequestError e;
        auto r = JobRequest::fromJson(obj(R"J({"name":"n","script":"print(1)","type":"python","vcpus":2,"memory_mb":512,
            "environment":{"A":"1"},"stateful":false,"persist":false,"ip_lease":false,"description":" about it "})J"), &e);
        QVERIFY2(r, qPrintable(e.message));
        QCOMPARE(r->scriptType, ScriptType::Python);
        QCOMPARE(r->env, (QList<QPair<QString, QString>>{{QStringLiteral("A"), QStringLiteral("1")}}));
        QCOMPARE(r->description, QStringLiteral("about it"));
        r = JobRequest::fromJson(obj(R"({"script":"x","type":"inline","env":{"A":"1"},"environment":{"A":"1"},"docker_image":null})"), &e);
        QVERIFY2(r, qPrintable(e.message));
        QCOMPARE(r->scriptType, ScriptType::Bash);
        QCOMPARE(r->env.size(), 1);
        r = JobRequest::fromJson(obj(R"({"script":"x","script_type":"BASH"})"), &e);
        QVERIFY(r);
        QCOMPARE(r->scriptType, ScriptType::Bash);
        // A refused cloud field says why, with its own code.
        QVERIFY(!JobRequest::fromJson(obj(R"({"script":"x","persist":true})"), &e));
        QCOMPARE(e.code, QStringLiteral("not_supported"));
        QVERIFY2(e.message.contains(QStringLiteral("not supported locally")), qPrintable(e.message));
    }

    void scriptAtTheLimitIsAccepted()
    {
        JobRequest r;
        r.script = QString(JobLimits::kMaxScriptBytes, QLatin1Char('a'));
        QVERIFY(!r.validate());
    }
};

QTEST_GUILESS_MAIN(TestJobRequest)
#include "TestJobRequest.moc"
