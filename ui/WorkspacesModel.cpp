#include "WorkspacesModel.h"

#include "Tools.h"
#include "UiFormat.h"

#include <QGuiApplication>
#include <QSet>

namespace magpie::ui {

WorkspacesModel::WorkspacesModel(Executor &executor, QObject *parent)
    : QAbstractTableModel(parent), m_ex(executor)
{
    connect(&m_ex, &Executor::workspacesChanged, this, &WorkspacesModel::reload);
    connect(&m_ex, &Executor::poolChanged, this, &WorkspacesModel::reload); // queued counts
    reload();
}

void WorkspacesModel::reload()
{
    const QList<WorkspaceState> now = m_ex.workspaces();
    QSet<QString> ids;
    for (const WorkspaceState &w : now)
        ids.insert(w.info.id);
    for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
        if (!ids.contains(m_rows.at(i).info.id)) {
            beginRemoveRows(QModelIndex(), i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
    for (const WorkspaceState &w : now) {
        const int row = rowOf(w.info.id);
        if (row >= 0) {
            m_rows[row] = w;
            emit dataChanged(index(row, 0), index(row, ColCount - 1));
        } else {
            const int at = int(m_rows.size());
            beginInsertRows(QModelIndex(), at, at);
            m_rows.append(w);
            endInsertRows();
        }
    }
}

int WorkspacesModel::rowOf(const QString &id) const
{
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows.at(i).info.id == id)
            return i;
    return -1;
}

const WorkspaceState *WorkspacesModel::state(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

int WorkspacesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int WorkspacesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColCount;
}

QString WorkspacesModel::stateText(const WorkspaceState &w)
{
    if (w.running && w.queued > 0)
        return tr("running, %1 queued").arg(w.queued);
    if (w.running)
        return tr("running");
    if (w.queued > 0)
        return tr("queued %1").arg(w.queued);
    return tr("idle");
}

QVariant WorkspacesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QVariant();
    switch (section) {
    case ColId: return tr("Workspace");
    case ColSize: return tr("Size");
    case ColUsed: return tr("Used space");
    case ColOnDisk: return tr("On disk");
    case ColLastUsed: return tr("Last used");
    case ColJobs: return tr("Jobs");
    case ColState: return tr("State");
    }
    return QVariant();
}

QVariant WorkspacesModel::data(const QModelIndex &index, int role) const
{
    const WorkspaceState *w = index.isValid() ? state(index.row()) : nullptr;
    if (!w)
        return QVariant();
    const WorkspaceInfo &i = w->info;
    switch (role) {
    case IdRole: return i.id;
    case UsedBytesRole: return i.usedBytes;
    case TotalBytesRole: return i.totalBytes;
    case BusyRole: return w->running || w->queued > 0;
    default: break;
    }
    const int col = index.column();
    if (role == Qt::DisplayRole) {
        switch (col) {
        case ColId: return i.id;
        case ColSize: return tr("%1 GB").arg(i.sizeGb);
        case ColUsed:
            if (i.usedBytes < 0 || i.totalBytes <= 0)
                return tr("not measured yet");
            return tr("%1 of %2").arg(formatBytes(i.usedBytes), formatBytes(i.totalBytes));
        case ColOnDisk: return formatBytes(i.diskBytes);
        case ColLastUsed: return i.lastUsedAt.isEmpty() ? tr("never") : formatLocalTime(i.lastUsedAt);
        case ColJobs: return i.jobCount;
        case ColState: return stateText(*w);
        }
    } else if (role == SortRole) {
        switch (col) {
        case ColId: return i.id;
        case ColSize: return i.sizeGb;
        case ColUsed: return i.totalBytes > 0 && i.usedBytes >= 0 ? double(i.usedBytes) / double(i.totalBytes) : -1.0;
        case ColOnDisk: return i.diskBytes;
        case ColLastUsed: return i.lastUsedAt.isEmpty() ? i.createdAt : i.lastUsedAt;
        case ColJobs: return i.jobCount;
        case ColState: return (w->running ? 1000 : 0) + w->queued;
        }
    } else if (role == Qt::ForegroundRole && col == ColState && (w->running || w->queued > 0)) {
        return statusColor(w->running ? JobStatus::Running : JobStatus::Queued, QGuiApplication::palette());
    } else if (role == Qt::DecorationRole && col == ColState) {
        if (w->running)
            return statusIcon(JobStatus::Running, QGuiApplication::palette());
        if (w->queued > 0)
            return statusIcon(JobStatus::Queued, QGuiApplication::palette());
    } else if (role == Qt::TextAlignmentRole && (col == ColJobs || col == ColSize || col == ColOnDisk)) {
        return int(Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::ToolTipRole) {
        QString tip = tr("Workspace %1\nCreated %2\nFixed size %3 GB; its disk file takes %4 on this computer")
                          .arg(i.id, formatLocalTime(i.createdAt))
                          .arg(i.sizeGb)
                          .arg(formatBytes(i.diskBytes));
        if (i.usedBytes < 0)
            tip += tr("\nUsed space is measured at the end of each job.");
        return tip;
    }
    return QVariant();
}

} // namespace magpie::ui
