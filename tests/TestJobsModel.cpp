// TestJobsModel — the Jobs and Workspaces tabs driven by a real Executor without booting VMs:
// jobs are submitted and cancelled before they start, so the models, the filters (run in SQL),
// paging as the view scrolls, row-only updates, the detail pane, re-run, the new-job form's
// rules and the delete confirmation can be checked quickly.
#include "JobDetail.h"
#include "JobsModel.h"
#include "JobsView.h"
#include "MainWindow.h"
#include "MessageBox.h"
#include "CodeEditor.h"
#include "NewJobDialog.h"
#include "SettingsDialog.h"
#include "UiTestSupport.h"
#include "WorkspacesModel.h"
#include "WorkspacesView.h"

#include <QAction>
#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestJobsModel : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<Executor> m_ex;
    QString m_alpha, m_beta, m_gamma;
    GuiSettingsStore m_store;

    // Submits and cancels at once (before the scheduler runs), so no VM starts.
    QString addCancelled(const QString &name, const QString &ws = QString())
    {
        JobRequest r;
        r.name = name;
        r.script = QStringLiteral("echo %1").arg(name);
        r.stateful = !ws.isEmpty();
        r.workspaceId = ws;
        r.network = false;
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        if (!j)
            qFatal("submit: %s", qPrintable(e.message));
        if (!m_ex->cancel(j->requestId, &e))
            qFatal("cancel: %s", qPrintable(e.message));
        return j->requestId;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        m_ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"));
        m_alpha = addCancelled(QStringLiteral("alpha build"));
        m_beta = addCancelled(QStringLiteral("beta"), QStringLiteral("ws-one"));
        m_gamma = addCancelled(QStringLiteral("gamma build"), QStringLiteral("ws-two"));
    }

    void cleanupTestCase()
    {
        m_ex.reset();
    }

    void modelListsHistoryAndFollowsSignals()
    {
        JobsModel model(*m_ex);
        QCOMPARE(model.rowCount(), 3);
        const int row = model.rowOf(m_beta);
        QVERIFY(row >= 0);
        QCOMPARE(model.index(row, JobsModel::ColStatus).data().toString(), QStringLiteral("Cancelled"));
        QCOMPARE(model.index(row, JobsModel::ColName).data().toString(), QStringLiteral("beta"));
        QCOMPARE(model.index(row, JobsModel::ColWorkspace).data().toString(), QStringLiteral("ws-one"));
        QVERIFY(!model.index(row, JobsModel::ColStatus).data(Qt::DecorationRole).value<QIcon>().isNull());
        QVERIFY(model.index(row, JobsModel::ColStatus).data(Qt::ForegroundRole).value<QColor>().isValid());

        // A new job appears at once (jobAdded) and changes in place (jobChanged).
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy finished(&model, &JobsModel::jobFinished);
        JobRequest r;
        r.script = QStringLiteral("true");
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY(j);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.index(model.rowOf(j->requestId), JobsModel::ColStatus).data().toString(), QStringLiteral("Queued"));
        QCOMPARE(model.index(model.rowOf(j->requestId), JobsModel::ColDuration).data().toString(), QStringLiteral("waiting"));
        QVERIFY(m_ex->cancel(j->requestId, &e));
        QCOMPARE(model.index(model.rowOf(j->requestId), JobsModel::ColStatus).data().toString(), QStringLiteral("Cancelled"));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.first().first().toString(), j->requestId);
    }

    void filtersRunInSql()
    {
        JobsView view(*m_ex);
        JobsModel *m = view.model();
        const int all = m->rowCount();
        QVERIFY(all >= 3);
        // Newest first.
        QCOMPARE(m->index(0, JobsModel::ColName).data().toString(), QStringLiteral("job ") + m->index(0, 0).data(JobsModel::RequestIdRole).toString().left(8));
        QCOMPARE(m->index(1, JobsModel::ColName).data().toString(), QStringLiteral("gamma build"));

        // Typing searches (after a short pause), case-insensitively, through the job store.
        QTest::keyClicks(view.searchEdit(), QStringLiteral("BUILD"));
        QTRY_COMPARE(m->rowCount(), 2);
        QCOMPARE(m->filter().nameContains, QStringLiteral("BUILD"));
        QCOMPARE(m->matchingCount(), 2);
        view.searchEdit()->clear();
        QTRY_COMPARE(m->rowCount(), all);

        QComboBox *status = view.statusFilter();
        status->setCurrentIndex(status->findData(QStringLiteral("completed")));
        QCOMPARE(m->rowCount(), 0);
        QVERIFY(!view.isShowingWelcome()); // a filter that matches nothing is not the first run
        status->setCurrentIndex(status->findData(QStringLiteral("cancelled")));
        QCOMPARE(m->rowCount(), all);
        status->setCurrentIndex(0);

        QComboBox *ws = view.workspaceFilter();
        QVERIFY(ws->findData(QStringLiteral("ws-one")) > 0);
        QVERIFY(ws->findData(QStringLiteral("ws-two")) > 0);
        ws->setCurrentIndex(ws->findData(QStringLiteral("ws-one")));
        QCOMPARE(m->rowCount(), 1);
        QCOMPARE(m->index(0, JobsModel::ColName).data().toString(), QStringLiteral("beta"));
        // A new job on another workspace does not appear under this filter; one on it does.
        QSignalSpy reset(m, &QAbstractItemModel::modelReset);
        addCancelled(QStringLiteral("elsewhere"), QStringLiteral("ws-two"));
        QCOMPARE(m->rowCount(), 1);
        const QString here = addCancelled(QStringLiteral("here too"), QStringLiteral("ws-one"));
        QCOMPARE(m->rowCount(), 2);
        QCOMPARE(m->index(0, 0).data(JobsModel::RequestIdRole).toString(), here);
        QCOMPARE(reset.count(), 0);
        ws->setCurrentIndex(0);

        // Selecting a job hidden by a filter clears the filter.
        view.searchEdit()->setText(QStringLiteral("nothing matches this"));
        QTRY_COMPARE(m->rowCount(), 0);
        QVERIFY(view.selectJob(m_beta));
        QVERIFY(view.searchEdit()->text().isEmpty());
        QCOMPARE(view.currentJobId(), m_beta);
    }

    void pagesLoadAsTheViewScrolls()
    {
        QTemporaryDir dir;
        auto ex = test::openExecutor(dir.path());
        const int n = JobsModel::kPageSize * 2 + 17;
        for (int i = 0; i < n; ++i) {
            JobRequest r;
            r.name = QStringLiteral("bulk %1").arg(i);
            r.script = QStringLiteral("true");
            ExecError e;
            const auto j = ex->submit(r, &e);
            QVERIFY(j);
            QVERIFY(ex->cancel(j->requestId, &e));
        }
        JobsView view(*ex);
        view.resize(900, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        JobsModel *m = view.model();
        QCOMPARE(m->matchingCount(), n);
        QVERIFY(m->rowCount() < n); // not everything at once
        QVERIFY(m->canFetchMore(QModelIndex()));
        const int pagesBefore = m->pagesRead();
        // Scrolling to the end reads the next pages, until all rows are there.
        for (int i = 0; i < 20 && m->rowCount() < n; ++i) {
            view.table()->scrollToBottom();
            QTest::qWait(20);
        }
        QCOMPARE(m->rowCount(), n);
        QVERIFY(m->pagesRead() > pagesBefore);
        QVERIFY(!m->canFetchMore(QModelIndex()));
        QCOMPARE(m->index(n - 1, JobsModel::ColName).data().toString(), QStringLiteral("bulk 0"));
        QCOMPARE(m->index(0, JobsModel::ColName).data().toString(), QStringLiteral("bulk %1").arg(n - 1));
        QSet<QString> ids;
        for (int r = 0; r < n; ++r)
            ids.insert(m->index(r, 0).data(JobsModel::RequestIdRole).toString());
        QCOMPARE(ids.size(), n); // no row twice
    }

    void anUpdateRepaintsItsRowOnly()
    {
        JobsModel model(*m_ex);
        JobRequest r;
        r.script = QStringLiteral("true");
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY(j);
        const int row = model.rowOf(j->requestId);
        QVERIFY(row >= 0);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QVERIFY(m_ex->cancel(j->requestId, &e));
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(0).toModelIndex().row(), row);
        QCOMPARE(changed.first().at(1).toModelIndex().row(), row);
    }

    void detailAndActions()
    {
        JobsView view(*m_ex);
        view.resize(900, 700);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(!view.cancelAction()->isEnabled());
        QVERIFY(!view.rerunAction()->isEnabled());
        QVERIFY(view.selectJob(m_gamma));
        JobDetail *d = view.detail();
        QCOMPARE(d->jobId(), m_gamma);
        QCOMPARE(d->scriptView()->toPlainText(), QStringLiteral("echo gamma build"));
        QVERIFY(d->scriptView()->isReadOnly());
        QVERIFY(d->findChild<QLabel *>(QStringLiteral("detailTitle"))->text() == QStringLiteral("gamma build"));
        QVERIFY(d->detailsView()->toPlainText().contains(m_gamma));
        QVERIFY(d->detailsView()->toPlainText().contains(QStringLiteral("cancelled before it started")));
        QVERIFY(!view.cancelAction()->isEnabled()); // finished
        QVERIFY(view.rerunAction()->isEnabled());
        QVERIFY(view.copyOutputAction()->isEnabled());

        // Re-run: a new job with the same settings, selected at once; cancel it before it runs.
        const int before = view.model()->rowCount();
        view.rerunCurrent();
        QCOMPARE(view.model()->rowCount(), before + 1);
        const QString again = view.currentJobId();
        QVERIFY(again != m_gamma);
        const auto j = m_ex->job(again);
        QVERIFY(j);
        QCOMPARE(j->name, QStringLiteral("gamma build"));
        QCOMPARE(j->workspaceId, QStringLiteral("ws-two"));
        QCOMPARE(j->source, QStringLiteral("gui"));
        QVERIFY(view.cancelAction()->isEnabled());
        view.cancelCurrent();
        QCOMPARE(m_ex->job(again)->status, JobStatus::Cancelled);
        QVERIFY(!view.cancelAction()->isEnabled());

        // Re-run edited hands the record to the window.
        QSignalSpy edit(&view, &JobsView::rerunEditedRequested);
        view.rerunEditedAction()->trigger();
        QCOMPARE(edit.count(), 1);
    }

    void newJobFormFromAnEarlierJob()
    {
        JobRecord j = *m_ex->job(m_beta);
        j.env = {{QStringLiteral("A"), QStringLiteral("1")}};
        j.vcpus = 2;
        j.memoryMb = 768;
        j.timeoutSec = 120;
        j.network = false;
        NewJobDialog d(*m_ex);
        d.loadFromJob(j);
        const JobRequest r = d.request();
        QCOMPARE(r.name, QStringLiteral("beta"));
        QCOMPARE(r.script, j.script);
        QVERIFY(r.stateful);
        QCOMPARE(r.workspaceId, QStringLiteral("ws-one"));
        QVERIFY(!r.workspaceSizeGb); // exists: its size is not sent
        QVERIFY(!d.sizeSpin()->isEnabled());
        QCOMPARE(r.env, j.env);
        QCOMPARE(*r.vcpus, 2);
        QCOMPARE(*r.memoryMb, 768);
        QCOMPARE(*r.timeoutSec, 120);
        QCOMPARE(r.network, false);
        QCOMPARE(r.source, QStringLiteral("gui"));
        QVERIFY(d.isRunnable());
        QVERIFY(d.workspaceMessage()->text().contains(QStringLiteral("Existing workspace")));
    }

    void workspacesModelAndDeleteConfirmation()
    {
        WorkspacesView view(*m_ex);
        WorkspacesModel *m = view.model();
        QCOMPARE(m->rowCount(), 2);
        const int row = m->rowOf(QStringLiteral("ws-one"));
        QVERIFY(row >= 0);
        QCOMPARE(m->index(row, WorkspacesModel::ColSize).data().toString(), QStringLiteral("10 GB"));
        QCOMPARE(m->index(row, WorkspacesModel::ColState).data().toString(), QStringLiteral("idle"));
        QCOMPARE(m->index(row, WorkspacesModel::ColUsed).data().toString(), QStringLiteral("not measured yet"));
        QCOMPARE(m->index(row, WorkspacesModel::ColJobs).data().toInt(), 2); // beta and "here too" (filtersRunInSql)
        QVERIFY(view.selectWorkspace(QStringLiteral("ws-one")));
        QCOMPARE(view.currentWorkspaceId(), QStringLiteral("ws-one"));
        QVERIFY(view.deleteAction()->isEnabled());

        // A queued job makes it busy: delete is disabled and says why.
        JobRequest r;
        r.script = QStringLiteral("true");
        r.stateful = true;
        r.workspaceId = QStringLiteral("ws-one");
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY(j);
        QCOMPARE(m->index(m->rowOf(QStringLiteral("ws-one")), WorkspacesModel::ColState).data().toString(), QStringLiteral("queued 1"));
        QVERIFY(!view.deleteAction()->isEnabled());
        QVERIFY(view.deleteAction()->toolTip().contains(QStringLiteral("in use")));
        QVERIFY(m_ex->cancel(j->requestId, &e));
        QVERIFY(view.deleteAction()->isEnabled());

        // Answering Cancel keeps it; the question names what is lost.
        MessageBox::setNextAnswer(MessageBox::Cancel);
        QVERIFY(!view.deleteWorkspace(QStringLiteral("ws-one")));
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("ws-one")));
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("lost")));
        QVERIFY(m_ex->workspace(QStringLiteral("ws-one")));
        // Answering Delete removes it from the executor and the table.
        MessageBox::setNextAnswer(MessageBox::Action);
        QVERIFY(view.deleteWorkspace(QStringLiteral("ws-one")));
        QVERIFY(!m_ex->workspace(QStringLiteral("ws-one")));
        QCOMPARE(m->rowOf(QStringLiteral("ws-one")), -1);
        QCOMPARE(m->rowCount(), 1);
        // The history stays.
        QVERIFY(m_ex->job(m_beta));
    }

    void windowShortcutsAndState()
    {
        {
            MainWindow w(*m_ex, nullptr, m_store);
            w.setConfirmQuit(false);
            w.show();
            QVERIFY(QTest::qWaitForWindowActive(&w));
            QVERIFY(w.poolLabel()->text().contains(QStringLiteral("0 running")));
            QVERIFY(w.poolLabel()->text().contains(QStringLiteral("0 queued")));
            // Ctrl+N opens the new-job form.
            QTest::keyClick(&w, Qt::Key_N, Qt::ControlModifier);
            NewJobDialog *d = w.findChild<NewJobDialog *>();
            QVERIFY(d);
            QTRY_VERIFY(d->isVisible());
            QVERIFY(!d->runButton()->isEnabled()); // no script yet
            d->close();
            QTRY_VERIFY(!w.findChild<NewJobDialog *>());
            w.activateWindow();
            QVERIFY(QTest::qWaitForWindowActive(&w));
            // Ctrl+F focuses the search field.
            QTest::keyClick(&w, Qt::Key_F, Qt::ControlModifier);
            QTRY_VERIFY(w.jobsView()->searchEdit()->hasFocus());
            // Ctrl+2 / Ctrl+1 switch tabs.
            QTest::keyClick(&w, Qt::Key_2, Qt::ControlModifier);
            QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::WorkspacesTab));
            // F5 refreshes without losing the selection.
            QTest::keyClick(&w, Qt::Key_1, Qt::ControlModifier);
            QVERIFY(w.jobsView()->selectJob(m_alpha));
            QTest::keyClick(w.jobsView()->table(), Qt::Key_F5);
            QCOMPARE(w.jobsView()->currentJobId(), m_alpha);
            // Ctrl+R re-runs the selected job.
            const int before = w.jobsView()->model()->rowCount();
            QTest::keyClick(w.jobsView()->table(), Qt::Key_R, Qt::ControlModifier);
            QCOMPARE(w.jobsView()->model()->rowCount(), before + 1);
            const QString again = w.jobsView()->currentJobId();
            QVERIFY(again != m_alpha);
            ExecError e;
            QVERIFY(m_ex->cancel(again, &e));

            // State to restore: a tab, a column width, a size.
            w.tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
            w.jobsView()->table()->horizontalHeader()->resizeSection(JobsModel::ColWorkspace, 233);
            w.resize(1001, 701);
            w.saveWindowState();
        }
        MainWindow w2(*m_ex, nullptr, m_store);
        QCOMPARE(w2.tabs()->currentIndex(), int(MainWindow::WorkspacesTab));
        QCOMPARE(w2.jobsView()->table()->horizontalHeader()->sectionSize(JobsModel::ColWorkspace), 233);
        w2.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w2));
        QCOMPARE(w2.size(), QSize(1001, 701));
    }

    void settingsDialogAppliesAndSaves()
    {
        SettingsDialog d(*m_ex, nullptr, m_store, m_store.load(), m_ex->dataDir());
        d.maxParallelSpin()->setValue(3);
        d.vcpusSpin()->setValue(2);
        d.memorySpin()->setValue(1024);
        // A relative data folder is refused next to the field.
        d.dataDirEdit()->setText(QStringLiteral("relative/path"));
        QVERIFY(!d.okButton()->isEnabled());
        QVERIFY(d.findChild<QLabel *>(QStringLiteral("dataDirMessage"))->text().contains(QStringLiteral("absolute")));
        d.dataDirEdit()->setText(m_tmp.path() + QStringLiteral("/elsewhere"));
        QVERIFY(d.okButton()->isEnabled());
        QVERIFY(d.findChild<QLabel *>(QStringLiteral("accelInfo"))->text().contains(QStringLiteral("TCG"), Qt::CaseInsensitive));
        QVERIFY(d.apply());
        QCOMPARE(m_ex->maxParallel(), 3);
        QCOMPARE(m_ex->config().defaultVcpus, 2);
        QCOMPARE(m_ex->config().defaultMemoryMb, 1024);
        const Settings l = Settings::load();
        QCOMPARE(l.maxParallel, 3);
        QCOMPARE(l.defaultMemoryMb, 1024);
        QCOMPARE(l.dataDir, m_tmp.path() + QStringLiteral("/elsewhere"));
        // The new-job form starts from the new defaults.
        NewJobDialog nd(*m_ex);
        QCOMPARE(nd.vcpusSpin()->value(), 2);
        QCOMPARE(nd.memorySpin()->value(), 1024);
        m_ex->setMaxParallel(2);
        m_ex->setDefaults(1, 512);
    }
};

QTEST_MAIN(TestJobsModel)
#include "TestJobsModel.moc"
