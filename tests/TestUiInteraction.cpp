// TestUiInteraction — the window driven as a person drives it, over a real Executor and a real
// SQLite history, without booting a VM (jobs are cancelled before they start, or held because
// the guest image is missing): rows are picked by mouse clicks at their visualRect (Ctrl+click
// to deselect) and by arrow keys, row-dependent actions are fired only when enabled, Enter
// opens a workspace's files, Delete asks first (answered through MessageBox::setNextAnswer),
// Ctrl+R re-runs; the first-run page's "Run an example" button queues the guide's counter;
// a missing image holds jobs with a clear state and shows the banner with the command;
// "Copy as Python"/"Copy as curl" give code that reproduces a job; a finished job notifies
// through the injected backend only while the window is not active; dialogs open centred.
#include "CodeSnippets.h"
#include "FileBrowser.h"
#include "FolderCache.h"
#include "ImageBanner.h"
#include "JobDetail.h"
#include "JobNotifier.h"
#include "JobsModel.h"
#include "JobsView.h"
#include "MainWindow.h"
#include "MessageBox.h"
#include "NewJobDialog.h"
#include "NotificationBackend.h"
#include "SettingsDialog.h"
#include "UiTestSupport.h"
#include "WelcomePage.h"
#include "WorkspacesModel.h"
#include "WorkspacesView.h"

#include <QClipboard>
#include <QComboBox>
#include <QGroupBox>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

namespace {
struct RecordingBackend : NotificationBackend {
    QStringList titles, bodies;
    void notify(const QString &title, const QString &body, Kind) override
    {
        titles << title;
        bodies << body;
    }
};
} // namespace

class TestUiInteraction : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    GuiSettingsStore m_store;
    std::unique_ptr<Executor> m_ex;
    std::unique_ptr<MainWindow> m_win;
    int m_dir = 0;

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
        if (!j || !m_ex->cancel(j->requestId, &e))
            qFatal("submit/cancel: %s", qPrintable(e.message));
        return j->requestId;
    }

    // A fresh history and window for each test (no test depends on another's jobs). A missing
    // guest image (holdWithoutImage) keeps every job queued without a VM.
    void openWindow(bool missingImage = false)
    {
        m_win.reset();
        m_ex.reset();
        const QString dir = m_tmp.path() + QStringLiteral("/data-%1").arg(++m_dir);
        GuestImage img;
        if (missingImage)
            img = GuestImage::fromDir(m_tmp.path() + QStringLiteral("/no-image-%1").arg(m_dir));
        m_ex = test::openExecutor(dir, 2, missingImage, img);
        m_win = std::make_unique<MainWindow>(*m_ex, nullptr, m_store);
        m_win->setConfirmQuit(false);
        m_win->resize(1100, 760);
        m_win->show();
        QVERIFY(QTest::qWaitForWindowActive(m_win.get()));
    }

    QModelIndex jobRow(const QString &id) const
    {
        JobsModel *m = m_win->jobsView()->model();
        return m->index(m->rowOf(id), JobsModel::ColName);
    }
    QModelIndex workspaceRow(const QString &id) const
    {
        return test::findRow(m_win->workspacesView()->table()->model(), WorkspacesModel::IdRole, id);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
    }

    void cleanupTestCase()
    {
        m_win.reset();
        m_ex.reset();
    }

    void workspaceActionsFollowAMouseClick()
    {
        openWindow();
        addCancelled(QStringLiteral("one"), QStringLiteral("ws-a"));
        addCancelled(QStringLiteral("two"), QStringLiteral("ws-b"));
        m_win->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
        WorkspacesView *v = m_win->workspacesView();
        const QStringList actions{QStringLiteral("workspaceNewJobAction"), QStringLiteral("browseAction"), QStringLiteral("cleanupAction"),
                                  QStringLiteral("showJobsAction"), QStringLiteral("deleteWorkspaceAction")};
        for (const QString &a : actions)
            QVERIFY2(!test::actionEnabled(v, a), qPrintable(a));
        // One click on a row enables every action on it.
        test::clickIndex(v->table(), workspaceRow(QStringLiteral("ws-a")));
        QCOMPARE(v->currentWorkspaceId(), QStringLiteral("ws-a"));
        for (const QString &a : actions)
            QVERIFY2(test::actionEnabled(v, a), qPrintable(a + QStringLiteral(" stays disabled after a click")));
        // A click on the other row moves them there.
        test::clickIndex(v->table(), workspaceRow(QStringLiteral("ws-b")));
        QCOMPARE(v->currentWorkspaceId(), QStringLiteral("ws-b"));
        QVERIFY(v->deleteAction()->toolTip().contains(QStringLiteral("ws-b")));
        // Ctrl+click deselects it: nothing is selected, nothing can be acted on.
        test::clickIndex(v->table(), workspaceRow(QStringLiteral("ws-b")), Qt::ControlModifier);
        QVERIFY(v->currentWorkspaceId().isEmpty());
        for (const QString &a : actions)
            QVERIFY2(!test::actionEnabled(v, a), qPrintable(a + QStringLiteral(" enabled without a selected row")));
        // Arrow keys select too.
        v->table()->setFocus();
        test::clickIndex(v->table(), workspaceRow(QStringLiteral("ws-a")));
        const int rowA = workspaceRow(QStringLiteral("ws-a")).row();
        QTest::keyClick(v->table(), rowA == 0 ? Qt::Key_Down : Qt::Key_Up);
        QCOMPARE(v->currentWorkspaceId(), QStringLiteral("ws-b"));
        QVERIFY(test::actionEnabled(v, QStringLiteral("browseAction")));
    }

    void workspaceButtonsAndKeys()
    {
        openWindow();
        addCancelled(QStringLiteral("one"), QStringLiteral("ws-keys"));
        m_win->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
        WorkspacesView *v = m_win->workspacesView();
        test::clickIndex(v->table(), workspaceRow(QStringLiteral("ws-keys")));
        // Enter opens its files (the workspace has no disk yet, so no VM is needed).
        QTest::keyClick(v->table(), Qt::Key_Return);
        FileBrowser *b = nullptr;
        QTRY_VERIFY((b = m_win->findChild<FileBrowser *>()) && b->isVisible());
        QCOMPARE(b->workspaceId(), QStringLiteral("ws-keys"));
        QTRY_VERIFY(b->statusLabel()->text().contains(QStringLiteral("/workspace")));
        b->close();
        QVERIFY(QTest::qWaitForWindowActive(m_win.get()) || (m_win->activateWindow(), QTest::qWaitForWindowActive(m_win.get())));
        // Delete asks; No keeps it.
        MessageBox::setNextAnswer(MessageBox::Cancel);
        int asked = MessageBox::count();
        QTest::keyClick(v->table(), Qt::Key_Delete);
        QCOMPARE(MessageBox::count(), asked + 1);
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("ws-keys")));
        QVERIFY(m_ex->workspace(QStringLiteral("ws-keys")));
        // "New job here" (a real click on its button) opens the form with the workspace picked.
        QToolButton *newHere = nullptr;
        for (QToolButton *tb : v->findChildren<QToolButton *>())
            if (tb->defaultAction() == v->newJobAction())
                newHere = tb;
        QVERIFY(newHere && newHere->isEnabled());
        QTest::mouseClick(newHere, Qt::LeftButton);
        NewJobDialog *d = nullptr;
        QTRY_VERIFY(d = m_win->findChild<NewJobDialog *>());
        QVERIFY(d->statefulBox()->isChecked());
        QCOMPARE(d->workspaceEdit()->currentText(), QStringLiteral("ws-keys"));
        // It opens centred on the window.
        QTRY_VERIFY(d->isVisible());
        QVERIFY2((d->frameGeometry().center() - m_win->frameGeometry().center()).manhattanLength() < 40,
                 qPrintable(QStringLiteral("%1,%2 vs %3,%4").arg(d->frameGeometry().center().x()).arg(d->frameGeometry().center().y())
                                .arg(m_win->frameGeometry().center().x()).arg(m_win->frameGeometry().center().y())));
        d->close();
        QTRY_VERIFY(!m_win->findChild<NewJobDialog *>());
        // "Show jobs" shows that workspace's jobs in the Jobs tab.
        m_win->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_win.get()));
        QVERIFY(test::triggerAction(v, QStringLiteral("showJobsAction")));
        QCOMPARE(m_win->tabs()->currentIndex(), int(MainWindow::JobsTab));
        QCOMPARE(m_win->jobsView()->model()->filter().workspaceId, QStringLiteral("ws-keys"));
        // Delete, answered yes, deletes it.
        m_win->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
        test::clickIndex(v->table(), workspaceRow(QStringLiteral("ws-keys")));
        MessageBox::setNextAnswer(MessageBox::Action);
        QTest::keyClick(v->table(), Qt::Key_Delete);
        QVERIFY(!m_ex->workspace(QStringLiteral("ws-keys")));
    }

    void jobActionsFollowTheSelection()
    {
        openWindow();
        const QString a = addCancelled(QStringLiteral("alpha"));
        const QString b = addCancelled(QStringLiteral("beta"));
        JobsView *v = m_win->jobsView();
        QVERIFY(!v->isShowingWelcome());
        const QStringList actions{QStringLiteral("rerunAction"), QStringLiteral("rerunEditedAction"), QStringLiteral("copyOutputAction")};
        for (const QString &n : actions)
            QVERIFY(!test::actionEnabled(v, n));
        test::clickIndex(v->table(), jobRow(a));
        QCOMPARE(v->currentJobId(), a);
        QCOMPARE(v->detail()->jobId(), a);
        for (const QString &n : actions)
            QVERIFY(test::actionEnabled(v, n));
        QVERIFY(!test::actionEnabled(v, QStringLiteral("cancelJobAction"))); // finished
        // The arrow keys move the selection and the detail follows.
        QTest::keyClick(v->table(), jobRow(a).row() == 0 ? Qt::Key_Down : Qt::Key_Up);
        QCOMPARE(v->currentJobId(), b);
        QCOMPARE(v->detail()->jobId(), b);
        // Ctrl+click deselects: no job is acted on, the detail shows the placeholder.
        test::clickIndex(v->table(), jobRow(b), Qt::ControlModifier);
        QVERIFY(v->currentJobId().isEmpty());
        QVERIFY(v->detail()->jobId().isEmpty());
        for (const QString &n : actions)
            QVERIFY2(!test::actionEnabled(v, n), qPrintable(n + QStringLiteral(" enabled without a selected job")));
        const int rows = v->model()->rowCount();
        QTest::keyClick(v->table(), Qt::Key_R, Qt::ControlModifier);
        QCOMPARE(v->model()->rowCount(), rows); // Ctrl+R with nothing selected does nothing
        // Ctrl+R re-runs the clicked job; the new run is selected.
        test::clickIndex(v->table(), jobRow(a));
        QTest::keyClick(v->table(), Qt::Key_R, Qt::ControlModifier);
        QCOMPARE(v->model()->rowCount(), rows + 1);
        const QString again = v->currentJobId();
        QVERIFY(again != a);
        QCOMPARE(m_ex->job(again)->name, QStringLiteral("alpha"));
        QVERIFY(test::actionEnabled(v, QStringLiteral("cancelJobAction")));
        // Delete asks before cancelling it; Yes cancels.
        MessageBox::setNextAnswer(MessageBox::Yes);
        QTest::keyClick(v->table(), Qt::Key_Delete);
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("alpha")));
        QCOMPARE(m_ex->job(again)->status, JobStatus::Cancelled);
        QVERIFY(!test::actionEnabled(v, QStringLiteral("cancelJobAction")));
    }

    // Delete from history (issue 8.5): Ctrl+click picks several finished jobs, Del asks naming
    // them, Cancel keeps everything, the action removes the records (SQLite) and their rows; a
    // queued job among the selection is kept and the question says so.
    void deleteFromHistoryAsksFirst()
    {
        openWindow(/*missingImage=*/true); // jobs that are not cancelled stay queued
        const QString a = addCancelled(QStringLiteral("old-one"));
        const QString b = addCancelled(QStringLiteral("old-two"));
        const QString c = addCancelled(QStringLiteral("old-three"));
        JobRequest r;
        r.name = QStringLiteral("still-queued");
        r.script = QStringLiteral("true");
        r.network = false;
        ExecError e;
        const auto q = m_ex->submit(r, &e);
        QVERIFY2(q, qPrintable(e.message));
        JobsView *v = m_win->jobsView();
        QCOMPARE(v->model()->rowCount(), 4);
        QVERIFY(!test::actionEnabled(v, QStringLiteral("deleteJobsAction")));

        test::clickIndex(v->table(), jobRow(a));
        test::clickIndex(v->table(), jobRow(b), Qt::ControlModifier);
        QCOMPARE(v->selectedJobIds().size(), 2);
        QVERIFY(test::actionEnabled(v, QStringLiteral("deleteJobsAction")));
        // Cancel: nothing changes.
        MessageBox::setNextAnswer(MessageBox::Cancel);
        QTest::keyClick(v->table(), Qt::Key_Delete);
        QVERIFY2(MessageBox::lastText().contains(QStringLiteral("Delete 2 jobs")), qPrintable(MessageBox::lastText()));
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("old-one")));
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("old-two")));
        QVERIFY(m_ex->job(a) && m_ex->job(b));
        QCOMPARE(v->model()->rowCount(), 4);
        // The action: both go, from the history and from the table.
        MessageBox::setNextAnswer(MessageBox::Action);
        QTest::keyClick(v->table(), Qt::Key_Delete);
        QVERIFY(!m_ex->job(a));
        QVERIFY(!m_ex->job(b));
        QCOMPARE(v->model()->rowCount(), 2);
        QCOMPARE(v->model()->rowOf(a), -1);
        JobFilter all;
        QCOMPARE(m_ex->jobs(all).total, 2);

        // A finished and a queued job selected: the queued one is kept, and the box says so.
        test::clickIndex(v->table(), jobRow(c));
        test::clickIndex(v->table(), jobRow(q->requestId), Qt::ControlModifier);
        QCOMPARE(v->selectedJobIds().size(), 2);
        MessageBox::setNextAnswer(MessageBox::Action);
        QVERIFY(test::triggerAction(v, QStringLiteral("deleteJobsAction")));
        QVERIFY2(MessageBox::lastText().contains(QStringLiteral("queued or running")), qPrintable(MessageBox::lastText()));
        QVERIFY(!m_ex->job(c));
        QVERIFY(m_ex->job(q->requestId));
        QCOMPARE(m_ex->job(q->requestId)->status, JobStatus::Queued);
        QCOMPARE(v->model()->rowCount(), 1);
        // With only the queued job selected, deleting is not offered.
        test::clickIndex(v->table(), jobRow(q->requestId));
        QVERIFY(!test::actionEnabled(v, QStringLiteral("deleteJobsAction")));
    }

    void firstRunRunsTheExample()
    {
        openWindow(true); // no guest image: the example's jobs wait for it, no VM starts
        JobsView *v = m_win->jobsView();
        QVERIFY(v->isShowingWelcome());
        QVERIFY(v->welcomePage()->isVisible());
        QPushButton *example = v->welcomePage()->findChild<QPushButton *>(QStringLiteral("runExampleButton"));
        QPushButton *newJob = v->welcomePage()->findChild<QPushButton *>(QStringLiteral("welcomeNewJobButton"));
        QVERIFY(example && example->isVisible() && newJob && newJob->isVisible());
        // The banner says the image is missing, with the command that builds it.
        ImageBanner *banner = m_win->imageBanner();
        QVERIFY(banner->isVisible());
        QCOMPARE(banner->status().state, ImageStatus::Missing);
        QVERIFY(banner->messageLabel()->text().contains(QStringLiteral("No guest image")));
        QVERIFY(!banner->commandEdit()->text().isEmpty());

        QTest::mouseClick(example, Qt::LeftButton);
        QVERIFY(!v->isShowingWelcome());
        JobsModel *m = v->model();
        QCOMPARE(m->rowCount(), 5);
        for (int i = 0; i < 5; ++i) { // newest first: Increment 5 … Increment 1
            QCOMPARE(m->index(i, JobsModel::ColName).data().toString(), QStringLiteral("Increment %1").arg(5 - i));
            QCOMPARE(m->index(i, JobsModel::ColWorkspace).data().toString(), QStringLiteral("counter-demo"));
        }
        QCOMPARE(m_ex->job(v->currentJobId())->name, QStringLiteral("Increment 5"));
        QVERIFY(m_ex->job(v->currentJobId())->script.contains(QStringLiteral("Counter is now: $COUNT")));
        QVERIFY(m_ex->workspace(QStringLiteral("counter-demo")));
        // Held, with a clear state, not failed.
        QTest::qWait(300);
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(m->index(i, JobsModel::ColStatus).data().toString(), QStringLiteral("Queued"));
            QCOMPARE(m->index(i, JobsModel::ColDuration).data().toString(), QStringLiteral("waiting for the guest image"));
        }
        QVERIFY(banner->messageLabel()->text().contains(QStringLiteral("5 jobs are waiting")));
        // "New job…" on the welcome page opens the form.
        for (int i = 0; i < 5; ++i) {
            ExecError e;
            QVERIFY(m_ex->cancel(m->index(i, 0).data(JobsModel::RequestIdRole).toString(), &e));
        }
    }

    void welcomeNewJobOpensTheForm()
    {
        openWindow();
        QPushButton *newJob = m_win->jobsView()->welcomePage()->findChild<QPushButton *>(QStringLiteral("welcomeNewJobButton"));
        QTest::mouseClick(newJob, Qt::LeftButton);
        NewJobDialog *d = nullptr;
        QTRY_VERIFY(d = m_win->findChild<NewJobDialog *>());
        d->close();
    }

    void copyAsPythonAndCurlReproduceTheJob()
    {
        openWindow();
        JobRequest r;
        r.name = QStringLiteral("Copy me");
        r.script = QStringLiteral("printf 'a\\n' \"$X\"\necho \"it's\"\n");
        r.stateful = true;
        r.workspaceId = QStringLiteral("copy-ws");
        r.env = {{QStringLiteral("X"), QStringLiteral("1")}};
        r.network = false;
        r.timeoutSec = 120;
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY(j && m_ex->cancel(j->requestId, &e));
        JobsView *v = m_win->jobsView();
        test::clickIndex(v->table(), jobRow(j->requestId));
        QTest::mouseClick(v->detail()->copyPythonButton(), Qt::LeftButton);
        const QString py = QGuiApplication::clipboard()->text();
        QVERIFY2(py.contains(QStringLiteral("client.jobs.run_and_wait(")), qPrintable(py));
        QVERIFY(py.contains(QStringLiteral("workspace_id=\"copy-ws\"")));
        QVERIFY(py.contains(QStringLiteral("network=False")));
        QVERIFY(py.contains(QStringLiteral("timeout=120")));
        // What Python makes of the snippet's arguments is the job as it was submitted.
        if (!QStandardPaths::findExecutable(QStringLiteral("python3")).isEmpty()) {
            QString check = py;
            check.replace(QStringLiteral("from magpie import Magpie"), QString());
            check.replace(QRegularExpression(QStringLiteral("client = Magpie\\([^\\n]*\\n")), QString());
            check.replace(QRegularExpression(QStringLiteral("print\\([^\\n]*\\n")), QString());
            check = QStringLiteral("import json\nclass J:\n    def run_and_wait(self, **kw): print(json.dumps(kw))\n"
                                   "class C: jobs = J()\nclient = C()\n") + check;
            QProcess p;
            p.start(QStringLiteral("python3"), {QStringLiteral("-c"), check});
            QVERIFY(p.waitForFinished(20000));
            const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
            QCOMPARE(o.value(QStringLiteral("script")).toString(), r.script);
            QCOMPARE(o.value(QStringLiteral("name")).toString(), r.name);
            QCOMPARE(o.value(QStringLiteral("env")).toObject().value(QStringLiteral("X")).toString(), QStringLiteral("1"));
        }
        QTest::mouseClick(v->detail()->copyCurlButton(), Qt::LeftButton);
        const QString curl = QGuiApplication::clipboard()->text();
        QVERIFY(curl.startsWith(QStringLiteral("curl ")));
        QVERIFY(curl.contains(QStringLiteral("/api/v1/jobs")));
        QVERIFY(curl.contains(QStringLiteral("Authorization: Bearer")));
        // The -d body, as bash passes it, is the job's JSON.
        QProcess sh;
        sh.start(QStringLiteral("bash"), {QStringLiteral("-c"), QStringLiteral("curl() { while [ $# -gt 0 ]; do [ \"$1\" = -d ] && printf %s \"$2\"; shift; done; }\n") + curl});
        QVERIFY(sh.waitForFinished(20000));
        const QJsonObject body = QJsonDocument::fromJson(sh.readAllStandardOutput()).object();
        QCOMPARE(body.value(QStringLiteral("script")).toString(), r.script);
        QCOMPARE(body.value(QStringLiteral("workspace_id")).toString(), QStringLiteral("copy-ws"));
        QCOMPARE(body.value(QStringLiteral("network")).toBool(true), false);
    }

    void settingsShowTheSnippets()
    {
        openWindow();
        SnippetContext c;
        c.url = QStringLiteral("http://127.0.0.1:8765");
        c.keyFile = QStringLiteral("/home/u/.local/share/magpie-desktop/api-key");
        const QString cloud = CodeSnippets::cloudSdk(c);
        QVERIFY(cloud.contains(QStringLiteral("from magpie import Magpie")));
        QVERIFY(cloud.contains(QStringLiteral("client = Magpie(api_key=open(\"/home/u/.local/share/magpie-desktop/api-key\").read().strip())")));
        QVERIFY(cloud.contains(QStringLiteral("client.base_url = \"http://127.0.0.1:8765\"")));
        const QString ours = CodeSnippets::ourSdk(c);
        QVERIFY(ours.contains(QStringLiteral("client = Magpie()")));
        QVERIFY(ours.contains(QStringLiteral("base_url=\"http://127.0.0.1:8765\"")));
        c.keyFile.clear();
        QVERIFY(CodeSnippets::cloudSdk(c).contains(QStringLiteral("os.environ[\"MAGPIE_API_KEY\"]")));
    }

    void finishedJobNotifiesOnlyWhenTheWindowIsNotActive()
    {
        openWindow();
        RecordingBackend fake;
        m_win->notifier()->setBackend(&fake);
        // Active window: nothing.
        addCancelled(QStringLiteral("seen here"));
        QCOMPARE(fake.titles.size(), 0);
        // Another window is active: the job's end is announced, once.
        QWidget other;
        other.resize(200, 100);
        other.show();
        other.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&other));
        QVERIFY(!m_win->isActiveWindow());
        const QString id = addCancelled(QStringLiteral("while away"));
        QCOMPARE(fake.titles.size(), 1);
        QCOMPARE(fake.titles.first(), QStringLiteral("Job finished: while away"));
        QVERIFY(fake.bodies.first().contains(QStringLiteral("Cancelled")));
        emit m_ex->jobChanged(id); // a repeated signal is not a second notification
        QCOMPARE(fake.titles.size(), 1);
        m_win->notifier()->setBackend(nullptr);
    }

    void folderCacheExpiresAndFollowsJobs()
    {
        openWindow();
        addCancelled(QStringLiteral("makes ws"), QStringLiteral("cache-ws"));
        FolderCache *c = m_win->workspacesView()->folderCache();
        FileEntry e;
        e.name = e.path = QStringLiteral("file.txt");
        e.type = QStringLiteral("file");
        c->put(QStringLiteral("cache-ws"), QString(), {e});
        c->put(QStringLiteral("other-ws"), QString(), {e});
        QVERIFY(c->get(QStringLiteral("cache-ws"), QString()));
        QCOMPARE(c->get(QStringLiteral("cache-ws"), QString())->first().name, QStringLiteral("file.txt"));
        QVERIFY(!c->get(QStringLiteral("cache-ws"), QStringLiteral("sub"))); // another folder
        // A job on the workspace (here: one that ends at once) drops its entries, not others'.
        addCancelled(QStringLiteral("touches it"), QStringLiteral("cache-ws"));
        QVERIFY(!c->get(QStringLiteral("cache-ws"), QString()));
        QVERIFY(c->get(QStringLiteral("other-ws"), QString()));
        // Entries expire.
        c->setTtlMs(0);
        QVERIFY(!c->get(QStringLiteral("other-ws"), QString()));
        c->setTtlMs(FolderCache::kDefaultTtlMs);
    }

    void settingsDialogOpensCentred()
    {
        openWindow();
        QTest::keyClick(m_win.get(), Qt::Key_Comma, Qt::ControlModifier);
        SettingsDialog *d = nullptr;
        QTRY_VERIFY((d = m_win->findChild<SettingsDialog *>()) && d->isVisible());
        QVERIFY((d->frameGeometry().center() - m_win->frameGeometry().center()).manhattanLength() < 40);
        d->reject();
    }
};

QTEST_MAIN(TestUiInteraction)
#include "TestUiInteraction.moc"
