#include "JobChangesView.h"

#include "MessageBox.h"
#include "UiFormat.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QStyle>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace magpie::ui {

JobChangesView::JobChangesView(Executor &executor, QWidget *parent)
    : QWidget(parent), m_ex(executor)
{
    setObjectName(QStringLiteral("jobChanges"));
    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(4, 4, 4, 4);
    auto *top = new QHBoxLayout;
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("changesSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addWidget(m_summary, 1);
    m_rollback = new QPushButton(style()->standardIcon(QStyle::SP_BrowserReload), tr("&Roll back to before this job…"), this);
    m_rollback->setObjectName(QStringLiteral("rollbackButton"));
    top->addWidget(m_rollback);
    v->addLayout(top);
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("changesList"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setAlternatingRowColors(true);
    m_list->setSortingEnabled(true);
    m_list->setHeaderLabels({tr("Change"), tr("Path"), tr("Size"), tr("Type")});
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    v->addWidget(m_list, 1);
    connect(m_rollback, &QPushButton::clicked, this, &JobChangesView::rollback);
    connect(&m_ex, &Executor::jobChanged, this, [this](const QString &id) {
        if (id == m_id)
            reload();
    });
    setJob(QString());
}

void JobChangesView::setJob(const QString &requestId)
{
    m_id = requestId;
    reload();
}

void JobChangesView::reload()
{
    m_list->clear();
    const auto j = m_id.isEmpty() ? std::nullopt : m_ex.job(m_id);
    updateButton(j);
    if (!j)
        return m_summary->setText(QString());
    if (!j->stateful)
        return m_summary->setText(tr("A stateless job: it kept no workspace, so there is nothing to show."));
    if (!isFinished(j->status))
        return m_summary->setText(tr("The changes are listed when the job ends."));
    ExecError e;
    const auto ch = m_ex.jobChanges(m_id, &e);
    if (!ch)
        return m_summary->setText(tr("No changes were recorded for this job (%1).").arg(e.message));
    m_list->setSortingEnabled(false);
    const struct { const QList<FileChange> *items; QString kind; } groups[] = {
        {&ch->added, tr("added")}, {&ch->modified, tr("modified")}, {&ch->deleted, tr("deleted")}};
    for (const auto &g : groups) {
        for (const FileChange &c : *g.items) {
            auto *it = new QTreeWidgetItem(m_list, {g.kind, c.path, c.type == QLatin1String("dir") ? QString() : formatBytes(c.size), c.type});
            it->setData(0, KindRole, g.kind);
            it->setData(1, PathRole, c.path);
            it->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
        }
    }
    m_list->setSortingEnabled(true);
    m_list->sortByColumn(1, Qt::AscendingOrder);
    for (int c = 0; c < 4; ++c)
        if (c != 1)
            m_list->resizeColumnToContents(c);
    QString text = tr("%1 added (%2), %3 modified (%4), %5 deleted (%6).")
                       .arg(ch->added.size()).arg(formatBytes(ch->addedBytes))
                       .arg(ch->modified.size()).arg(formatBytes(ch->modifiedBytes))
                       .arg(ch->deleted.size()).arg(formatBytes(ch->deletedBytes));
    if (ch->truncated)
        text += QLatin1Char(' ') + tr("Truncated: the workspace has more than 100,000 entries, so this list is incomplete.");
    m_summary->setText(text);
}

int JobChangesView::laterJobs() const
{
    const auto j = m_id.isEmpty() ? std::nullopt : m_ex.job(m_id);
    if (!j || j->workspaceId.isEmpty())
        return 0;
    JobFilter f;
    f.workspaceId = j->workspaceId;
    f.limit = 10000;
    f.withTotal = false;
    f.scriptChars = 0;
    int later = 0;
    for (const JobRecord &o : m_ex.jobs(f).jobs)
        later += o.seq > j->seq && !o.startedAt.isEmpty();
    return later;
}

void JobChangesView::updateButton(const std::optional<JobRecord> &j)
{
    const bool can = j && j->stateful && isFinished(j->status) && !j->checkpointName.isEmpty() && !m_busy;
    m_rollback->setEnabled(can);
    m_rollback->setToolTip(!j ? QString()
                           : !j->stateful ? tr("A stateless job changed no workspace")
                           : !isFinished(j->status) ? tr("Roll back once the job has ended")
                           : j->checkpointName.isEmpty() ? tr("This job ran without a checkpoint")
                                                         : tr("Put workspace “%1” back as it was just before this job").arg(j->workspaceId));
}

void JobChangesView::rollback()
{
    const auto j = m_id.isEmpty() ? std::nullopt : m_ex.job(m_id);
    if (!j || m_busy)
        return;
    const int later = laterJobs();
    QString lost = tr("Every change made to workspace “%1” since this job started will be lost (a snapshot of the state now is kept first).")
                       .arg(j->workspaceId);
    if (later > 0)
        lost += QLatin1Char(' ') + tr("%1 that ran on it after this one will be undone too.").arg(counted(later, tr("later job"), tr("later jobs")));
    if (MessageBox::confirm(this, QStringLiteral("confirmRollback"), tr("Roll back"),
                            tr("Put workspace “%1” back as it was before job %2?").arg(j->workspaceId, m_id), lost,
                            later > 0 ? tr("Roll back and undo %1").arg(counted(later, tr("job"), tr("jobs"))) : tr("Roll back"))
        != MessageBox::Action)
        return;
    m_busy = true;
    updateButton(j);
    m_summary->setText(tr("Rolling back workspace “%1” (waits for its queued jobs)…").arg(j->workspaceId));
    QPointer<JobChangesView> self(this);
    const QString id = m_id;
    m_ex.rollbackJob(id, later > 0, [self, id](bool ok, const ExecError &e, const QJsonObject &info) {
        if (!self)
            return;
        self->m_busy = false;
        self->reload();
        if (!ok) {
            MessageBox::warning(self, tr("Cannot roll back"), tr("Job %1 could not be rolled back; nothing was changed.").arg(id), e.message);
            emit self->rollbackFailed(id, e.message);
            return;
        }
        const int undone = info.value(QStringLiteral("undone_jobs")).toInt();
        self->m_summary->setText(tr("Rolled back to before job %1.").arg(id)
                                 + (undone > 0 ? QLatin1Char(' ') + tr("%1 undone too.").arg(counted(undone, tr("later job"), tr("later jobs"))) : QString()));
        emit self->rolledBack(id, undone);
    });
}

} // namespace magpie::ui
