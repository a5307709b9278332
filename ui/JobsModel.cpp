#include "JobsModel.h"

#include "UiFormat.h"

#include <QGuiApplication>
#include <QFont>
#include <QPalette>

namespace magpie::ui {

JobsModel::JobsModel(Executor &executor, QObject *parent)
    : QAbstractTableModel(parent), m_ex(executor)
{
    connect(&m_ex, &Executor::jobAdded, this, &JobsModel::onJobAdded);
    connect(&m_ex, &Executor::jobChanged, this, &JobsModel::onJobChanged);
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &JobsModel::tick);
    reload();
}

void JobsModel::reload()
{
    JobFilter f;
    f.limit = kMaxRows;
    const JobPage page = m_ex.jobs(f);
    beginResetModel();
    m_rows = page.jobs;
    for (JobRecord &j : m_rows)
        j.script.clear(); // kept out of memory; the detail pane reads it from the executor
    rebuildIndex();
    endResetModel();
    if (!m_active.isEmpty())
        m_tick.start();
}

void JobsModel::rebuildIndex()
{
    m_index.clear();
    m_active.clear();
    for (int i = 0; i < m_rows.size(); ++i) {
        m_index.insert(m_rows.at(i).requestId, i);
        if (!isFinished(m_rows.at(i).status))
            m_active.insert(m_rows.at(i).requestId);
    }
}

int JobsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int JobsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColCount;
}

int JobsModel::rowOf(const QString &requestId) const
{
    return m_index.value(requestId, -1);
}

const JobRecord *JobsModel::record(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

const JobRecord *JobsModel::find(const QString &requestId) const
{
    return record(rowOf(requestId));
}

QStringList JobsModel::workspaceIds() const
{
    QSet<QString> ids;
    for (const JobRecord &j : m_rows)
        if (!j.workspaceId.isEmpty())
            ids.insert(j.workspaceId);
    QStringList out(ids.begin(), ids.end());
    out.sort();
    return out;
}

QVariant JobsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QVariant();
    switch (section) {
    case ColStatus: return tr("Status");
    case ColName: return tr("Name");
    case ColWorkspace: return tr("Workspace");
    case ColExit: return tr("Exit");
    case ColCreated: return tr("Created");
    case ColDuration: return tr("Duration");
    }
    return QVariant();
}

QVariant JobsModel::data(const QModelIndex &index, int role) const
{
    const JobRecord *j = index.isValid() ? record(index.row()) : nullptr;
    if (!j)
        return QVariant();
    switch (role) {
    case RequestIdRole: return j->requestId;
    case StatusRole: return int(j->status);
    case WorkspaceRole: return j->workspaceId;
    default: break;
    }
    const int col = index.column();
    if (role == Qt::DisplayRole) {
        switch (col) {
        case ColStatus: return statusLabel(j->status);
        case ColName: return j->name;
        case ColWorkspace: return j->workspaceId.isEmpty() ? tr("—") : j->workspaceId;
        case ColExit: return j->exitCode ? QVariant(*j->exitCode) : QVariant(QString());
        case ColCreated: return formatLocalTime(j->createdAt);
        case ColDuration: {
            if (j->status == JobStatus::Queued)
                return tr("waiting");
            const auto ms = jobElapsedMs(*j);
            return ms ? formatDuration(*ms) : QString();
        }
        }
    } else if (role == SortRole) {
        switch (col) {
        case ColStatus: return int(j->status);
        case ColName: return j->name.toLower();
        case ColWorkspace: return j->workspaceId;
        case ColExit: return j->exitCode ? *j->exitCode : -1000000;
        case ColCreated: return j->seq;
        case ColDuration: {
            const auto ms = jobElapsedMs(*j);
            return ms ? *ms : qint64(-1);
        }
        }
    } else if (role == Qt::DecorationRole && col == ColStatus) {
        return statusIcon(j->status, QGuiApplication::palette());
    } else if (role == Qt::ForegroundRole && (col == ColStatus || (col == ColExit && j->exitCode && *j->exitCode != 0))) {
        return statusColor(col == ColExit ? JobStatus::Failed : j->status, QGuiApplication::palette());
    } else if (role == Qt::FontRole && col == ColStatus) {
        QFont f;
        f.setBold(true);
        return f;
    } else if (role == Qt::TextAlignmentRole && (col == ColExit || col == ColDuration)) {
        return int(Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::ToolTipRole) {
        QString tip = QStringLiteral("%1\n%2").arg(j->name, j->requestId);
        if (!j->error.isEmpty())
            tip += QStringLiteral("\n\n") + j->error;
        if (!j->notice.isEmpty())
            tip += QStringLiteral("\n\n") + j->notice;
        return tip;
    }
    return QVariant();
}

void JobsModel::onJobAdded(const QString &id)
{
    if (m_index.contains(id)) {
        onJobChanged(id);
        return;
    }
    auto j = m_ex.job(id);
    if (!j)
        return;
    j->script.clear();
    const int row = int(m_rows.size());
    beginInsertRows(QModelIndex(), row, row);
    m_rows.append(*j);
    m_index.insert(id, row);
    if (!isFinished(j->status))
        m_active.insert(id);
    endInsertRows();
    if (!m_active.isEmpty() && !m_tick.isActive())
        m_tick.start();
}

void JobsModel::onJobChanged(const QString &id)
{
    const int row = rowOf(id);
    if (row < 0) {
        onJobAdded(id);
        return;
    }
    auto j = m_ex.job(id);
    if (!j)
        return;
    j->script.clear();
    const bool wasActive = !isFinished(m_rows.at(row).status);
    m_rows[row] = *j;
    if (isFinished(j->status))
        m_active.remove(id);
    else
        m_active.insert(id);
    emit dataChanged(index(row, 0), index(row, ColCount - 1));
    if (!m_active.isEmpty() && !m_tick.isActive())
        m_tick.start();
    if (wasActive && isFinished(j->status))
        emit jobFinished(id);
}

void JobsModel::tick()
{
    if (m_active.isEmpty()) {
        m_tick.stop();
        return;
    }
    for (const QString &id : std::as_const(m_active)) {
        const int row = rowOf(id);
        if (row >= 0 && m_rows.at(row).status == JobStatus::Running)
            emit dataChanged(index(row, ColDuration), index(row, ColDuration), {Qt::DisplayRole, SortRole});
    }
}

} // namespace magpie::ui
