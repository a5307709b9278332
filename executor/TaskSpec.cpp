#include "TaskSpec.h"

#include <QJsonArray>

namespace magpie {

QJsonObject TaskSpec::toJson() const
{
    QJsonArray envArr;
    for (const auto &kv : env)
        envArr.append(QJsonArray{kv.first, kv.second});
    QJsonObject o{
        {QStringLiteral("kind"), kind == DiskOp ? QStringLiteral("disk_op") : QStringLiteral("script")},
        {QStringLiteral("id"), id},
        {QStringLiteral("is_job"), isJob},
        {QStringLiteral("name"), name},
        {QStringLiteral("workspace_id"), workspaceId},
        {QStringLiteral("workspace_size_gb"), workspaceSizeGb},
        {QStringLiteral("create_workspace"), createWorkspace},
        {QStringLiteral("script"), script},
        {QStringLiteral("interpreter"), interpreter},
        {QStringLiteral("env"), envArr},
        {QStringLiteral("vcpus"), vcpus},
        {QStringLiteral("memory_mb"), memoryMb},
        {QStringLiteral("timeout"), timeoutSec},
        {QStringLiteral("network"), network},
        {QStringLiteral("image"), image},
        {QStringLiteral("checkpoint"), checkpoint},
        {QStringLiteral("keep_checkpoints"), keepCheckpoints},
        {QStringLiteral("base_workspace_id"), baseWorkspaceId},
        {QStringLiteral("record_changes"), recordChanges},
        {QStringLiteral("stdin_path"), stdinPath},
    };
    if (kind == DiskOp) {
        o.insert(QStringLiteral("disk_op"), diskOp);
        o.insert(QStringLiteral("disk_op_args"), diskOpArgs);
    }
    return o;
}

TaskSpec TaskSpec::fromJson(const QJsonObject &o)
{
    TaskSpec s;
    s.kind = o.value(QStringLiteral("kind")).toString() == QLatin1String("disk_op") ? DiskOp : Script;
    s.id = o.value(QStringLiteral("id")).toString();
    s.isJob = o.value(QStringLiteral("is_job")).toBool(true);
    s.name = o.value(QStringLiteral("name")).toString();
    s.workspaceId = o.value(QStringLiteral("workspace_id")).toString();
    s.workspaceSizeGb = o.value(QStringLiteral("workspace_size_gb")).toInt();
    s.createWorkspace = o.value(QStringLiteral("create_workspace")).toBool();
    s.script = o.value(QStringLiteral("script")).toString();
    s.interpreter = o.value(QStringLiteral("interpreter")).toString();
    for (const QJsonValue &v : o.value(QStringLiteral("env")).toArray()) {
        const QJsonArray kv = v.toArray();
        s.env.append({kv.at(0).toString(), kv.at(1).toString()});
    }
    s.vcpus = o.value(QStringLiteral("vcpus")).toInt(1);
    s.memoryMb = o.value(QStringLiteral("memory_mb")).toInt(512);
    s.timeoutSec = o.value(QStringLiteral("timeout")).toInt();
    s.network = o.value(QStringLiteral("network")).toBool();
    s.image = o.value(QStringLiteral("image")).toString();
    s.diskOp = o.value(QStringLiteral("disk_op")).toString();
    s.diskOpArgs = o.value(QStringLiteral("disk_op_args")).toObject();
    s.checkpoint = o.value(QStringLiteral("checkpoint")).toString();
    s.keepCheckpoints = o.value(QStringLiteral("keep_checkpoints")).toInt();
    s.baseWorkspaceId = o.value(QStringLiteral("base_workspace_id")).toString();
    s.recordChanges = o.value(QStringLiteral("record_changes")).toBool();
    s.stdinPath = o.value(QStringLiteral("stdin_path")).toString();
    return s;
}

} // namespace magpie
