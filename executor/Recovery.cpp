#include "Recovery.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QThread>

#include <csignal>
#include <unistd.h>

namespace magpie::recovery {

void killStaleQemu(const QString &marker)
{
    const QByteArray needle = marker.toUtf8();
    if (needle.isEmpty())
        return;
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &pidText : pids) {
        bool ok = false;
        const int pid = pidText.toInt(&ok);
        if (!ok || pid == ::getpid())
            continue;
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QByteArray cmd = f.readAll();
        if (!cmd.contains("qemu-system") || !cmd.contains(needle))
            continue;
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 100 && QFileInfo::exists(QStringLiteral("/proc/%1/cmdline").arg(pid)); ++i) {
            QFile s(QStringLiteral("/proc/%1/stat").arg(pid));
            if (s.open(QIODevice::ReadOnly) && s.readAll().contains(") Z "))
                break; // a zombie of a parent that is gone: it is dead
            QThread::msleep(20);
        }
    }
}

int sweep(const QString &dataDir)
{
    int removed = 0;
    QDir runs(dataDir + QStringLiteral("/runs"));
    if (runs.exists()) {
        removed += int(runs.entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).size());
        runs.removeRecursively();
    }
    // Disk builds write <id>.qcow2.tmp-* / <id>.raw.tmp-* and rename at the end.
    QDir ws(dataDir + QStringLiteral("/workspaces"));
    for (const QString &name : ws.entryList({QStringLiteral("*.tmp-*"), QStringLiteral(".*.tmp-*")}, QDir::Files | QDir::Hidden)) {
        if (QFile::remove(ws.filePath(name)))
            ++removed;
    }
    return removed;
}

} // namespace magpie::recovery
