// BenchSubmit — the API's submit path and the server's footprint (issue 10's last targets),
// through the real `magpie-desktop --headless` with the real guest image:
//   idle RSS     — the server's resident set after it started and sat idle for 3 s;
//   submit→202   — 10,000 single POST /api/v1/jobs, one after the other, each a stateful job on
//                  one workspace whose first job sleeps, so every one of them is really queued
//                  (FIFO behind it); p50/p99 of the submissions just before 100, 1,000 and
//                  10,000 were queued, the wall time to each, and the RSS there;
//   batch        — one POST /api/v1/jobs:batch of 1,000 on top of those;
//   baseline     — GET /api/v1/health on the same connection (the HTTP round trip alone),
//                  p50 of 500, measured in the same run; ratios are against it.
// The server is stopped at the end (the sleeping job is
// recorded as interrupted).
//   build/bench/BenchSubmit [--jobs 10000] [--bin build/app/magpie-desktop] [--guest build/guest]
#include "BenchHttp.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <algorithm>
#include <cstdio>

using magpie::bench::Http;

namespace {

double pct(QList<double> v, double p)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.at(qMin(int(v.size()) - 1, int(p * (v.size() - 1) + 0.5)));
}

qint64 rssKb(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return -1;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QString here = QCoreApplication::applicationDirPath();
    QString bin = here + QStringLiteral("/../app/magpie-desktop");
    QString guest = qEnvironmentVariable("MAGPIE_GUEST_DIR", here + QStringLiteral("/../guest"));
    int total = 10000;
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args.at(i) == QStringLiteral("--bin"))
            bin = args.at(i + 1);
        else if (args.at(i) == QStringLiteral("--guest"))
            guest = args.at(i + 1);
        else if (args.at(i) == QStringLiteral("--jobs"))
            total = args.at(i + 1).toInt();
    }
    QTemporaryDir data;
    QProcess server;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("MAGPIE_GUEST_DIR"), guest);
    env.remove(QStringLiteral("MAGPIE_API_KEY"));
    server.setProcessEnvironment(env);
    server.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    server.start(bin, {QStringLiteral("--headless"), QStringLiteral("--data-dir"), data.path(), QStringLiteral("--listen"),
                       QStringLiteral("127.0.0.1:0"), QStringLiteral("--max-parallel"), QStringLiteral("1")});
    QByteArray line;
    while (!line.contains('\n') && server.waitForReadyRead(60000))
        line += server.readAllStandardOutput();
    const auto m = QRegularExpression(QStringLiteral(":(\\d+)")).match(QString::fromUtf8(line));
    if (!m.hasMatch()) {
        std::fprintf(stderr, "the server did not start (%s): %s\n", qPrintable(bin), line.constData());
        return 1;
    }
    QFile keyFile(data.path() + QStringLiteral("/api-key"));
    if (!keyFile.open(QIODevice::ReadOnly))
        return 1;
    Http http(quint16(m.captured(1).toUInt()), keyFile.readAll().trimmed());
    QThread::sleep(3);
    const qint64 idleKb = rssKb(server.processId());

    QList<double> health;
    for (int i = 0; i < 500; ++i) {
        QElapsedTimer e;
        e.start();
        if (http.request("GET", "/api/v1/health") != 200) {
            std::fprintf(stderr, "health failed\n");
            return 1;
        }
        health.append(e.nsecsElapsed() / 1e6);
    }

    // The job everything queues behind.
    QByteArray body;
    if (http.request("POST", "/api/v1/jobs", R"({"name":"hold","script":"sleep 600","stateful":true,"workspace_id":"bench-q","workspace_size_gb":1})", &body) != 202) {
        std::fprintf(stderr, "submit failed: %s\n", body.constData());
        return 1;
    }
    const QByteArray one(R"({"name":"queued","script":"echo hi","stateful":true,"workspace_id":"bench-q"})");
    QList<double> submits;
    QMap<int, qint64> rssAt;
    QMap<int, double> wallAt;
    QElapsedTimer all;
    all.start();
    for (int i = 1; i <= total; ++i) {
        QElapsedTimer e;
        e.start();
        if (http.request("POST", "/api/v1/jobs", one, &body) != 202) {
            std::fprintf(stderr, "submit %d failed: %s\n", i, body.constData());
            return 1;
        }
        submits.append(e.nsecsElapsed() / 1e6);
        if (i == 100 || i == 1000 || i == 10000 || i == total) {
            rssAt[i] = rssKb(server.processId());
            wallAt[i] = all.nsecsElapsed() / 1e6;
        }
    }
    http.request("GET", "/api/v1/workspaces/bench-q", {}, &body);
    const int queued = QJsonDocument::fromJson(body).object().value(QStringLiteral("queued")).toInt(-1);
    // One batch of 1,000 (one request, one transaction), queued behind the same sleeping job.
    QByteArray batch = "{\"jobs\":[";
    for (int i = 0; i < 1000; ++i)
        batch += (i ? "," : "") + one;
    batch += "]}";
    QElapsedTimer b;
    b.start();
    const int batchStatus = http.request("POST", "/api/v1/jobs:batch", batch, &body);
    const double batchMs = b.nsecsElapsed() / 1e6;
    server.terminate();
    server.waitForFinished(30000);

    const double h50 = pct(health, 0.5);
    std::printf("BenchSubmit: the real headless server; single submissions queued on one workspace behind a sleeping job\n\n");
    std::printf("| measure                                        |      value | vs baseline |\n");
    std::printf("|------------------------------------------------|------------|-------------|\n");
    std::printf("| GET /health p50 (baseline: the HTTP round trip) | %7.2f ms |       1.00x |\n", h50);
    for (int n : {100, 1000, 10000}) {
        if (n > total)
            break;
        const QList<double> band = submits.mid(n - qMax(1, n / 10), qMax(1, n / 10)); // the last 10% before N queued
        std::printf("| POST /jobs → 202 p50 at %6d queued           | %7.2f ms | %10.2fx |\n", n, pct(band, 0.5), pct(band, 0.5) / qMax(0.001, h50));
        std::printf("| POST /jobs → 202 p99 at %6d queued           | %7.2f ms | %10.2fx |\n", n, pct(band, 0.99), pct(band, 0.99) / qMax(0.001, h50));
        std::printf("| %6d single submissions, wall time           | %7.0f ms |             |\n", n, wallAt.value(n));
        std::printf("| RSS of the headless server, %6d queued      | %7.1f MB |             |\n", n, rssAt.value(n) / 1024.0);
    }
    std::printf("| one batch of 1,000 (POST /jobs:batch, HTTP %d) | %7.0f ms |             |\n", batchStatus, batchMs);
    std::printf("| jobs queued on the workspace (before the batch) | %10d |             |\n", queued);
    std::printf("| idle RSS of the headless server                | %7.1f MB |             |\n", idleKb / 1024.0);
    return queued >= total && batchStatus == 202 ? 0 : 1;
}
