// JobTemplates.h — the new-job dialog's template menu: the use cases of the stateful-jobs guide
// (initialize / read a workspace, download → process → upload, a counter, a build cache).
#pragma once

#include <QList>
#include <QString>
#include <optional>

namespace magpie::ui {

struct JobTemplate {
    QString group;          // menu section, e.g. "Data pipeline"
    QString title;          // menu entry
    QString name;           // job name
    QString script;
    bool stateful = true;
    QString workspaceId;    // empty: a new workspace named after the job's request id
    std::optional<int> workspaceSizeGb;

    static QList<JobTemplate> all();
};

} // namespace magpie::ui
