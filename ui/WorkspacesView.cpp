#include "WorkspacesView.h"

#include "CleanupDialog.h"
#include "FileBrowser.h"
#include "FolderCache.h"
#include "MessageBox.h"
#include "UiFormat.h"
#include "UsageBarDelegate.h"
#include "WorkspaceActions.h"
#include "WorkspacesModel.h"

#include <QAction>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStyle>
#include <QTableView>
#include <QMenu>
#include <QToolButton>
#include <QVBoxLayout>

namespace magpie::ui {

WorkspacesView::WorkspacesView(Executor &executor, QWidget *parent)
    : QWidget(parent), m_ex(executor)
{
    m_model = new WorkspacesModel(m_ex, this);
    m_cache = new FolderCache(m_ex, this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(WorkspacesModel::SortRole);
    m_proxy->setDynamicSortFilter(true);

    m_newJob = new QAction(style()->standardIcon(QStyle::SP_FileIcon), tr("New &job here…"), this);
    m_newJob->setObjectName(QStringLiteral("workspaceNewJobAction"));
    m_newJob->setToolTip(tr("Open the new-job form with this workspace picked"));
    m_browse = new QAction(style()->standardIcon(QStyle::SP_DirOpenIcon), tr("&Browse files…"), this);
    m_browse->setObjectName(QStringLiteral("browseAction"));
    m_browse->setToolTip(tr("List the files in /workspace (each folder is read by a short VM run through the workspace's queue)"));
    m_cleanup = new QAction(style()->standardIcon(QStyle::SP_DriveHDIcon), tr("&Clean up…"), this);
    m_cleanup->setObjectName(QStringLiteral("cleanupAction"));
    m_cleanup->setToolTip(tr("Find the largest files and folders and delete them"));
    m_showJobs = new QAction(style()->standardIcon(QStyle::SP_FileDialogListView), tr("Show &jobs"), this);
    m_showJobs->setObjectName(QStringLiteral("showJobsAction"));
    m_showJobs->setToolTip(tr("Show this workspace's jobs in the Jobs tab"));
    m_delete = new QAction(style()->standardIcon(QStyle::SP_TrashIcon), tr("&Delete workspace…"), this);
    m_delete->setObjectName(QStringLiteral("deleteWorkspaceAction"));

    m_lifecycle = new WorkspaceActions(m_ex, this, [this] { return currentWorkspaceId(); });
    connect(m_lifecycle, &WorkspaceActions::statusMessage, this, &WorkspacesView::statusMessage);
    connect(m_lifecycle, &WorkspaceActions::finished, this, &WorkspacesView::refresh);

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(6, 6, 6, 6);
    auto *bar = new QHBoxLayout;
    // The everyday actions and Snapshots… as buttons; the rest of the lifecycle in a "More" menu,
    // so the bar fits a 1024-px-wide window.
    QList<QAction *> barActions{m_newJob, m_browse, m_cleanup, m_showJobs, m_delete};
    QList<QAction *> more = m_lifecycle->actions();
    if (!more.isEmpty())
        barActions << more.takeFirst();
    more << m_lifecycle->importAction() << m_lifecycle->newWorkspaceAction();
    for (QAction *a : barActions) {
        auto *b = new QToolButton(this);
        b->setDefaultAction(a);
        b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        bar->addWidget(b);
    }
    auto *moreButton = new QToolButton(this);
    moreButton->setObjectName(QStringLiteral("workspaceMoreButton"));
    moreButton->setText(tr("More"));
    moreButton->setToolTip(tr("Clone, grow, export, import or create a workspace"));
    moreButton->setPopupMode(QToolButton::InstantPopup);
    auto *moreMenu = new QMenu(moreButton);
    moreMenu->addActions(more);
    moreButton->setMenu(moreMenu);
    bar->addWidget(moreButton);
    bar->addStretch(1);
    v->addLayout(bar);

    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("workspacesTable"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(WorkspacesModel::ColLastUsed, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 14);
    m_table->setItemDelegateForColumn(WorkspacesModel::ColUsed, new UsageBarDelegate(m_table));
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_table->addActions({m_newJob, m_browse, m_cleanup, m_showJobs, m_delete});
    m_table->addActions(m_lifecycle->actions());
    m_table->addActions({m_lifecycle->importAction(), m_lifecycle->newWorkspaceAction()});
    QHeaderView *h = m_table->horizontalHeader();
    h->setSectionsMovable(true);
    h->setHighlightSections(false);
    h->setStretchLastSection(true);
    h->resizeSection(WorkspacesModel::ColId, 260);
    h->resizeSection(WorkspacesModel::ColSize, 70);
    h->resizeSection(WorkspacesModel::ColUsed, 280);
    h->resizeSection(WorkspacesModel::ColOnDisk, 90);
    h->resizeSection(WorkspacesModel::ColLastUsed, 160);
    h->resizeSection(WorkspacesModel::ColJobs, 60);
    v->addWidget(m_table, 1);
    m_empty = new QLabel(tr("No workspaces yet. A stateful job creates one: use New job (Ctrl+N) and tick “Stateful”."), this);
    m_empty->setObjectName(QStringLiteral("workspacesEmpty"));
    m_empty->setEnabled(false);
    m_empty->setAlignment(Qt::AlignCenter);
    v->addWidget(m_empty);

    connect(m_newJob, &QAction::triggered, this, [this] {
        if (!currentWorkspaceId().isEmpty())
            emit newJobRequested(currentWorkspaceId());
    });
    connect(m_browse, &QAction::triggered, this, [this] {
        if (!currentWorkspaceId().isEmpty())
            browse(currentWorkspaceId());
    });
    connect(m_cleanup, &QAction::triggered, this, [this] {
        if (!currentWorkspaceId().isEmpty())
            cleanup(currentWorkspaceId());
    });
    connect(m_showJobs, &QAction::triggered, this, [this] {
        if (!currentWorkspaceId().isEmpty())
            emit showJobsRequested(currentWorkspaceId());
    });
    connect(m_delete, &QAction::triggered, this, [this] {
        if (!currentWorkspaceId().isEmpty())
            deleteWorkspace(currentWorkspaceId());
    });
    // Enter or a double click opens the workspace's files.
    connect(m_table, &QAbstractItemView::activated, this, [this](const QModelIndex &idx) {
        browse(idx.data(WorkspacesModel::IdRole).toString());
    });
    // The actions follow the selection: currentRowChanged fires before a click selects the
    // row (so they stayed disabled after a single click), and a Ctrl+click deselects it.
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &WorkspacesView::updateActions);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &WorkspacesView::updateActions);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &WorkspacesView::updateActions);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &WorkspacesView::updateActions);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &WorkspacesView::updateActions);
    updateActions();
}

QString WorkspacesView::currentWorkspaceId() const
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(WorkspacesModel::IdRole).toString();
}

bool WorkspacesView::selectWorkspace(const QString &id)
{
    const int row = m_model->rowOf(id);
    if (row < 0)
        return false;
    const QModelIndex idx = m_proxy->mapFromSource(m_model->index(row, 0));
    m_table->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(idx);
    return true;
}

void WorkspacesView::refresh()
{
    m_model->reload();
}

void WorkspacesView::updateActions()
{
    const QString id = currentWorkspaceId();
    const auto w = id.isEmpty() ? std::nullopt : m_ex.workspace(id);
    for (QAction *a : {m_newJob, m_browse, m_cleanup, m_showJobs})
        a->setEnabled(w.has_value());
    const bool busy = w && (w->running || w->queued > 0);
    m_delete->setEnabled(w.has_value() && !busy);
    m_lifecycle->updateEnabled(w.has_value());
    m_delete->setToolTip(!w ? tr("Delete the selected workspace and all its files")
                         : busy ? tr("Workspace “%1” is in use (%2); wait for its jobs to finish or cancel them first")
                                      .arg(id, WorkspacesModel::stateText(*w))
                                : tr("Delete workspace “%1” and all its files (asks first)").arg(id));
    const bool empty = m_model->rowCount() == 0;
    m_empty->setVisible(empty);
}

FileBrowser *WorkspacesView::browse(const QString &id)
{
    if (id.isEmpty() || !m_ex.workspace(id))
        return nullptr;
    QPointer<FileBrowser> &b = m_browsers[id];
    if (!b) {
        b = new FileBrowser(m_ex, id, m_cache, window());
        b->setAttribute(Qt::WA_DeleteOnClose);
    }
    b->show();
    b->raise();
    b->activateWindow();
    return b;
}

CleanupDialog *WorkspacesView::cleanup(const QString &id)
{
    if (id.isEmpty() || !m_ex.workspace(id))
        return nullptr;
    QPointer<CleanupDialog> &d = m_cleanups[id];
    if (!d) {
        d = new CleanupDialog(m_ex, id, window());
        d->setAttribute(Qt::WA_DeleteOnClose);
        connect(d, &CleanupDialog::jobSubmitted, this, &WorkspacesView::jobSubmitted);
    }
    d->show();
    d->raise();
    d->activateWindow();
    return d;
}

bool WorkspacesView::deleteWorkspace(const QString &id)
{
    const auto w = m_ex.workspace(id);
    if (!w) {
        MessageBox::warning(this, tr("Delete workspace"), tr("There is no workspace “%1” any more.").arg(id));
        return false;
    }
    if (w->running || w->queued > 0) {
        MessageBox::information(this, tr("Workspace in use"),
                                 tr("Workspace “%1” is in use (%2). Wait for its jobs to finish, or cancel them in the Jobs tab, then delete it.")
                                     .arg(id, WorkspacesModel::stateText(*w)));
        return false;
    }
    const WorkspaceInfo &i = w->info;
    const QString used = i.usedBytes >= 0 ? tr("%1 used of %2 GB").arg(formatBytes(i.usedBytes)).arg(i.sizeGb) : tr("%1 GB").arg(i.sizeGb);
    const auto answer = MessageBox::confirm(this, QStringLiteral("confirmDeleteWorkspace"), tr("Delete workspace"),
                                            tr("Delete workspace “%1”?").arg(id),
                                            tr("Every file in its /workspace (%1; the disk file takes %2 here) will be lost for good. "
                                               "The %3 in the history stay listed; running one of them again starts with an empty workspace.")
                                                .arg(used, formatBytes(i.diskBytes), counted(i.jobCount, tr("job"), tr("jobs"))),
                                            tr("Delete “%1”").arg(id));
    if (answer != MessageBox::Action)
        return false;
    ExecError e;
    if (!m_ex.deleteWorkspace(id, &e)) {
        MessageBox::warning(this, tr("Cannot delete the workspace"), e.message);
        return false;
    }
    if (auto b = m_browsers.take(id))
        b->close();
    if (auto d = m_cleanups.take(id))
        d->close();
    emit statusMessage(tr("Deleted workspace “%1”.").arg(id));
    return true;
}

} // namespace magpie::ui
