// WorkspaceActions.h — the lifecycle actions of the Workspaces tab (toolbar and context menu):
// Snapshots… (SnapshotsDialog), Clone…, Grow… (GrowDialog), Export… (a .tar.gz), Import… (a
// .tar.gz into a new workspace) and New empty workspace…. They act on the workspace `current()`
// names; errors go to a message box and change nothing.
#pragma once

#include "Executor.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <functional>

class QAction;
class QWidget;

namespace magpie::ui {

class GrowDialog;
class SnapshotsDialog;

class WorkspaceActions : public QObject
{
    Q_OBJECT
public:
    WorkspaceActions(Executor &executor, QWidget *parentWidget, std::function<QString()> current);

    QList<QAction *> actions() const;            // those that need a selected workspace
    QAction *newWorkspaceAction() const { return m_new; }
    QAction *importAction() const { return m_import; }
    void updateEnabled(bool haveWorkspace);

    SnapshotsDialog *snapshots(const QString &id);
    GrowDialog *grow(const QString &id);
    // No dialogs: what the actions do after asking.
    void clone(const QString &id, const QString &newId);
    void exportTo(const QString &id, const QString &targetTarGz);
    void importFrom(const QString &archiveTarGz, const QString &newId, int sizeGb);
    void create(const QString &id, int sizeGb);

signals:
    void statusMessage(const QString &text);
    void finished(const QString &what, bool ok);

private:
    void report(const QString &what, bool ok, const ExecError &e, const QString &okText);

    Executor &m_ex;
    QWidget *m_widget;
    std::function<QString()> m_current;
    QAction *m_snapshots, *m_clone, *m_grow, *m_export, *m_import, *m_new;
    QHash<QString, QPointer<SnapshotsDialog>> m_snapshotDialogs;
};

} // namespace magpie::ui
