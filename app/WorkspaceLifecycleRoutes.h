// WorkspaceLifecycleRoutes.h — the HTTP side of issue 11: snapshots (list, take, restore,
// delete), roll back a job, what a job changed, clone, grow, create empty, upload/delete a file,
// export/import. Shape checks only; the rules and the queueing live in the Executor
// (executor/ExecutorLifecycle.cpp). Uploads and imports have their own body allowance (256 MiB
// plus slack, spooled to a file in the data folder), granted only after the API key was checked.
#pragma once

#include "http/HttpRequest.h"
#include "http/HttpResponder.h"

#include <memory>

namespace magpie {

class Executor;
namespace http { class Router; }

class WorkspaceLifecycleRoutes : public std::enable_shared_from_this<WorkspaceLifecycleRoutes>
{
public:
    static qint64 maxUploadBody();   // Executor::maxUploadBytes()
    static qint64 maxImportBody();   // the same plus 1 MiB of slack (archive overhead)

    explicit WorkspaceLifecycleRoutes(Executor &executor) : m_exec(executor) {}
    // The one-line hook: HttpApi::setupRoutes() calls it.
    static void installInto(Executor &executor, http::Router &router);
    void install(http::Router &router); // on an instance owned by a shared_ptr

private:
    void listSnapshots(const QString &id, http::HttpResponder r);
    void takeSnapshot(const QString &id, const http::HttpRequest &q, http::HttpResponder r);
    void restoreSnapshot(const QString &id, const QString &name, http::HttpResponder r);
    void deleteSnapshot(const QString &id, const QString &name, http::HttpResponder r);
    void rollback(const QString &jobId, const http::HttpRequest &q, http::HttpResponder r);
    void changes(const QString &jobId, http::HttpResponder r);
    void clone(const QString &id, const http::HttpRequest &q, http::HttpResponder r);
    void grow(const QString &id, const http::HttpRequest &q, http::HttpResponder r);
    void create(const http::HttpRequest &q, http::HttpResponder r);
    void upload(const QString &id, http::HttpRequest &q, http::HttpResponder r);
    void deleteFile(const QString &id, const http::HttpRequest &q, http::HttpResponder r);
    void exportTar(const QString &id, http::HttpResponder r);
    void importTar(const QString &id, http::HttpRequest &q, http::HttpResponder r);
    QString spoolDir() const;

    Executor &m_exec;
};

} // namespace magpie
