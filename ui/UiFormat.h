// UiFormat.h — small formatting and styling helpers shared by the views: sizes, durations,
// local times, status colours and icons, shell quoting. No widgets here.
#pragma once

#include "JobRecord.h"

#include <QColor>
#include <QIcon>
#include <QJsonObject>
#include <QPalette>
#include <QString>
#include <optional>

namespace magpie::ui {

// "0 B", "12.3 KiB", "1.5 GiB"
QString formatBytes(qint64 bytes);
// "850 ms", "12.4 s", "3 min 05 s", "2 h 03 min"
QString formatDuration(qint64 ms);
// A job's phase timings in the order they happen: "queued 2 ms · vm_start 310 ms · mount 12 ms …"
QString formatTimings(const QJsonObject &timings);
// An ISO-8601 UTC stamp shown in local time ("2026-12-01 08:46:24"); "" stays "".
QString formatLocalTime(const QString &iso);
// How long a job has run: finished jobs use durationMs, running ones tick from startedAt.
std::optional<qint64> jobElapsedMs(const JobRecord &job);

// A human label for a status: "Completed", "Timed out", …
QString statusLabel(JobStatus s);
// A colour for a status that reads on the given palette (light or dark).
QColor statusColor(JobStatus s, const QPalette &palette);
// A round status badge painted in the status colour (no SVG plugin needed).
QIcon statusIcon(JobStatus s, const QPalette &palette);
QIcon appIcon();
bool isDark(const QPalette &palette);

// "1 job", "3 jobs": the number and the word in the right form.
QString counted(qint64 n, const QString &one, const QString &many);

// Quotes a string for bash in single quotes: abc'd -> 'abc'\''d'.
QString shellQuote(const QString &s);

} // namespace magpie::ui
