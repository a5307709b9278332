// TestBuildCache — the seed's third use case for real, on the `dev` image: a git repository
// served from the host by `git daemon` on 127.0.0.1 (the guest reaches it as 10.0.2.2), whose
// package.json has a local file: dependency and a build script that writes dist/. The first
// stateful job clones it into /workspace, runs `npm install` and `npm run build`; the second job
// on the same workspace finds node_modules and dist from the first.
#include "ExecutorTestSupport.h"
#include "ImageRegistry.h"

#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

namespace {
bool run(const QString &dir, const QStringList &args)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("git"), args);
    if (!p.waitForFinished(30000) || p.exitCode() != 0) {
        qWarning("git %s: %s", qPrintable(args.join(' ')), p.readAll().constData());
        return false;
    }
    return true;
}

void write(const QString &path, const QByteArray &text)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

int freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}
} // namespace

class TestBuildCache : public QObject
{
    Q_OBJECT
    QTemporaryDir m_repos;
    QProcess m_daemon;
    int m_port = 0;

private slots:
    void initTestCase()
    {
        const GuestImage dev = ImageRegistry(QDir::tempPath() + QStringLiteral("/nonexistent-magpie-data")).resolve(QStringLiteral("dev"));
        QVERIFY2(dev.isValid(), qPrintable(dev.error));

        const QString repo = m_repos.filePath(QStringLiteral("webapp"));
        write(repo + QStringLiteral("/package.json"), R"({
  "name": "webapp",
  "version": "1.0.0",
  "private": true,
  "scripts": { "build": "node build.js" },
  "dependencies": { "greet": "file:vendor/greet" }
}
)");
        write(repo + QStringLiteral("/vendor/greet/package.json"), R"({ "name": "greet", "version": "1.0.0", "main": "index.js" })");
        write(repo + QStringLiteral("/vendor/greet/index.js"), "module.exports = (n) => 'hello ' + n;\n");
        write(repo + QStringLiteral("/build.js"),
              "const fs = require('fs');\nconst greet = require('greet');\nfs.mkdirSync('dist', { recursive: true });\n"
              "fs.writeFileSync('dist/app.txt', greet('build cache') + ' on node ' + process.version + '\\n');\n"
              "console.log('built dist/app.txt');\n");
        QVERIFY(run(repo, {"init", "-q", "-b", "main"}));
        QVERIFY(run(repo, {"add", "."}));
        QVERIFY(run(repo, {"-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "webapp"}));

        m_port = freePort();
        m_daemon.setProcessChannelMode(QProcess::MergedChannels);
        m_daemon.start(QStringLiteral("git"), {"daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
                                               QStringLiteral("--port=%1").arg(m_port), QStringLiteral("--base-path=") + m_repos.path(), m_repos.path()});
        QVERIFY(m_daemon.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT([this] { QTcpSocket s; s.connectToHost(QHostAddress::LocalHost, m_port); return s.waitForConnected(200); }(), 10000);
    }

    void cleanupTestCase()
    {
        m_daemon.terminate();
        m_daemon.waitForFinished(5000);
    }

    void secondBuildFindsNodeModulesAndDist()
    {
        QTemporaryDir data;
        auto ex = test::openExecutor(data.path(), 1);

        JobRequest first;
        first.name = QStringLiteral("Initial Build");
        first.script = QStringLiteral("set -e\ncd /workspace\ngit clone -q git://10.0.2.2:%1/webapp repo\ncd repo\n"
                                      "npm install --no-audit --no-fund --loglevel=error\nnpm run build\ncat dist/app.txt\n").arg(m_port);
        first.stateful = true;
        first.workspaceId = QStringLiteral("build-cache");
        first.workspaceSizeGb = 2;
        first.image = QStringLiteral("dev");
        first.memoryMb = 1024;
        first.network = true;
        const JobRecord a = test::submitOk(*ex, first);
        QCOMPARE(a.image, QStringLiteral("dev"));
        const JobRecord ra = test::waitDone(*ex, a.requestId, 900000);
        const QByteArray outA = test::stdoutOf(*ex, a.requestId);
        QVERIFY2(ra.status == JobStatus::Completed, qPrintable(ra.error + QLatin1Char('\n') + QString::fromUtf8(outA)
                                                                + QString::fromUtf8(ex->readLog(a.requestId, 2, 0, 1 << 16).data)));
        QVERIFY2(outA.contains("hello build cache on node v"), outA.constData());
        QCOMPARE(ex->job(a.requestId)->image, QStringLiteral("dev"));

        JobRequest second = first;
        second.name = QStringLiteral("Rebuild");
        second.script = QStringLiteral("set -e\ncd /workspace/repo\ntest -f node_modules/greet/index.js && echo 'node_modules: cached'\n"
                                       "test -f dist/app.txt && echo \"dist: $(cat dist/app.txt)\"\nnpm run build --silent\n");
        second.workspaceSizeGb.reset();
        const JobRecord b = test::submitOk(*ex, second);
        const JobRecord rb = test::waitDone(*ex, b.requestId, 600000);
        const QByteArray outB = test::stdoutOf(*ex, b.requestId);
        QVERIFY2(rb.status == JobStatus::Completed, qPrintable(rb.error + QLatin1Char('\n') + QString::fromUtf8(outB)));
        QVERIFY2(outB.contains("node_modules: cached"), outB.constData());
        QVERIFY2(outB.contains("dist: hello build cache on node v"), outB.constData());
        QVERIFY2(outB.contains("built dist/app.txt"), outB.constData());

        // The base image has no node: the same check there fails (so the image did matter).
        JobRequest onBase;
        onBase.script = QStringLiteral("command -v node || echo 'no node here'");
        onBase.network = false;
        const JobRecord c = test::submitOk(*ex, onBase);
        QCOMPARE(c.image, QStringLiteral("base"));
        QCOMPARE(test::waitDone(*ex, c.requestId, 600000).status, JobStatus::Completed);
        QCOMPARE(test::stdoutOf(*ex, c.requestId), QByteArray("no node here\n"));
    }
};

QTEST_GUILESS_MAIN(TestBuildCache)
#include "TestBuildCache.moc"
