// WorkspacesModel.h — the workspaces as a table (id, size, used space, last used, job count,
// state), kept live from Executor::workspacesChanged. Rows are updated in place so selection
// survives a refresh.
#pragma once

#include "Executor.h"

#include <QAbstractTableModel>
#include <QList>

namespace magpie::ui {

class WorkspacesModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { ColId, ColSize, ColUsed, ColOnDisk, ColLastUsed, ColJobs, ColState, ColCount };
    enum Role {
        IdRole = Qt::UserRole + 1,
        UsedBytesRole,   // qint64, -1 when unknown
        TotalBytesRole,  // qint64, -1 when unknown
        BusyRole,        // bool: running or queued
        SortRole,
    };

    explicit WorkspacesModel(Executor &executor, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void reload();
    int rowOf(const QString &id) const;
    const WorkspaceState *state(int row) const;

    static QString stateText(const WorkspaceState &w);

private:
    Executor &m_ex;
    QList<WorkspaceState> m_rows;
};

} // namespace magpie::ui
