#include "ResultFile.h"

#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>

namespace magpie::resultfile {

static VmResult::Outcome outcomeFrom(const QString &s)
{
    for (auto o : {VmResult::Exited, VmResult::TimedOut, VmResult::Cancelled, VmResult::Failed})
        if (VmResult::outcomeName(o) == s)
            return o;
    return VmResult::Failed;
}

QJsonObject toJson(const VmResult &r, const QString &node)
{
    return QJsonObject{
        {QStringLiteral("status"), VmResult::outcomeName(r.outcome)},
        {QStringLiteral("exit_code"), r.exitCode},
        {QStringLiteral("signal"), r.signal},
        {QStringLiteral("error"), r.error},
        {QStringLiteral("infrastructure"), r.infrastructure},
        {QStringLiteral("used_bytes"), double(r.usedBytes)},
        {QStringLiteral("total_bytes"), double(r.totalBytes)},
        {QStringLiteral("boot_ms"), double(r.bootMs)},
        {QStringLiteral("wall_ms"), double(r.wallMs)},
        {QStringLiteral("start"), r.start},
        {QStringLiteral("timings"), r.timings},
        {QStringLiteral("changes"), r.changes},
        {QStringLiteral("checkpoint"), r.checkpoint},
        {QStringLiteral("disk_closed_cleanly"), r.diskClosedCleanly},
        {QStringLiteral("node"), node},
    };
}

VmResult fromJson(const QJsonObject &o)
{
    VmResult r;
    r.outcome = outcomeFrom(o.value(QStringLiteral("status")).toString());
    r.exitCode = o.value(QStringLiteral("exit_code")).toInt(-1);
    r.signal = o.value(QStringLiteral("signal")).toInt();
    r.error = o.value(QStringLiteral("error")).toString();
    r.infrastructure = o.value(QStringLiteral("infrastructure")).toBool();
    r.usedBytes = qint64(o.value(QStringLiteral("used_bytes")).toDouble(-1));
    r.totalBytes = qint64(o.value(QStringLiteral("total_bytes")).toDouble(-1));
    r.bootMs = qint64(o.value(QStringLiteral("boot_ms")).toDouble(-1));
    r.wallMs = qint64(o.value(QStringLiteral("wall_ms")).toDouble());
    r.start = o.value(QStringLiteral("start")).toString();
    r.timings = o.value(QStringLiteral("timings")).toObject();
    r.changes = o.value(QStringLiteral("changes")).toObject();
    r.checkpoint = o.value(QStringLiteral("checkpoint")).toString();
    r.diskClosedCleanly = o.value(QStringLiteral("disk_closed_cleanly")).toBool(true);
    return r;
}

QString write(const QString &path, const VmResult &r, const QString &node)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return QStringLiteral("cannot write %1: %2").arg(path, f.errorString());
    f.write(QJsonDocument(toJson(r, node)).toJson(QJsonDocument::Compact));
    if (!f.commit())
        return QStringLiteral("cannot write %1: %2").arg(path, f.errorString());
    return QString();
}

std::optional<VmResult> read(const QString &path, QString *node)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    QJsonParseError pe;
    const QJsonDocument d = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !d.isObject() || !d.object().contains(QStringLiteral("status")))
        return std::nullopt;
    if (node)
        *node = d.object().value(QStringLiteral("node")).toString();
    return fromJson(d.object());
}

} // namespace magpie::resultfile
