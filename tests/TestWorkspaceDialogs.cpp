// TestWorkspaceDialogs — the workspace lifecycle in the window, driven as a person does, against a
// real Executor with real VMs (TCG): upload by the Upload button (the file picker) and by a
// real drop of file URLs, read back by the executor; delete with its confirmation; a snapshot
// taken and restored brings a deleted file back; the Grow dialog refuses a smaller size and
// grows to a larger one; a scripted job's Changes tab lists exactly what it added, modified and
// deleted, and "Roll back to before this job" puts the deleted file back; Clone and New empty
// workspace from the More menu. Errors → a message box.
#include "FileBrowser.h"
#include "GrowDialog.h"
#include "JobChangesView.h"
#include "JobDetail.h"
#include "MessageBox.h"
#include "SnapshotsDialog.h"
#include "UiTestSupport.h"
#include "WorkspaceActions.h"
#include "WorkspacesModel.h"
#include "WorkspacesView.h"

#include <QFileDialog>
#include <QInputDialog>
#include <QMenu>
#include <QTimer>
#include <QToolButton>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

namespace {
const QString kWs = QStringLiteral("ui-ws");
}

class TestWorkspaceDialogs : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<Executor> m_ex;
    std::unique_ptr<WorkspacesView> m_view;

    // Runs one executor operation and waits for its answer.
    bool op(const std::function<void(OpDone)> &call, ExecError *error = nullptr, int ms = 240000)
    {
        bool done = false, ok = false;
        call([&](bool o, const ExecError &e, const QJsonObject &) {
            done = true;
            ok = o;
            if (error)
                *error = e;
        });
        QDeadlineTimer until(ms);
        while (!done && !until.hasExpired())
            QTest::qWait(50);
        return done && ok;
    }

    std::optional<QByteArray> read(const QString &path)
    {
        bool done = false;
        std::optional<QByteArray> out;
        m_ex->readFile(kWs, path, [&](std::optional<ExecError> err, QByteArray data) {
            done = true;
            if (!err)
                out = data;
        });
        QDeadlineTimer until(240000);
        while (!done && !until.hasExpired())
            QTest::qWait(50);
        return out;
    }

    QString writeLocal(const QString &name, const QByteArray &data)
    {
        const QString p = m_tmp.filePath(name);
        QFile f(p);
        if (!f.open(QIODevice::WriteOnly) || f.write(data) != data.size())
            return QString();
        return p;
    }

    static QTreeWidgetItem *findItem(QTreeWidget *tree, int column, int role, const QString &value)
    {
        for (QTreeWidgetItemIterator it(tree); *it; ++it)
            if ((*it)->data(column, role).toString() == value)
                return *it;
        return nullptr;
    }

    static void clickItem(QTreeWidget *tree, QTreeWidgetItem *item)
    {
        tree->scrollToItem(item);
        QTest::mouseClick(tree->viewport(), Qt::LeftButton, Qt::NoModifier, tree->visualItemRect(item).center());
    }

    void selectWorkspaceRow()
    {
        const QModelIndex idx = test::findRow(m_view->table()->model(), WorkspacesModel::IdRole, kWs);
        QVERIFY(idx.isValid());
        test::clickIndex(m_view->table(), idx);
        QCOMPARE(m_view->currentWorkspaceId(), kWs);
    }

    void openBrowser(FileBrowser **out)
    {
        selectWorkspaceRow();
        QVERIFY(test::triggerAction(m_view.get(), QStringLiteral("browseAction")));
        auto *b = m_view->window()->findChild<FileBrowser *>(QStringLiteral("fileBrowser"));
        QVERIFY(b && b->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(!b->isBusy(), 240000);
        *out = b;
    }

    // Answers the modal input dialogs that open next, in order, as a person would: the text (or
    // number) typed into the field, then Enter. Returns the timer; it stops itself when done.
    QTimer *answerInputs(QStringList answers)
    {
        auto *t = new QTimer(this);
        t->setInterval(50);
        connect(t, &QTimer::timeout, t, [t, answers]() mutable {
            auto *d = qobject_cast<QInputDialog *>(QApplication::activeModalWidget());
            if (!d || !d->isVisible() || answers.isEmpty())
                return;
            const QString text = answers.takeFirst();
            if (auto *spin = d->findChild<QSpinBox *>()) {
                QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
                QTest::keyClicks(spin, text);
            } else if (auto *edit = d->findChild<QLineEdit *>()) {
                QTest::keyClick(edit, Qt::Key_A, Qt::ControlModifier);
                QTest::keyClicks(edit, text);
            }
            QTest::keyClick(d, Qt::Key_Return);
            if (answers.isEmpty())
                t->stop();
        });
        t->start();
        return t;
    }

    // Opens the toolbar's More menu with a click and picks an entry by its mnemonic key.
    void pickFromMore(Qt::Key mnemonic)
    {
        auto *more = m_view->findChild<QToolButton *>(QStringLiteral("workspaceMoreButton"));
        QVERIFY(more && more->isVisible());
        QTimer::singleShot(200, more, [mnemonic] {
            if (auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget()))
                QTest::keyClick(menu, mnemonic);
        });
        QTest::mouseClick(more, Qt::LeftButton); // the menu runs until the key picks an entry
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        m_ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"));
        ExecError e;
        QVERIFY2(op([&](OpDone d) { m_ex->createWorkspace(kWs, 1, d); }, &e), qPrintable(e.message));
        m_view = std::make_unique<WorkspacesView>(*m_ex);
        m_view->resize(1100, 500);
        m_view->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_view.get()));
        m_view->refresh();
        QTRY_VERIFY(test::findRow(m_view->table()->model(), WorkspacesModel::IdRole, kWs).isValid());
    }

    void cleanupTestCase()
    {
        m_view.reset();
        m_ex.reset();
    }

    // The Upload button opens a file picker; the picked file lands in the workspace.
    void uploadByButtonAndDrop()
    {
        FileBrowser *b = nullptr;
        openBrowser(&b);
        QVERIFY(b);
        const QByteArray bytes = QByteArray("hello from the upload button\n") + QByteArray(70000, 'x');
        const QString local = writeLocal(QStringLiteral("hello.txt"), bytes);
        QVERIFY(!local.isEmpty());
        QSignalSpy uploaded(b, &FileBrowser::uploaded);
        QVERIFY(b->uploadButton()->isEnabled());
        QTest::mouseClick(b->uploadButton(), Qt::LeftButton);
        QFileDialog *picker = b->uploadDialog();
        QVERIFY(picker && picker->isVisible());
        picker->selectFile(local);
        QPushButton *uploadInPicker = nullptr;
        for (QPushButton *pb : picker->findChildren<QPushButton *>())
            if (pb->text() == QLatin1String("Upload"))
                uploadInPicker = pb;
        QVERIFY(uploadInPicker && uploadInPicker->isEnabled());
        QTest::mouseClick(uploadInPicker, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 240000);
        QCOMPARE(uploaded.at(0).at(0).toString(), QStringLiteral("hello.txt"));
        QCOMPARE(read(QStringLiteral("hello.txt")), std::optional<QByteArray>(bytes));

        // Two files dropped on the tree (a real QDropEvent with file URLs).
        const QString a = writeLocal(QStringLiteral("gone.txt"), "this file will be deleted\n");
        const QString c = writeLocal(QStringLiteral("keep.txt"), "line 1\n");
        auto *mime = new QMimeData;
        mime->setUrls({QUrl::fromLocalFile(a), QUrl::fromLocalFile(c)});
        QWidget *vp = b->tree()->viewport();
        const QPoint at(vp->width() / 2, vp->height() - 5);
        QDragEnterEvent enter(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(vp, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(at), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(vp, &drop);
        QVERIFY(drop.isAccepted());
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 3, 240000);
        QCOMPARE(read(QStringLiteral("keep.txt")), std::optional<QByteArray>("line 1\n"));
        delete mime;
        QTRY_VERIFY_WITH_TIMEOUT(!b->isBusy(), 240000);
        QTRY_VERIFY_WITH_TIMEOUT(b->itemFor(QStringLiteral("gone.txt")), 240000);
    }

    // Snapshot taken in the dialog; a file deleted through the browser (with its confirmation)
    // comes back when the snapshot is restored.
    void snapshotTakeDeleteRestore()
    {
        selectWorkspaceRow();
        QVERIFY(test::triggerAction(m_view.get(), QStringLiteral("snapshotsAction")));
        auto *d = m_view->window()->findChild<SnapshotsDialog *>(QStringLiteral("snapshotsDialog"));
        if (!d)
            d = m_view->lifecycle()->snapshots(kWs);
        QVERIFY(d);
        QTRY_VERIFY_WITH_TIMEOUT(!d->isBusy(), 240000);
        QVERIFY(!d->takeButton()->isEnabled()); // no name yet
        QTest::keyClicks(d->nameEdit(), QStringLiteral("good-state"));
        QVERIFY(d->takeButton()->isEnabled());
        QSignalSpy loaded(d, &SnapshotsDialog::loaded);
        QTest::mouseClick(d->takeButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(loaded.count() >= 1 && !d->isBusy(), 240000);
        QTreeWidgetItem *snap = findItem(d->list(), 0, SnapshotsDialog::NameRole, QStringLiteral("good-state"));
        QVERIFY2(snap, qPrintable(d->statusLabel()->text()));

        // The same name again: refused, said in a message box, nothing changed.
        const int boxes = MessageBox::count();
        MessageBox::setNextAnswer(MessageBox::Ok);
        QTest::keyClicks(d->nameEdit(), QStringLiteral("good-state"));
        QTest::keyClick(d->nameEdit(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(MessageBox::count() == boxes + 1, 240000);
        QVERIFY2(MessageBox::lastText().contains(QLatin1String("failed")), qPrintable(MessageBox::lastText()));
        QTRY_VERIFY_WITH_TIMEOUT(!d->isBusy(), 240000);

        // Delete gone.txt in the file browser, answering its confirmation.
        FileBrowser *b = m_view->browse(kWs);
        QTRY_VERIFY_WITH_TIMEOUT(!b->isBusy(), 240000);
        QTreeWidgetItem *gone = b->itemFor(QStringLiteral("gone.txt"));
        QVERIFY(gone);
        clickItem(b->tree(), gone);
        QVERIFY(b->deleteButton()->isEnabled());
        QSignalSpy deleted(b, &FileBrowser::deleted);
        MessageBox::setNextAnswer(MessageBox::Action);
        QTest::mouseClick(b->deleteButton(), Qt::LeftButton);
        QVERIFY2(MessageBox::lastText().contains(QLatin1String("gone.txt")), qPrintable(MessageBox::lastText()));
        QTRY_COMPARE_WITH_TIMEOUT(deleted.count(), 1, 240000);
        QVERIFY(!read(QStringLiteral("gone.txt")));

        // Restore good-state: the file is back, byte for byte.
        snap = findItem(d->list(), 0, SnapshotsDialog::NameRole, QStringLiteral("good-state"));
        QVERIFY(snap);
        clickItem(d->list(), snap);
        QCOMPARE(d->selectedName(), QStringLiteral("good-state"));
        QSignalSpy done(d, &SnapshotsDialog::done);
        MessageBox::setNextAnswer(MessageBox::Action);
        QTest::mouseClick(d->restoreButton(), Qt::LeftButton);
        QVERIFY2(MessageBox::lastText().contains(QLatin1String("will be lost")), qPrintable(MessageBox::lastText()));
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 240000);
        QCOMPARE(done.at(0).at(1).toBool(), true);
        QCOMPARE(read(QStringLiteral("gone.txt")), std::optional<QByteArray>("this file will be deleted\n"));
        QTRY_VERIFY_WITH_TIMEOUT(!d->isBusy(), 240000);
        QVERIFY(findItem(d->list(), 0, SnapshotsDialog::NameRole, QStringLiteral("good-state")));
        d->close();
    }

    // A scripted job: its Changes tab lists exactly its changes; rolling it back from its
    // details puts the deleted file back.
    void changesTabAndRollback()
    {
        JobRequest r;
        r.stateful = true;
        r.workspaceId = kWs;
        r.script = QStringLiteral("cd /workspace && printf 'new\\n' > added.txt && printf 'line 2\\n' >> keep.txt && rm gone.txt");
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY2(j, qPrintable(e.message));
        QVERIFY(test::waitFinished(*m_ex, j->requestId, 240000));
        QCOMPARE(m_ex->job(j->requestId)->exitCode, 0);

        JobDetail detail(*m_ex);
        detail.resize(900, 600);
        detail.show();
        QVERIFY(QTest::qWaitForWindowExposed(&detail));
        detail.setJob(j->requestId);
        QTabBar *bar = detail.tabs()->tabBar();
        QTest::mouseClick(bar, Qt::LeftButton, Qt::NoModifier, bar->tabRect(JobDetail::TabChanges).center());
        QCOMPARE(detail.tabs()->currentIndex(), int(JobDetail::TabChanges));
        JobChangesView *ch = detail.changesView();
        QTreeWidget *list = ch->list();
        QMap<QString, QString> seen;
        for (QTreeWidgetItemIterator it(list); *it; ++it)
            seen.insert((*it)->data(1, JobChangesView::PathRole).toString(), (*it)->data(0, JobChangesView::KindRole).toString());
        const QMap<QString, QString> want{{QStringLiteral("added.txt"), QStringLiteral("added")},
                                          {QStringLiteral("keep.txt"), QStringLiteral("modified")},
                                          {QStringLiteral("gone.txt"), QStringLiteral("deleted")}};
        QCOMPARE(seen, want);
        QVERIFY2(ch->summaryLabel()->text().startsWith(QLatin1String("1 added (4 B), 1 modified")), qPrintable(ch->summaryLabel()->text()));

        QVERIFY(ch->rollbackButton()->isEnabled());
        QSignalSpy rolled(ch, &JobChangesView::rolledBack);
        MessageBox::setNextAnswer(MessageBox::Action);
        QTest::mouseClick(ch->rollbackButton(), Qt::LeftButton);
        QVERIFY2(MessageBox::lastText().contains(kWs), qPrintable(MessageBox::lastText()));
        QVERIFY(!MessageBox::lastText().contains(QLatin1String("undone too"))); // no later job
        QTRY_COMPARE_WITH_TIMEOUT(rolled.count(), 1, 240000);
        QCOMPARE(rolled.at(0).at(1).toInt(), 0);
        QCOMPARE(read(QStringLiteral("gone.txt")), std::optional<QByteArray>("this file will be deleted\n"));
        QCOMPARE(read(QStringLiteral("keep.txt")), std::optional<QByteArray>("line 1\n"));
        QVERIFY(!read(QStringLiteral("added.txt")));
    }

    // Grow: a size not larger keeps Grow disabled (Enter does nothing); a larger one grows it.
    void growRejectsSmaller()
    {
        selectWorkspaceRow();
        QVERIFY(test::triggerAction(m_view.get(), QStringLiteral("growAction")));
        auto *g = m_view->window()->findChild<GrowDialog *>(QStringLiteral("growDialog"));
        QVERIFY(g && g->isVisible());
        QSpinBox *size = g->sizeBox();
        QTest::keyClick(size, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(size, QStringLiteral("1"));
        QCOMPARE(size->value(), 1);
        QVERIFY(!g->okButton()->isEnabled());
        QVERIFY2(g->noteLabel()->text().contains(QLatin1String("must be larger")), qPrintable(g->noteLabel()->text()));
        QTest::keyClick(g, Qt::Key_Return);
        QVERIFY(g->isVisible());
        QCOMPARE(m_ex->workspace(kWs)->info.sizeGb, 1);

        QTest::keyClick(size, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(size, QStringLiteral("2"));
        QVERIFY(g->okButton()->isEnabled());
        QSignalSpy grown(g, &GrowDialog::grown);
        QTest::mouseClick(g->okButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(grown.count(), 1, 240000);
        QCOMPARE(m_ex->workspace(kWs)->info.sizeGb, 2);
        QCOMPARE(read(QStringLiteral("keep.txt")), std::optional<QByteArray>("line 1\n"));
    }
    // More → Clone…: the id typed in the dialog becomes a copy with the same files; a clone onto
    // an id that exists is refused with a message and changes nothing. More → New empty
    // workspace…: id and size typed in, the workspace appears in the list.
    void cloneAndNewFromTheMoreMenu()
    {
        QVERIFY(op([&](OpDone d) { m_ex->writeFile(kWs, QStringLiteral("clone-me.txt"), "same bytes\n", d); }));
        selectWorkspaceRow();
        QTimer *inputs = answerInputs({QStringLiteral("ui-copy")});
        pickFromMore(Qt::Key_O);
        QTRY_VERIFY_WITH_TIMEOUT(m_ex->workspace(QStringLiteral("ui-copy")).has_value(), 240000);
        QVERIFY(!inputs->isActive());
        QTRY_VERIFY_WITH_TIMEOUT(test::findRow(m_view->table()->model(), WorkspacesModel::IdRole, QStringLiteral("ui-copy")).isValid(), 10000);
        bool done = false;
        QByteArray copied;
        m_ex->readFile(QStringLiteral("ui-copy"), QStringLiteral("clone-me.txt"), [&](std::optional<ExecError> err, QByteArray data) {
            done = true;
            if (!err)
                copied = data;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 240000);
        QCOMPARE(copied, QByteArray("same bytes\n"));

        // Onto an existing id: a message box says it failed; both workspaces stay as they were.
        selectWorkspaceRow();
        const int boxes = MessageBox::count();
        MessageBox::setNextAnswer(MessageBox::Ok);
        answerInputs({QStringLiteral("ui-copy")});
        pickFromMore(Qt::Key_O);
        QTRY_VERIFY_WITH_TIMEOUT(MessageBox::count() == boxes + 1, 240000);
        QVERIFY2(MessageBox::lastText().contains(QLatin1String("Clone failed")), qPrintable(MessageBox::lastText()));
        QVERIFY(m_ex->workspace(kWs).has_value());

        // New empty workspace: id, then size.
        answerInputs({QStringLiteral("ui-empty"), QStringLiteral("3")});
        pickFromMore(Qt::Key_E);
        QTRY_VERIFY_WITH_TIMEOUT(m_ex->workspace(QStringLiteral("ui-empty")).has_value(), 240000);
        QCOMPARE(m_ex->workspace(QStringLiteral("ui-empty"))->info.sizeGb, 3);
        QTRY_VERIFY_WITH_TIMEOUT(test::findRow(m_view->table()->model(), WorkspacesModel::IdRole, QStringLiteral("ui-empty")).isValid(), 10000);
    }
};

QTEST_MAIN(TestWorkspaceDialogs)
#include "TestWorkspaceDialogs.moc"
