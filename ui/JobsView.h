// JobsView.h — the Jobs tab: search and filters (run in SQL by JobsModel), the table of jobs,
// newest first, read page by page as it scrolls, and the selected job's detail. While the
// history is empty it shows the WelcomePage instead ("Run an example", "New job…"). Owns the
// job actions (cancel, re-run, re-run edited, copy output); they follow the selection — the
// row the user clicked or moved to, not merely the current index.
#pragma once

#include "Executor.h"

#include <QTimer>
#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QSplitter;
class QStackedWidget;
class QTableView;

namespace magpie::ui {

class JobDetail;
class JobsModel;
class WelcomePage;

class JobsView : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kSearchDelayMs = 150; // typing pauses this long before the query runs

    explicit JobsView(Executor &executor, QWidget *parent = nullptr);

    JobsModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    JobDetail *detail() const { return m_detail; }
    QSplitter *splitter() const { return m_splitter; }
    QLineEdit *searchEdit() const { return m_search; }
    QComboBox *statusFilter() const { return m_status; }
    QComboBox *workspaceFilter() const { return m_workspace; }
    WelcomePage *welcomePage() const { return m_welcome; }
    bool isShowingWelcome() const;

    QAction *cancelAction() const { return m_cancel; }
    QAction *rerunAction() const { return m_rerun; }
    QAction *rerunEditedAction() const { return m_rerunEdited; }
    QAction *copyOutputAction() const { return m_copy; }
    QAction *deleteAction() const { return m_delete; }

    // The selected job ("" when no row is selected; with several selected, the current row's).
    QString currentJobId() const;
    // Every selected job, in table order.
    QStringList selectedJobIds() const;
    // Selects a job (clearing filters that hide it). False when it is not in the history.
    bool selectJob(const QString &requestId);
    void focusSearch();
    // Shows only the jobs of one workspace ("" = all).
    void showWorkspace(const QString &workspaceId);
    void refresh();

    void cancelCurrent();
    void rerunCurrent();
    void copyCurrentOutput();
    // Deletes the selected finished jobs' records and logs after a confirmation naming them.
    void deleteSelected();
    // Submits the first-run example (ExampleJobs::counter) and selects its last run.
    bool runExample();

signals:
    void rerunEditedRequested(const magpie::JobRecord &job);
    void newJobRequested();
    void statusMessage(const QString &text);
    void errorMessage(const QString &title, const QString &text);

private:
    void applyFilter();
    void onSelectionChanged();
    void updateActions();
    void updateWorkspaceChoices();
    void updateCount();
    void updatePage();

    Executor &m_ex;
    JobsModel *m_model;
    QLineEdit *m_search;
    QComboBox *m_status, *m_workspace;
    QLabel *m_count;
    QStackedWidget *m_pages;
    WelcomePage *m_welcome;
    QSplitter *m_splitter;
    QTableView *m_table;
    JobDetail *m_detail;
    QAction *m_cancel, *m_rerun, *m_rerunEdited, *m_copy, *m_delete;
    QTimer m_searchDelay;
};

} // namespace magpie::ui
