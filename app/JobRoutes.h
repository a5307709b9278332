// JobRoutes.h — /api/v1/jobs...: submit, list, one job, cancel, and the logs (raw bytes through
// LogWaiters). Each handler checks the shape of the request, makes one Executor call and
// serializes the answer; the rules live in executor/ (JobRequest, Executor).
#pragma once

#include "http/HttpRequest.h"
#include "http/HttpResponder.h"

namespace magpie {

class Executor;
class LogWaiters;
namespace http { class Router; }

class JobRoutes
{
public:
    static constexpr int kMaxListLimit = 500;
    static constexpr int kDefaultListLimit = 50;

    JobRoutes(Executor &executor, LogWaiters &logs) : m_exec(executor), m_logs(logs) {}
    void install(http::Router &router);

private:
    void list(const http::HttpRequest &request, http::HttpResponder r);
    void submit(const http::HttpRequest &request, http::HttpResponder r);
    void get(const QString &id, http::HttpResponder r);
    void cancel(const QString &id, http::HttpResponder r);
    void logs(const QString &id, const http::HttpRequest &request, http::HttpResponder r);

    Executor &m_exec;
    LogWaiters &m_logs;
};

} // namespace magpie
