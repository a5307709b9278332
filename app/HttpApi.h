// HttpApi.h — the local JSON API (docs/api.md) over QtHttpServer, on loopback only.
//
// Every route except GET /api/v1/health needs `Authorization: Bearer <KEY>`; errors are
// {"error": {"code", "message", "field"?}}. Everything runs on the thread that owns the
// Executor (the main thread). Requests that wait — log long-polls (`wait=S`) and workspace
// file operations, which boot a VM through the workspace's queue — keep their responder and
// answer later from the event loop; a client that hangs up meanwhile is simply dropped.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

class QHttpServer;
class QHttpServerRequest;
class QHttpServerResponder;

namespace magpie {

class Executor;

class HttpApi : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kMaxBodyBytes = 2 * 1024 * 1024;   // 413 above it
    static constexpr qint64 kMaxLogChunk = 4 * 1024 * 1024;    // bytes per logs response
    static constexpr int kMaxWaitSec = 60;                      // logs ?wait=
    static constexpr int kMaxListLimit = 500;                   // ?limit= on lists
    static constexpr int kDefaultListLimit = 50;

    HttpApi(Executor &executor, QByteArray apiKey, QObject *parent = nullptr);
    ~HttpApi() override;

    // Listens on a loopback address (port 0: a free port). False with *error when the address
    // is not a loopback one or the port cannot be bound.
    bool listen(const QHostAddress &address, quint16 port, QString *error);
    // Stops accepting connections and answers held log requests now.
    void close();
    bool isListening() const { return m_port != 0; }
    quint16 port() const { return m_port; }
    QString url() const; // e.g. http://127.0.0.1:8123

    static QString version(); // the app version reported by /api/v1/health

private:
    struct Reply;
    struct Waiter;
    void setupRoutes();
    bool admit(const QHttpServerRequest &request, QHttpServerResponder &responder);

    void getJobs(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void postJob(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void getJob(const QString &id, QHttpServerResponder &&responder);
    void cancelJob(const QString &id, QHttpServerResponder &&responder);
    void getLogs(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void getWorkspaces(QHttpServerResponder &&responder);
    void getWorkspace(const QString &id, QHttpServerResponder &&responder);
    void deleteWorkspace(const QString &id, QHttpServerResponder &&responder);
    void listFiles(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void readFile(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void diskUsage(const QString &id, const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void getPool(QHttpServerResponder &&responder);

    // Answers a held log request if it can be answered now (or `force`). True when answered.
    bool tryAnswer(const std::shared_ptr<Waiter> &w, bool force);
    void checkWaiters(const QString &jobId);
    void dropWaiter(quint64 id);

    Executor &m_exec;
    QByteArray m_key;
    QHttpServer *m_server = nullptr;
    QHostAddress m_address;
    quint16 m_port = 0;
    QHash<quint64, std::shared_ptr<Waiter>> m_waiters;
    quint64 m_nextWaiter = 0;
    QTimer m_pollTimer; // a safety net for held log requests (signals drive them normally)
};

} // namespace magpie
