// JobsView.h — the Jobs tab: search and filters, the sortable table of jobs (JobsModel through
// JobsFilterProxy) and the selected job's detail. Owns the job actions (cancel, re-run, re-run
// edited, copy output); the window puts them in its menus and toolbar.
#pragma once

#include "Executor.h"

#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QSplitter;
class QTableView;

namespace magpie::ui {

class JobDetail;
class JobsFilterProxy;
class JobsModel;

class JobsView : public QWidget
{
    Q_OBJECT
public:
    explicit JobsView(Executor &executor, QWidget *parent = nullptr);

    JobsModel *model() const { return m_model; }
    JobsFilterProxy *proxy() const { return m_proxy; }
    QTableView *table() const { return m_table; }
    JobDetail *detail() const { return m_detail; }
    QSplitter *splitter() const { return m_splitter; }
    QLineEdit *searchEdit() const { return m_search; }
    QComboBox *statusFilter() const { return m_status; }
    QComboBox *workspaceFilter() const { return m_workspace; }

    QAction *cancelAction() const { return m_cancel; }
    QAction *rerunAction() const { return m_rerun; }
    QAction *rerunEditedAction() const { return m_rerunEdited; }
    QAction *copyOutputAction() const { return m_copy; }

    QString currentJobId() const;
    // Selects a job (clearing filters that hide it). False when it is not in the table.
    bool selectJob(const QString &requestId);
    void focusSearch();
    // Shows only the jobs of one workspace ("" = all).
    void showWorkspace(const QString &workspaceId);
    void refresh();

    void cancelCurrent();
    void rerunCurrent();
    void copyCurrentOutput();

signals:
    void rerunEditedRequested(const magpie::JobRecord &job);
    void statusMessage(const QString &text);
    void errorMessage(const QString &title, const QString &text);

private:
    void onCurrentChanged();
    void updateActions();
    void updateWorkspaceChoices();
    void updateCount();

    Executor &m_ex;
    JobsModel *m_model;
    JobsFilterProxy *m_proxy;
    QLineEdit *m_search;
    QComboBox *m_status, *m_workspace;
    QLabel *m_count;
    QSplitter *m_splitter;
    QTableView *m_table;
    JobDetail *m_detail;
    QAction *m_cancel, *m_rerun, *m_rerunEdited, *m_copy;
};

} // namespace magpie::ui
