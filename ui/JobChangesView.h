// JobChangesView.h — the "Changes" tab of a job's details: what the job added, modified and
// deleted under /workspace (Executor::jobChanges, recorded when the job ends), with sizes, byte
// totals and a note when the list was cut at 100,000 entries; and "Roll back to before this job"
// (Executor::rollbackJob after a confirmation naming what is lost; when later jobs ran on the
// workspace it says how many are undone too and passes force).
#pragma once

#include "Executor.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace magpie::ui {

class JobChangesView : public QWidget
{
    Q_OBJECT
public:
    enum { PathRole = Qt::UserRole + 1, KindRole };

    explicit JobChangesView(Executor &executor, QWidget *parent = nullptr);

    void setJob(const QString &requestId);
    // Reads the job's changes again (after it ended).
    void reload();
    QTreeWidget *list() const { return m_list; }
    QLabel *summaryLabel() const { return m_summary; }
    QPushButton *rollbackButton() const { return m_rollback; }
    // Jobs that started on the same workspace after this one (undone by a rollback too).
    int laterJobs() const;
    // Asks, then rolls back. Errors go to a message box, nothing changed.
    void rollback();

signals:
    void rolledBack(const QString &requestId, int undoneJobs);
    void rollbackFailed(const QString &requestId, const QString &message);

private:
    void updateButton(const std::optional<JobRecord> &j);

    Executor &m_ex;
    QString m_id;
    QLabel *m_summary;
    QTreeWidget *m_list;
    QPushButton *m_rollback;
    bool m_busy = false;
};

} // namespace magpie::ui
