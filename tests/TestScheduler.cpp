// TestScheduler — the queue rules of executor/Scheduler with thousands of tasks: FIFO per
// workspace, earliest-first across workspaces and stateless tasks, cancel anywhere in a queue,
// and counts kept without scans.
#include "Scheduler.h"
#include "Task.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QtTest>

using namespace magpie;

namespace {
TaskPtr task(qint64 order, const QString &ws, bool job = true)
{
    auto t = std::make_shared<Task>();
    t->kind = job ? Task::Job : Task::Op;
    t->id = QStringLiteral("t%1").arg(order);
    t->workspaceId = ws;
    t->order = order;
    return t;
}
} // namespace

class TestScheduler : public QObject
{
    Q_OBJECT
private slots:
    void fifoPerWorkspaceAndEarliestFirstAcross()
    {
        Scheduler s;
        s.push(task(1, QStringLiteral("a")));
        s.push(task(2, QStringLiteral("a")));
        s.push(task(3, QStringLiteral("b")));
        s.push(task(4, QString()));
        QCOMPARE(s.queuedJobs(), 4);
        QCOMPARE(s.queuedJobsFor(QStringLiteral("a")), 2);
        QCOMPARE(s.takeNext()->order, 1);   // a is busy now
        QCOMPARE(s.takeNext()->order, 3);   // 2 waits behind 1
        QCOMPARE(s.takeNext()->order, 4);
        QVERIFY(!s.takeNext());
        QVERIFY(s.isBusy(QStringLiteral("a")));
        QCOMPARE(s.busyWith(QStringLiteral("a")), QStringLiteral("t1"));
        s.release(QStringLiteral("a"));
        QCOMPARE(s.takeNext()->order, 2);
        QCOMPARE(s.queuedJobs(), 0);
    }

    void cancelAnywhereKeepsTheOrder()
    {
        Scheduler s;
        for (int i = 1; i <= 5; ++i)
            s.push(task(i, QStringLiteral("w")));
        QVERIFY(s.remove(QStringLiteral("t1")));  // the ready head
        QVERIFY(s.remove(QStringLiteral("t3")));  // the middle
        QVERIFY(!s.remove(QStringLiteral("t3")));
        QVERIFY(!s.remove(QStringLiteral("nope")));
        QCOMPARE(s.queuedJobsFor(QStringLiteral("w")), 3);
        QCOMPARE(s.takeNext()->order, 2);
        QVERIFY(s.remove(QStringLiteral("t4")));  // behind a running task
        s.release(QStringLiteral("w"));
        QCOMPARE(s.takeNext()->order, 5);
        s.release(QStringLiteral("w"));
        QVERIFY(!s.takeNext());
        QCOMPARE(s.waitingFor(QStringLiteral("w")), 0);
    }

    void operationsCountAsWaitingNotAsJobs()
    {
        Scheduler s;
        s.push(task(1, QStringLiteral("w")));
        s.push(task(2, QStringLiteral("w"), false));
        QCOMPARE(s.queuedJobs(), 1);
        QCOMPARE(s.queuedJobsFor(QStringLiteral("w")), 1);
        QCOMPARE(s.waitingFor(QStringLiteral("w")), 2);
    }

    // 5,000 tasks over 50 workspaces (and some stateless), run by a simulated pool of 4 slots
    // whose tasks end in a random order: every workspace's tasks start in their queue order, one
    // at a time, and whenever a slot is free the earliest startable task takes it.
    void fiveThousandTasksOverFiftyWorkspaces()
    {
        Scheduler s;
        QList<TaskPtr> all;
        for (int i = 1; i <= 5000; ++i) {
            const QString ws = i % 11 == 0 ? QString() : QStringLiteral("ws-%1").arg(i % 50);
            all.append(task(i, ws));
            s.push(all.last());
        }
        // cancel 200 of them at random places
        QSet<QString> cancelled;
        auto *rng = QRandomGenerator::global();
        while (cancelled.size() < 200) {
            const QString id = all.at(int(rng->bounded(5000)))->id;
            if (!cancelled.contains(id) && s.remove(id))
                cancelled.insert(id);
        }
        QCOMPARE(s.queuedJobs(), 4800);
        QHash<QString, qint64> lastStarted;
        QList<TaskPtr> running;
        int started = 0;
        QElapsedTimer timer;
        timer.start();
        while (true) {
            while (running.size() < 4) {
                TaskPtr t = s.takeNext();
                if (!t)
                    break;
                QVERIFY(!cancelled.contains(t->id));
                // nothing earlier that could start was skipped
                if (!t->workspaceId.isEmpty()) {
                    QVERIFY(lastStarted.value(t->workspaceId) < t->order);
                    lastStarted[t->workspaceId] = t->order;
                    for (const TaskPtr &r : running)
                        QVERIFY(r->workspaceId != t->workspaceId);
                }
                running.append(t);
                ++started;
            }
            if (running.isEmpty())
                break;
            const TaskPtr done = running.takeAt(int(rng->bounded(quint32(running.size()))));
            s.release(done->workspaceId);
        }
        QCOMPARE(started, 4800);
        QCOMPARE(s.queuedJobs(), 0);
        QVERIFY(s.isEmpty());
        qInfo("5,000 tasks pushed, 200 cancelled, 4,800 run through the queue in %lld ms", timer.elapsed());
    }
};

QTEST_GUILESS_MAIN(TestScheduler)
#include "TestScheduler.moc"
