// JobsModel.h — the job history as a table, kept live from the Executor's signals (jobAdded,
// jobChanged). Rows are in no particular order; JobsFilterProxy sorts and filters them.
#pragma once

#include "Executor.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QSet>
#include <QTimer>

namespace magpie::ui {

class JobsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { ColStatus, ColName, ColWorkspace, ColExit, ColCreated, ColDuration, ColCount };
    enum Role {
        RequestIdRole = Qt::UserRole + 1,
        StatusRole,     // int(JobStatus)
        WorkspaceRole,  // workspace id ("" when stateless)
        SortRole,       // a value that sorts naturally for the column
    };
    static constexpr int kMaxRows = 5000; // the newest jobs shown at most

    explicit JobsModel(Executor &executor, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Reads the history again (F5).
    void reload();
    int rowOf(const QString &requestId) const;
    const JobRecord *record(int row) const;
    const JobRecord *find(const QString &requestId) const;
    // Every workspace id that appears in the history (for the filter).
    QStringList workspaceIds() const;

signals:
    // A job went from queued/running to a finished status.
    void jobFinished(const QString &requestId);

private:
    void onJobAdded(const QString &id);
    void onJobChanged(const QString &id);
    void tick();
    void rebuildIndex();

    Executor &m_ex;
    QList<JobRecord> m_rows;
    QHash<QString, int> m_index;
    QSet<QString> m_active; // queued or running
    QTimer m_tick;
};

} // namespace magpie::ui
