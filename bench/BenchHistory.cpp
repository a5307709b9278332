// BenchHistory — the job history at 100,000 jobs (issue 15 items 2 and 3).
//
// 1. Fills a real SQLite file (the app's schema) with N finished jobs (default 100,000) over 50
//    workspaces, then times a page of 50 from JobStore::list at the first page, 50% and 90% deep
//    and the last page, by offset and by keyset cursor, unfiltered and with each filter
//    (workspace, status, time window). Baseline, measured in the same run on the same file: the
//    query the store used before (whole rows, ORDER BY seq LIMIT/OFFSET). Prints median ms and
//    the ratio baseline/new.
// 2. Starts the real `magpie-desktop --headless` on that data folder (no guest image: jobs end
//    at once, no VM) and times through HTTP: GET /api/v1/jobs pages by offset and by cursor,
//    200 single POST /api/v1/jobs (p50/p99), and one POST /api/v1/jobs:batch of 1,000
//    (baseline: 1,000 single submissions at the measured mean).
//
//   build/bench/BenchHistory [--jobs N] [--bin build/app/magpie-desktop]
#include "Database.h"
#include "JobStore.h"
#include "Tools.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include "BenchHttp.h"
#include <QRegularExpression>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QUuid>

#include <algorithm>
#include <cstdio>

using namespace magpie;
using magpie::bench::Http;

namespace {

double median(QList<double> v)
{
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v.at(v.size() / 2);
}

double percentile(QList<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v.at(qMin<qsizetype>(v.size() - 1, qsizetype(p * v.size())));
}

template <typename F>
double timeMs(F &&f, int runs = 15)
{
    QList<double> t;
    for (int i = 0; i < runs; ++i) {
        QElapsedTimer e;
        e.start();
        f();
        t.append(e.nsecsElapsed() / 1e6);
    }
    return median(t);
}

// The list query of the first release: whole rows, OFFSET over the table.
int oldList(Database &db, const QString &where, const QVariantList &binds, int limit, int offset)
{
    QSqlQuery q;
    QVariantList b = binds;
    b << limit << offset;
    int n = 0;
    if (db.prepare(q, QStringLiteral("SELECT COUNT(*) FROM jobs") + where, binds) && q.exec() && q.next())
        n = q.value(0).toInt();
    if (db.prepare(q, QStringLiteral("SELECT * FROM jobs%1 ORDER BY seq DESC LIMIT ? OFFSET ?").arg(where), b) && q.exec())
        while (q.next())
            ++n;
    return n;
}

// A blocking HTTP/1.1 client on one keep-alive connection.

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    int total = 100000;
    QString bin = QCoreApplication::applicationDirPath() + QStringLiteral("/../app/magpie-desktop");
    const QStringList args = app.arguments();
    const bool listOnly = args.contains(QStringLiteral("--list-only"));
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args[i] == QLatin1String("--jobs"))
            total = args[i + 1].toInt();
        if (args[i] == QLatin1String("--bin"))
            bin = args[i + 1];
    }
    QTemporaryDir tmp;
    tmp.setAutoRemove(!args.contains(QStringLiteral("--keep")));
    const QString dataDir = tmp.filePath(QStringLiteral("data"));
    QDir().mkpath(dataDir);
    QFile::setPermissions(dataDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);

    // ---------------------------------------------------------------- fill
    Database db;
    if (!db.open(dataDir + QStringLiteral("/magpie.db"))) {
        std::fprintf(stderr, "cannot open the database: %s\n", qPrintable(db.error()));
        return 1;
    }
    JobStore store(db, dataDir + QStringLiteral("/logs"));
    QElapsedTimer fill;
    fill.start();
    const QDateTime t0 = QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00.000Z"), Qt::ISODateWithMs);
    const JobStatus finished[] = {JobStatus::Completed, JobStatus::Completed, JobStatus::Completed, JobStatus::Failed, JobStatus::Cancelled};
    for (int done = 0; done < total;) {
        QList<JobRecord> batch;
        for (int i = 0; i < 10000 && done < total; ++i, ++done) {
            JobRecord j;
            j.requestId = QUuid::createUuid().toString(QUuid::WithoutBraces);
            j.name = QStringLiteral("job %1").arg(done);
            j.script = QStringLiteral("echo step %1; python3 process.py --part %1 > /workspace/out-%1.txt").arg(done);
            j.stateful = done % 4 != 0;
            j.workspaceId = j.stateful ? QStringLiteral("ws-%1").arg(done % 50) : QString();
            j.workspaceSizeGb = j.stateful ? 10 : 0;
            j.env = {{QStringLiteral("PART"), QString::number(done)}};
            j.status = finished[done % 5];
            j.createdAt = isoUtc(t0.addSecs(done * 60));
            j.source = QStringLiteral("api");
            batch.append(j);
        }
        QString err;
        if (!store.insertMany(batch, &err)) {
            std::fprintf(stderr, "fill failed: %s\n", qPrintable(err));
            return 1;
        }
    }
    db.exec(QStringLiteral("UPDATE jobs SET exit_code = 0, started_at = created_at, finished_at = created_at, duration_ms = 1000"));
    std::printf("filled %d jobs in %.1f s (%s)\n\n", total, fill.elapsed() / 1000.0, qPrintable(dataDir));

    // ---------------------------------------------------------------- JobStore::list
    struct Filter {
        const char *name;
        JobFilter f;
        QString where;
        QVariantList binds;
    };
    QList<Filter> filters;
    filters.append({"none", JobFilter(), QString(), {}});
    {
        JobFilter f;
        f.workspaceId = QStringLiteral("ws-7");
        filters.append({"workspace", f, QStringLiteral(" WHERE workspace_id = ?"), {f.workspaceId}});
    }
    {
        JobFilter f;
        f.status = JobStatus::Completed;
        filters.append({"status", f, QStringLiteral(" WHERE status = ?"), {QStringLiteral("completed")}});
    }
    {
        JobFilter f;
        f.createdFrom = isoUtc(t0.addSecs(qint64(total) * 60 / 10));
        f.createdBefore = isoUtc(t0.addSecs(qint64(total) * 60 * 9 / 10));
        filters.append({"time 10-90%", f, QStringLiteral(" WHERE created_at >= ? AND created_at < ?"), {f.createdFrom, f.createdBefore}});
    }
    std::printf("JobStore::list, a page of 50, median of 15 runs (ms); baseline = the first release's query;\n"
                "offset = with the total, keyset = by cursor without the total (count=false)\n");
    std::printf("%-12s %-6s %8s %10s %10s %10s %8s\n", "filter", "depth", "matches", "baseline", "offset", "keyset", "ratio");
    double worst = 0;
    for (Filter &fl : filters) {
        JobFilter count = fl.f;
        count.limit = 1;
        const int matches = store.list(count).total;
        for (double depth : {0.0, 0.5, 0.9, 1.0}) {
            JobFilter f = fl.f;
            f.limit = 50;
            f.offset = qMax(0, int((matches - 50) * depth));
            f.scriptChars = 64 * 1024;
            // The keyset cursor for that position: the seq just above the page's first job.
            JobFilter probe = f;
            probe.limit = 1;
            probe.withTotal = false;
            const JobPage first = store.list(probe);
            JobFilter keyset = fl.f;
            keyset.limit = 50;
            keyset.scriptChars = 64 * 1024;
            keyset.beforeSeq = first.jobs.isEmpty() ? 0 : first.jobs.first().seq + 1;
            keyset.withTotal = false; // a client scrolling by cursor needs no total (count=false)
            const double base = timeMs([&] { oldList(db, fl.where, fl.binds, 50, f.offset); });
            const double byOffset = timeMs([&] { store.list(f); });
            const double byKeyset = timeMs([&] { store.list(keyset); });
            worst = qMax(worst, qMax(byOffset, byKeyset));
            std::printf("%-12s %5.0f%% %8d %10.2f %10.2f %10.2f %7.1fx\n", fl.name, depth * 100, matches, base, byOffset, byKeyset,
                        base / qMax(0.001, byOffset));
        }
    }
    std::printf("slowest page (offset or keyset): %.2f ms (target <= 10 ms)\n\n", worst);
    db.close();
    if (listOnly)
        return 0;

    // ---------------------------------------------------------------- through the real server
    QTemporaryDir noGuest;
    QProcess server;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("MAGPIE_GUEST_DIR"), noGuest.path());
    env.insert(QStringLiteral("MAGPIE_ACCEL"), QStringLiteral("tcg"));
    env.remove(QStringLiteral("MAGPIE_API_KEY"));
    server.setProcessEnvironment(env);
    server.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    server.start(bin, {QStringLiteral("--headless"), QStringLiteral("--data-dir"), dataDir, QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")});
    QByteArray line;
    while (!line.contains('\n') && server.waitForReadyRead(60000))
        line += server.readAllStandardOutput();
    const auto m = QRegularExpression(QStringLiteral(":(\\d+)")).match(QString::fromUtf8(line));
    if (!m.hasMatch()) {
        std::fprintf(stderr, "the server did not start (%s): %s\n", qPrintable(bin), line.constData());
        return 1;
    }
    QFile keyFile(dataDir + QStringLiteral("/api-key"));
    keyFile.open(QIODevice::ReadOnly);
    Http http(quint16(m.captured(1).toUInt()), keyFile.readAll().trimmed());

    std::printf("GET /api/v1/jobs through HTTP at %d jobs, a page of 50, median ms\n", total);
    std::printf("%-22s %10s\n", "page", "ms");
    QByteArray body;
    for (double depth : {0.0, 0.5, 0.9}) {
        const int offset = int((total - 50) * depth);
        const QByteArray target = "/api/v1/jobs?limit=50&offset=" + QByteArray::number(offset);
        const double ms = timeMs([&] { http.request("GET", target, {}, &body); }, 9);
        std::printf("offset %-15d %10.2f\n", offset, ms);
    }
    // Keyset: walk 10 pages from the 90% position by next_cursor.
    http.request("GET", "/api/v1/jobs?limit=50&offset=" + QByteArray::number(int(total * 0.9)), {}, &body);
    QByteArray cursor = QJsonDocument::fromJson(body).object().value(QStringLiteral("next_cursor")).toString().toUtf8();
    QList<double> walk;
    for (int i = 0; i < 10 && !cursor.isEmpty(); ++i) {
        QElapsedTimer e;
        e.start();
        http.request("GET", "/api/v1/jobs?limit=50&count=false&cursor=" + cursor, {}, &body);
        walk.append(e.nsecsElapsed() / 1e6);
        cursor = QJsonDocument::fromJson(body).object().value(QStringLiteral("next_cursor")).toString().toUtf8();
    }
    std::printf("%-22s %10.2f\n\n", "cursor (from 90%)", median(walk));

    const QByteArray one(R"({"name":"bench","script":"echo hi"})");
    QList<double> singles;
    for (int i = 0; i < 200; ++i) {
        QElapsedTimer e;
        e.start();
        if (http.request("POST", "/api/v1/jobs", one) != 202) {
            std::fprintf(stderr, "submit failed\n");
            return 1;
        }
        singles.append(e.nsecsElapsed() / 1e6);
    }
    double sum = 0;
    for (double v : singles)
        sum += v;
    const double mean = sum / singles.size();
    QByteArray batch = "{\"jobs\":[";
    for (int i = 0; i < 1000; ++i)
        batch += (i ? "," : "") + QByteArray(R"({"name":"batch","script":"echo hi","stateful":true,"workspace_id":"batch-)") +
                 QByteArray::number(i % 20) + "\"}";
    batch += "]}";
    QElapsedTimer be;
    be.start();
    const int st = http.request("POST", "/api/v1/jobs:batch", batch, &body);
    const double batchMs = be.nsecsElapsed() / 1e6;
    const int ids = QJsonDocument::fromJson(body).object().value(QStringLiteral("request_ids")).toArray().size();
    std::printf("POST /api/v1/jobs, 200 single submissions: p50 %.2f ms, p99 %.2f ms, mean %.2f ms\n", median(singles),
                percentile(singles, 0.99), mean);
    std::printf("POST /api/v1/jobs:batch of 1,000 (one transaction): HTTP %d, %d request ids, %.1f ms "
                "(baseline 1,000 single submissions at the mean: %.1f ms; %.1fx)\n",
                st, ids, batchMs, mean * 1000, mean * 1000 / qMax(0.001, batchMs));
    server.terminate();
    server.waitForFinished(60000);
    return 0;
}
