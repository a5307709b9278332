// JobsFilterProxy.h — sorting and filtering of JobsModel: name search, status and workspace.
#pragma once

#include <QSortFilterProxyModel>
#include <QString>

namespace magpie::ui {

class JobsFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    static constexpr const char *kActive = "active";      // status filter: queued or running
    static constexpr const char *kFinished = "finished";  // status filter: anything finished
    static constexpr const char *kNoWorkspace = "-";      // workspace filter: stateless jobs

    explicit JobsFilterProxy(QObject *parent = nullptr);

    void setNameFilter(const QString &text);
    // "" (all), kActive, kFinished or a status name ("completed", "timed_out", …).
    void setStatusFilter(const QString &status);
    // "" (all), kNoWorkspace or a workspace id.
    void setWorkspaceFilter(const QString &workspaceId);
    QString nameFilter() const { return m_name; }
    QString statusFilter() const { return m_status; }
    QString workspaceFilter() const { return m_workspace; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_name, m_status, m_workspace;
};

} // namespace magpie::ui
