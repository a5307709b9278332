// ExecutorSupport.h — what the Executor's own .cpp files share (Executor.cpp, ExecutorPool.cpp).
// Internal.
#pragma once

#include "JobRecord.h"
#include "Tools.h"

namespace magpie {

// Ends a job's record: status, reason, finish time and (when it started) its duration.
inline void closeRecord(JobRecord &j, JobStatus status, const QString &error)
{
    j.status = status;
    j.error = error;
    j.finishedAt = isoNow();
    if (!j.startedAt.isEmpty())
        j.durationMs = parseIso(j.startedAt).msecsTo(parseIso(j.finishedAt));
}

} // namespace magpie
