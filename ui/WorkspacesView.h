// WorkspacesView.h — the Workspaces tab: the table (WorkspacesModel) and the actions on the
// selected workspace: new job in it, browse files (also Enter or a double click), clean up,
// show its jobs, delete. The actions follow the selection.
#pragma once

#include "Executor.h"

#include <QHash>
#include <QPointer>
#include <QWidget>

class QAction;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace magpie::ui {

class CleanupDialog;
class FileBrowser;
class FolderCache;
class WorkspacesModel;
class WorkspaceActions;

class WorkspacesView : public QWidget
{
    Q_OBJECT
public:
    explicit WorkspacesView(Executor &executor, QWidget *parent = nullptr);

    WorkspacesModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QAction *newJobAction() const { return m_newJob; }
    QAction *browseAction() const { return m_browse; }
    QAction *cleanupAction() const { return m_cleanup; }
    QAction *deleteAction() const { return m_delete; }
    QAction *showJobsAction() const { return m_showJobs; }

    FolderCache *folderCache() const { return m_cache; }
    // Snapshots…, Clone…, Grow…, Export…, Import…, New empty workspace….
    WorkspaceActions *lifecycle() const { return m_lifecycle; }
    // The selected workspace ("" when no row is selected).
    QString currentWorkspaceId() const;
    bool selectWorkspace(const QString &id);

    // Opens (or raises) the file browser of a workspace and returns it.
    FileBrowser *browse(const QString &id);
    CleanupDialog *cleanup(const QString &id);
    // Asks first (naming what will be lost), then deletes. True when deleted.
    bool deleteWorkspace(const QString &id);
    void refresh();

signals:
    void newJobRequested(const QString &workspaceId);
    void showJobsRequested(const QString &workspaceId);
    void statusMessage(const QString &text);
    void jobSubmitted(const QString &requestId);

private:
    void updateActions();

    Executor &m_ex;
    WorkspacesModel *m_model;
    FolderCache *m_cache;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_table;
    QLabel *m_empty;
    WorkspaceActions *m_lifecycle;
    QAction *m_newJob, *m_browse, *m_cleanup, *m_delete, *m_showJobs;
    QHash<QString, QPointer<FileBrowser>> m_browsers;
    QHash<QString, QPointer<CleanupDialog>> m_cleanups;
};

} // namespace magpie::ui
