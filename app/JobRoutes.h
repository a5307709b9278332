// JobRoutes.h — /api/v1/jobs...: submit (one, or up to 1,000 in one transaction with
// POST /jobs:batch), list (offset, page/page_size or keyset cursor; filters), one job, its
// details, its status in Magpie Cloud's shape, cancel, delete, and the logs (raw bytes through
// LogWaiters, or JSON lines). Each handler checks the shape of the request, makes one Executor
// call and serializes the answer; the rules live in executor/ (JobRequest, Executor).
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
    static constexpr int kDefaultPageSize = 20;           // page/page_size, as Magpie Cloud's SDK
    static constexpr int kListScriptChars = 64 * 1024;    // list items: longer scripts are cut
    static constexpr int kMaxBatch = 1000;
    static constexpr qint64 kMaxBatchBody = 16 * 1024 * 1024;

    JobRoutes(Executor &executor, LogWaiters &logs) : m_exec(executor), m_logs(logs) {}
    void install(http::Router &router);

private:
    void list(const http::HttpRequest &request, http::HttpResponder r);
    void submit(const http::HttpRequest &request, http::HttpResponder r);
    void submitBatch(const http::HttpRequest &request, http::HttpResponder r);
    void get(const QString &id, http::HttpResponder r);
    void status(const QString &id, http::HttpResponder r);
    void cancel(const QString &id, http::HttpResponder r);
    void remove(const QString &id, http::HttpResponder r);
    void logs(const QString &id, const http::HttpRequest &request, http::HttpResponder r);

    Executor &m_exec;
    LogWaiters &m_logs;
};

} // namespace magpie
