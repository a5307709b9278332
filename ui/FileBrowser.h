// FileBrowser.h — the files of one workspace as a tree. Folders are listed on demand when
// expanded, each through the workspace's queue (Executor::listFiles boots a short VM, so it
// waits for running jobs on that workspace). A file can be downloaded (Executor::readFile).
// While a folder or a file is being read, a busy bar shows at once (set before the request is
// queued). A folder read less than a few seconds ago comes from the shared FolderCache;
// Refresh always reads again. Download follows the selected item.
#pragma once

#include "Executor.h"

#include <QDialog>

class QLabel;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace magpie::ui {

class FolderCache;

class FileBrowser : public QDialog
{
    Q_OBJECT
public:
    enum { PathRole = Qt::UserRole + 1, TypeRole, LoadedRole, LoadingRole, SizeRole };

    // `cache` may be null (every folder is read from the workspace).
    FileBrowser(Executor &executor, QString workspaceId, FolderCache *cache, QWidget *parent = nullptr);

    QString workspaceId() const { return m_id; }
    QTreeWidget *tree() const { return m_tree; }
    QLabel *statusLabel() const { return m_status; }
    QProgressBar *busyBar() const { return m_busyBar; }
    QPushButton *downloadButton() const { return m_download; }
    QPushButton *refreshButton() const { return m_refresh; }
    bool isBusy() const { return m_busy > 0; }
    // The selected file or folder ("" when nothing is selected).
    QString selectedPath() const;
    // The item for a workspace-relative path among the folders listed so far.
    QTreeWidgetItem *itemFor(const QString &path) const;
    // Lists a folder ("" = the root) again, from the workspace (not the cache).
    void reload(const QString &path = QString());
    // Reads a workspace file and writes it to a local file (no dialog).
    void download(const QString &path, const QString &localFile);
    // Asks where to save the selected file, then downloads it.
    void downloadSelected();

signals:
    void listed(const QString &path);            // a folder's entries arrived (or came from the cache)
    void listFailed(const QString &path, const QString &message);
    void downloaded(const QString &path, const QString &localFile);
    void downloadFailed(const QString &path, const QString &message);

private:
    void list(const QString &path, QTreeWidgetItem *parentItem, bool useCache);
    void showListed(const QString &shown, const QList<FileEntry> &entries, qint64 cachedAgeMs);
    void fill(QTreeWidgetItem *parentItem, const QList<FileEntry> &entries);
    void onExpanded(QTreeWidgetItem *item);
    void updateButtons();
    void setBusy(int delta);

    Executor &m_ex;
    QString m_id;
    FolderCache *m_cache;
    QLabel *m_title, *m_status;
    QProgressBar *m_busyBar;
    QTreeWidget *m_tree;
    QPushButton *m_download, *m_refresh;
    int m_busy = 0;
};

} // namespace magpie::ui
