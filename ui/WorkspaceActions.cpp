#include "WorkspaceActions.h"

#include "GrowDialog.h"
#include "MessageBox.h"
#include "SnapshotsDialog.h"
#include "UiFormat.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QPointer>
#include <QStyle>
#include <QWidget>

namespace magpie::ui {

WorkspaceActions::WorkspaceActions(Executor &executor, QWidget *parentWidget, std::function<QString()> current)
    : QObject(parentWidget), m_ex(executor), m_widget(parentWidget), m_current(std::move(current))
{
    QStyle *st = parentWidget->style();
    auto make = [this](const QIcon &icon, const QString &text, const char *name, const QString &tip) {
        auto *a = new QAction(icon, text, this);
        a->setObjectName(QString::fromLatin1(name));
        a->setToolTip(tip);
        return a;
    };
    m_snapshots = make(st->standardIcon(QStyle::SP_DialogSaveButton), tr("&Snapshots…"), "snapshotsAction",
                       tr("Saved states of this workspace: take, restore, delete"));
    m_clone = make(st->standardIcon(QStyle::SP_FileDialogNewFolder), tr("Cl&one…"), "cloneAction",
                   tr("Copy this workspace to a new, independent one"));
    m_grow = make(st->standardIcon(QStyle::SP_ArrowUp), tr("&Grow…"), "growAction", tr("Make this workspace's disk larger"));
    m_export = make(st->standardIcon(QStyle::SP_DriveFDIcon), tr("E&xport…"), "exportAction",
                    tr("Save this workspace's files as a .tar.gz"));
    m_import = make(st->standardIcon(QStyle::SP_DirOpenIcon), tr("&Import…"), "importAction",
                    tr("Create a new workspace from a .tar.gz"));
    m_new = make(st->standardIcon(QStyle::SP_FileDialogNewFolder), tr("New &empty workspace…"), "newWorkspaceAction",
                 tr("Create an empty workspace"));

    connect(m_snapshots, &QAction::triggered, this, [this] { snapshots(m_current()); });
    connect(m_grow, &QAction::triggered, this, [this] { grow(m_current()); });
    connect(m_clone, &QAction::triggered, this, [this] {
        const QString id = m_current();
        bool ok = false;
        const QString newId = QInputDialog::getText(m_widget, tr("Clone %1").arg(id), tr("Id of the new workspace:"),
                                                    QLineEdit::Normal, id + QStringLiteral("-copy"), &ok).trimmed();
        if (ok && !newId.isEmpty())
            clone(id, newId);
    });
    connect(m_export, &QAction::triggered, this, [this] {
        const QString id = m_current();
        const QString target = QFileDialog::getSaveFileName(m_widget, tr("Export %1").arg(id),
                                                            QDir::home().filePath(id + QStringLiteral(".tar.gz")),
                                                            tr("Compressed tar archives (*.tar.gz *.tgz)"));
        if (!target.isEmpty())
            exportTo(id, target);
    });
    connect(m_import, &QAction::triggered, this, [this] {
        const QString archive = QFileDialog::getOpenFileName(m_widget, tr("Import a workspace"), QDir::homePath(),
                                                             tr("Compressed tar archives (*.tar.gz *.tgz)"));
        if (archive.isEmpty())
            return;
        bool ok = false;
        QString base = QFileInfo(archive).fileName();
        base.remove(QStringLiteral(".tar.gz")).remove(QStringLiteral(".tgz"));
        const QString newId = QInputDialog::getText(m_widget, tr("Import"), tr("Id of the new workspace:"), QLineEdit::Normal, base, &ok).trimmed();
        if (!ok || newId.isEmpty())
            return;
        const int size = QInputDialog::getInt(m_widget, tr("Import"), tr("Disk size (GB):"), 10, 1, 2048, 1, &ok);
        if (ok)
            importFrom(archive, newId, size);
    });
    connect(m_new, &QAction::triggered, this, [this] {
        bool ok = false;
        const QString id = QInputDialog::getText(m_widget, tr("New empty workspace"), tr("Id:"), QLineEdit::Normal, QString(), &ok).trimmed();
        if (!ok || id.isEmpty())
            return;
        const int size = QInputDialog::getInt(m_widget, tr("New empty workspace"), tr("Disk size (GB):"), 10, 1, 2048, 1, &ok);
        if (ok)
            create(id, size);
    });
    updateEnabled(false);
}

QList<QAction *> WorkspaceActions::actions() const
{
    return {m_snapshots, m_clone, m_grow, m_export};
}

void WorkspaceActions::updateEnabled(bool haveWorkspace)
{
    for (QAction *a : actions())
        a->setEnabled(haveWorkspace);
}

SnapshotsDialog *WorkspaceActions::snapshots(const QString &id)
{
    if (id.isEmpty() || !m_ex.workspace(id))
        return nullptr;
    QPointer<SnapshotsDialog> &d = m_snapshotDialogs[id];
    if (!d) {
        d = new SnapshotsDialog(m_ex, id, m_widget->window());
        d->setAttribute(Qt::WA_DeleteOnClose);
    }
    d->show();
    d->raise();
    d->activateWindow();
    return d;
}

GrowDialog *WorkspaceActions::grow(const QString &id)
{
    const auto w = id.isEmpty() ? std::nullopt : m_ex.workspace(id);
    if (!w)
        return nullptr;
    auto *d = new GrowDialog(m_ex, id, w->info.sizeGb, m_widget->window());
    d->setAttribute(Qt::WA_DeleteOnClose);
    connect(d, &GrowDialog::grown, this, [this](const QString &ws, int size) {
        emit statusMessage(tr("Workspace “%1” is now %2 GB.").arg(ws).arg(size));
        emit finished(tr("Grow"), true);
    });
    d->open();
    return d;
}

void WorkspaceActions::report(const QString &what, bool ok, const ExecError &e, const QString &okText)
{
    if (ok)
        emit statusMessage(okText);
    else
        MessageBox::warning(m_widget, tr("%1 failed").arg(what), tr("Nothing was changed."), e.message);
    emit finished(what, ok);
}

void WorkspaceActions::clone(const QString &id, const QString &newId)
{
    emit statusMessage(tr("Cloning “%1” to “%2”…").arg(id, newId));
    QPointer<WorkspaceActions> self(this);
    m_ex.cloneWorkspace(id, newId, [self, id, newId](bool ok, const ExecError &e, const QJsonObject &) {
        if (self)
            self->report(tr("Clone"), ok, e, tr("Cloned “%1” to “%2”.").arg(id, newId));
    });
}

void WorkspaceActions::exportTo(const QString &id, const QString &targetTarGz)
{
    emit statusMessage(tr("Exporting “%1”…").arg(id));
    QPointer<WorkspaceActions> self(this);
    m_ex.exportWorkspace(id, targetTarGz, [self, id, targetTarGz](bool ok, const ExecError &e, const QJsonObject &info) {
        if (self)
            self->report(tr("Export"), ok, e, tr("Exported “%1” to %2 (%3).").arg(id, targetTarGz,
                                                     formatBytes(qint64(info.value(QStringLiteral("bytes")).toDouble()))));
    });
}

void WorkspaceActions::importFrom(const QString &archiveTarGz, const QString &newId, int sizeGb)
{
    emit statusMessage(tr("Importing %1 as “%2”…").arg(archiveTarGz, newId));
    QPointer<WorkspaceActions> self(this);
    m_ex.importWorkspace(newId, sizeGb, archiveTarGz, [self, newId](bool ok, const ExecError &e, const QJsonObject &) {
        if (self)
            self->report(tr("Import"), ok, e, tr("Imported workspace “%1”.").arg(newId));
    });
}

void WorkspaceActions::create(const QString &id, int sizeGb)
{
    QPointer<WorkspaceActions> self(this);
    m_ex.createWorkspace(id, sizeGb, [self, id, sizeGb](bool ok, const ExecError &e, const QJsonObject &) {
        if (self)
            self->report(tr("New workspace"), ok, e, tr("Created workspace “%1” (%2 GB).").arg(id).arg(sizeGb));
    });
}

} // namespace magpie::ui
