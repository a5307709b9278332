#include "JobsModel.h"

#include "UiFormat.h"

#include <QFont>
#include <QGuiApplication>
#include <QPalette>

namespace magpie::ui {

JobsModel::JobsModel(Executor &executor, QObject *parent)
    : QAbstractTableModel(parent), m_ex(executor)
{
    connect(&m_ex, &Executor::jobAdded, this, &JobsModel::onJobAdded);
    connect(&m_ex, &Executor::jobChanged, this, &JobsModel::onJobChanged);
    connect(&m_ex, &Executor::jobRemoved, this, &JobsModel::onJobRemoved);
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &JobsModel::tick);
    reload();
}

bool JobsModel::isFiltered() const
{
    return !m_filter.workspaceId.isEmpty() || m_filter.status || !m_filter.nameContains.isEmpty();
}

void JobsModel::setFilter(const JobFilter &filter)
{
    m_filter = filter;
    m_filter.nameContains = m_filter.nameContains.trimmed();
    reload();
}

void JobsModel::reload()
{
    JobFilter f = m_filter;
    f.limit = kPageSize;
    f.offset = 0;
    JobPage page = m_ex.jobs(f);
    beginResetModel();
    m_rows.clear();
    m_rows.reserve(page.jobs.size());
    for (JobRecord &j : page.jobs) {
        j.script.clear(); // kept out of memory; the detail pane reads it from the executor
        m_rows.append(std::move(j));
    }
    m_total = page.total;
    m_pagesRead = 1;
    m_index.clear();
    m_active.clear();
    rebuildIndex(0);
    endResetModel();
    if (!m_active.isEmpty())
        m_tick.start();
}

bool JobsModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_rows.size() < m_total;
}

void JobsModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid())
        return;
    JobFilter f = m_filter;
    f.limit = kPageSize;
    f.offset = int(m_rows.size()); // the loaded rows are the newest matching ones
    const JobPage page = m_ex.jobs(f);
    ++m_pagesRead;
    m_total = page.total;
    QList<JobRecord> fresh;
    for (const JobRecord &j : page.jobs)
        if (!m_index.contains(j.requestId))
            fresh.append(j);
    if (fresh.isEmpty()) {
        m_total = int(m_rows.size()); // nothing more to read
        return;
    }
    const int first = int(m_rows.size());
    beginInsertRows(QModelIndex(), first, first + int(fresh.size()) - 1);
    for (JobRecord &j : fresh) {
        j.script.clear();
        m_rows.append(std::move(j));
    }
    rebuildIndex(first);
    endInsertRows();
    if (!m_active.isEmpty() && !m_tick.isActive())
        m_tick.start();
}

int JobsModel::ensureLoaded(const QString &requestId)
{
    const auto j = m_ex.job(requestId);
    if (!j || !matches(*j))
        return rowOf(requestId);
    while (rowOf(requestId) < 0 && canFetchMore(QModelIndex())) {
        if (!m_rows.isEmpty() && m_rows.last().seq < j->seq)
            break; // it would be above the loaded rows: not in the history any more
        fetchMore(QModelIndex());
    }
    return rowOf(requestId);
}

void JobsModel::rebuildIndex(int from)
{
    for (int i = from; i < m_rows.size(); ++i) {
        const JobRecord &j = m_rows.at(i);
        m_index.insert(j.requestId, i);
        if (!isFinished(j.status))
            m_active.insert(j.requestId);
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

bool JobsModel::matches(const JobRecord &j) const
{
    if (!m_filter.workspaceId.isEmpty() && j.workspaceId != m_filter.workspaceId)
        return false;
    if (m_filter.status && j.status != *m_filter.status)
        return false;
    // SQLite's LIKE, which the page query uses, ignores the case of ASCII letters only.
    return m_filter.nameContains.isEmpty() || j.name.contains(m_filter.nameContains, Qt::CaseInsensitive);
}

int JobsModel::insertPosition(qint64 seq) const
{
    const auto it = std::lower_bound(m_rows.cbegin(), m_rows.cend(), seq,
                                     [](const JobRecord &r, qint64 s) { return r.seq > s; });
    return int(it - m_rows.cbegin());
}

void JobsModel::insertRow(JobRecord j, int row)
{
    j.script.clear();
    beginInsertRows(QModelIndex(), row, row);
    const QString id = j.requestId;
    const bool active = !isFinished(j.status);
    m_rows.insert(row, std::move(j));
    for (int i = row; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).requestId, i);
    if (active)
        m_active.insert(id);
    endInsertRows();
    if (!m_active.isEmpty() && !m_tick.isActive())
        m_tick.start();
}

void JobsModel::onJobRemoved(const QString &id)
{
    const auto it = m_index.constFind(id);
    if (it == m_index.constEnd())
        return;
    removeRow(*it);
    m_total = qMax(0, m_total - 1);
}

void JobsModel::removeRow(int row)
{
    beginRemoveRows(QModelIndex(), row, row);
    const QString id = m_rows.at(row).requestId;
    m_rows.removeAt(row);
    m_index.remove(id);
    m_active.remove(id);
    for (int i = row; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).requestId, i);
    endRemoveRows();
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
    const bool heldForImage = j->status == JobStatus::Queued && m_ex.config().holdWithoutImage && !m_ex.image().isValid();
    if (role == Qt::DisplayRole) {
        switch (col) {
        case ColStatus: return statusLabel(j->status);
        case ColName: return j->name;
        case ColWorkspace: return j->workspaceId.isEmpty() ? tr("—") : j->workspaceId;
        case ColExit: return j->exitCode ? QVariant(*j->exitCode) : QVariant(QString());
        case ColCreated: return formatLocalTime(j->createdAt);
        case ColDuration: {
            if (j->status == JobStatus::Queued)
                return heldForImage ? tr("waiting for the guest image") : tr("waiting");
            const auto ms = jobElapsedMs(*j);
            return ms ? formatDuration(*ms) : QString();
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
        if (heldForImage)
            tip += QStringLiteral("\n\n") + tr("Waits until the guest image is built (see the banner at the top).");
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
    const auto j = m_ex.job(id);
    if (!j || !matches(*j))
        return;
    const bool more = canFetchMore(QModelIndex());
    ++m_total;
    const int row = insertPosition(j->seq);
    if (row == m_rows.size() && more)
        return; // below the loaded pages: it comes with the next fetch
    insertRow(*j, row);
}

void JobsModel::onJobChanged(const QString &id)
{
    const int row = rowOf(id);
    const auto j = m_ex.job(id);
    if (!j)
        return;
    if (row < 0) {
        if (!matches(*j))
            return;
        const bool more = canFetchMore(QModelIndex());
        ++m_total; // it matches now (e.g. it reached the status the filter shows)
        const int at = insertPosition(j->seq);
        if (at < m_rows.size() || !more)
            insertRow(*j, at);
        return;
    }
    const bool wasActive = !isFinished(m_rows.at(row).status);
    if (!matches(*j)) {
        --m_total;
        removeRow(row);
    } else {
        JobRecord r = *j;
        r.script.clear();
        m_rows[row] = std::move(r);
        if (isFinished(j->status))
            m_active.remove(id);
        else
            m_active.insert(id);
        emit dataChanged(index(row, 0), index(row, ColCount - 1));
        if (!m_active.isEmpty() && !m_tick.isActive())
            m_tick.start();
    }
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
            emit dataChanged(index(row, ColDuration), index(row, ColDuration), {Qt::DisplayRole});
    }
}

} // namespace magpie::ui
