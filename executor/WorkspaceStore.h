// WorkspaceStore.h — persistent workspaces: one sparse qcow2 disk holding ext4 per workspace,
// in <data>/workspaces/<id>.qcow2, and one row per workspace in the `workspaces` table.
//
// Workspace ids: 1 to 63 characters, lowercase ASCII letters, digits and hyphens, starting with
// a letter or a digit (so a job's request_id, a lowercase UUID, is a valid id).
// Sizes: whole GiB from 1 to kMaxSizeGb; a disk costs only what is written to it on the host.
#pragma once

#include <QList>
#include <QString>
#include <optional>

namespace magpie {

class Database;

struct WorkspaceInfo {
    QString id;
    int sizeGb = 0;
    QString createdAt;
    QString lastUsedAt;
    qint64 usedBytes = -1;   // as the guest reported after the last job (-1: no job yet)
    qint64 totalBytes = -1;  // filesystem size as the guest reported it
    qint64 diskBytes = 0;    // what the qcow2 file occupies on the host
    int jobCount = 0;        // jobs in the history that used this workspace
};

class WorkspaceStore
{
public:
    static constexpr int kMaxSizeGb = 1024;
    static constexpr int kDefaultSizeGb = 10;
    static constexpr int kMaxIdLength = 63;

    WorkspaceStore(Database &db, QString dir);

    static bool isValidId(const QString &id, QString *why = nullptr);
    static bool isValidSize(qint64 sizeGb, QString *why = nullptr);

    QString dir() const { return m_dir; }
    QString diskPath(const QString &id) const;
    bool exists(const QString &id) const; // a record exists
    std::optional<WorkspaceInfo> get(const QString &id) const;
    QList<WorkspaceInfo> list() const;

    // Builds the disk file (blocking; safe from any thread, touches no database): a sparse raw
    // file formatted as ext4 in a temporary name, converted to qcow2, then renamed into place.
    // Returns an empty string on success, else why it failed (nothing is left behind).
    static QString createDisk(const QString &path, int sizeGb);

    // Validates, creates the disk and inserts the record (blocking). Empty string on success.
    QString create(const QString &id, int sizeGb);
    // Inserts the record for a disk built with createDisk().
    QString addRecord(const QString &id, int sizeGb);
    // Notes a job's end on the workspace (last use, usage). Empty string on success.
    [[nodiscard]] QString recordUse(const QString &id, qint64 usedBytes, qint64 totalBytes, const QString &when);
    // A new size after the disk grew (or a restore brought back an older size). Empty string on success.
    QString setSize(const QString &id, int sizeGb);
    // Removes the disk and the record (job history is kept). Empty string on success.
    QString remove(const QString &id);

private:
    WorkspaceInfo fill(const WorkspaceInfo &base) const;
    Database &m_db;
    QString m_dir;
};

} // namespace magpie
