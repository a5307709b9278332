// TestRetention.cpp — history retention (Executor::setRetention / pruneHistory) on a real
// SQLite file: keep the newest N finished jobs and/or those finished in the last D days; never
// a queued job, never a workspace; the pruned jobs' log folders go with them; the rules hold
// after a restart. No VM: without a guest image the executor holds jobs queued, and cancelled
// ones are finished.
#include "Executor.h"

#include <QDir>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

class TestRetention : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    int m_n = 0;

    std::unique_ptr<Executor> open(const QString &dir, int keepJobs = 0, int keepDays = 0)
    {
        ExecutorConfig cfg;
        cfg.dataDir = dir;
        cfg.maxParallel = 1;
        cfg.holdWithoutImage = true;
        cfg.image = GuestImage::fromDir(m_tmp.path() + QStringLiteral("/no-image"));
        cfg.keepJobs = keepJobs;
        cfg.keepDays = keepDays;
        auto ex = std::make_unique<Executor>(cfg);
        QString err;
        if (!ex->open(&err))
            qFatal("open: %s", qPrintable(err));
        return ex;
    }

    static QString add(Executor &ex, const QString &name, bool cancel, const QString &ws = QString())
    {
        JobRequest r;
        r.name = name;
        r.script = QStringLiteral("echo ") + name;
        r.network = false;
        r.stateful = !ws.isEmpty();
        r.workspaceId = ws;
        ExecError e;
        const auto j = ex.submit(r, &e);
        if (!j)
            qFatal("submit: %s", qPrintable(e.message));
        if (cancel && !ex.cancel(j->requestId, &e))
            qFatal("cancel: %s", qPrintable(e.message));
        return j->requestId;
    }

    // Backdates a job's finish through a second SQLite connection (as an old history would be).
    static void backdate(const QString &dir, const QString &id, int days)
    {
        const QString name = QStringLiteral("backdate-") + id;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(dir + QStringLiteral("/magpie.db"));
            QVERIFY(db.open());
            QSqlQuery q(db);
            q.prepare(QStringLiteral("UPDATE jobs SET finished_at = ? WHERE request_id = ?"));
            q.addBindValue(QDateTime::currentDateTimeUtc().addDays(-days).toString(Qt::ISODateWithMs));
            q.addBindValue(id);
            QVERIFY(q.exec());
            QCOMPARE(q.numRowsAffected(), 1);
        }
        QSqlDatabase::removeDatabase(name);
    }

private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void keepsTheNewestFinishedJobsAndNeverAQueuedOne()
    {
        const QString dir = m_tmp.path() + QStringLiteral("/d%1").arg(++m_n);
        auto ex = open(dir);
        QStringList finished;
        for (int i = 0; i < 6; ++i)
            finished << add(*ex, QStringLiteral("done-%1").arg(i), true, i == 0 ? QStringLiteral("kept-ws") : QString());
        const QString queued = add(*ex, QStringLiteral("waiting"), false);
        // A log folder for the oldest one, as a job that ran would have.
        QVERIFY(QDir().mkpath(ex->logDir(finished.first())));
        QFile f(ex->logDir(finished.first()) + QStringLiteral("/stdout.log"));
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write("old output\n") > 0);
        f.close();
        QVERIFY(ex->workspace(QStringLiteral("kept-ws")));

        QCOMPARE(ex->pruneHistory(), 0); // no rule: nothing goes
        QSignalSpy removed(ex.get(), &Executor::jobRemoved);
        ex->setRetention(2, 0);
        QCOMPARE(ex->pruneHistory(), 4);
        QCOMPARE(removed.count(), 4);
        for (int i = 0; i < 4; ++i)
            QVERIFY2(!ex->job(finished.at(i)), qPrintable(finished.at(i)));
        QVERIFY(ex->job(finished.at(4)));
        QVERIFY(ex->job(finished.at(5)));
        QVERIFY(ex->job(queued));
        QCOMPARE(ex->job(queued)->status, JobStatus::Queued);
        QVERIFY(!QDir(ex->logDir(finished.first())).exists());
        QVERIFY(ex->workspace(QStringLiteral("kept-ws"))); // the workspace of a pruned job stays
        JobFilter all;
        QCOMPARE(ex->jobs(all).total, 3);

        // A newer finished job pushes the next oldest out (the timer prunes after jobs end).
        const QString newest = add(*ex, QStringLiteral("newest"), true);
        QTRY_VERIFY_WITH_TIMEOUT(!ex->job(finished.at(4)), 10000);
        QVERIFY(ex->job(finished.at(5)));
        QVERIFY(ex->job(newest));
        QVERIFY(ex->job(queued));

        // The rule holds after a restart: a reopened executor prunes by itself.
        ex.reset();
        auto again = open(dir, 1, 0);
        QTRY_VERIFY_WITH_TIMEOUT(!again->job(finished.at(5)), 10000);
        QVERIFY(again->job(newest));
        QVERIFY(again->job(queued));
    }

    void dropsJobsFinishedLongerAgoThanTheDays()
    {
        const QString dir = m_tmp.path() + QStringLiteral("/d%1").arg(++m_n);
        auto ex = open(dir);
        const QString old1 = add(*ex, QStringLiteral("old-1"), true);
        const QString old2 = add(*ex, QStringLiteral("old-2"), true);
        const QString recent = add(*ex, QStringLiteral("recent"), true);
        const QString queued = add(*ex, QStringLiteral("waiting"), false);
        ex.reset();
        backdate(dir, old1, 40);
        backdate(dir, old2, 8);
        backdate(dir, recent, 2);
        ex = open(dir);
        ex->setRetention(0, 30);
        QCOMPARE(ex->pruneHistory(), 1);
        QVERIFY(!ex->job(old1));
        QVERIFY(ex->job(old2));
        ex->setRetention(0, 7);
        QCOMPARE(ex->pruneHistory(), 1);
        QVERIFY(!ex->job(old2));
        QVERIFY(ex->job(recent));
        QVERIFY(ex->job(queued));
        // Both rules: either one lets a job go.
        const QString fresh = add(*ex, QStringLiteral("fresh"), true);
        ex->setRetention(1, 7);
        QCOMPARE(ex->pruneHistory(), 1);
        QVERIFY(!ex->job(recent));
        QVERIFY(ex->job(fresh));
        QVERIFY(ex->job(queued));
        // Bad values are clamped to "no limit", never "delete everything".
        ex->setRetention(-5, -1);
        QCOMPARE(ex->pruneHistory(), 0);
        QVERIFY(ex->job(fresh));
    }
};

QTEST_GUILESS_MAIN(TestRetention)
#include "TestRetention.moc"
