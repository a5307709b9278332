// Database.h — the SQLite file holding job history and workspace records (Qt SQL, WAL).
// The schema carries a version (PRAGMA user_version); migrations run in order on open.
// One connection per Database object; use it from the thread that opened it.
#pragma once

#include <QSqlDatabase>
#include <QString>
#include <QVariant>

class QSqlQuery;

namespace magpie {

class Database
{
public:
    Database() = default;
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    // Opens (creating when needed) and migrates. Returns false with error() set on failure.
    bool open(const QString &path);
    void close();
    bool isOpen() const;
    QString error() const { return m_error; }
    QSqlDatabase &db() { return m_db; }
    int schemaVersion();
    static int latestSchemaVersion();

    // Runs one statement with positional bindings; false (and error() set) on failure.
    bool exec(const QString &sql, const QVariantList &binds = {});
    bool prepare(QSqlQuery &q, const QString &sql, const QVariantList &binds = {});
    // Transactions nest: the outermost one is BEGIN/COMMIT, inner ones are savepoints, so a
    // function that runs in its own transaction can also run inside a caller's (a batch of
    // submissions in one transaction). An inner rollback undoes only the inner part; the
    // outer commit makes everything durable at once.
    bool transaction();
    bool commit();
    void rollback();
    int transactionDepth() const { return m_depth; }

private:
    bool migrate();
    QSqlDatabase m_db;
    QString m_connection;
    QString m_error;
    int m_depth = 0;
};

} // namespace magpie
