#include "JobsView.h"

#include "JobDetail.h"
#include "JobsFilterProxy.h"
#include "JobsModel.h"
#include "UiFormat.h"

#include <QAction>
#include <QClipboard>
#include <QComboBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QVBoxLayout>

namespace magpie::ui {

JobsView::JobsView(Executor &executor, QWidget *parent)
    : QWidget(parent), m_ex(executor)
{
    m_model = new JobsModel(m_ex, this);
    m_proxy = new JobsFilterProxy(this);
    m_proxy->setSourceModel(m_model);

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(6, 6, 6, 0);
    auto *bar = new QHBoxLayout;
    m_search = new QLineEdit(this);
    m_search->setObjectName(QStringLiteral("searchEdit"));
    m_search->setPlaceholderText(tr("Search jobs by name (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    m_status = new QComboBox(this);
    m_status->setObjectName(QStringLiteral("statusFilter"));
    m_status->addItem(tr("All statuses"), QString());
    m_status->addItem(tr("Active (queued or running)"), QLatin1String(JobsFilterProxy::kActive));
    m_status->addItem(tr("Finished"), QLatin1String(JobsFilterProxy::kFinished));
    for (JobStatus s : {JobStatus::Queued, JobStatus::Running, JobStatus::Completed, JobStatus::Failed, JobStatus::Cancelled, JobStatus::TimedOut})
        m_status->addItem(statusIcon(s, palette()), statusLabel(s), statusName(s));
    m_workspace = new QComboBox(this);
    m_workspace->setObjectName(QStringLiteral("workspaceFilter"));
    m_workspace->setMinimumContentsLength(16);
    m_workspace->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("jobCount"));
    bar->addWidget(m_search, 2);
    bar->addWidget(new QLabel(tr("Status:"), this));
    bar->addWidget(m_status);
    bar->addWidget(new QLabel(tr("Workspace:"), this));
    bar->addWidget(m_workspace, 1);
    bar->addWidget(m_count);
    v->addLayout(bar);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("jobsSplitter"));
    m_table = new QTableView(m_splitter);
    m_table->setObjectName(QStringLiteral("jobsTable"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(JobsModel::ColCreated, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 10);
    QHeaderView *h = m_table->horizontalHeader();
    h->setSectionsMovable(true);
    h->setHighlightSections(false);
    h->setSectionResizeMode(JobsModel::ColName, QHeaderView::Stretch);
    h->resizeSection(JobsModel::ColStatus, 120);
    h->resizeSection(JobsModel::ColWorkspace, 170);
    h->resizeSection(JobsModel::ColExit, 50);
    h->resizeSection(JobsModel::ColCreated, 160);
    h->resizeSection(JobsModel::ColDuration, 100);
    m_detail = new JobDetail(m_ex, m_splitter);
    m_splitter->addWidget(m_table);
    m_splitter->addWidget(m_detail);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({330, 370});
    v->addWidget(m_splitter, 1);

    m_cancel = new QAction(style()->standardIcon(QStyle::SP_BrowserStop), tr("&Cancel job"), this);
    m_cancel->setObjectName(QStringLiteral("cancelJobAction"));
    m_cancel->setToolTip(tr("Cancel the selected job (a running one: its VM is stopped)"));
    m_rerun = new QAction(style()->standardIcon(QStyle::SP_BrowserReload), tr("&Re-run"), this);
    m_rerun->setObjectName(QStringLiteral("rerunAction"));
    m_rerun->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_rerun->setToolTip(tr("Run the selected job again with the same settings (Ctrl+R)"));
    m_rerunEdited = new QAction(style()->standardIcon(QStyle::SP_FileDialogDetailedView), tr("Re-run &edited…"), this);
    m_rerunEdited->setObjectName(QStringLiteral("rerunEditedAction"));
    m_rerunEdited->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_rerunEdited->setToolTip(tr("Open the selected job in the new-job form to change it first (Ctrl+Shift+R)"));
    m_copy = new QAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Cop&y output"), this);
    m_copy->setObjectName(QStringLiteral("copyOutputAction"));
    m_copy->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_copy->setToolTip(tr("Copy the shown output (stdout, or stderr on the Errors tab) to the clipboard (Ctrl+Shift+C)"));
    m_table->addActions({m_cancel, m_rerun, m_rerunEdited, m_copy});
    m_detail->setActions({m_cancel, m_rerun, m_rerunEdited, m_copy});
    connect(m_cancel, &QAction::triggered, this, &JobsView::cancelCurrent);
    connect(m_rerun, &QAction::triggered, this, &JobsView::rerunCurrent);
    connect(m_copy, &QAction::triggered, this, &JobsView::copyCurrentOutput);
    connect(m_rerunEdited, &QAction::triggered, this, [this] {
        const auto j = m_ex.job(currentJobId());
        if (j)
            emit rerunEditedRequested(*j);
    });

    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &t) {
        m_proxy->setNameFilter(t);
        updateCount();
    });
    connect(m_status, &QComboBox::currentIndexChanged, this, [this] {
        m_proxy->setStatusFilter(m_status->currentData().toString());
        updateCount();
    });
    connect(m_workspace, &QComboBox::currentIndexChanged, this, [this] {
        m_proxy->setWorkspaceFilter(m_workspace->currentData().toString());
        updateCount();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &JobsView::onCurrentChanged);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &JobsView::updateCount);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &JobsView::updateCount);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &JobsView::updateCount);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &JobsView::updateWorkspaceChoices);
    connect(m_model, &QAbstractItemModel::modelReset, this, &JobsView::updateWorkspaceChoices);
    connect(&m_ex, &Executor::workspacesChanged, this, &JobsView::updateWorkspaceChoices);
    connect(&m_ex, &Executor::jobChanged, this, [this](const QString &id) {
        if (id == currentJobId())
            updateActions();
    });
    updateWorkspaceChoices();
    updateCount();
    updateActions();
}

QString JobsView::currentJobId() const
{
    return m_detail->jobId();
}

bool JobsView::selectJob(const QString &requestId)
{
    const int srcRow = m_model->rowOf(requestId);
    if (srcRow < 0)
        return false;
    QModelIndex idx = m_proxy->mapFromSource(m_model->index(srcRow, 0));
    if (!idx.isValid()) {
        m_search->clear();
        m_status->setCurrentIndex(0);
        m_workspace->setCurrentIndex(0);
        idx = m_proxy->mapFromSource(m_model->index(srcRow, 0));
        if (!idx.isValid())
            return false;
    }
    m_table->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(idx);
    return true;
}

void JobsView::focusSearch()
{
    m_search->setFocus(Qt::ShortcutFocusReason);
    m_search->selectAll();
}

void JobsView::showWorkspace(const QString &workspaceId)
{
    updateWorkspaceChoices();
    const int i = m_workspace->findData(workspaceId);
    m_workspace->setCurrentIndex(i >= 0 ? i : 0);
}

void JobsView::refresh()
{
    const QString current = currentJobId();
    m_model->reload();
    if (!current.isEmpty())
        selectJob(current);
    updateWorkspaceChoices();
}

void JobsView::onCurrentChanged()
{
    const QModelIndex idx = m_table->selectionModel()->currentIndex();
    m_detail->setJob(idx.isValid() ? idx.data(JobsModel::RequestIdRole).toString() : QString());
    updateActions();
}

void JobsView::updateActions()
{
    const auto j = m_detail->jobId().isEmpty() ? std::nullopt : m_ex.job(m_detail->jobId());
    const bool has = j.has_value();
    m_cancel->setEnabled(has && !isFinished(j->status));
    m_rerun->setEnabled(has);
    m_rerunEdited->setEnabled(has);
    m_copy->setEnabled(has);
}

void JobsView::updateWorkspaceChoices()
{
    QStringList ids = m_model->workspaceIds();
    for (const WorkspaceState &w : m_ex.workspaces())
        if (!ids.contains(w.info.id))
            ids << w.info.id;
    ids.sort();
    const QString current = m_workspace->currentData().toString();
    QStringList have;
    for (int i = 2; i < m_workspace->count(); ++i)
        have << m_workspace->itemData(i).toString();
    if (have == ids && m_workspace->count() >= 2)
        return;
    const QSignalBlocker block(m_workspace);
    m_workspace->clear();
    m_workspace->addItem(tr("All workspaces"), QString());
    m_workspace->addItem(tr("No workspace (stateless)"), QLatin1String(JobsFilterProxy::kNoWorkspace));
    for (const QString &id : ids)
        m_workspace->addItem(id, id);
    const int i = m_workspace->findData(current);
    m_workspace->setCurrentIndex(i >= 0 ? i : 0);
    if (i < 0 && !current.isEmpty()) {
        m_proxy->setWorkspaceFilter(QString());
        updateCount();
    }
}

void JobsView::updateCount()
{
    const int shown = m_proxy->rowCount();
    const int all = m_model->rowCount();
    m_count->setText(shown == all ? counted(all, tr("job"), tr("jobs")) : tr("%1 of %2 jobs").arg(shown).arg(all));
}

void JobsView::cancelCurrent()
{
    const QString id = currentJobId();
    if (id.isEmpty())
        return;
    ExecError e;
    if (!m_ex.cancel(id, &e)) {
        emit errorMessage(tr("Cannot cancel the job"), e.message);
        return;
    }
    const auto j = m_ex.job(id);
    emit statusMessage(j && j->status == JobStatus::Cancelled ? tr("Cancelled “%1”.").arg(j->name)
                                                              : tr("Stopping “%1”…").arg(j ? j->name : id));
    updateActions();
}

void JobsView::rerunCurrent()
{
    const auto j = m_ex.job(currentJobId());
    if (!j)
        return;
    JobRequest r;
    r.name = j->name;
    r.script = j->script;
    r.stateful = j->stateful;
    r.workspaceId = j->workspaceId;
    if (j->stateful && !m_ex.workspace(j->workspaceId) && j->workspaceSizeGb > 0)
        r.workspaceSizeGb = j->workspaceSizeGb; // the workspace was deleted: make it again, same size
    r.env = j->env;
    r.vcpus = j->vcpus;
    r.memoryMb = j->memoryMb;
    r.timeoutSec = j->timeoutSec > 0 ? std::optional<int>(j->timeoutSec) : std::nullopt;
    r.network = j->network;
    r.source = QStringLiteral("gui");
    ExecError e;
    const auto added = m_ex.submit(r, &e);
    if (!added) {
        emit errorMessage(tr("Cannot re-run the job"), e.message);
        return;
    }
    selectJob(added->requestId);
    emit statusMessage(tr("Queued “%1” again.").arg(added->name));
}

void JobsView::copyCurrentOutput()
{
    if (m_detail->jobId().isEmpty())
        return;
    const int stream = m_detail->currentStream();
    const QByteArray data = m_detail->fullLog(stream);
    QGuiApplication::clipboard()->setText(QString::fromUtf8(data));
    emit statusMessage(tr("Copied %1 of %2 to the clipboard.").arg(formatBytes(data.size()), stream == 2 ? tr("stderr") : tr("stdout")));
}

} // namespace magpie::ui
