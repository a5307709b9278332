#include "WorkspaceStore.h"

#include "Database.h"
#include "Tools.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSqlQuery>

#include <sys/stat.h>

namespace magpie {

WorkspaceStore::WorkspaceStore(Database &db, QString dir)
    : m_db(db), m_dir(std::move(dir))
{
    QDir().mkpath(m_dir);
}

bool WorkspaceStore::isValidId(const QString &id, QString *why)
{
    auto no = [why](const QString &m) {
        if (why)
            *why = m;
        return false;
    };
    if (id.isEmpty())
        return no(QStringLiteral("workspace_id must not be empty"));
    if (id.size() > kMaxIdLength)
        return no(QStringLiteral("workspace_id must be at most %1 characters (got %2)").arg(kMaxIdLength).arg(id.size()));
    for (const QChar c : id) {
        const ushort u = c.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-';
        if (!ok)
            return no(QStringLiteral("workspace_id may contain only lowercase letters, digits and hyphens: '%1' is not allowed").arg(c));
    }
    if (id.front() == QLatin1Char('-'))
        return no(QStringLiteral("workspace_id must start with a lowercase letter or a digit"));
    return true;
}

bool WorkspaceStore::isValidSize(qint64 sizeGb, QString *why)
{
    if (sizeGb < 1 || sizeGb > kMaxSizeGb) {
        if (why)
            *why = QStringLiteral("workspace_size_gb must be a whole number from 1 to %1 (got %2)").arg(kMaxSizeGb).arg(sizeGb);
        return false;
    }
    return true;
}

QString WorkspaceStore::diskPath(const QString &id) const
{
    return m_dir + QLatin1Char('/') + id + QStringLiteral(".qcow2");
}

QString WorkspaceStore::createDisk(const QString &path, int sizeGb)
{
    if (!isValidSize(sizeGb))
        return QStringLiteral("invalid size %1").arg(sizeGb);
    const QString suffix = QStringLiteral(".tmp-%1").arg(QRandomGenerator::global()->generate(), 8, 16, QLatin1Char('0'));
    const QString raw = path + suffix + QStringLiteral(".raw");
    const QString tmp = path + suffix;
    auto cleanup = [&] {
        QFile::remove(raw);
        QFile::remove(tmp);
    };
    {
        QFile f(raw);
        if (!f.open(QIODevice::WriteOnly) || !f.resize(qint64(sizeGb) << 30)) { // sparse
            cleanup();
            return QStringLiteral("cannot create %1: %2").arg(raw, f.errorString());
        }
    }
    const QString mkfs = findTool(QStringLiteral("mkfs.ext4"));
    if (mkfs.isEmpty()) {
        cleanup();
        return QStringLiteral("mkfs.ext4 was not found (install e2fsprogs)");
    }
    // lazy init keeps the image sparse; the guest mounts with noinit_itable so it stays so.
    ToolResult r = runTool(mkfs, {QStringLiteral("-q"), QStringLiteral("-F"), QStringLiteral("-m"), QStringLiteral("0"),
                                  QStringLiteral("-L"), QStringLiteral("workspace"),
                                  QStringLiteral("-E"), QStringLiteral("lazy_itable_init=1,lazy_journal_init=1,nodiscard"), raw},
                           300000);
    if (r.exitCode != 0) {
        cleanup();
        return QStringLiteral("formatting the workspace failed: %1").arg(r.describe(QStringLiteral("mkfs.ext4")));
    }
    r = runTool(qemuImgBinary(), {QStringLiteral("convert"), QStringLiteral("-q"), QStringLiteral("-f"), QStringLiteral("raw"),
                                  QStringLiteral("-O"), QStringLiteral("qcow2"), raw, tmp},
                600000);
    QFile::remove(raw);
    if (r.exitCode != 0) {
        cleanup();
        return QStringLiteral("converting the workspace failed: %1").arg(r.describe(QStringLiteral("qemu-img")));
    }
    if (::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(path).constData()) != 0) {
        cleanup();
        return QStringLiteral("cannot move the new workspace into place at %1").arg(path);
    }
    return QString();
}

QString WorkspaceStore::addRecord(const QString &id, int sizeGb)
{
    if (!m_db.exec(QStringLiteral("INSERT INTO workspaces(id, size_gb, created_at) VALUES(?, ?, ?)"),
                   {id, sizeGb, isoNow()}))
        return m_db.error();
    return QString();
}

QString WorkspaceStore::create(const QString &id, int sizeGb)
{
    QString why;
    if (!isValidId(id, &why) || !isValidSize(sizeGb, &why))
        return why;
    if (exists(id))
        return QStringLiteral("workspace '%1' already exists").arg(id);
    const QString path = diskPath(id);
    if (QFileInfo::exists(path))
        QFile::remove(path); // a disk without a record is a leftover of an interrupted delete
    QString err = createDisk(path, sizeGb);
    if (!err.isEmpty())
        return err;
    err = addRecord(id, sizeGb);
    if (!err.isEmpty())
        QFile::remove(path);
    return err;
}

bool WorkspaceStore::exists(const QString &id) const
{
    QSqlQuery q;
    if (!m_db.prepare(q, QStringLiteral("SELECT 1 FROM workspaces WHERE id = ?"), {id}) || !q.exec())
        return false;
    return q.next();
}

WorkspaceInfo WorkspaceStore::fill(const WorkspaceInfo &base) const
{
    WorkspaceInfo w = base;
    struct stat st {};
    if (::stat(QFile::encodeName(diskPath(w.id)).constData(), &st) == 0)
        w.diskBytes = qint64(st.st_blocks) * 512;
    return w;
}

static const char *kSelect =
    "SELECT w.id, w.size_gb, w.created_at, w.last_used_at, w.used_bytes, w.total_bytes,"
    " (SELECT COUNT(*) FROM jobs j WHERE j.workspace_id = w.id) FROM workspaces w";

static WorkspaceInfo fromRow(const QSqlQuery &q)
{
    WorkspaceInfo w;
    w.id = q.value(0).toString();
    w.sizeGb = q.value(1).toInt();
    w.createdAt = q.value(2).toString();
    w.lastUsedAt = q.value(3).toString();
    w.usedBytes = q.value(4).isNull() ? -1 : q.value(4).toLongLong();
    w.totalBytes = q.value(5).isNull() ? -1 : q.value(5).toLongLong();
    w.jobCount = q.value(6).toInt();
    return w;
}

std::optional<WorkspaceInfo> WorkspaceStore::get(const QString &id) const
{
    QSqlQuery q;
    if (!m_db.prepare(q, QString::fromLatin1(kSelect) + QStringLiteral(" WHERE w.id = ?"), {id}) || !q.exec() || !q.next())
        return std::nullopt;
    return fill(fromRow(q));
}

QList<WorkspaceInfo> WorkspaceStore::list() const
{
    QList<WorkspaceInfo> out;
    QSqlQuery q;
    if (!m_db.prepare(q, QString::fromLatin1(kSelect) + QStringLiteral(" ORDER BY COALESCE(w.last_used_at, w.created_at) DESC, w.id")) || !q.exec())
        return out;
    while (q.next())
        out.append(fill(fromRow(q)));
    return out;
}

QString WorkspaceStore::recordUse(const QString &id, qint64 usedBytes, qint64 totalBytes, const QString &when)
{
    const bool ok = usedBytes >= 0
                        ? m_db.exec(QStringLiteral("UPDATE workspaces SET last_used_at = ?, used_bytes = ?, total_bytes = ? WHERE id = ?"),
                                    {when, usedBytes, totalBytes, id})
                        : m_db.exec(QStringLiteral("UPDATE workspaces SET last_used_at = ? WHERE id = ?"), {when, id});
    return ok ? QString() : m_db.error();
}

QString WorkspaceStore::setSize(const QString &id, int sizeGb)
{
    return m_db.exec(QStringLiteral("UPDATE workspaces SET size_gb = ? WHERE id = ?"), {sizeGb, id}) ? QString() : m_db.error();
}

QString WorkspaceStore::remove(const QString &id)
{
    QString why;
    if (!isValidId(id, &why))
        return why;
    if (!exists(id))
        return QStringLiteral("workspace '%1' does not exist").arg(id);
    const QString path = diskPath(id);
    if (QFileInfo::exists(path) && !QFile::remove(path))
        return QStringLiteral("cannot delete %1").arg(path);
    if (!m_db.exec(QStringLiteral("DELETE FROM workspaces WHERE id = ?"), {id}))
        return m_db.error();
    return QString();
}

} // namespace magpie
