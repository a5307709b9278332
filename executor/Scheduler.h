// Scheduler.h — what runs next: the waiting tasks (jobs and workspace operations) in per-workspace
// FIFO queues, plus the stateless ones, with every operation O(1) or O(log n) in the number of
// waiting tasks (a queue of 10,000 jobs costs a submit no more than a queue of ten).
//
// The rules it keeps:
//   * tasks on one workspace start one at a time, in the order they were queued;
//   * among the tasks that may start now (the head of each idle workspace's queue and every
//     stateless task), the earliest queued starts first;
//   * a workspace is busy from the moment its task is taken until release() — nothing else of
//     it starts meanwhile.
// It knows nothing of VMs or the database: the Executor asks it for the next task when a slot is
// free, and tells it when a workspace's task has ended.
#pragma once

#include <QHash>
#include <QString>
#include <deque>
#include <map>
#include <memory>

namespace magpie {

struct Task;
using TaskPtr = std::shared_ptr<Task>;

class Scheduler
{
public:
    // Queues a task at the end of its workspace's queue (or with the stateless ones).
    // task->order must grow with every call (the Executor numbers tasks as they are queued).
    void push(const TaskPtr &task);
    // Takes the earliest task that may start now and marks its workspace busy; null when none.
    TaskPtr takeNext();
    // Removes a waiting task (cancel). False when it is not waiting (unknown, or taken).
    bool remove(const QString &taskId);
    // The workspace's running task ended: its next task may start.
    void release(const QString &workspaceId);
    // Marks a workspace busy without a queued task (used when a task is taken over directly).
    void markBusy(const QString &workspaceId, const QString &taskId);

    TaskPtr waiting(const QString &taskId) const { return m_byId.value(taskId); }
    bool isBusy(const QString &workspaceId) const { return m_busy.contains(workspaceId); }
    QString busyWith(const QString &workspaceId) const { return m_busy.value(workspaceId); }
    int queuedJobs() const { return m_queuedJobs; }                   // jobs only, ops excluded
    int queuedJobsFor(const QString &workspaceId) const;              // jobs only
    int waitingFor(const QString &workspaceId) const;                 // jobs and operations
    bool isEmpty() const { return m_byId.isEmpty(); }
    // Every waiting task, in queue order (shutdown, tests); O(n).
    QList<TaskPtr> all() const;
    void clear();

private:
    struct Queue {
        std::deque<TaskPtr> tasks;   // may hold removed tasks (tombstones), skipped at the head
        int live = 0;                // tasks not removed
        int liveJobs = 0;
    };
    void offerHead(const QString &workspaceId);
    void dropHeadTombstones(Queue &q);

    QHash<QString, Queue> m_queues;            // workspace id -> its waiting tasks
    std::map<qint64, TaskPtr> m_ready;         // order -> a task that may start now
    QHash<QString, TaskPtr> m_byId;            // every waiting task
    QHash<QString, QString> m_busy;            // workspace id -> the task using it
    int m_queuedJobs = 0;
};

} // namespace magpie
