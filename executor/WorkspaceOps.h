// WorkspaceOps.h — operations on a workspace's files that run through its FIFO queue, so they
// never race a job: listing a folder, reading a file, finding the largest files. Each one is a
// small guest-side script (resources/guest/ops/) run in a VM with the workspace mounted; paths
// are checked here on the host and again in the guest after symlinks are resolved.
//
// Guest-side exit codes: 3 the path leads outside the workspace, 4 not found, 5 wrong type
// (not a folder / not a file), 6 too large.
#pragma once

#include "ExecError.h"
#include "Task.h"

#include <QList>
#include <QString>
#include <functional>
#include <optional>

namespace magpie {

class WorkspaceStore;

struct FileEntry {
    QString name, path, type; // type: file, dir, symlink, other
    qint64 size = 0;
    QString modifiedAt;
};

class WorkspaceOps
{
public:
    using Enqueue = std::function<void(const TaskPtr &)>;
    using EntriesDone = std::function<void(std::optional<ExecError>, QList<FileEntry>)>;
    using BytesDone = std::function<void(std::optional<ExecError>, QByteArray)>;

    WorkspaceOps(WorkspaceStore &store, Enqueue enqueue);

    static qint64 maxFileBytes() { return 256LL * 1024 * 1024; }
    // Checks a path from a caller: relative, no "..", no NUL, no absolute or encoded forms.
    // Returns the normalised relative path ("" for the root) or nullopt with *error set.
    static std::optional<QString> normalisePath(const QString &path, ExecError *error);

    void listFiles(const QString &id, const QString &path, EntriesDone done);
    void readFile(const QString &id, const QString &path, BytesDone done);
    void diskUsage(const QString &id, int limit, EntriesDone done);

    // A guest-side script from resources/guest/ops/ (e.g. "list.py").
    static QString script(const QString &name);
    static QList<FileEntry> parseEntries(const QByteArray &json);

private:
    // Queues a script operation on the workspace. When the workspace has no disk yet, it ends at
    // once with noDiskExit and noDiskOut (as if the guest had answered).
    void enqueueScript(const QString &id, const QString &scriptName, const QList<QPair<QString, QString>> &env,
                       Task::OpDone done, int noDiskExit = 4, const QByteArray &noDiskOut = QByteArray());
    std::optional<ExecError> checkWorkspace(const QString &id) const;

    WorkspaceStore &m_store;
    Enqueue m_enqueue;
    qint64 m_seq = 0;
};

} // namespace magpie
