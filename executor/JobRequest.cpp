#include "JobRequest.h"

#include "WorkspaceStore.h"

#include <QJsonValue>
#include <cmath>

namespace magpie {

bool isValidEnvName(const QString &name)
{
    if (name.isEmpty() || name.size() > 256)
        return false;
    for (int i = 0; i < name.size(); ++i) {
        const ushort u = name.at(i).unicode();
        const bool alpha = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_';
        const bool digit = u >= '0' && u <= '9';
        if (!(alpha || (digit && i > 0)))
            return false;
    }
    return true;
}

namespace {
RequestError bad(const QString &field, const QString &message, const QString &code = QStringLiteral("invalid_request"), int status = 422)
{
    return RequestError{status, code, message, field};
}

// A JSON number that is a whole number within int range (5 and 5.0 pass, 5.5 and "5" do not).
bool wholeNumber(const QJsonValue &v, qint64 *out)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 1e15)
        return false;
    *out = static_cast<qint64>(d);
    return true;
}

std::optional<RequestError> intField(const QJsonObject &o, const QString &key, int min, int max, std::optional<int> *out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    qint64 n = 0;
    if (!wholeNumber(v, &n))
        return bad(key, QStringLiteral("%1 must be a whole number").arg(key));
    if (n < min || n > max)
        return bad(key, QStringLiteral("%1 must be from %2 to %3 (got %4)").arg(key).arg(min).arg(max).arg(n));
    *out = static_cast<int>(n);
    return std::nullopt;
}

std::optional<RequestError> boolField(const QJsonObject &o, const QString &key, bool *out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    if (!v.isBool())
        return bad(key, QStringLiteral("%1 must be true or false").arg(key));
    *out = v.toBool();
    return std::nullopt;
}
} // namespace

std::optional<RequestError> JobRequest::validate() const
{
    if (script.isEmpty())
        return bad(QStringLiteral("script"), QStringLiteral("script must not be empty"));
    if (script.trimmed().isEmpty())
        return bad(QStringLiteral("script"), QStringLiteral("script must contain a command, not only white space"));
    const qint64 bytes = script.toUtf8().size();
    if (bytes > JobLimits::kMaxScriptBytes)
        return bad(QStringLiteral("script"),
                   QStringLiteral("script is %1 bytes; the limit is %2 bytes (1 MiB)").arg(bytes).arg(JobLimits::kMaxScriptBytes),
                   QStringLiteral("payload_too_large"), 413);
    if (name.size() > JobLimits::kMaxNameLength)
        return bad(QStringLiteral("name"), QStringLiteral("name must be at most %1 characters").arg(JobLimits::kMaxNameLength));
    QString why;
    if (!workspaceId.isEmpty() && !WorkspaceStore::isValidId(workspaceId, &why))
        return bad(QStringLiteral("workspace_id"), why, QStringLiteral("invalid_workspace_id"));
    if (!stateful && !workspaceId.isEmpty())
        return bad(QStringLiteral("workspace_id"), QStringLiteral("workspace_id was given but stateful is false; set stateful=true to use a workspace"));
    if (workspaceSizeGb && !WorkspaceStore::isValidSize(*workspaceSizeGb, &why))
        return bad(QStringLiteral("workspace_size_gb"), why);
    if (!stateful && workspaceSizeGb)
        return bad(QStringLiteral("workspace_size_gb"), QStringLiteral("workspace_size_gb was given but stateful is false; set stateful=true to use a workspace"));
    if (env.size() > JobLimits::kMaxEnvEntries)
        return bad(QStringLiteral("env"), QStringLiteral("env may hold at most %1 variables").arg(JobLimits::kMaxEnvEntries));
    qint64 envBytes = 0;
    for (const auto &kv : env) {
        if (!isValidEnvName(kv.first))
            return bad(QStringLiteral("env"), QStringLiteral("env name '%1' is not valid: use letters, digits and underscores, not starting with a digit").arg(kv.first.left(64)));
        if (kv.second.contains(QChar(0)))
            return bad(QStringLiteral("env"), QStringLiteral("env value of %1 must not contain NUL characters").arg(kv.first));
        envBytes += kv.first.toUtf8().size() + kv.second.toUtf8().size() + 2;
    }
    if (envBytes > JobLimits::kMaxEnvBytes)
        return bad(QStringLiteral("env"), QStringLiteral("env is %1 bytes; the limit is %2").arg(envBytes).arg(JobLimits::kMaxEnvBytes));
    if (vcpus && (*vcpus < JobLimits::kMinVcpus || *vcpus > JobLimits::kMaxVcpus))
        return bad(QStringLiteral("vcpus"), QStringLiteral("vcpus must be from %1 to %2").arg(JobLimits::kMinVcpus).arg(JobLimits::kMaxVcpus));
    if (memoryMb && (*memoryMb < JobLimits::kMinMemoryMb || *memoryMb > JobLimits::kMaxMemoryMb))
        return bad(QStringLiteral("memory_mb"), QStringLiteral("memory_mb must be from %1 to %2").arg(JobLimits::kMinMemoryMb).arg(JobLimits::kMaxMemoryMb));
    if (timeoutSec && (*timeoutSec < JobLimits::kMinTimeout || *timeoutSec > JobLimits::kMaxTimeout))
        return bad(QStringLiteral("timeout"), QStringLiteral("timeout must be from %1 to %2 seconds").arg(JobLimits::kMinTimeout).arg(JobLimits::kMaxTimeout));
    if (description.size() > JobLimits::kMaxDescriptionLength)
        return bad(QStringLiteral("description"), QStringLiteral("description must be at most %1 characters").arg(JobLimits::kMaxDescriptionLength));
    return std::nullopt;
}

namespace {
// Magpie Cloud fields that have no local meaning: refused when they ask for something.
std::optional<RequestError> cloudOnlyFields(const QJsonObject &o)
{
    const QString oneShot = QStringLiteral("Magpie Desktop runs one-shot VMs on this computer");
    for (const char *key : {"persist", "ip_lease"}) {
        const QString k = QLatin1String(key);
        const QJsonValue v = o.value(k);
        if (v.isUndefined() || v.isNull() || v == QJsonValue(false))
            continue;
        if (!v.isBool())
            return bad(k, QStringLiteral("%1 must be true or false").arg(k));
        const QString what = k == QLatin1String("persist") ? QStringLiteral("persist=true (a VM that stays up after the script)")
                                                           : QStringLiteral("ip_lease=true (a public IP address for the VM)");
        return bad(k, QStringLiteral("%1 is not supported locally: %2; use stateful=true with a workspace_id to keep files between jobs")
                          .arg(what, oneShot),
                   QStringLiteral("not_supported"));
    }
    if (const QJsonValue v = o.value(QStringLiteral("docker_image")); !v.isUndefined() && !v.isNull())
        return bad(QStringLiteral("docker_image"),
                   QStringLiteral("docker_image is not supported locally: jobs run in Magpie Desktop's Debian guest (install what you need in the script)"),
                   QStringLiteral("not_supported"));
    if (const QJsonValue v = o.value(QStringLiteral("proxy_port")); !v.isUndefined() && !v.isNull())
        return bad(QStringLiteral("proxy_port"),
                   QStringLiteral("proxy_port is not supported locally: %1 and exposes no ports").arg(oneShot), QStringLiteral("not_supported"));
    return std::nullopt;
}

std::optional<RequestError> envObject(const QJsonValue &env, const QString &key, QList<QPair<QString, QString>> *out)
{
    if (!env.isObject())
        return bad(key, QStringLiteral("%1 must be an object of NAME: \"value\" strings").arg(key));
    const QJsonObject eo = env.toObject();
    for (auto it = eo.begin(); it != eo.end(); ++it) {
        if (!it.value().isString())
            return bad(key, QStringLiteral("%1 value of %2 must be a string").arg(key, it.key().left(64)));
        out->append({it.key(), it.value().toString()});
    }
    return std::nullopt;
}
} // namespace

std::optional<JobRequest> JobRequest::fromJson(const QJsonObject &o, RequestError *err)
{
    auto failWith = [err](const RequestError &e) -> std::optional<JobRequest> {
        if (err)
            *err = e;
        return std::nullopt;
    };
    JobRequest r;
    const QJsonValue script = o.value(QStringLiteral("script"));
    if (script.isUndefined() || script.isNull())
        return failWith(bad(QStringLiteral("script"), QStringLiteral("script is required")));
    if (!script.isString())
        return failWith(bad(QStringLiteral("script"), QStringLiteral("script must be a string")));
    r.script = script.toString();

    const QJsonValue name = o.value(QStringLiteral("name"));
    if (!name.isUndefined() && !name.isNull() && !name.isString())
        return failWith(bad(QStringLiteral("name"), QStringLiteral("name must be a string")));
    r.name = name.toString().trimmed();

    if (auto e = boolField(o, QStringLiteral("stateful"), &r.stateful))
        return failWith(*e);
    if (auto e = boolField(o, QStringLiteral("network"), &r.network))
        return failWith(*e);

    const QJsonValue ws = o.value(QStringLiteral("workspace_id"));
    if (!ws.isUndefined() && !ws.isNull()) {
        if (!ws.isString())
            return failWith(bad(QStringLiteral("workspace_id"), QStringLiteral("workspace_id must be a string"), QStringLiteral("invalid_workspace_id")));
        r.workspaceId = ws.toString();
        QString why;
        if (!WorkspaceStore::isValidId(r.workspaceId, &why))
            return failWith(bad(QStringLiteral("workspace_id"), why, QStringLiteral("invalid_workspace_id")));
    }
    {
        const QJsonValue v = o.value(QStringLiteral("workspace_size_gb"));
        if (!v.isUndefined() && !v.isNull()) {
            qint64 n = 0;
            if (!wholeNumber(v, &n))
                return failWith(bad(QStringLiteral("workspace_size_gb"),
                                    QStringLiteral("workspace_size_gb must be a whole number from 1 to %1").arg(WorkspaceStore::kMaxSizeGb)));
            QString why;
            if (!WorkspaceStore::isValidSize(n, &why))
                return failWith(bad(QStringLiteral("workspace_size_gb"), why));
            r.workspaceSizeGb = static_cast<int>(n);
        }
    }
    if (auto e = intField(o, QStringLiteral("vcpus"), JobLimits::kMinVcpus, JobLimits::kMaxVcpus, &r.vcpus))
        return failWith(*e);
    if (auto e = intField(o, QStringLiteral("memory_mb"), JobLimits::kMinMemoryMb, JobLimits::kMaxMemoryMb, &r.memoryMb))
        return failWith(*e);
    if (auto e = intField(o, QStringLiteral("timeout"), JobLimits::kMinTimeout, JobLimits::kMaxTimeout, &r.timeoutSec))
        return failWith(*e);

    // env, or Magpie Cloud's name for it: environment. Both may be sent when they agree.
    const QJsonValue env = o.value(QStringLiteral("env"));
    const QJsonValue environment = o.value(QStringLiteral("environment"));
    const bool hasEnv = !env.isUndefined() && !env.isNull();
    const bool hasEnvironment = !environment.isUndefined() && !environment.isNull();
    if (hasEnv && hasEnvironment && env != environment)
        return failWith(bad(QStringLiteral("environment"),
                            QStringLiteral("env and environment are the same setting and were given different values; send one of them")));
    if (hasEnv || hasEnvironment)
        if (auto e = envObject(hasEnv ? env : environment, hasEnv ? QStringLiteral("env") : QStringLiteral("environment"), &r.env))
            return failWith(*e);

    const QJsonValue description = o.value(QStringLiteral("description"));
    if (!description.isUndefined() && !description.isNull() && !description.isString())
        return failWith(bad(QStringLiteral("description"), QStringLiteral("description must be a string")));
    r.description = description.toString().trimmed();

    // type (what Magpie Cloud's SDK sends) or script_type (what job objects show).
    QString typeKey, typeText;
    for (const char *key : {"type", "script_type"}) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            continue;
        if (!v.isString())
            return failWith(bad(QLatin1String(key), QStringLiteral("%1 must be a string: inline, bash or python").arg(QLatin1String(key))));
        const QString t = v.toString().trimmed().toLower();
        const QString norm = t == QLatin1String("inline") ? QStringLiteral("bash") : t;
        if (!typeKey.isEmpty() && norm != typeText)
            return failWith(bad(QLatin1String(key), QStringLiteral("type and script_type were given different values; send one of them")));
        if (norm != QLatin1String("bash") && norm != QLatin1String("python"))
            return failWith(bad(QLatin1String(key), QStringLiteral("%1 must be inline, bash or python (got '%2')").arg(QLatin1String(key), v.toString().left(40))));
        typeKey = QLatin1String(key);
        typeText = norm;
    }
    r.scriptType = typeText == QLatin1String("python") ? ScriptType::Python : ScriptType::Bash;

    const QJsonValue image = o.value(QStringLiteral("image"));
    if (!image.isUndefined() && !image.isNull() && !image.isString())
        return failWith(bad(QStringLiteral("image"), QStringLiteral("image must be a string, the name of a guest image profile")));
    r.image = image.toString().trimmed();

    if (auto e = cloudOnlyFields(o))
        return failWith(*e);
    if (auto e = r.validate())
        return failWith(*e);
    return r;
}

} // namespace magpie
