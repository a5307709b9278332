// Tools.h — small host helpers shared by the executor: finding programs, running them, time stamps.
#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>

namespace magpie {

// Finds an executable in PATH, then in /usr/sbin and /sbin (mkfs lives there and a desktop
// user's PATH often lacks it). Returns an empty string when it is nowhere.
QString findTool(const QString &name);

struct ToolResult {
    int exitCode = -1;
    bool started = false;
    bool timedOut = false;
    QByteArray output; // stdout and stderr merged
    QString describe(const QString &program) const;
};

// Runs a program to completion (blocking, so call it from a worker thread when it can be slow).
ToolResult runTool(const QString &program, const QStringList &args, int timeoutMs = 120000);

// ISO-8601 UTC with milliseconds, e.g. 2026-12-01T07:46:24.123Z
QString isoUtc(const QDateTime &t);
QString isoNow();
QDateTime parseIso(const QString &s);

// The qemu binaries, overridable for packaging (MAGPIE_QEMU, MAGPIE_QEMU_IMG).
QString qemuSystemBinary();
QString qemuImgBinary();

} // namespace magpie
