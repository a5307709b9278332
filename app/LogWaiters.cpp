#include "LogWaiters.h"

#include "ApiReplies.h"
#include "Executor.h"

namespace magpie {

using http::HttpResponse;

struct LogWaiters::Waiter {
    quint64 id = 0;
    QString jobId;
    int stream = 1;
    qint64 offset = 0;
    http::HttpResponder responder;
    QTimer *timer = nullptr;
    QMetaObject::Connection gone;
};

LogWaiters::LogWaiters(Executor &executor, QObject *parent) : QObject(parent), m_exec(executor)
{
    connect(&m_exec, &Executor::jobOutput, this, [this](const QString &id, int, const QByteArray &) { check(id); });
    connect(&m_exec, &Executor::jobChanged, this, [this](const QString &id) { check(id); });
    m_poll.setInterval(1000);
    connect(&m_poll, &QTimer::timeout, this, [this] {
        const auto all = m_waiters.values();
        for (const auto &w : all)
            tryAnswer(w, false);
    });
}

LogWaiters::~LogWaiters()
{
    answerAll();
}

void LogWaiters::serve(const QString &jobId, int stream, qint64 offset, int waitSec, http::HttpResponder responder)
{
    auto w = std::make_shared<Waiter>();
    w->id = ++m_next;
    w->jobId = jobId;
    w->stream = stream;
    w->offset = offset;
    w->responder = responder;
    if (waitSec == 0 || tryAnswer(w, false)) {
        if (waitSec == 0)
            tryAnswer(w, true);
        return;
    }
    // Held until output arrives, the job finishes or the wait is over.
    m_waiters.insert(w->id, w);
    w->timer = new QTimer(this);
    w->timer->setSingleShot(true);
    const quint64 wid = w->id;
    connect(w->timer, &QTimer::timeout, this, [this, wid] {
        if (auto it = m_waiters.find(wid); it != m_waiters.end())
            tryAnswer(it.value(), true);
    });
    w->timer->start(waitSec * 1000);
    w->gone = w->responder.onGone(this, [this, wid] { drop(wid); });
    if (!m_poll.isActive())
        m_poll.start();
}

void LogWaiters::answerAll()
{
    m_poll.stop();
    const auto all = m_waiters.values();
    for (const auto &w : all)
        tryAnswer(w, true);
}

bool LogWaiters::tryAnswer(const std::shared_ptr<Waiter> &w, bool force)
{
    if (!w->responder.alive()) {
        drop(w->id);
        return true;
    }
    // The status is read before the log, so a finished job's log is complete when read.
    const auto job = m_exec.job(w->jobId);
    if (!job) {
        w->responder.send(api::jobNotFound(w->jobId));
        drop(w->id);
        return true;
    }
    const bool finished = isFinished(job->status);
    const LogChunk chunk = m_exec.readLog(w->jobId, w->stream, w->offset, kMaxChunk);
    if (!force && !finished && chunk.data.isEmpty())
        return false;
    const qint64 next = chunk.offset + chunk.data.size();
    HttpResponse r(200, QByteArrayLiteral("application/octet-stream"), chunk.data);
    r.addHeader(QByteArrayLiteral("X-Magpie-Offset"), QByteArray::number(chunk.offset));
    r.addHeader(QByteArrayLiteral("X-Magpie-Next-Offset"), QByteArray::number(next));
    r.addHeader(QByteArrayLiteral("X-Magpie-Job-Status"), statusName(job->status).toUtf8());
    if (finished && next >= chunk.size)
        r.addHeader(QByteArrayLiteral("X-Magpie-Complete"), QByteArrayLiteral("true"));
    r.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    w->responder.send(std::move(r));
    drop(w->id);
    return true;
}

void LogWaiters::check(const QString &jobId)
{
    if (m_waiters.isEmpty())
        return;
    QList<std::shared_ptr<Waiter>> mine;
    for (const auto &w : std::as_const(m_waiters))
        if (w->jobId == jobId)
            mine.append(w);
    for (const auto &w : mine)
        tryAnswer(w, false);
}

void LogWaiters::drop(quint64 id)
{
    const auto w = m_waiters.take(id);
    if (!w)
        return;
    if (w->timer)
        w->timer->deleteLater();
    disconnect(w->gone);
    if (m_waiters.isEmpty())
        m_poll.stop();
}

} // namespace magpie
