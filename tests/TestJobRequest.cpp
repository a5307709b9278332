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
        QTest::newRow("no script") << R"({"name":"x"})" << 400 << "script";
        QTest::newRow("empty script") << R"({"script":""})" << 400 << "script";
        QTest::newRow("blank script") << R"({"script":"  \n "})" << 400 << "script";
        QTest::newRow("script number") << R"({"script":5})" << 400 << "script";
        QTest::newRow("script null") << R"({"script":null})" << 400 << "script";
        QTest::newRow("name number") << R"({"script":"x","name":3})" << 400 << "name";
        QTest::newRow("stateful string") << R"({"script":"x","stateful":"yes"})" << 400 << "stateful";
        QTest::newRow("bad ws id") << R"({"script":"x","stateful":true,"workspace_id":"Bad_Id"})" << 400 << "workspace_id";
        QTest::newRow("ws id number") << R"({"script":"x","stateful":true,"workspace_id":7})" << 400 << "workspace_id";
        QTest::newRow("ws id too long") << QStringLiteral(R"({"script":"x","stateful":true,"workspace_id":"%1"})").arg(QString(64, QLatin1Char('a'))) << 400 << "workspace_id";
        QTest::newRow("size zero") << R"({"script":"x","stateful":true,"workspace_size_gb":0})" << 400 << "workspace_size_gb";
        QTest::newRow("size huge") << R"({"script":"x","stateful":true,"workspace_size_gb":100000})" << 400 << "workspace_size_gb";
        QTest::newRow("size fraction") << R"({"script":"x","stateful":true,"workspace_size_gb":2.5})" << 400 << "workspace_size_gb";
        QTest::newRow("size string") << R"({"script":"x","stateful":true,"workspace_size_gb":"5"})" << 400 << "workspace_size_gb";
        QTest::newRow("size negative") << R"({"script":"x","stateful":true,"workspace_size_gb":-1})" << 400 << "workspace_size_gb";
        QTest::newRow("ws without stateful") << R"({"script":"x","workspace_id":"abc"})" << 400 << "workspace_id";
        QTest::newRow("env array") << R"({"script":"x","env":["A=1"]})" << 400 << "env";
        QTest::newRow("env number value") << R"({"script":"x","env":{"A":1}})" << 400 << "env";
        QTest::newRow("env bad name") << R"({"script":"x","env":{"1A":"v"}})" << 400 << "env";
        QTest::newRow("vcpus zero") << R"({"script":"x","vcpus":0})" << 400 << "vcpus";
        QTest::newRow("vcpus string") << R"({"script":"x","vcpus":"2"})" << 400 << "vcpus";
        QTest::newRow("memory small") << R"({"script":"x","memory_mb":16})" << 400 << "memory_mb";
        QTest::newRow("timeout zero") << R"({"script":"x","timeout":0})" << 400 << "timeout";
        QTest::newRow("timeout bool") << R"({"script":"x","timeout":true})" << 400 << "timeout";
        QTest::newRow("network string") << R"({"script":"x","network":"on"})" << 400 << "network";
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

    void scriptAtTheLimitIsAccepted()
    {
        JobRequest r;
        r.script = QString(JobLimits::kMaxScriptBytes, QLatin1Char('a'));
        QVERIFY(!r.validate());
    }
};

QTEST_GUILESS_MAIN(TestJobRequest)
#include "TestJobRequest.moc"
