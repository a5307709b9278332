#include "FolderCache.h"

namespace magpie::ui {

FolderCache::FolderCache(Executor &executor, QObject *parent)
    : QObject(parent), m_ex(executor)
{
    connect(&m_ex, &Executor::jobChanged, this, [this](const QString &id) {
        const auto j = m_ex.job(id);
        if (j && !j->workspaceId.isEmpty() && j->status != JobStatus::Queued)
            invalidate(j->workspaceId); // it runs, or has just run, on that workspace
    });
}

std::optional<QList<FileEntry>> FolderCache::get(const QString &workspaceId, const QString &path) const
{
    const auto it = m_entries.constFind(key(workspaceId, path));
    if (it == m_entries.cend() || it->age.elapsed() >= m_ttlMs)
        return std::nullopt;
    return it->entries;
}

qint64 FolderCache::ageMs(const QString &workspaceId, const QString &path) const
{
    const auto it = m_entries.constFind(key(workspaceId, path));
    return it == m_entries.cend() ? -1 : it->age.elapsed();
}

void FolderCache::put(const QString &workspaceId, const QString &path, const QList<FileEntry> &entries)
{
    Entry e;
    e.entries = entries;
    e.age.start();
    m_entries.insert(key(workspaceId, path), std::move(e));
}

void FolderCache::invalidate(const QString &workspaceId)
{
    const QString prefix = workspaceId + QLatin1Char('\n');
    for (auto it = m_entries.begin(); it != m_entries.end();)
        it = it.key().startsWith(prefix) ? m_entries.erase(it) : std::next(it);
}

} // namespace magpie::ui
