#include "CleanupDialog.h"

#include "DialogPlacement.h"
#include "MessageBox.h"
#include "UiFormat.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QStyle>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

namespace magpie::ui {

CleanupDialog::CleanupDialog(Executor &executor, QString workspaceId, QWidget *parent)
    : QDialog(parent), m_ex(executor), m_id(std::move(workspaceId))
{
    setObjectName(QStringLiteral("cleanupDialog"));
    setWindowTitle(tr("Clean up workspace %1").arg(m_id));
    resize(720, 480);
    auto *v = new QVBoxLayout(this);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    v->addWidget(m_summary);
    m_model = new QStandardItemModel(0, 3, this);
    m_model->setHorizontalHeaderLabels({tr("Size"), tr("Type"), tr("Path")});
    m_model->setSortRole(Qt::UserRole);
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("usageTable"));
    m_table->setModel(m_model);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->resizeSection(0, 100);
    m_table->horizontalHeader()->resizeSection(1, 70);
    v->addWidget(m_table, 1);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("cleanupStatus"));
    m_status->setWordWrap(true);
    v->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(this);
    m_delete = buttons->addButton(tr("&Delete selected…"), QDialogButtonBox::ActionRole);
    m_delete->setObjectName(QStringLiteral("cleanupDeleteButton"));
    m_delete->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));
    m_refresh = buttons->addButton(tr("&Refresh"), QDialogButtonBox::ActionRole);
    m_refresh->setIcon(style()->standardIcon(QStyle::SP_BrowserReload));
    buttons->addButton(QDialogButtonBox::Close);
    v->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    connect(m_delete, &QPushButton::clicked, this, &CleanupDialog::deleteSelected);
    connect(m_refresh, &QPushButton::clicked, this, &CleanupDialog::reload);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &CleanupDialog::updateButtons);
    connect(&m_ex, &Executor::workspacesChanged, this, [this] {
        if (!m_ex.workspace(m_id))
            close();
        else
            updateSummary();
    });
    connect(&m_ex, &Executor::jobChanged, this, [this](const QString &id) {
        if (id != m_jobId)
            return;
        const auto j = m_ex.job(id);
        if (!j || !isFinished(j->status))
            return;
        m_jobId.clear();
        if (j->status == JobStatus::Completed) {
            m_status->setText(tr("Clean-up finished. Reading the sizes again…"));
            reload();
        } else {
            m_status->setText(tr("The clean-up job ended %1: %2").arg(magpie::ui::statusLabel(j->status).toLower(),
                                                                        j->error.isEmpty() ? tr("see its output in the Jobs tab") : j->error));
            updateButtons();
        }
    });
    updateSummary();
    updateButtons();
    centreOnParentWindow(this);
    reload();
}

void CleanupDialog::updateSummary()
{
    const auto w = m_ex.workspace(m_id);
    if (!w)
        return;
    const WorkspaceInfo &i = w->info;
    QString text = tr("<b>%1</b>: fixed size %2 GB").arg(m_id.toHtmlEscaped()).arg(i.sizeGb);
    if (i.usedBytes >= 0 && i.totalBytes > 0)
        text += tr(", %1 used of %2 after the last job").arg(formatBytes(i.usedBytes), formatBytes(i.totalBytes));
    text += tr(". The largest files and folders are listed first; folder sizes include their contents.");
    m_summary->setText(text);
}

void CleanupDialog::updateButtons()
{
    const bool jobPending = !m_jobId.isEmpty();
    m_delete->setEnabled(!m_loading && !jobPending && !m_table->selectionModel()->selectedRows().isEmpty());
    m_refresh->setEnabled(!m_loading && !jobPending);
}

void CleanupDialog::reload()
{
    m_loading = true;
    updateButtons();
    m_status->setText(tr("Measuring… (a short VM run; it waits until the workspace's running or queued jobs are done)"));
    QPointer<CleanupDialog> self(this);
    m_ex.diskUsage(m_id, kLimit, [self](std::optional<ExecError> err, QList<FileEntry> entries) {
        if (!self)
            return;
        self->m_loading = false;
        if (err) {
            self->m_status->setText(tr("Could not measure the workspace: %1").arg(err->message));
            self->updateButtons();
            return;
        }
        QStandardItemModel *m = self->m_model;
        m->removeRows(0, m->rowCount());
        for (const FileEntry &e : entries) {
            auto *size = new QStandardItem(formatBytes(e.size));
            size->setData(e.size, Qt::UserRole);
            size->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            auto *type = new QStandardItem(e.type == QLatin1String("dir") ? tr("folder") : tr("file"));
            type->setData(e.type, Qt::UserRole);
            auto *path = new QStandardItem(e.path);
            path->setData(e.path, Qt::UserRole);
            path->setIcon(self->style()->standardIcon(e.type == QLatin1String("dir") ? QStyle::SP_DirIcon : QStyle::SP_FileIcon));
            m->appendRow({size, type, path});
        }
        self->m_table->sortByColumn(0, Qt::DescendingOrder);
        self->m_status->setText(entries.isEmpty() ? tr("The workspace is empty.")
                                                  : tr("%1 listed. Select some and press Delete selected.").arg(counted(entries.size(), tr("entry"), tr("entries"))));
        self->updateSummary();
        self->updateButtons();
        emit self->loaded();
    });
}

std::optional<JobRequest> CleanupDialog::cleanupRequest(const QString &workspaceId, const QStringList &paths, QString *why)
{
    QStringList clean;
    for (const QString &p : paths) {
        ExecError e;
        const auto rel = Executor::normaliseWorkspacePath(p, &e);
        if (!rel) {
            *why = e.message;
            return std::nullopt;
        }
        if (rel->isEmpty()) {
            *why = tr("the workspace root itself cannot be cleaned up this way; delete the workspace instead");
            return std::nullopt;
        }
        if (!clean.contains(*rel))
            clean << *rel;
    }
    if (clean.isEmpty()) {
        *why = tr("nothing selected");
        return std::nullopt;
    }
    JobRequest r;
    r.name = clean.size() == 1 ? tr("Clean up: %1").arg(clean.first()) : tr("Clean up: %1 and %2 more").arg(clean.first()).arg(clean.size() - 1);
    if (r.name.size() > JobLimits::kMaxNameLength)
        r.name = r.name.left(JobLimits::kMaxNameLength - 1) + QChar(0x2026);
    QString script = QStringLiteral("# Deletes files picked in Magpie Desktop's clean-up view.\nset -e\n");
    for (const QString &p : clean)
        script += QStringLiteral("rm -rf -- %1\n").arg(shellQuote(QStringLiteral("/workspace/") + p));
    script += QStringLiteral("echo \"Deleted %1 item(s).\"\ndf -h /workspace | tail -n 1\n").arg(clean.size());
    r.script = script;
    r.stateful = true;
    r.workspaceId = workspaceId;
    r.network = false;
    r.source = QStringLiteral("gui");
    return r;
}

bool CleanupDialog::deletePaths(const QStringList &paths)
{
    QString why;
    const auto r = cleanupRequest(m_id, paths, &why);
    if (!r) {
        m_status->setText(tr("Cannot clean up: %1").arg(why));
        return false;
    }
    ExecError e;
    const auto j = m_ex.submit(*r, &e);
    if (!j) {
        m_status->setText(tr("Cannot clean up: %1").arg(e.message));
        return false;
    }
    m_jobId = j->requestId;
    m_status->setText(tr("Queued the job “%1”; the list is read again when it has finished.").arg(j->name));
    updateButtons();
    emit jobSubmitted(j->requestId);
    return true;
}

void CleanupDialog::deleteSelected()
{
    QStringList paths;
    qint64 total = 0;
    for (const QModelIndex &idx : m_table->selectionModel()->selectedRows(2)) {
        paths << idx.data(Qt::UserRole).toString();
        total += m_model->index(idx.row(), 0).data(Qt::UserRole).toLongLong();
    }
    if (paths.isEmpty())
        return;
    QStringList shown;
    for (int i = 0; i < paths.size() && i < 12; ++i)
        shown << QStringLiteral("• /workspace/") + paths.at(i);
    if (paths.size() > 12)
        shown << tr("… and %1 more").arg(paths.size() - 12);
    const auto answer = MessageBox::confirm(this, QStringLiteral("confirmDeleteFiles"), tr("Delete files"),
                                            tr("Delete %1 from workspace “%2” for good?").arg(counted(paths.size(), tr("item"), tr("items")), m_id),
                                            tr("%1\n\nAbout %2 will be freed. The deletion runs as a job in this workspace's queue, after any job already waiting there.")
                                                .arg(shown.join(QLatin1Char('\n')), formatBytes(total)),
                                            tr("Delete"));
    if (answer == MessageBox::Action)
        deletePaths(paths);
}

} // namespace magpie::ui
