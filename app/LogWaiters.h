// LogWaiters.h — GET /api/v1/jobs/{id}/logs?stream=&offset=&wait= (raw bytes): answers at once
// when there are bytes past `offset` or the job has finished, else holds the request until
// output arrives, the job finishes or `wait` seconds pass. Held requests are woken by the
// executor's jobOutput/jobChanged signals (a one-second poll is the safety net); a client that
// hangs up meanwhile is dropped.
#pragma once

#include "http/HttpResponder.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

namespace magpie {

class Executor;

class LogWaiters : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kMaxChunk = 4 * 1024 * 1024; // bytes per answer
    static constexpr int kMaxWaitSec = 60;

    explicit LogWaiters(Executor &executor, QObject *parent = nullptr);
    ~LogWaiters() override;

    // The job is known to exist. stream: 1 stdout, 2 stderr.
    void serve(const QString &jobId, int stream, qint64 offset, int waitSec, http::HttpResponder responder);
    // Answers every held request now (the app is stopping).
    void answerAll();
    int held() const { return int(m_waiters.size()); }

private:
    struct Waiter;
    bool tryAnswer(const std::shared_ptr<Waiter> &w, bool force);
    void check(const QString &jobId);
    void drop(quint64 id);

    Executor &m_exec;
    QHash<quint64, std::shared_ptr<Waiter>> m_waiters;
    quint64 m_next = 0;
    QTimer m_poll;
};

} // namespace magpie
