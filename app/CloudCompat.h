// CloudCompat.h — the answers in Magpie Cloud's wire format (issue 8), so scripts written for
// its official SDK run against the local endpoint: the status object of GET /jobs/{id}/status
// and the JSON log entries of GET /jobs/{id}/logs. Status mapping: queued -> not_started,
// running -> in_progress, completed, cancelled as they are, failed with an exit code -> failed,
// failed without one (infrastructure) -> error, timed_out -> failed (error_message says so).
#pragma once

#include "JobRecord.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace magpie {

class Executor;

namespace cloud {

QString status(const JobRecord &job);
QString errorMessage(const JobRecord &job);
// stdout lines then stderr lines, each stream bounded (StreamTail: the last 1,000 lines or
// 256 KiB), with a "[magpie: ...]" line where something was left out.
QJsonObject statusObject(const JobRecord &job, const Executor &executor);
// {"timestamp", "level", "message", "source"} entries, both streams interleaved in arrival
// order, each line with the time it arrived; level and source are "stdout" or "stderr". The last
// kMaxJsonEntries lines (at most kMaxJsonBytes of text), after a "[magpie: ...]" entry (level
// "magpie") when earlier lines exist.
inline constexpr int kMaxJsonEntries = 2000;
inline constexpr qint64 kMaxJsonBytes = 512 * 1024;
QJsonArray logEntries(const JobRecord &job, const Executor &executor);

} // namespace cloud
} // namespace magpie
