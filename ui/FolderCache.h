// FolderCache.h — folder listings of workspaces kept for a few seconds, so that opening the
// same folder again (closing and reopening the file browser, expanding a folder twice) is
// answered at once instead of by another short VM run. An entry is dropped when it is older
// than ttlMs(), and every entry of a workspace is dropped as soon as a job on that workspace
// starts or ends (it may change the files). Refresh in the browser bypasses it.
#pragma once

#include "Executor.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <optional>

namespace magpie::ui {

class FolderCache : public QObject
{
    Q_OBJECT
public:
    static constexpr int kDefaultTtlMs = 5000;

    explicit FolderCache(Executor &executor, QObject *parent = nullptr);

    void setTtlMs(int ms) { m_ttlMs = ms; }
    int ttlMs() const { return m_ttlMs; }
    // The listing of `path` ("" = root) when it was read less than ttlMs() ago.
    std::optional<QList<FileEntry>> get(const QString &workspaceId, const QString &path) const;
    // Milliseconds since that listing was read (-1 when there is none).
    qint64 ageMs(const QString &workspaceId, const QString &path) const;
    void put(const QString &workspaceId, const QString &path, const QList<FileEntry> &entries);
    void invalidate(const QString &workspaceId);

private:
    struct Entry {
        QList<FileEntry> entries;
        QElapsedTimer age;
    };
    static QString key(const QString &workspaceId, const QString &path) { return workspaceId + QLatin1Char('\n') + path; }

    Executor &m_ex;
    QHash<QString, Entry> m_entries;
    int m_ttlMs = kDefaultTtlMs;
};

} // namespace magpie::ui
