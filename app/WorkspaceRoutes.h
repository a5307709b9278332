// WorkspaceRoutes.h — /api/v1/workspaces...: list, one workspace, delete, and the file
// operations (list a folder, read a file, disk usage) that run through the workspace's queue
// and answer when their VM is done. Shape checks only; the rules live in the Executor.
#pragma once

#include "http/HttpRequest.h"
#include "http/HttpResponder.h"

namespace magpie {

class Executor;
namespace http { class Router; }

class WorkspaceRoutes
{
public:
    static constexpr int kMaxListLimit = 500;
    static constexpr int kDefaultListLimit = 50;

    explicit WorkspaceRoutes(Executor &executor) : m_exec(executor) {}
    void install(http::Router &router);

private:
    void list(http::HttpResponder r);
    void get(const QString &id, http::HttpResponder r);
    void remove(const QString &id, http::HttpResponder r);
    void listFiles(const QString &id, const http::HttpRequest &request, http::HttpResponder r);
    void readFile(const QString &id, const http::HttpRequest &request, http::HttpResponder r);
    void diskUsage(const QString &id, const http::HttpRequest &request, http::HttpResponder r);

    Executor &m_exec;
};

} // namespace magpie
