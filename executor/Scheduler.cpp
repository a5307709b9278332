#include "Scheduler.h"

#include "Task.h"

namespace magpie {

void Scheduler::push(const TaskPtr &t)
{
    t->removed = false;
    m_byId.insert(t->id, t);
    if (t->isJob())
        ++m_queuedJobs;
    if (t->workspaceId.isEmpty()) {
        m_ready.emplace(t->order, t);
        return;
    }
    Queue &q = m_queues[t->workspaceId];
    const bool wasEmpty = q.live == 0;
    q.tasks.push_back(t);
    ++q.live;
    if (t->isJob())
        ++q.liveJobs;
    if (wasEmpty)
        offerHead(t->workspaceId);
}

void Scheduler::dropHeadTombstones(Queue &q)
{
    while (!q.tasks.empty() && q.tasks.front()->removed)
        q.tasks.pop_front();
}

void Scheduler::offerHead(const QString &workspaceId)
{
    if (m_busy.contains(workspaceId))
        return;
    auto it = m_queues.find(workspaceId);
    if (it == m_queues.end())
        return;
    dropHeadTombstones(*it);
    if (it->tasks.empty()) {
        m_queues.erase(it);
        return;
    }
    const TaskPtr &head = it->tasks.front();
    m_ready.emplace(head->order, head);
}

TaskPtr Scheduler::takeNext()
{
    if (m_ready.empty())
        return nullptr;
    auto first = m_ready.begin();
    TaskPtr t = first->second;
    m_ready.erase(first);
    m_byId.remove(t->id);
    if (t->isJob())
        --m_queuedJobs;
    if (!t->workspaceId.isEmpty()) {
        Queue &q = m_queues[t->workspaceId];
        // The ready task of a workspace is always the live head of its queue.
        dropHeadTombstones(q);
        if (!q.tasks.empty() && q.tasks.front() == t)
            q.tasks.pop_front();
        --q.live;
        if (t->isJob())
            --q.liveJobs;
        if (q.live == 0)
            m_queues.remove(t->workspaceId);
        m_busy.insert(t->workspaceId, t->id);
    }
    return t;
}

bool Scheduler::remove(const QString &taskId)
{
    const TaskPtr t = m_byId.take(taskId);
    if (!t)
        return false;
    if (t->isJob())
        --m_queuedJobs;
    auto ready = m_ready.find(t->order);
    const bool wasReady = ready != m_ready.end() && ready->second == t;
    if (wasReady)
        m_ready.erase(ready);
    if (t->workspaceId.isEmpty())
        return true;
    t->removed = true;
    Queue &q = m_queues[t->workspaceId];
    --q.live;
    if (t->isJob())
        --q.liveJobs;
    if (q.live == 0) {
        m_queues.remove(t->workspaceId);
        return true;
    }
    if (wasReady)
        offerHead(t->workspaceId);
    return true;
}

void Scheduler::release(const QString &workspaceId)
{
    if (workspaceId.isEmpty())
        return;
    m_busy.remove(workspaceId);
    offerHead(workspaceId);
}

void Scheduler::markBusy(const QString &workspaceId, const QString &taskId)
{
    if (!workspaceId.isEmpty())
        m_busy.insert(workspaceId, taskId);
}

int Scheduler::queuedJobsFor(const QString &workspaceId) const
{
    const auto it = m_queues.constFind(workspaceId);
    return it == m_queues.constEnd() ? 0 : it->liveJobs;
}

int Scheduler::waitingFor(const QString &workspaceId) const
{
    const auto it = m_queues.constFind(workspaceId);
    return it == m_queues.constEnd() ? 0 : it->live;
}

QList<TaskPtr> Scheduler::all() const
{
    std::map<qint64, TaskPtr> sorted;
    for (const TaskPtr &t : m_byId)
        sorted.emplace(t->order, t);
    QList<TaskPtr> out;
    out.reserve(int(sorted.size()));
    for (const auto &kv : sorted)
        out.append(kv.second);
    return out;
}

void Scheduler::clear()
{
    m_queues.clear();
    m_ready.clear();
    m_byId.clear();
    m_busy.clear();
    m_queuedJobs = 0;
}

} // namespace magpie
