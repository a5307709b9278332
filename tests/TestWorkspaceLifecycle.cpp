// TestWorkspaceLifecycle — issue 11 at the Executor level, with real VMs (TCG) and a real
// SQLite file: checkpoints and roll back, what a job changed, named snapshots, restore queued
// behind a running job, grow, create, upload, delete, clone, base workspaces, export/import,
// and the bad inputs (each answered 4xx with nothing changed).
#include "ExecutorTestSupport.h"
#include "WorkspaceDisk.h"
#include "Tools.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>

using namespace magpie;
using namespace magpie::test;

namespace {
struct OpResult {
    bool done = false, ok = false;
    ExecError error;
    QJsonObject info;
    QDateTime at;
};

// An OpDone that fills `r`; wait() spins the event loop until it ran.
OpDone into(std::shared_ptr<OpResult> r)
{
    return [r](bool ok, const ExecError &e, const QJsonObject &info) {
        r->done = true;
        r->ok = ok;
        r->error = e;
        r->info = info;
        r->at = QDateTime::currentDateTimeUtc();
    };
}

std::shared_ptr<OpResult> wait(const std::shared_ptr<OpResult> &r, int ms = 240000)
{
    [&] { QTRY_VERIFY_WITH_TIMEOUT(r->done, ms); }();
    return r;
}

template <typename F>
std::shared_ptr<OpResult> run(F &&call)
{
    auto r = std::make_shared<OpResult>();
    call(into(r));
    return wait(r);
}

QStringList paths(const QList<FileChange> &list)
{
    QStringList out;
    for (const FileChange &c : list)
        out << c.path;
    out.sort();
    return out;
}

// The workspace's snapshots, as the executor lists them (nullopt when listing failed).
std::optional<QList<SnapshotInfo>> listSnapshots(Executor &ex, const QString &ws)
{
    struct State {
        bool listed = false;
        std::optional<QList<SnapshotInfo>> list;
    };
    auto st = std::make_shared<State>();
    ex.snapshots(ws, [st](std::optional<QList<SnapshotInfo>> s, const ExecError &) { st->list = s; st->listed = true; });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(st->listed, 60000); }();
    return st->list;
}

QByteArray jobOut(Executor &ex, const QString &script, const QString &ws, const QString &base = QString())
{
    JobRequest req = jobRequest(script, ws);
    if (!base.isEmpty())
        req.baseWorkspaceId = base;
    const JobRecord j = waitDone(ex, submitOk(ex, req).requestId);
    if (j.status != JobStatus::Completed)
        qWarning("job failed: %s / %s / %s", qPrintable(j.error), stdoutOf(ex, j.requestId).constData(),
                 ex.readLog(j.requestId, 2, 0, 1 << 16).data.constData());
    return stdoutOf(ex, j.requestId);
}
} // namespace

class TestWorkspaceLifecycle : public QObject
{
    Q_OBJECT
private slots:
    void rollbackChangesSnapshotsGrow();
    void createUploadCloneBaseExportImport();
    void checkpointsArePrunedBeforeTheJob();
};

// One workspace through its life: two jobs, the changes of the second, rolling it back, named
// snapshots, a restore queued behind a running job, and growing from 1 to 3 GB.
void TestWorkspaceLifecycle::rollbackChangesSnapshotsGrow()
{
    QTemporaryDir dir;
    auto ex = openExecutor(dir.path());
    const QString ws = QStringLiteral("lc");

    // Job 1 makes the tree; job 2 adds, modifies and deletes.
    JobRequest r1 = jobRequest(QStringLiteral("head -c 65536 /dev/urandom > keep.bin; echo v1 > mod.txt; echo bye > del.txt; mkdir d;"
                                              " sha256sum keep.bin | cut -d' ' -f1"),
                               ws, 1);
    const JobRecord j1 = waitDone(*ex, submitOk(*ex, r1).requestId);
    QCOMPARE(j1.status, JobStatus::Completed);
    const QByteArray sha = stdoutOf(*ex, j1.requestId).trimmed();
    QCOMPARE(sha.size(), 64);
    QCOMPARE(j1.checkpointName, checkpointName(j1.requestId));
    QVERIFY(j1.timings.contains(QStringLiteral("checkpoint")));

    const JobRecord j2 = waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("echo v2 >> mod.txt; rm del.txt keep.bin; mkdir -p new/sub;"
                                                                              " printf hello > new/sub/a.txt"), ws)).requestId);
    QCOMPARE(j2.status, JobStatus::Completed);
    ExecError e;
    const auto ch = ex->jobChanges(j2.requestId, &e);
    QVERIFY2(ch, qPrintable(e.message));
    QCOMPARE(paths(ch->added), (QStringList{QStringLiteral("new"), QStringLiteral("new/sub"), QStringLiteral("new/sub/a.txt")}));
    QCOMPARE(paths(ch->modified), QStringList{QStringLiteral("mod.txt")});
    QCOMPARE(paths(ch->deleted), (QStringList{QStringLiteral("del.txt"), QStringLiteral("keep.bin")}));
    QCOMPARE(ch->addedBytes, 5);
    QCOMPARE(ch->deletedBytes, 65536 + 4);
    QVERIFY(!ch->truncated);
    QCOMPARE(ex->jobChanges(QStringLiteral("no-such-job"), &e).has_value(), false);
    QCOMPARE(e.httpStatus, 404);

    // Both checkpoints are listed, with their jobs.
    const auto snaps = listSnapshots(*ex, ws);
    QVERIFY(snaps.has_value());
    QStringList jobsOf;
    for (const SnapshotInfo &s : *snaps)
        jobsOf << s.jobId;
    QCOMPARE(jobsOf, (QStringList{j1.requestId, j2.requestId}));

    // Rolling back job 1 would undo job 2: refused without force. Job 2 rolls back.
    auto rb = run([&](OpDone d) { ex->rollbackJob(j1.requestId, false, d); });
    QVERIFY(!rb->ok);
    QCOMPARE(rb->error.httpStatus, 409);
    QCOMPARE(rb->error.code, QStringLiteral("later_jobs"));
    rb = run([&](OpDone d) { ex->rollbackJob(j2.requestId, false, d); });
    QVERIFY2(rb->ok, qPrintable(rb->error.message));
    QCOMPARE(rb->info.value(QStringLiteral("undone_jobs")).toInt(), 0);
    QVERIFY(rb->info.value(QStringLiteral("safety_snapshot")).toString().startsWith(QLatin1String("before-restore-")));

    // Named snapshots and their bad inputs.
    QVERIFY(run([&](OpDone d) { ex->takeSnapshot(ws, QStringLiteral("named-1"), d); })->ok);
    auto bad = run([&](OpDone d) { ex->takeSnapshot(ws, QStringLiteral("named-1"), d); });
    QCOMPARE(bad->error.httpStatus, 409);
    bad = run([&](OpDone d) { ex->takeSnapshot(ws, QStringLiteral("Bad_Name"), d); });
    QCOMPARE(bad->error.httpStatus, 400);
    bad = run([&](OpDone d) { ex->restoreSnapshot(ws, QStringLiteral("nope"), d); });
    QCOMPARE(bad->error.httpStatus, 404);
    bad = run([&](OpDone d) { ex->deleteSnapshot(ws, QStringLiteral("nope"), d); });
    QCOMPARE(bad->error.httpStatus, 404);
    bad = run([&](OpDone d) { ex->takeSnapshot(QStringLiteral("no-such-ws"), QStringLiteral("x"), d); });
    QCOMPARE(bad->error.httpStatus, 404);
    bad = run([&](OpDone d) { ex->growWorkspace(ws, 1, d); });
    QCOMPARE(bad->error.httpStatus, 422);

    // A restore asked for while a job runs waits for it (FIFO), then undoes it.
    const JobRecord j4 = submitOk(*ex, jobRequest(QStringLiteral("sleep 3; echo after > marker"), ws));
    QTRY_VERIFY_WITH_TIMEOUT(ex->job(j4.requestId)->status == JobStatus::Running, 120000);
    auto restore = std::make_shared<OpResult>();
    ex->restoreSnapshot(ws, QStringLiteral("named-1"), into(restore));
    QTest::qWait(200);
    QVERIFY(!restore->done);
    wait(restore);
    QVERIFY2(restore->ok, qPrintable(restore->error.message));
    const JobRecord j4done = *ex->job(j4.requestId);
    QCOMPARE(j4done.status, JobStatus::Completed);
    QVERIFY(parseIso(j4done.finishedAt) <= restore->at);

    // Grow 1 -> 3 GB: the next job sees ~3 GB and the data of before job 2.
    auto grown = run([&](OpDone d) { ex->growWorkspace(ws, 3, d); });
    QVERIFY2(grown->ok, qPrintable(grown->error.message));
    QCOMPARE(ex->workspace(ws)->info.sizeGb, 3);
    const QByteArray out = jobOut(*ex, QStringLiteral("df -B1 --output=size /workspace | tail -n1 | tr -d ' '; sha256sum keep.bin | cut -d' ' -f1;"
                                                      " cat mod.txt; test -e del.txt && echo del-back; test -e new || echo no-new;"
                                                      " test -e marker || echo no-marker"),
                                  ws);
    const QList<QByteArray> lines = out.split('\n');
    QVERIFY2(lines.size() >= 6, out.constData());
    const qint64 fsBytes = lines.at(0).toLongLong();
    QVERIFY2(fsBytes > 2.8 * (1LL << 30) && fsBytes <= 3LL << 30, out.constData());
    QCOMPARE(lines.at(1), sha); // the deleted file is back with the same bytes
    QCOMPARE(lines.at(2), QByteArray("v1"));
    QCOMPARE(lines.at(3), QByteArray("del-back"));
    QCOMPARE(lines.at(4), QByteArray("no-new"));
    QCOMPARE(lines.at(5), QByteArray("no-marker"));
}

// A workspace created empty, an upload read back by a job, a clone that diverges, a stateless
// job on a base that changes nothing, export -> import of a tree with a symlink, a 0600 file and
// an empty folder, and the bad inputs on the way.
void TestWorkspaceLifecycle::createUploadCloneBaseExportImport()
{
    QTemporaryDir dir;
    auto ex = openExecutor(dir.path());
    const QString src = QStringLiteral("src");
    QVERIFY(run([&](OpDone d) { ex->createWorkspace(src, 1, d); })->ok);
    QCOMPARE(run([&](OpDone d) { ex->createWorkspace(src, 1, d); })->error.httpStatus, 409);
    QCOMPARE(run([&](OpDone d) { ex->createWorkspace(QStringLiteral("-bad"), 1, d); })->error.httpStatus, 400);
    QCOMPARE(run([&](OpDone d) { ex->createWorkspace(QStringLiteral("big"), 5000, d); })->error.httpStatus, 422);

    QByteArray data;
    for (int i = 0; i < 300000; ++i)
        data += char(i * 7 % 251);
    const QByteArray sha = QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
    auto up = run([&](OpDone d) { ex->writeFile(src, QStringLiteral("dir/up.bin"), data, d); });
    QVERIFY2(up->ok, qPrintable(up->error.message));
    for (const QString &p : {QStringLiteral("../x"), QStringLiteral("/etc/x"), QStringLiteral("a/../../x"), QString()})
        QCOMPARE(run([&](OpDone d) { ex->writeFile(src, p, "x", d); })->error.httpStatus, 400);
    QCOMPARE(run([&](OpDone d) { ex->deleteFile(src, QStringLiteral("/"), d); })->error.httpStatus, 400);

    QByteArray out = jobOut(*ex, QStringLiteral("sha256sum dir/up.bin | cut -d' ' -f1; ln -s dir/up.bin link; echo s > secret; chmod 600 secret;"
                                                " mkdir emptydir todel; touch todel/x"),
                            src);
    QCOMPARE(out.trimmed(), sha);

    // Clone, then change the clone (delete a folder through the API, modify a file).
    QCOMPARE(run([&](OpDone d) { ex->cloneWorkspace(src, src, d); })->error.httpStatus, 409);
    QCOMPARE(run([&](OpDone d) { ex->cloneWorkspace(src, QStringLiteral("Bad"), d); })->error.httpStatus, 400);
    auto cl = run([&](OpDone d) { ex->cloneWorkspace(src, QStringLiteral("cl"), d); });
    QVERIFY2(cl->ok, qPrintable(cl->error.message));
    QVERIFY(run([&](OpDone d) { ex->deleteFile(QStringLiteral("cl"), QStringLiteral("todel"), d); })->ok);
    QCOMPARE(run([&](OpDone d) { ex->deleteFile(QStringLiteral("cl"), QStringLiteral("todel"), d); })->error.httpStatus, 404);
    out = jobOut(*ex, QStringLiteral("test -e todel || echo gone; echo changed > dir/up.bin; cat dir/up.bin"), QStringLiteral("cl"));
    QCOMPARE(out, QByteArray("gone\nchanged\n"));

    // A stateless job on the base sees its files and may wreck them: thrown away.
    out = jobOut(*ex, QStringLiteral("cat secret; rm -rf /workspace/*; echo x > /workspace/new; ls /workspace"), QString(), src);
    QCOMPARE(out, QByteArray("s\nnew\n"));
    out = jobOut(*ex, QStringLiteral("sha256sum dir/up.bin | cut -d' ' -f1; test -e new || echo no-new; test -d todel && echo todel"), src);
    QCOMPARE(out, sha + "\nno-new\ntodel\n");

    // Export -> import.
    const QString tarGz = dir.filePath(QStringLiteral("src.tar.gz"));
    auto exp = run([&](OpDone d) { ex->exportWorkspace(src, tarGz, d); });
    QVERIFY2(exp->ok, qPrintable(exp->error.message));
    QVERIFY(QFileInfo(tarGz).size() > 1000);
    auto imp = run([&](OpDone d) { ex->importWorkspace(QStringLiteral("imp"), 1, tarGz, d); });
    QVERIFY2(imp->ok, qPrintable(imp->error.message));
    QCOMPARE(run([&](OpDone d) { ex->importWorkspace(QStringLiteral("imp"), 1, tarGz, d); })->error.httpStatus, 409);
    out = jobOut(*ex, QStringLiteral("readlink link; stat -c %a secret; test -d emptydir && ls -A emptydir | wc -l; sha256sum dir/up.bin | cut -d' ' -f1"),
                 QStringLiteral("imp"));
    QCOMPARE(out, QByteArray("dir/up.bin\n600\n0\n") + sha + "\n");

    // Archives with an absolute path or "..": 400, no workspace made.
    QDir(dir.path()).mkpath(QStringLiteral("t/in"));
    QFile(dir.filePath(QStringLiteral("t/in/f"))).open(QIODevice::WriteOnly);
    const QString absTar = dir.filePath(QStringLiteral("abs.tar.gz")), dotTar = dir.filePath(QStringLiteral("dot.tar.gz"));
    QCOMPARE(QProcess::execute(QStringLiteral("tar"), {QStringLiteral("-czPf"), absTar, dir.filePath(QStringLiteral("t/in/f"))}), 0);
    QCOMPARE(QProcess::execute(QStringLiteral("tar"), {QStringLiteral("-C"), dir.filePath(QStringLiteral("t/in")), QStringLiteral("-czPf"), dotTar, QStringLiteral("../in/f")}), 0);
    for (const QString &t : {absTar, dotTar}) {
        auto r = run([&](OpDone d) { ex->importWorkspace(QStringLiteral("evil"), 1, t, d); });
        QCOMPARE(r->error.httpStatus, 400);
        QCOMPARE(r->error.code, QStringLiteral("invalid_archive"));
    }
    QVERIFY(!ex->workspace(QStringLiteral("evil")));
}


// With "keep 2", four jobs leave the last two checkpoints; the old ones are deleted by each job's
// QEMU as its VM starts (found in the disk's snapshot table, read in-process: the same names as
// qemu-img lists), so the workspace is idle the moment its last job has finished.
void TestWorkspaceLifecycle::checkpointsArePrunedBeforeTheJob()
{
    QTemporaryDir dir;
    auto ex = openExecutor(dir.path());
    ex->setCheckpoints(true, 2);
    const QString ws = QStringLiteral("pr");
    QStringList ids;
    for (int i = 0; i < 4; ++i) {
        const JobRecord j = waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("echo %1 >> n.txt").arg(i), ws)).requestId);
        QCOMPARE(j.status, JobStatus::Completed);
        ids << j.requestId;
    }
    const auto snaps = listSnapshots(*ex, ws);
    QVERIFY(snaps.has_value());
    QStringList names;
    for (const SnapshotInfo &s : *snaps)
        names << s.name;
    names.sort();
    QStringList want{checkpointName(ids.at(2)), checkpointName(ids.at(3))};
    want.sort();
    QCOMPARE(names, want);
    const auto table = WorkspaceDisk::readSnapshotTable(dir.path() + QStringLiteral("/workspaces/pr.qcow2"));
    QVERIFY(table.has_value());
    QStringList tableNames;
    for (const DiskSnapshot &s : *table)
        tableNames << s.name;
    const QStringList oldestFirst{checkpointName(ids.at(2)), checkpointName(ids.at(3))};
    QCOMPARE(tableNames, oldestFirst);

    // A job, then at once a delete: nothing of the job's is left running on the workspace.
    const JobRecord last = waitDone(*ex, submitOk(*ex, jobRequest(QStringLiteral("true"), ws)).requestId);
    QCOMPARE(last.status, JobStatus::Completed);
    ExecError e;
    QVERIFY2(ex->deleteWorkspace(ws, &e), qPrintable(e.message));
}

QTEST_GUILESS_MAIN(TestWorkspaceLifecycle)
#include "TestWorkspaceLifecycle.moc"
