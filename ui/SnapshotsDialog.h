// SnapshotsDialog.h — the snapshots of one workspace (named ones and the "before-<job>"
// checkpoints): name, created, job, size. Take (a name), Restore and Delete, each after a
// confirmation naming what is lost. Every call goes through the workspace's queue; errors go to
// a message box and change nothing.
#pragma once

#include "Executor.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;

namespace magpie::ui {

class SnapshotsDialog : public QDialog
{
    Q_OBJECT
public:
    enum { NameRole = Qt::UserRole + 1 };

    SnapshotsDialog(Executor &executor, QString workspaceId, QWidget *parent = nullptr);

    QTreeWidget *list() const { return m_list; }
    QLineEdit *nameEdit() const { return m_name; }
    QPushButton *takeButton() const { return m_take; }
    QPushButton *restoreButton() const { return m_restore; }
    QPushButton *deleteButton() const { return m_delete; }
    QLabel *statusLabel() const { return m_status; }
    QString selectedName() const;
    bool isBusy() const { return m_busy; }

    void reload();
    void take(const QString &name);
    void restoreSelected();
    void deleteSelected();

signals:
    void loaded();
    void done(const QString &what, bool ok);

private:
    void setBusy(bool busy, const QString &text = QString());
    void updateButtons();
    void finish(const QString &what, bool ok, const ExecError &e, const QString &okText);

    Executor &m_ex;
    QString m_id;
    QTreeWidget *m_list;
    QLineEdit *m_name;
    QPushButton *m_take, *m_restore, *m_delete, *m_refresh;
    QLabel *m_status;
    bool m_busy = false;
};

} // namespace magpie::ui
