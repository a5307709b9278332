// BenchSlurm — what the Slurm backend costs per job, against the local backend measured in the
// same run: the real magpie-desktop --headless twice (--backend local, then --backend slurm on
// the test cluster of tests/slurm/cluster.sh), the same jobs on one workspace through the HTTP API.
//
//   bench/BenchSlurm --bin build/app/magpie-desktop --guest build/guest [--jobs 5] [--slurm-conf FILE]
//
// Prints, per backend: one job's submit → finished (median), a workspace's N jobs back to back
// (per job), and on Slurm submit → the runner holding the workspace, and job end → the next job
// of the workspace holding it (from the runners' result.json). Ratios are Slurm / local.
#include "BenchHttp.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <memory>

using namespace magpie::bench;

namespace {

double median(QList<double> v)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Server {
    QProcess proc;
    std::unique_ptr<Http> http;
    ~Server()
    {
        proc.terminate();
        if (!proc.waitForFinished(30000))
            proc.kill();
    }
    bool start(const QString &bin, const QString &dataDir, const QStringList &extra, const QProcessEnvironment &env)
    {
        proc.setProcessEnvironment(env);
        proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        proc.start(bin, QStringList{"--headless", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--max-parallel", "2"} + extra);
        QByteArray line;
        while (!line.contains('\n') && proc.waitForReadyRead(60000))
            line += proc.readAllStandardOutput();
        const int colon = line.lastIndexOf(':');
        QFile key(dataDir + "/api-key");
        if (colon < 0 || !key.open(QIODevice::ReadOnly))
            return false;
        http = std::make_unique<Http>(quint16(line.mid(colon + 1).trimmed().toUInt()), key.readAll().trimmed());
        return true;
    }
    QString submit(const QByteArray &ws, const QByteArray &script)
    {
        QByteArray out;
        const QByteArray body = QJsonDocument(QJsonObject{{"name", "bench"}, {"script", QString::fromUtf8(script)}, {"stateful", true},
                                                          {"workspace_id", QString::fromUtf8(ws)}}).toJson(QJsonDocument::Compact);
        if (http->request("POST", "/api/v1/jobs", body, &out) != 202)
            return QString();
        return QJsonDocument::fromJson(out).object().value("request_id").toString();
    }
    QJsonObject wait(const QString &id)
    {
        for (int i = 0; i < 60000; ++i) {
            QByteArray out;
            http->request("GET", "/api/v1/jobs/" + id.toUtf8(), {}, &out);
            const QJsonObject j = QJsonDocument::fromJson(out).object();
            const QString s = j.value("status").toString();
            if (s != "queued" && s != "running")
                return j;
            QThread::msleep(20);
        }
        return {};
    }
};

struct Figures {
    double oneJobMs = 0;       // submit -> seen finished, median
    double backToBackMs = 0;   // per job, N jobs on one workspace submitted at once
    double submitToLockMs = 0; // Slurm: submit -> runner holds the workspace (median)
    double endToNextMs = 0;    // Slurm: runner lets go -> next runner holds it (median)
    bool ok = true;
};

QJsonObject resultTimings(const QString &shared, const QString &id)
{
    QFile f(shared + "/tasks/" + id + "/result.json");
    return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object().value("timings").toObject() : QJsonObject();
}

Figures measure(Server &s, int jobs, const QString &shared)
{
    Figures f;
    s.wait(s.submit("bench-warm", "true")); // the workspace's disk and the VM snapshot exist before timing
    s.wait(s.submit("bench-one", "true"));
    QList<double> one, toLock;
    for (int i = 0; i < jobs; ++i) {
        QElapsedTimer t;
        t.start();
        const qint64 submittedAt = QDateTime::currentMSecsSinceEpoch();
        const QString id = s.submit("bench-one", "echo hi");
        const QJsonObject j = s.wait(id);
        one << double(t.elapsed());
        f.ok &= j.value("status").toString() == "completed";
        if (!shared.isEmpty())
            toLock << resultTimings(shared, id).value("locked_at_epoch_ms").toDouble() - double(submittedAt);
    }
    f.oneJobMs = median(one);
    f.submitToLockMs = median(toLock);
    QElapsedTimer t;
    t.start();
    QStringList ids;
    for (int i = 0; i < jobs; ++i)
        ids << s.submit("bench-row", "echo hi");
    for (const QString &id : ids)
        f.ok &= s.wait(id).value("status").toString() == "completed";
    f.backToBackMs = double(t.elapsed()) / jobs;
    if (!shared.isEmpty()) {
        QList<double> gaps;
        for (int i = 1; i < ids.size(); ++i)
            gaps << resultTimings(shared, ids[i]).value("locked_at_epoch_ms").toDouble()
                        - resultTimings(shared, ids[i - 1]).value("unlocked_at_epoch_ms").toDouble();
        f.endToNextMs = median(gaps);
    }
    return f;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QString bin = "build/app/magpie-desktop", guest = "build/guest", conf = "/tmp/magpie-slurm-test/etc/slurm.conf";
    int jobs = 5;
    const QStringList a = app.arguments();
    for (int i = 1; i + 1 < a.size(); ++i) {
        if (a[i] == "--bin") bin = a[i + 1];
        else if (a[i] == "--guest") guest = a[i + 1];
        else if (a[i] == "--jobs") jobs = qMax(2, a[i + 1].toInt());
        else if (a[i] == "--slurm-conf") conf = a[i + 1];
    }
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("MAGPIE_GUEST_DIR", QDir(guest).absolutePath());
    env.insert("SLURM_CONF", conf);
    env.remove("MAGPIE_API_KEY");
    if (!env.contains("MAGPIE_SLURM_SNAPSHOT_DIR"))
        env.insert("MAGPIE_SLURM_SNAPSHOT_DIR", env.value("MAGPIE_SNAPSHOT_DIR", QDir::homePath() + "/.cache/magpie-desktop/snapshots"));

    QTemporaryDir tmp;
    Figures local, slurm;
    {
        Server s;
        if (!s.start(bin, tmp.filePath("local"), {"--backend", "local"}, env)) {
            std::fprintf(stderr, "the local server did not start\n");
            return 1;
        }
        local = measure(s, jobs, QString());
    }
    {
        const QString shared = tmp.filePath("shared");
        QDir().mkpath(shared);
        Server s;
        if (!s.start(bin, tmp.filePath("slurm"), {"--backend", "slurm", "--slurm-shared", shared}, env)) {
            std::fprintf(stderr, "the slurm server did not start (is tests/slurm/cluster.sh started?)\n");
            return 1;
        }
        slurm = measure(s, jobs, shared);
    }
    std::printf("BenchSlurm: %d jobs each, same run (ratio = slurm / local)%s\n", jobs, local.ok && slurm.ok ? "" : "  [SOME JOBS FAILED]");
    std::printf("%-44s %10s %10s %8s\n", "", "local ms", "slurm ms", "ratio");
    std::printf("%-44s %10.0f %10.0f %8.2f\n", "one job: submit -> finished (median)", local.oneJobMs, slurm.oneJobMs, slurm.oneJobMs / qMax(1.0, local.oneJobMs));
    std::printf("%-44s %10.0f %10.0f %8.2f\n", "back to back on a workspace, per job", local.backToBackMs, slurm.backToBackMs,
                slurm.backToBackMs / qMax(1.0, local.backToBackMs));
    std::printf("%-44s %10s %10.0f\n", "slurm: submit -> runner holds workspace", "-", slurm.submitToLockMs);
    std::printf("%-44s %10s %10.0f\n", "slurm: job end -> next job holds workspace", "-", slurm.endToNextMs);
    std::printf("%-44s %10s %10.0f\n", "slurm: overhead per job vs local", "-", slurm.oneJobMs - local.oneJobMs);
    return local.ok && slurm.ok ? 0 : 1;
}
