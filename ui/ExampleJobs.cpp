#include "ExampleJobs.h"

#include "JobTemplates.h"

namespace magpie::ui {

QList<JobRequest> ExampleJobs::counter()
{
    QString script;
    for (const JobTemplate &t : JobTemplate::all())
        if (t.title == QLatin1String("Counter"))
            script = t.script;
    QList<JobRequest> out;
    for (int i = 1; i <= kRuns; ++i) {
        JobRequest r;
        r.name = QStringLiteral("Increment %1").arg(i);
        r.script = script;
        r.stateful = true;
        r.workspaceId = QLatin1String(kWorkspace);
        r.network = false;
        r.source = QStringLiteral("gui");
        out << r;
    }
    return out;
}

} // namespace magpie::ui
