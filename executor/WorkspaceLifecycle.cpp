#include "WorkspaceLifecycle.h"

#include <QJsonArray>

namespace magpie {

QJsonObject SnapshotInfo::toJson() const
{
    return QJsonObject{
        {QStringLiteral("name"), name},
        {QStringLiteral("created_at"), createdAt.isValid() ? QJsonValue(createdAt.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("job_id"), jobId.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(jobId)},
        {QStringLiteral("size_bytes"), double(sizeBytes)},
    };
}

namespace {
QJsonArray toArray(const QList<FileChange> &list)
{
    QJsonArray a;
    for (const FileChange &c : list)
        a.append(QJsonObject{{QStringLiteral("path"), c.path}, {QStringLiteral("size"), double(c.size)}, {QStringLiteral("type"), c.type}});
    return a;
}

QList<FileChange> fromArray(const QJsonArray &a)
{
    QList<FileChange> list;
    list.reserve(a.size());
    for (const QJsonValue &v : a) {
        const QJsonObject o = v.toObject();
        list.append(FileChange{o.value(QStringLiteral("path")).toString(), qint64(o.value(QStringLiteral("size")).toDouble()),
                               o.value(QStringLiteral("type")).toString()});
    }
    return list;
}
} // namespace

QJsonObject JobChanges::toJson() const
{
    return QJsonObject{
        {QStringLiteral("added"), toArray(added)},
        {QStringLiteral("modified"), toArray(modified)},
        {QStringLiteral("deleted"), toArray(deleted)},
        {QStringLiteral("added_bytes"), double(addedBytes)},
        {QStringLiteral("modified_bytes"), double(modifiedBytes)},
        {QStringLiteral("deleted_bytes"), double(deletedBytes)},
        {QStringLiteral("truncated"), truncated},
    };
}

JobChanges JobChanges::fromJson(const QJsonObject &o)
{
    JobChanges c;
    c.added = fromArray(o.value(QStringLiteral("added")).toArray());
    c.modified = fromArray(o.value(QStringLiteral("modified")).toArray());
    c.deleted = fromArray(o.value(QStringLiteral("deleted")).toArray());
    c.addedBytes = qint64(o.value(QStringLiteral("added_bytes")).toDouble());
    c.modifiedBytes = qint64(o.value(QStringLiteral("modified_bytes")).toDouble());
    c.deletedBytes = qint64(o.value(QStringLiteral("deleted_bytes")).toDouble());
    c.truncated = o.value(QStringLiteral("truncated")).toBool();
    return c;
}

} // namespace magpie
