#include "JobsFilterProxy.h"

#include "JobRecord.h"
#include "JobsModel.h"

namespace magpie::ui {

JobsFilterProxy::JobsFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(JobsModel::SortRole);
    setDynamicSortFilter(true);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

void JobsFilterProxy::setNameFilter(const QString &text)
{
    if (m_name == text.trimmed())
        return;
    m_name = text.trimmed();
    invalidateFilter();
}

void JobsFilterProxy::setStatusFilter(const QString &status)
{
    if (m_status == status)
        return;
    m_status = status;
    invalidateFilter();
}

void JobsFilterProxy::setWorkspaceFilter(const QString &workspaceId)
{
    if (m_workspace == workspaceId)
        return;
    m_workspace = workspaceId;
    invalidateFilter();
}

bool JobsFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex idx = sourceModel()->index(sourceRow, JobsModel::ColName, sourceParent);
    if (!m_name.isEmpty() && !idx.data(Qt::DisplayRole).toString().contains(m_name, Qt::CaseInsensitive))
        return false;
    if (!m_status.isEmpty()) {
        const auto status = JobStatus(idx.data(JobsModel::StatusRole).toInt());
        if (m_status == QLatin1String(kActive)) {
            if (isFinished(status))
                return false;
        } else if (m_status == QLatin1String(kFinished)) {
            if (!isFinished(status))
                return false;
        } else if (statusName(status) != m_status) {
            return false;
        }
    }
    if (!m_workspace.isEmpty()) {
        const QString ws = idx.data(JobsModel::WorkspaceRole).toString();
        if (m_workspace == QLatin1String(kNoWorkspace) ? !ws.isEmpty() : ws != m_workspace)
            return false;
    }
    return true;
}

} // namespace magpie::ui
