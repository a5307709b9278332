// TestMainWindow — the whole window over a real Executor with real VMs (TCG) and the real
// HTTP API on port 0, driven by clicks and keys; each slot makes the workspace it needs (no
// slot depends on another's). A job run from the new-job form reaches `completed` with its
// output in the detail pane; output follows live while a job runs and its duration cell
// ticks alone; a job submitted over HTTP (a real QNetworkAccessManager request) appears
// without a restart; Enter on a workspace opens its files with a busy bar at once, the tree
// is picked by clicks and lists a file a job wrote, a reopened folder comes from the cache
// until a job runs there; clean-up deletes rows picked with Ctrl+click through the
// workspace's queue; Delete on a clicked workspace asks first; a regenerated key replaces
// the old one at once.
#include "ApiEndpoint.h"
#include "CleanupDialog.h"
#include "CodeEditor.h"
#include "EnvTable.h"
#include "FileBrowser.h"
#include "FolderCache.h"
#include "JobDetail.h"
#include "JobsModel.h"
#include "JobsView.h"
#include "LogView.h"
#include "MainWindow.h"
#include "MessageBox.h"
#include "NewJobDialog.h"
#include "SettingsDialog.h"
#include "UiTestSupport.h"
#include "WorkspacesModel.h"
#include "WorkspacesView.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QGroupBox>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QRegularExpression>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestMainWindow : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<Executor> m_ex;
    GuiSettingsStore m_store;
    std::unique_ptr<ApiEndpoint> m_api;
    std::unique_ptr<MainWindow> m_win;
    QNetworkAccessManager m_net;

    struct Http {
        int status = 0;
        QByteArray body;
    };
    Http call(const QByteArray &verb, const QString &path, const QByteArray &key, const QByteArray &body = QByteArray())
    {
        QNetworkRequest req(QUrl(m_api->url() + path));
        req.setRawHeader("Authorization", "Bearer " + key);
        if (!body.isEmpty())
            req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        QNetworkReply *r = m_net.sendCustomRequest(req, verb, body);
        QSignalSpy done(r, &QNetworkReply::finished);
        if (!done.wait(30000))
            qWarning("HTTP request timed out");
        Http h{r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), r->readAll()};
        r->deleteLater();
        return h;
    }

    // Shortcuts need the window to be the active one (a dialog may have been on top).
    bool activate()
    {
        m_win->activateWindow();
        return QTest::qWaitForWindowActive(m_win.get());
    }

    // A workspace of the calling slot's own, with notes/from-http.txt ("via-http") written by a
    // job submitted over HTTP (plus whatever `more` adds). Returns that job's id.
    QString prepareWorkspace(const QString &ws, const QString &more = QString())
    {
        const QByteArray body = QJsonDocument(QJsonObject{
                                                  {QStringLiteral("name"), QStringLiteral("Prepare %1").arg(ws)},
                                                  {QStringLiteral("script"), QStringLiteral("mkdir -p /workspace/notes && echo via-http > /workspace/notes/from-http.txt\n") + more},
                                                  {QStringLiteral("stateful"), true},
                                                  {QStringLiteral("workspace_id"), ws},
                                                  {QStringLiteral("workspace_size_gb"), 2},
                                                  {QStringLiteral("network"), false},
                                              })
                                    .toJson();
        const Http h = call("POST", QStringLiteral("/api/v1/jobs"), m_api->key(), body);
        const QString id = QJsonDocument::fromJson(h.body).object().value(QStringLiteral("request_id")).toString();
        if (h.status != 202 || id.isEmpty() || !test::waitFinished(*m_ex, id) || m_ex->job(id)->status != JobStatus::Completed)
            return QString();
        return id;
    }

    QString statusText(const QString &id) const
    {
        JobsModel *m = m_win->jobsView()->model();
        const int row = m->rowOf(id);
        return row < 0 ? QString() : m->index(row, JobsModel::ColStatus).data().toString();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        QVERIFY2(GuestImage::locate().isValid(), qPrintable(GuestImage::locate().error));
        m_ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"));
        m_api = std::make_unique<ApiEndpoint>(*m_ex, nullptr);
        QString err;
        QVERIFY2(m_api->start(QHostAddress(QHostAddress::LocalHost), 0, &err), qPrintable(err));
        QVERIFY(m_api->port() > 0);
        m_win = std::make_unique<MainWindow>(*m_ex, m_api.get(), m_store);
        m_win->setConfirmQuit(false);
        m_win->resize(1200, 800);
        m_win->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_win.get()));
    }

    void cleanupTestCase()
    {
        m_win.reset();
        m_api.reset();
        m_ex.reset();
    }

    void statusBarShowsEndpointAndCounts()
    {
        QVERIFY(m_win->endpointLabel()->text().contains(m_api->url()));
        QVERIFY(m_win->poolLabel()->text().contains(QStringLiteral("0 running · 0 queued · up to 2 VMs")));
    }

    void formRunReachesCompletedWithOutput()
    {
        NewJobDialog *d = m_win->openNewJob();
        QVERIFY(d);
        QTest::keyClicks(d->nameEdit(), QStringLiteral("Counter from the form"));
        d->setScript(QStringLiteral("COUNT=$(cat /workspace/counter 2>/dev/null || echo 0)\n"
                                    "COUNT=$((COUNT + 1))\necho $COUNT > /workspace/counter\n"
                                    "echo \"Counter is now: $COUNT\"\necho \"warn: $WHO\" >&2\n"));
        d->statefulBox()->setChecked(true);
        d->workspaceEdit()->setEditText(QStringLiteral("gui-counter"));
        d->envTable()->addRow(QStringLiteral("WHO"), QStringLiteral("magpie"));
        QVERIFY(d->runButton()->isEnabled());
        QTest::mouseClick(d->runButton(), Qt::LeftButton);
        QTRY_VERIFY(!m_win->findChild<NewJobDialog *>()); // closed and deleted

        const QString id = m_win->jobsView()->currentJobId();
        QVERIFY(!id.isEmpty());
        QCOMPARE(m_win->tabs()->currentIndex(), int(MainWindow::JobsTab));
        QCOMPARE(m_ex->job(id)->name, QStringLiteral("Counter from the form"));
        QVERIFY(statusText(id) == QStringLiteral("Queued") || statusText(id) == QStringLiteral("Running"));
        QTRY_COMPARE_WITH_TIMEOUT(statusText(id), QStringLiteral("Completed"), 240000);
        JobsModel *m = m_win->jobsView()->model();
        QCOMPARE(m->index(m->rowOf(id), JobsModel::ColExit).data().toInt(), 0);
        // A restored VM can finish in under a second: "850 ms" or "3.2 s".
        const QString duration = m->index(m->rowOf(id), JobsModel::ColDuration).data().toString();
        QVERIFY2(QRegularExpression(QStringLiteral("^\\d+(\\.\\d)? m?s$")).match(duration).hasMatch(), qPrintable(duration));
        JobDetail *detail = m_win->jobsView()->detail();
        QCOMPARE(detail->jobId(), id);
        QTRY_VERIFY(detail->stdoutView()->toPlainText().contains(QStringLiteral("Counter is now: 1")));
        QTRY_VERIFY(detail->stderrView()->toPlainText().contains(QStringLiteral("warn: magpie")));
        QVERIFY(detail->findChild<QLabel *>(QStringLiteral("detailSummary"))->text().contains(QStringLiteral("Completed")));
        QVERIFY(detail->detailsView()->toPlainText().contains(QStringLiteral("gui-counter")));

        // Re-run with Ctrl+R: the same job again; the workspace kept the counter.
        QVERIFY(activate());
        QTest::keyClick(m_win->jobsView()->table(), Qt::Key_R, Qt::ControlModifier);
        const QString again = m_win->jobsView()->currentJobId();
        QVERIFY(again != id);
        QTRY_COMPARE_WITH_TIMEOUT(statusText(again), QStringLiteral("Completed"), 240000);
        QTRY_VERIFY(m_win->jobsView()->detail()->stdoutView()->toPlainText().contains(QStringLiteral("Counter is now: 2")));
        // The workspace shows in its tab with two jobs and a measured size.
        WorkspacesModel *wm = m_win->workspacesView()->model();
        const int row = wm->rowOf(QStringLiteral("gui-counter"));
        QVERIFY(row >= 0);
        QCOMPARE(wm->index(row, WorkspacesModel::ColJobs).data().toInt(), 2);
        QVERIFY(wm->index(row, WorkspacesModel::ColUsed).data(WorkspacesModel::UsedBytesRole).toLongLong() > 0);
        QCOMPARE(wm->index(row, WorkspacesModel::ColState).data().toString(), QStringLiteral("idle"));
    }

    void outputFollowsLiveWhileRunning()
    {
        JobRequest r;
        r.name = QStringLiteral("ticker");
        r.script = QStringLiteral("for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done");
        r.network = false;
        r.source = QStringLiteral("gui");
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY(j);
        QVERIFY(m_win->jobsView()->selectJob(j->requestId));
        LogView *out = m_win->jobsView()->detail()->stdoutView();
        QTRY_VERIFY_WITH_TIMEOUT(out->toPlainText().contains(QStringLiteral("tick 2")), 240000);
        QCOMPARE(m_ex->job(j->requestId)->status, JobStatus::Running); // seen before the end
        QVERIFY(m_win->poolLabel()->text().contains(QStringLiteral("1 running")));
        JobsModel *m = m_win->jobsView()->model();
        const QModelIndex dur = m->index(m->rowOf(j->requestId), JobsModel::ColDuration);
        const QString d1 = dur.data().toString();
        QSignalSpy painted(m, &QAbstractItemModel::dataChanged);
        QTest::qWait(1300);
        QVERIFY2(dur.data().toString() != d1, qPrintable(d1)); // ticking
        // Each tick repaints that one cell, nothing else.
        QVERIFY(!painted.isEmpty());
        for (const QList<QVariant> &sig : std::as_const(painted)) {
            const QModelIndex from = sig.at(0).toModelIndex(), to = sig.at(1).toModelIndex();
            if (from.column() == 0)
                continue; // the job's own update (output sizes) repaints its row
            QCOMPARE(from, dur);
            QCOMPARE(to, dur);
        }
        QVERIFY(m_win->jobsView()->cancelAction()->isEnabled());
        QVERIFY(test::waitFinished(*m_ex, j->requestId));
        QCOMPARE(m_ex->job(j->requestId)->status, JobStatus::Completed);
        QTRY_VERIFY(out->toPlainText().endsWith(QStringLiteral("tick 6\n")));
        QCOMPARE(out->toPlainText().count(QStringLiteral("tick")), 6); // nothing twice
        QVERIFY(!m_win->jobsView()->cancelAction()->isEnabled());
    }

    void jobSubmittedOverHttpAppearsLive()
    {
        const int before = m_win->jobsView()->model()->rowCount();
        const QByteArray body = QJsonDocument(QJsonObject{
                                                  {QStringLiteral("name"), QStringLiteral("From HTTP")},
                                                  {QStringLiteral("script"), QStringLiteral("mkdir -p /workspace/notes && echo via-http > /workspace/notes/from-http.txt && echo written")},
                                                  {QStringLiteral("stateful"), true},
                                                  {QStringLiteral("workspace_id"), QStringLiteral("http-ws")},
                                                  {QStringLiteral("workspace_size_gb"), 2},
                                                  {QStringLiteral("network"), false},
                                              })
                                    .toJson();
        const Http h = call("POST", QStringLiteral("/api/v1/jobs"), m_api->key(), body);
        QCOMPARE(h.status, 202);
        const QString httpJob = QJsonDocument::fromJson(h.body).object().value(QStringLiteral("request_id")).toString();
        QVERIFY(!httpJob.isEmpty());
        // In the table at once, without a refresh.
        JobsModel *m = m_win->jobsView()->model();
        QVERIFY(m->rowOf(httpJob) >= 0);
        QCOMPARE(m->rowCount(), before + 1);
        QCOMPARE(m->index(m->rowOf(httpJob), JobsModel::ColName).data().toString(), QStringLiteral("From HTTP"));
        QVERIFY(m_win->workspacesView()->model()->rowOf(QStringLiteral("http-ws")) >= 0);
        QTRY_COMPARE_WITH_TIMEOUT(statusText(httpJob), QStringLiteral("Completed"), 240000);
        QVERIFY(m_win->jobsView()->selectJob(httpJob));
        QTRY_VERIFY(m_win->jobsView()->detail()->stdoutView()->toPlainText().contains(QStringLiteral("written")));
        QVERIFY(m_win->jobsView()->detail()->detailsView()->toPlainText().contains(QStringLiteral("the HTTP API")));
    }

    void browseTreeListsAFileAJobWrote()
    {
        QVERIFY(!prepareWorkspace(QStringLiteral("browse-ws")).isEmpty());
        // The listings below stay in the cache however slowly the VMs run here (its expiry is
        // tested in TestUiInteraction).
        m_win->workspacesView()->folderCache()->setTtlMs(24 * 3600 * 1000);
        // Enter on the workspace (picked with the mouse) opens its files; busy at once.
        m_win->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
        WorkspacesView *v = m_win->workspacesView();
        QVERIFY(activate());
        test::clickIndex(v->table(), test::findRow(v->table()->model(), WorkspacesModel::IdRole, QStringLiteral("browse-ws")));
        QTest::keyClick(v->table(), Qt::Key_Return);
        FileBrowser *b = m_win->findChild<FileBrowser *>();
        QVERIFY(b);
        QVERIFY(b->isBusy());
        QVERIFY(b->busyBar()->isVisibleTo(b)); // shown before the VM was even asked for
        QTRY_VERIFY_WITH_TIMEOUT(b->itemFor(QStringLiteral("notes")), 240000);
        QVERIFY(!b->busyBar()->isVisibleTo(b));
        QTreeWidgetItem *notes = b->itemFor(QStringLiteral("notes"));
        QCOMPARE(notes->data(0, FileBrowser::TypeRole).toString(), QStringLiteral("dir"));
        QVERIFY(!b->itemFor(QStringLiteral("notes/from-http.txt"))); // not listed before it is opened
        // Click the folder: Download stays off; the Right arrow opens it.
        test::clickIndex(b->tree(), b->tree()->indexFromItem(notes));
        QCOMPARE(b->selectedPath(), QStringLiteral("notes"));
        QVERIFY(!b->downloadButton()->isEnabled());
        QTest::keyClick(b->tree(), Qt::Key_Right);
        QTRY_VERIFY_WITH_TIMEOUT(b->itemFor(QStringLiteral("notes/from-http.txt")), 240000);
        QTreeWidgetItem *f = b->itemFor(QStringLiteral("notes/from-http.txt"));
        QCOMPARE(f->text(0), QStringLiteral("from-http.txt"));
        QCOMPARE(f->data(0, FileBrowser::SizeRole).toLongLong(), qint64(9));
        // Click the file: Download is on; Ctrl+click deselects it: off again.
        test::clickIndex(b->tree(), b->tree()->indexFromItem(f));
        QVERIFY(b->downloadButton()->isEnabled());
        test::clickIndex(b->tree(), b->tree()->indexFromItem(f), Qt::ControlModifier);
        QVERIFY(b->selectedPath().isEmpty());
        QVERIFY(!b->downloadButton()->isEnabled());
        // Download it.
        const QString local = m_tmp.path() + QStringLiteral("/downloaded.txt");
        QSignalSpy ok(b, &FileBrowser::downloaded);
        b->download(QStringLiteral("notes/from-http.txt"), local);
        QVERIFY(b->busyBar()->isVisibleTo(b));
        QVERIFY(ok.wait(240000));
        QFile file(local);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("via-http\n"));
        // A missing file says so next to the tree.
        QSignalSpy failed(b, &FileBrowser::downloadFailed);
        b->download(QStringLiteral("notes/none.txt"), local + QStringLiteral(".2"));
        QVERIFY(failed.wait(240000));
        QVERIFY(b->statusLabel()->text().contains(QStringLiteral("no such file")));
        b->close();
        QTRY_VERIFY(!m_win->findChild<FileBrowser *>());

        // Opened again at once: the root comes from the short-lived cache, no VM, no busy bar.
        FileBrowser *again = v->browse(QStringLiteral("browse-ws"));
        QVERIFY(!again->isBusy());
        QVERIFY(again->itemFor(QStringLiteral("notes")));
        QVERIFY(again->statusLabel()->text().contains(QStringLiteral("Refresh reads it again")));
        again->close();
        QTRY_VERIFY(!m_win->findChild<FileBrowser *>());
        // A job on the workspace drops the cache: the next open reads the workspace again.
        JobRequest r;
        r.script = QStringLiteral("touch /workspace/after.txt");
        r.stateful = true;
        r.workspaceId = QStringLiteral("browse-ws");
        r.network = false;
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY(j);
        QVERIFY(test::waitFinished(*m_ex, j->requestId));
        FileBrowser *third = v->browse(QStringLiteral("browse-ws"));
        QVERIFY(third->isBusy());
        QTRY_VERIFY_WITH_TIMEOUT(third->itemFor(QStringLiteral("after.txt")), 240000);
        third->close();
        m_win->workspacesView()->folderCache()->setTtlMs(FolderCache::kDefaultTtlMs);
        m_win->tabs()->setCurrentIndex(MainWindow::JobsTab);
    }

    void cleanupDeletesThroughTheQueue()
    {
        QVERIFY(!prepareWorkspace(QStringLiteral("cleanup-ws"), QStringLiteral("touch /workspace/after.txt\n")).isEmpty());
        CleanupDialog *c = m_win->workspacesView()->cleanup(QStringLiteral("cleanup-ws"));
        QVERIFY(c);
        QSignalSpy loaded(c, &CleanupDialog::loaded);
        QVERIFY(loaded.wait(240000));
        auto paths = [c] {
            QStringList p;
            for (int r = 0; r < c->model()->rowCount(); ++r)
                p << c->model()->index(r, 2).data(Qt::UserRole).toString();
            return p;
        };
        QVERIFY2(paths().contains(QStringLiteral("notes/from-http.txt")), qPrintable(paths().join(',')));
        QVERIFY(paths().contains(QStringLiteral("notes")));
        const int before = m_win->jobsView()->model()->rowCount();
        // Pick "notes" and "after.txt" with Ctrl+clicks, then the real Delete button, answered Delete.
        auto rowOf = [c](const QString &path) {
            for (int r = 0; r < c->model()->rowCount(); ++r)
                if (c->model()->index(r, 2).data(Qt::UserRole).toString() == path)
                    return c->table()->model()->index(r, 2);
            return QModelIndex();
        };
        QPushButton *del = c->findChild<QPushButton *>(QStringLiteral("cleanupDeleteButton"));
        QVERIFY(!del->isEnabled());
        test::clickIndex(c->table(), rowOf(QStringLiteral("notes")));
        QVERIFY(del->isEnabled());
        test::clickIndex(c->table(), rowOf(QStringLiteral("after.txt")), Qt::ControlModifier);
        QCOMPARE(c->table()->selectionModel()->selectedRows().size(), 2);
        MessageBox::setNextAnswer(MessageBox::Action);
        QTest::mouseClick(del, Qt::LeftButton);
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("/workspace/notes")));
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("/workspace/after.txt")));
        const QString job = c->cleanupJobId();
        QVERIFY(!job.isEmpty());
        QCOMPARE(m_win->jobsView()->model()->rowCount(), before + 1);
        QVERIFY(m_ex->job(job)->name.startsWith(QStringLiteral("Clean up: ")));
        QCOMPARE(m_ex->job(job)->workspaceId, QStringLiteral("cleanup-ws"));
        QVERIFY(m_ex->job(job)->script.contains(QStringLiteral("rm -rf -- '/workspace/notes'")));
        QVERIFY(loaded.wait(240000)); // read again after the job
        QCOMPARE(m_ex->job(job)->status, JobStatus::Completed);
        QVERIFY(!paths().contains(QStringLiteral("notes")));
        QVERIFY(!paths().contains(QStringLiteral("notes/from-http.txt")));
        QVERIFY(!paths().contains(QStringLiteral("after.txt")));
        c->close();
    }

    void deletingAWorkspaceAsksFirst()
    {
        const QString made = prepareWorkspace(QStringLiteral("delete-ws"));
        QVERIFY(!made.isEmpty());
        m_win->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
        WorkspacesView *v = m_win->workspacesView();
        QVERIFY(activate());
        // Picked with the mouse; Delete on the keyboard asks first.
        const QModelIndex row = test::findRow(v->table()->model(), WorkspacesModel::IdRole, QStringLiteral("delete-ws"));
        QVERIFY(row.isValid());
        test::clickIndex(v->table(), row);
        QCOMPARE(v->currentWorkspaceId(), QStringLiteral("delete-ws"));
        QVERIFY(test::actionEnabled(v, QStringLiteral("deleteWorkspaceAction")));
        // Said no: nothing happens.
        MessageBox::setNextAnswer(MessageBox::Cancel);
        const int asked = MessageBox::count();
        QTest::keyClick(v->table(), Qt::Key_Delete);
        QCOMPARE(MessageBox::count(), asked + 1);
        QVERIFY(m_ex->workspace(QStringLiteral("delete-ws")));
        // Said yes: gone from the executor and the table.
        MessageBox::setNextAnswer(MessageBox::Action);
        QTest::keyClick(v->table(), Qt::Key_Delete);
        QVERIFY(!m_ex->workspace(QStringLiteral("delete-ws")));
        QVERIFY2(MessageBox::lastText().contains(QStringLiteral("delete-ws")), qPrintable(MessageBox::lastText()));
        QVERIFY(MessageBox::lastText().contains(QStringLiteral("lost")));
        QCOMPARE(v->model()->rowOf(QStringLiteral("delete-ws")), -1);
        QVERIFY(m_ex->job(made)); // history stays
        // Over HTTP it is gone too.
        QCOMPARE(call("GET", QStringLiteral("/api/v1/workspaces/delete-ws"), m_api->key()).status, 404);
        m_win->tabs()->setCurrentIndex(MainWindow::JobsTab);
    }

    void regeneratedKeyReplacesTheOldOne()
    {
        const QByteArray oldKey = m_api->key();
        const quint16 port = m_api->port();
        QCOMPARE(call("GET", QStringLiteral("/api/v1/pool"), oldKey).status, 200);
        SettingsDialog *d = m_win->openSettings();
        QVERIFY(d);
        QCOMPARE(d->keyEdit()->text().toLatin1(), oldKey);
        QCOMPARE(d->keyEdit()->echoMode(), QLineEdit::Password);
        d->showKeyButton()->click();
        QCOMPARE(d->keyEdit()->echoMode(), QLineEdit::Normal);
        QVERIFY(d->regenerateKey());
        const QByteArray newKey = m_api->key();
        QVERIFY(newKey != oldKey);
        QCOMPARE(d->keyEdit()->text().toLatin1(), newKey);
        QCOMPARE(m_api->port(), port); // same address for clients
        QCOMPARE(call("GET", QStringLiteral("/api/v1/pool"), oldKey).status, 401);
        QCOMPARE(call("GET", QStringLiteral("/api/v1/pool"), newKey).status, 200);
        QFile f(m_ex->dataDir() + QStringLiteral("/api-key"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll().trimmed(), newKey);
        QCOMPARE(int(f.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther)), 0);
        d->reject();
    }

    void endpointCanBeSwitchedOffAndOn()
    {
        SettingsDialog *d = m_win->openSettings();
        d->httpCheck()->setChecked(false);
        QVERIFY(d->apply());
        QVERIFY(!m_api->isListening());
        QVERIFY(m_win->endpointLabel()->text().contains(QStringLiteral("off")));
        d->httpCheck()->setChecked(true);
        QVERIFY(d->apply());
        QVERIFY(m_api->isListening());
        QVERIFY(m_win->endpointLabel()->text().contains(m_api->url()));
        QCOMPARE(call("GET", QStringLiteral("/api/v1/health"), QByteArray()).status, 200);
        d->reject();
    }
};

QTEST_MAIN(TestMainWindow)
#include "TestMainWindow.moc"
