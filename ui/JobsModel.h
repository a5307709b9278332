// JobsModel.h — the job history as a table, newest first, read from SQLite one page at a time
// as the view scrolls (canFetchMore/fetchMore over Executor::jobs with limit and offset) and
// filtered there (name, status, workspace: setFilter), so the window starts as fast with
// 100,000 jobs as with ten. It follows the Executor's signals: a new job is inserted where it
// belongs, a changed job repaints its own row (dataChanged, never a reset), a job that stops
// matching the filter leaves, and the Duration cell of a running job ticks every second.
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
    };
    static constexpr int kPageSize = 100; // rows read per fetch

    explicit JobsModel(Executor &executor, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    // Shows only matching jobs (workspaceId, status, nameContains; limit and offset are the
    // model's) and reads the first page again.
    void setFilter(const JobFilter &filter);
    JobFilter filter() const { return m_filter; }
    bool isFiltered() const;
    // Jobs that match the filter, loaded or not.
    int matchingCount() const { return m_total; }
    // Reads the first page again (F5).
    void reload();
    // Loads pages until the job is in the table (when it matches the filter). Its row or -1.
    int ensureLoaded(const QString &requestId);
    int rowOf(const QString &requestId) const;
    const JobRecord *record(int row) const;
    const JobRecord *find(const QString &requestId) const;
    // How many pages were read from the database since the last reset (for tests).
    int pagesRead() const { return m_pagesRead; }

signals:
    // A job went from queued/running to a finished status.
    void jobFinished(const QString &requestId);

private:
    void onJobAdded(const QString &id);
    void onJobChanged(const QString &id);
    void onJobRemoved(const QString &id); // deleted from the history (by the user or retention)
    void tick();
    bool matches(const JobRecord &j) const;
    int insertPosition(qint64 seq) const; // rows are by seq, newest first
    void insertRow(JobRecord j, int row);
    void removeRow(int row);
    void rebuildIndex(int from);

    Executor &m_ex;
    JobFilter m_filter;
    QList<JobRecord> m_rows;
    QHash<QString, int> m_index;
    QSet<QString> m_active; // queued or running, loaded
    int m_total = 0;
    int m_pagesRead = 0;
    QTimer m_tick;
};

} // namespace magpie::ui
