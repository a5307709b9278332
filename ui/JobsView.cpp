#include "JobsView.h"

#include "MessageBox.h"

#include "ExampleJobs.h"
#include "JobDetail.h"
#include "JobsModel.h"
#include "UiFormat.h"
#include "WelcomePage.h"

#include <QAction>
#include <algorithm>
#include <QClipboard>
#include <QComboBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStyle>
#include <QTableView>
#include <QVBoxLayout>

namespace magpie::ui {

JobsView::JobsView(Executor &executor, QWidget *parent)
    : QWidget(parent), m_ex(executor)
{
    m_model = new JobsModel(m_ex, this);

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

    m_pages = new QStackedWidget(this);
    m_splitter = new QSplitter(Qt::Vertical, m_pages);
    m_splitter->setObjectName(QStringLiteral("jobsSplitter"));
    m_table = new QTableView(m_splitter);
    m_table->setObjectName(QStringLiteral("jobsTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection); // Ctrl/Shift+click: several, to delete
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
    m_welcome = new WelcomePage(m_pages);
    m_pages->addWidget(m_splitter);
    m_pages->addWidget(m_welcome);
    v->addWidget(m_pages, 1);

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
    m_delete = new QAction(style()->standardIcon(QStyle::SP_TrashIcon), tr("&Delete from history…"), this);
    m_delete->setObjectName(QStringLiteral("deleteJobsAction"));
    // Del itself is the window's "Delete / cancel selected", which comes here for finished jobs.
    m_delete->setToolTip(tr("Delete the selected finished jobs' records and output (Del); workspaces stay"));
    m_table->addActions({m_cancel, m_rerun, m_rerunEdited, m_copy, m_delete});
    connect(m_delete, &QAction::triggered, this, &JobsView::deleteSelected);
    m_detail->setActions({m_cancel, m_rerun, m_rerunEdited, m_copy});
    connect(m_cancel, &QAction::triggered, this, &JobsView::cancelCurrent);
    connect(m_rerun, &QAction::triggered, this, &JobsView::rerunCurrent);
    connect(m_copy, &QAction::triggered, this, &JobsView::copyCurrentOutput);
    connect(m_rerunEdited, &QAction::triggered, this, [this] {
        const auto j = currentJobId().isEmpty() ? std::nullopt : m_ex.job(currentJobId());
        if (j)
            emit rerunEditedRequested(*j);
    });
    connect(m_detail, &JobDetail::snippetCopied, this, &JobsView::statusMessage);
    connect(m_welcome, &WelcomePage::runExampleRequested, this, &JobsView::runExample);
    connect(m_welcome, &WelcomePage::newJobRequested, this, &JobsView::newJobRequested);

    m_searchDelay.setSingleShot(true);
    m_searchDelay.setInterval(kSearchDelayMs);
    connect(&m_searchDelay, &QTimer::timeout, this, &JobsView::applyFilter);
    connect(m_search, &QLineEdit::textChanged, this, [this] { m_searchDelay.start(); });
    connect(m_search, &QLineEdit::returnPressed, this, &JobsView::applyFilter);
    connect(m_status, &QComboBox::currentIndexChanged, this, &JobsView::applyFilter);
    connect(m_workspace, &QComboBox::currentIndexChanged, this, &JobsView::applyFilter);
    // The actions follow the selection. (currentRowChanged fires before a click selects the
    // row, and a Ctrl+click can deselect the current row; neither is what the user sees.)
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &JobsView::onSelectionChanged);
    connect(m_model, &QAbstractItemModel::modelReset, this, &JobsView::onSelectionChanged);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &JobsView::onSelectionChanged);
    for (auto sig : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_model, sig, this, [this] {
            updateCount();
            updatePage();
        });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        updateCount();
        updatePage();
    });
    connect(&m_ex, &Executor::workspacesChanged, this, &JobsView::updateWorkspaceChoices);
    connect(&m_ex, &Executor::jobChanged, this, [this](const QString &id) {
        if (id == currentJobId())
            updateActions();
    });
    updateWorkspaceChoices();
    updateCount();
    updatePage();
    updateActions();
}

bool JobsView::isShowingWelcome() const
{
    return m_pages->currentWidget() == m_welcome;
}

void JobsView::updatePage()
{
    const bool empty = m_model->rowCount() == 0 && !m_model->isFiltered() && m_search->text().trimmed().isEmpty();
    m_pages->setCurrentWidget(empty ? static_cast<QWidget *>(m_welcome) : m_splitter);
}

QString JobsView::currentJobId() const
{
    const QItemSelectionModel *sel = m_table->selectionModel();
    const QModelIndex current = sel->currentIndex();
    if (current.isValid() && sel->isRowSelected(current.row(), QModelIndex()))
        return current.siblingAtColumn(0).data(JobsModel::RequestIdRole).toString();
    const QModelIndexList rows = sel->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(JobsModel::RequestIdRole).toString();
}

QStringList JobsView::selectedJobIds() const
{
    QModelIndexList rows = m_table->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(), [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
    QStringList ids;
    for (const QModelIndex &i : rows)
        ids << i.data(JobsModel::RequestIdRole).toString();
    return ids;
}

void JobsView::applyFilter()
{
    m_searchDelay.stop();
    JobFilter f;
    f.nameContains = m_search->text().trimmed();
    JobStatus s;
    if (parseStatus(m_status->currentData().toString(), &s))
        f.status = s;
    f.workspaceId = m_workspace->currentData().toString();
    const JobFilter now = m_model->filter();
    if (now.nameContains == f.nameContains && now.status == f.status && now.workspaceId == f.workspaceId)
        return;
    const QString keep = currentJobId();
    m_model->setFilter(f);
    if (!keep.isEmpty()) {
        const int row = m_model->rowOf(keep);
        if (row >= 0)
            m_table->selectionModel()->setCurrentIndex(m_model->index(row, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    }
}

bool JobsView::selectJob(const QString &requestId)
{
    const auto j = requestId.isEmpty() ? std::nullopt : m_ex.job(requestId);
    if (!j)
        return false;
    int row = m_model->ensureLoaded(requestId);
    if (row < 0) { // hidden by a filter: show everything
        {
            const QSignalBlocker b1(m_search), b2(m_status), b3(m_workspace);
            m_search->clear();
            m_status->setCurrentIndex(0);
            m_workspace->setCurrentIndex(0);
        }
        applyFilter();
        row = m_model->ensureLoaded(requestId);
        if (row < 0)
            return false;
    }
    const QModelIndex idx = m_model->index(row, 0);
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
    int i = m_workspace->findData(workspaceId);
    if (i < 0 && !workspaceId.isEmpty()) {
        m_workspace->addItem(workspaceId, workspaceId);
        i = m_workspace->count() - 1;
    }
    m_workspace->setCurrentIndex(i >= 0 ? i : 0);
    applyFilter();
}

void JobsView::refresh()
{
    const QString current = currentJobId();
    m_model->reload();
    if (!current.isEmpty())
        selectJob(current);
    updateWorkspaceChoices();
}

void JobsView::onSelectionChanged()
{
    m_detail->setJob(currentJobId());
    updateActions();
}

void JobsView::updateActions()
{
    const QString id = currentJobId();
    const auto j = id.isEmpty() ? std::nullopt : m_ex.job(id);
    const bool has = j.has_value();
    m_cancel->setEnabled(has && !isFinished(j->status));
    m_rerun->setEnabled(has);
    m_rerunEdited->setEnabled(has);
    m_copy->setEnabled(has);
    bool anyFinished = false;
    for (const QString &sid : selectedJobIds()) {
        const auto sj = m_ex.job(sid);
        if (sj && isFinished(sj->status)) {
            anyFinished = true;
            break;
        }
    }
    m_delete->setEnabled(anyFinished);
}

void JobsView::updateWorkspaceChoices()
{
    QStringList ids;
    for (const WorkspaceState &w : m_ex.workspaces())
        ids << w.info.id;
    const QString current = m_workspace->currentData().toString();
    if (!current.isEmpty() && !ids.contains(current))
        ids << current; // a deleted workspace's jobs stay in the history
    ids.sort();
    QStringList have;
    for (int i = 1; i < m_workspace->count(); ++i)
        have << m_workspace->itemData(i).toString();
    if (have == ids && m_workspace->count() >= 1)
        return;
    const QSignalBlocker block(m_workspace);
    m_workspace->clear();
    m_workspace->addItem(tr("All workspaces"), QString());
    for (const QString &id : ids)
        m_workspace->addItem(id, id);
    const int i = m_workspace->findData(current);
    m_workspace->setCurrentIndex(i >= 0 ? i : 0);
}

void JobsView::updateCount()
{
    const int n = m_model->matchingCount();
    m_count->setText(m_model->isFiltered() ? tr("%1 matching").arg(counted(n, tr("job"), tr("jobs")))
                                           : counted(n, tr("job"), tr("jobs")));
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

void JobsView::deleteSelected()
{
    QList<JobRecord> finished;
    int active = 0;
    for (const QString &id : selectedJobIds()) {
        const auto j = m_ex.job(id);
        if (!j)
            continue;
        if (isFinished(j->status))
            finished.append(*j);
        else
            ++active;
    }
    if (finished.isEmpty())
        return;
    QStringList names;
    for (int i = 0; i < finished.size() && i < 5; ++i)
        names << QStringLiteral("“%1” (%2)").arg(finished.at(i).name, finished.at(i).requestId);
    if (finished.size() > 5)
        names << tr("and %1 more").arg(finished.size() - 5);
    const QString title = finished.size() == 1 ? tr("Delete this job from the history?")
                                               : tr("Delete %1 jobs from the history?").arg(finished.size());
    QString info = tr("Their records, output and logs are removed for good. Workspaces and their files stay.");
    if (active > 0)
        info += QLatin1Char(' ') + tr("%1 queued or running selected job(s) are kept; cancel them first.").arg(active);
    const auto answer = MessageBox::confirm(this, QStringLiteral("deleteJobsConfirm"), tr("Delete from history"),
                                            title + QLatin1Char('\n') + names.join(QLatin1Char('\n')), info,
                                            finished.size() == 1 ? tr("Delete") : tr("Delete %1 jobs").arg(finished.size()));
    if (answer != MessageBox::Action)
        return;
    int deleted = 0;
    QStringList failures;
    for (const JobRecord &j : finished) {
        ExecError e;
        if (m_ex.deleteJob(j.requestId, &e))
            ++deleted;
        else
            failures << QStringLiteral("%1: %2").arg(j.name, e.message);
    }
    updateCount();
    updateActions();
    if (!failures.isEmpty())
        emit errorMessage(tr("Some jobs were not deleted"), failures.join(QLatin1Char('\n')));
    emit statusMessage(deleted == 1 ? tr("Deleted 1 job from the history.") : tr("Deleted %1 jobs from the history.").arg(deleted));
}

void JobsView::rerunCurrent()
{
    const QString id = currentJobId();
    const auto j = id.isEmpty() ? std::nullopt : m_ex.job(id);
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

bool JobsView::runExample()
{
    QString last;
    for (const JobRequest &r : ExampleJobs::counter()) {
        ExecError e;
        const auto j = m_ex.submit(r, &e);
        if (!j) {
            emit errorMessage(tr("Cannot run the example"), e.message);
            return false;
        }
        last = j->requestId;
    }
    selectJob(last);
    emit statusMessage(tr("Queued the example: %1 runs of the counter on workspace “%2”; they run one after another.")
                           .arg(ExampleJobs::kRuns)
                           .arg(QLatin1String(ExampleJobs::kWorkspace)));
    return true;
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
