// ExecutorTestSupport.h — helpers for tests that drive a real Executor (real VMs, real SQLite).
#pragma once

#include "Executor.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QtTest>
#include <memory>

namespace magpie::test {

inline std::unique_ptr<Executor> openExecutor(const QString &dir, int parallel = 2)
{
    ExecutorConfig cfg;
    cfg.dataDir = dir;
    cfg.maxParallel = parallel;
    cfg.accel = AccelMode::Tcg;
    auto ex = std::make_unique<Executor>(cfg);
    QString err;
    if (!ex->open(&err))
        qFatal("open failed: %s", qPrintable(err));
    return ex;
}

// A job request; `ws` "auto" means stateful with the request_id as the workspace id.
inline JobRequest jobRequest(const QString &script, const QString &ws = QString(), std::optional<int> size = std::nullopt)
{
    JobRequest r;
    r.name = QStringLiteral("t");
    r.script = script;
    r.stateful = !ws.isEmpty() || size.has_value();
    r.workspaceId = ws == QLatin1String("auto") ? QString() : ws;
    r.workspaceSizeGb = size;
    r.network = false;
    return r;
}

inline JobRecord submitOk(Executor &ex, const JobRequest &r)
{
    ExecError e;
    auto j = ex.submit(r, &e);
    if (!j)
        qFatal("submit failed: %s", qPrintable(e.message));
    return *j;
}

inline JobRecord waitDone(Executor &ex, const QString &id, int ms = 180000)
{
    [&] { QTRY_VERIFY_WITH_TIMEOUT(isFinished(ex.job(id)->status), ms); }();
    return *ex.job(id);
}

inline int magpieQemuCount(const QString &marker)
{
    int n = 0;
    for (const QString &pid : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (f.open(QIODevice::ReadOnly)) {
            const QByteArray cmd = f.readAll();
            n += cmd.contains("qemu-system") && cmd.contains(marker.toUtf8());
        }
    }
    return n;
}

inline QByteArray stdoutOf(Executor &ex, const QString &id)
{
    return ex.readLog(id, 1, 0, 1 << 20).data;
}

// The resident set size of this process, in bytes.
inline qint64 selfRssBytes()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong() * 1024;
    return -1;
}

// Bytes that the files under `dir` occupy (recursively).
inline qint64 treeBytes(const QString &dir)
{
    qint64 n = 0;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        n += it.fileInfo().size();
    }
    return n;
}

} // namespace magpie::test
