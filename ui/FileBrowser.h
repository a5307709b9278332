// FileBrowser.h — the files of one workspace as a tree. Folders are listed on demand when
// expanded, each through the workspace's queue (Executor::listFiles boots a short VM, so it
// waits for running jobs on that workspace). A file can be downloaded (Executor::readFile).
// While a folder or a file is being read, a busy bar shows at once (set before the request is
// queued). A folder read less than a few seconds ago comes from the shared FolderCache;
// Refresh always reads again. Download follows the selected item. Upload (button, or drop files
// on the tree: into the folder under the pointer) writes local files of up to 256 MiB into the
// selected folder; Delete removes the selected file or folder after a confirmation.
#pragma once

#include "Executor.h"

#include <QDialog>

class QFileDialog;
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
    QPushButton *uploadButton() const { return m_upload; }
    QPushButton *deleteButton() const { return m_delete; }
    // The file picker the Upload button opened (non-native, objectName "uploadFileDialog").
    QFileDialog *uploadDialog() const { return m_uploadDialog; }
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
    // Writes local files into workspace folder `folder` ("" = root), one after the other.
    void upload(const QStringList &localFiles, const QString &folder);
    // Asks (naming what is lost), then deletes the selected file or folder.
    void deleteSelected();
    // The folder an upload goes to: the selected folder, a selected file's folder, or the root.
    QString uploadFolder() const;

signals:
    void listed(const QString &path);            // a folder's entries arrived (or came from the cache)
    void listFailed(const QString &path, const QString &message);
    void downloaded(const QString &path, const QString &localFile);
    void downloadFailed(const QString &path, const QString &message);
    void uploaded(const QString &path);
    void deleted(const QString &path);
    void operationFailed(const QString &path, const QString &message);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void list(const QString &path, QTreeWidgetItem *parentItem, bool useCache);
    void showListed(const QString &shown, const QList<FileEntry> &entries, qint64 cachedAgeMs);
    void fill(QTreeWidgetItem *parentItem, const QList<FileEntry> &entries);
    void onExpanded(QTreeWidgetItem *item);
    void updateButtons();
    void setBusy(int delta);
    void openUploadDialog();
    void refreshFolder(const QString &folder);

    Executor &m_ex;
    QString m_id;
    FolderCache *m_cache;
    QLabel *m_title, *m_status;
    QProgressBar *m_busyBar;
    QTreeWidget *m_tree;
    QPushButton *m_download, *m_refresh, *m_upload, *m_delete;
    QFileDialog *m_uploadDialog = nullptr;
    int m_busy = 0;
};

} // namespace magpie::ui
