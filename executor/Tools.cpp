#include "Tools.h"

#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

namespace magpie {

QString findTool(const QString &name)
{
    QString found = QStandardPaths::findExecutable(name);
    if (found.isEmpty())
        found = QStandardPaths::findExecutable(name, {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"),
                                                      QStringLiteral("/usr/bin"), QStringLiteral("/bin")});
    return found;
}

QString ToolResult::describe(const QString &program) const
{
    if (!started)
        return QStringLiteral("%1 could not be started").arg(program);
    if (timedOut)
        return QStringLiteral("%1 did not finish in time").arg(program);
    QString text = QString::fromUtf8(output).trimmed();
    if (text.size() > 400)
        text = text.right(400);
    return QStringLiteral("%1 failed with exit code %2: %3").arg(program).arg(exitCode).arg(text);
}

ToolResult runTool(const QString &program, const QStringList &args, int timeoutMs)
{
    ToolResult r;
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, args);
    if (!p.waitForStarted(10000))
        return r;
    r.started = true;
    if (!p.waitForFinished(timeoutMs)) {
        r.timedOut = true;
        p.kill();
        p.waitForFinished(2000);
        r.output = p.readAll();
        return r;
    }
    r.output = p.readAll();
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return r;
}

QString isoUtc(const QDateTime &t)
{
    if (!t.isValid())
        return QString();
    return t.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"));
}

QString isoNow()
{
    return isoUtc(QDateTime::currentDateTimeUtc());
}

QDateTime parseIso(const QString &s)
{
    if (s.isEmpty())
        return QDateTime();
    QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    t.setTimeSpec(Qt::UTC);
    return t;
}

QString qemuSystemBinary()
{
    const QString env = qEnvironmentVariable("MAGPIE_QEMU");
    if (!env.isEmpty())
        return env;
    const QString found = findTool(QStringLiteral("qemu-system-x86_64"));
    return found.isEmpty() ? QStringLiteral("qemu-system-x86_64") : found;
}

QString qemuImgBinary()
{
    const QString env = qEnvironmentVariable("MAGPIE_QEMU_IMG");
    if (!env.isEmpty())
        return env;
    const QString found = findTool(QStringLiteral("qemu-img"));
    return found.isEmpty() ? QStringLiteral("qemu-img") : found;
}

} // namespace magpie
