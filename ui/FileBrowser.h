// FileBrowser.h — the files of one workspace as a tree. Folders are listed on demand when
// expanded, each through the workspace's queue (Executor::listFiles boots a short VM, so it
// waits for running jobs on that workspace). A file can be downloaded (Executor::readFile).
#pragma once

#include "Executor.h"

#include <QDialog>

class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace magpie::ui {

class FileBrowser : public QDialog
{
    Q_OBJECT
public:
    enum { PathRole = Qt::UserRole + 1, TypeRole, LoadedRole, LoadingRole, SizeRole };

    FileBrowser(Executor &executor, QString workspaceId, QWidget *parent = nullptr);

    QString workspaceId() const { return m_id; }
    QTreeWidget *tree() const { return m_tree; }
    QLabel *statusLabel() const { return m_status; }
    // The item for a workspace-relative path among the folders listed so far.
    QTreeWidgetItem *itemFor(const QString &path) const;
    // Lists a folder ("" = the root) again.
    void reload(const QString &path = QString());
    // Reads a workspace file and writes it to a local file (no dialog).
    void download(const QString &path, const QString &localFile);
    // Asks where to save the selected file, then downloads it.
    void downloadSelected();

signals:
    void listed(const QString &path);            // a folder's entries arrived
    void listFailed(const QString &path, const QString &message);
    void downloaded(const QString &path, const QString &localFile);
    void downloadFailed(const QString &path, const QString &message);

private:
    void list(const QString &path, QTreeWidgetItem *parentItem);
    void fill(QTreeWidgetItem *parentItem, const QList<FileEntry> &entries);
    void onExpanded(QTreeWidgetItem *item);
    void updateButtons();
    void setBusy(int delta);

    Executor &m_ex;
    QString m_id;
    QLabel *m_title, *m_status;
    QTreeWidget *m_tree;
    QPushButton *m_download, *m_refresh;
    int m_busy = 0;
};

} // namespace magpie::ui
