#include "SlurmCommands.h"

#include <QRegularExpression>

namespace magpie::slurm {

QString jobName(const TaskSpec &spec)
{
    return spec.workspaceId.isEmpty() ? QStringLiteral("job-") + spec.id : QStringLiteral("ws-") + spec.workspaceId;
}

int timeLimitMinutes(int timeoutSec, int marginMin)
{
    if (timeoutSec <= 0)
        return 0;
    return (timeoutSec + 59) / 60 + qMax(0, marginMin);
}

QStringList sbatchArgs(const TaskSpec &spec, const SlurmConfig &cfg, const QString &scriptPath, const QString &taskDir)
{
    QStringList a{QStringLiteral("--parsable"), QStringLiteral("-J"), jobName(spec)};
    if (!spec.workspaceId.isEmpty())
        a << QStringLiteral("-d") << QStringLiteral("singleton");
    a << QStringLiteral("--cpus-per-task=%1").arg(qMax(1, spec.vcpus));
    a << QStringLiteral("--mem=%1").arg(qMax(1, spec.memoryMb) + qMax(0, cfg.memoryOverheadMb));
    if (const int min = timeLimitMinutes(spec.timeoutSec, cfg.timeMarginMin); min > 0)
        a << QStringLiteral("--time=%1").arg(min);
    a << QStringLiteral("--no-requeue") << QStringLiteral("--comment=%1").arg(spec.id);
    if (!cfg.partition.isEmpty())
        a << QStringLiteral("--partition=%1").arg(cfg.partition);
    if (!cfg.account.isEmpty())
        a << QStringLiteral("--account=%1").arg(cfg.account);
    a << QStringLiteral("--output=%1/slurm.out").arg(taskDir) << QStringLiteral("--chdir=%1").arg(taskDir);
    a << cfg.extraArgs;
    a << scriptPath;
    return a;
}

static QString shellQuote(const QString &s)
{
    QString q = s;
    q.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return QLatin1Char('\'') + q + QLatin1Char('\'');
}

QString batchScript(const QString &runner, const QString &specPath, const QString &guestDir)
{
    QString s = QStringLiteral("#!/bin/sh\n# Written by Magpie Desktop: runs one task on this node (magpie-desktop --run-job).\n");
    if (!guestDir.isEmpty())
        s += QStringLiteral("export MAGPIE_GUEST_DIR=%1\n").arg(shellQuote(guestDir));
    s += QStringLiteral("exec %1 --run-job %2\n").arg(shellQuote(runner), shellQuote(specPath));
    return s;
}

QString parseSbatchId(const QByteArray &out)
{
    const QString first = QString::fromUtf8(out).trimmed().section(QLatin1Char('\n'), -1).section(QLatin1Char(';'), 0, 0).trimmed();
    static const QRegularExpression digits(QStringLiteral("^[0-9]+$"));
    return digits.match(first).hasMatch() ? first : QString();
}

QString squeueFormat()
{
    return QStringLiteral("%i|%j|%T|%r|%N");
}

QList<SqueueRow> parseSqueue(const QByteArray &out)
{
    QList<SqueueRow> rows;
    for (const QByteArray &line : out.split('\n')) {
        const QList<QByteArray> f = line.trimmed().split('|');
        if (f.size() < 3 || f[0].isEmpty())
            continue;
        SqueueRow r;
        r.jobId = QString::fromUtf8(f[0]);
        r.name = QString::fromUtf8(f[1]);
        r.state = QString::fromUtf8(f[2]);
        if (f.size() > 3)
            r.reason = QString::fromUtf8(f[3]);
        if (f.size() > 4)
            r.node = QString::fromUtf8(f[4]);
        if (r.reason == QLatin1String("None"))
            r.reason.clear();
        rows << r;
    }
    return rows;
}

bool isActiveState(const QString &state)
{
    static const QStringList active{QStringLiteral("PENDING"), QStringLiteral("CONFIGURING"), QStringLiteral("RUNNING"),
                                    QStringLiteral("COMPLETING"), QStringLiteral("SUSPENDED"), QStringLiteral("REQUEUED"),
                                    QStringLiteral("RESIZING"), QStringLiteral("SIGNALING"), QStringLiteral("STAGE_OUT")};
    return active.contains(state);
}

bool isEndedState(const QString &state)
{
    return !state.isEmpty() && !isActiveState(state);
}

} // namespace magpie::slurm
