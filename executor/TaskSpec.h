// TaskSpec.h — everything a backend needs to run one task, with nothing of the Executor's
// bookkeeping: the script (or host-side disk operation), the VM's shape and the workspace. It is
// serialisable (toJson/fromJson) so that a task can be handed to another machine (the Slurm
// backend writes it to a spec file that the node-side runner reads).
#pragma once

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>

namespace magpie {

struct TaskSpec {
    enum Kind {
        Script,   // a script in a fresh VM (a job, or a workspace operation such as listing files)
        DiskOp,   // an operation on the workspace's disk file on the host (no VM)
    };
    Kind kind = Script;
    QString id;                   // request_id of a job, or the operation's id
    bool isJob = true;            // a job's output is kept in its logs; an operation's goes back to its caller
    QString name;                 // a job's name (logs, ps)
    QString workspaceId;          // empty: an empty tmpfs at /workspace
    int workspaceSizeGb = 0;      // the size of the disk to create when it does not exist yet
    bool createWorkspace = false; // create the disk when missing (a workspace's first job)
    QString script;
    QString interpreter;          // e.g. /usr/bin/python3; empty: bash, or the script's "#!" line
    QList<QPair<QString, QString>> env;
    int vcpus = 1;
    int memoryMb = 512;
    int timeoutSec = 0;           // 0: no limit
    bool network = false;
    QString image;                // guest image profile; empty: the default one
    QString diskOp;               // DiskOp: what to do (see WorkspaceDisk)
    QJsonObject diskOpArgs;
    // Issue 11 (workspace lifecycle):
    QString checkpoint;           // take this internal snapshot of the workspace disk before the VM starts
    int keepCheckpoints = 0;      // then drop the oldest before-* snapshots beyond this many (0: keep all)
    QString baseWorkspaceId;      // stateless: mount a throwaway overlay over this workspace's disk
    bool recordChanges = false;   // the guest reports what the script changed in /workspace
    QString stdinPath;            // a host file streamed to the script's stdin (empty: /dev/null)

    QJsonObject toJson() const;
    static TaskSpec fromJson(const QJsonObject &o);
};

} // namespace magpie
