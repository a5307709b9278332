// TestNewJobDialog — the new-job form: the rules shown next to their fields while typing (an
// invalid workspace id disables Run and says why; the size only for a new workspace; env
// names; the name length), templates, and a real run with Ctrl+Enter in a VM (TCG).
#include "CodeEditor.h"
#include "EnvTable.h"
#include "NewJobDialog.h"
#include "UiTestSupport.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestNewJobDialog : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<Executor> m_ex;

    static void typeWorkspace(NewJobDialog &d, const QString &text)
    {
        QLineEdit *le = d.workspaceEdit()->lineEdit();
        le->clear();
        QTest::keyClicks(le, text);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        m_ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"));
        // An existing workspace, without booting a VM: a job queued on it and cancelled.
        JobRequest r;
        r.script = QStringLiteral("true");
        r.stateful = true;
        r.workspaceId = QStringLiteral("existing-ws");
        r.workspaceSizeGb = 4;
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        QVERIFY(j);
        QVERIFY(m_ex->cancel(j->requestId, &e));
    }

    void cleanupTestCase()
    {
        m_ex.reset();
    }

    void emptyFormCannotRun()
    {
        NewJobDialog d(*m_ex);
        d.show();
        QVERIFY(!d.runButton()->isEnabled());
        QVERIFY(d.problemLabel()->text().contains(QStringLiteral("script")));
        QVERIFY(d.runButton()->toolTip().contains(QStringLiteral("script")));
        QVERIFY(!d.run());
        d.setScript(QStringLiteral("   \n  "));
        QVERIFY(!d.runButton()->isEnabled());
        QVERIFY(d.problem().contains(QStringLiteral("white space")));
        d.setScript(QStringLiteral("echo hi"));
        QVERIFY(d.runButton()->isEnabled());
        QVERIFY(d.problem().isEmpty());
    }

    void invalidWorkspaceIdDisablesRunAndSaysWhy()
    {
        NewJobDialog d(*m_ex);
        d.show();
        QVERIFY(QTest::qWaitForWindowExposed(&d));
        d.setScript(QStringLiteral("echo hi > /workspace/x"));
        d.statefulBox()->setChecked(true);
        // Empty: a new workspace named after the request id; the size applies.
        QVERIFY(d.runButton()->isEnabled());
        QVERIFY(d.sizeSpin()->isEnabled());
        QVERIFY(d.workspaceMessage()->text().contains(QStringLiteral("request id")));

        const QList<QPair<QString, QString>> bad = {
            {QStringLiteral("My_Workspace"), QStringLiteral("lowercase")},
            {QStringLiteral("-starts-with-hyphen"), QStringLiteral("start")},
            {QString(64, QLatin1Char('a')), QStringLiteral("63")},
            {QStringLiteral("has space"), QStringLiteral("' ' is not allowed")},
        };
        for (const auto &[id, why] : bad) {
            typeWorkspace(d, id);
            QVERIFY2(!d.runButton()->isEnabled(), qPrintable(id));
            QVERIFY(d.workspaceMessage()->isVisible());
            QVERIFY2(d.workspaceMessage()->text().contains(why), qPrintable(d.workspaceMessage()->text()));
            QVERIFY(d.workspaceMessage()->property("error").toBool());
            QVERIFY(d.problemLabel()->text().contains(why));
            QVERIFY(d.runButton()->toolTip().contains(why));
            QVERIFY(!d.sizeSpin()->isEnabled());
            QVERIFY(!d.run());
        }
        QCOMPARE(m_ex->jobs(JobFilter{}).total, 1); // nothing was submitted

        typeWorkspace(d, QStringLiteral("fresh-ws"));
        QVERIFY(d.runButton()->isEnabled());
        QVERIFY(d.sizeSpin()->isEnabled());
        QVERIFY(!d.workspaceMessage()->property("error").toBool());
        QVERIFY(d.workspaceMessage()->text().contains(QStringLiteral("New workspace")));
        d.sizeSpin()->setValue(7);
        QCOMPARE(*d.request().workspaceSizeGb, 7);

        // An existing workspace keeps its size: the spin box is off and nothing is sent.
        typeWorkspace(d, QStringLiteral("existing-ws"));
        QVERIFY(d.runButton()->isEnabled());
        QVERIFY(!d.sizeSpin()->isEnabled());
        QVERIFY(d.workspaceMessage()->text().contains(QStringLiteral("Existing workspace, 4 GB")));
        QVERIFY(!d.request().workspaceSizeGb);
        QVERIFY(d.findChild<QLabel *>(QStringLiteral("sizeNote"))->text().contains(QStringLiteral("fixed")));
        QVERIFY(d.workspaceEdit()->findText(QStringLiteral("existing-ws")) >= 0); // offered in the picker

        // Not stateful: no workspace in the request, whatever the picker holds.
        typeWorkspace(d, QStringLiteral("Bad_ID"));
        QVERIFY(!d.runButton()->isEnabled());
        d.statefulBox()->setChecked(false);
        QVERIFY(d.runButton()->isEnabled());
        QVERIFY(d.request().workspaceId.isEmpty());
        QVERIFY(!d.request().workspaceSizeGb);
        QVERIFY(!d.sizeSpin()->isEnabled());
    }

    void environmentAndNameProblems()
    {
        NewJobDialog d(*m_ex);
        d.setScript(QStringLiteral("env"));
        d.envTable()->addRow(QStringLiteral("1BAD"), QStringLiteral("x"));
        QVERIFY(!d.runButton()->isEnabled());
        QLabel *envMsg = d.findChild<QLabel *>(QStringLiteral("envMessage"));
        QVERIFY(envMsg->text().contains(QStringLiteral("1BAD")));
        d.envTable()->setEnv({{QStringLiteral("GOOD_1"), QStringLiteral("x")}, {QStringLiteral("GOOD_1"), QStringLiteral("y")}});
        QVERIFY(!d.runButton()->isEnabled());
        QVERIFY(envMsg->text().contains(QStringLiteral("twice")));
        d.envTable()->setEnv({{QStringLiteral("GOOD_1"), QStringLiteral("x")}, {QStringLiteral("OTHER"), QString()}});
        QVERIFY(d.runButton()->isEnabled());
        QCOMPARE(d.request().env.size(), 2);
        d.envTable()->addRow(); // an empty row is ignored
        QVERIFY(d.runButton()->isEnabled());
        QCOMPARE(d.request().env.size(), 2);

        d.nameEdit()->setText(QString(JobLimits::kMaxNameLength + 1, QLatin1Char('n')));
        QVERIFY(!d.runButton()->isEnabled());
        QVERIFY(d.findChild<QLabel *>(QStringLiteral("nameMessage"))->text().contains(QString::number(JobLimits::kMaxNameLength)));
        d.nameEdit()->setText(QStringLiteral("fine"));
        QVERIFY(d.runButton()->isEnabled());
    }

    void templatesFillTheForm()
    {
        NewJobDialog d(*m_ex);
        QMenu *menu = d.templateButton()->menu();
        QVERIFY(menu);
        QAction *counter = menu->findChild<QAction *>(QStringLiteral("template:Counter"));
        QVERIFY(counter);
        counter->trigger();
        QCOMPARE(d.nameEdit()->text(), QStringLiteral("Increment"));
        QVERIFY(d.scriptEdit()->toPlainText().contains(QStringLiteral("/workspace/counter")));
        QVERIFY(d.statefulBox()->isChecked());
        QCOMPARE(d.workspaceEdit()->currentText(), QStringLiteral("counter-demo"));
        QVERIFY(d.isRunnable());
        QAction *init = menu->findChild<QAction *>(QStringLiteral("template:Initialize a workspace"));
        QVERIFY(init);
        init->trigger();
        QCOMPARE(d.sizeSpin()->value(), 5);
        QVERIFY(d.workspaceEdit()->currentText().isEmpty());
        QCOMPARE(*d.request().workspaceSizeGb, 5);
    }

    void imagePickerListsProfilesAndRefusesAnUnbuiltOne()
    {
        // A user recipe nobody has built yet, beside the built-in base and dev.
        const QString recipes = m_ex->config().dataDir + QStringLiteral("/images/recipes");
        QVERIFY(QDir().mkpath(recipes));
        QFile f(recipes + QStringLiteral("/zz-unbuilt.conf"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("name=zz-unbuilt\ndescription=never built\npackages=tree\n");
        f.close();

        NewJobDialog d(*m_ex);
        d.show();
        QVERIFY(QTest::qWaitForWindowExposed(&d));
        QComboBox *image = d.imageCombo();
        QCOMPARE(image->currentData().toString(), QStringLiteral("base"));
        QVERIFY(image->findData(QStringLiteral("dev")) >= 0);
        const int unbuilt = image->findData(QStringLiteral("zz-unbuilt"));
        QVERIFY(unbuilt >= 0);
        QCOMPARE(image->itemText(unbuilt), QStringLiteral("zz-unbuilt (not built)"));
        d.setScript(QStringLiteral("echo hi"));
        QVERIFY(d.runButton()->isEnabled());
        QCOMPARE(d.request().image, QStringLiteral("base"));

        // Pick the unbuilt one with the keyboard: Run is disabled and the form says how to build it.
        image->setFocus();
        QTest::keyClick(image, Qt::Key_End);
        QCOMPARE(image->currentData().toString(), QStringLiteral("zz-unbuilt"));
        QVERIFY(!d.runButton()->isEnabled());
        QVERIFY2(d.problem().contains(QStringLiteral("--build-image zz-unbuilt")), qPrintable(d.problem()));
        QVERIFY(!d.run());
        QTest::keyClick(image, Qt::Key_Home);
        QCOMPARE(image->currentData().toString(), QStringLiteral("base"));
        QVERIFY(d.runButton()->isEnabled());
        QFile::remove(f.fileName());
    }

    void ctrlEnterRunsTheJobInAVm()
    {
        QVERIFY2(GuestImage::locate().isValid(), qPrintable(GuestImage::locate().error));
        NewJobDialog d(*m_ex);
        d.show();
        QVERIFY(QTest::qWaitForWindowActive(&d));
        QTest::keyClicks(d.nameEdit(), QStringLiteral("dialog job"));
        d.statefulBox()->setChecked(true);
        typeWorkspace(d, QStringLiteral("dialog-ws"));
        d.sizeSpin()->setValue(3);
        d.envTable()->addRow(QStringLiteral("GREETING"), QStringLiteral("hello"));
        d.vcpusSpin()->setValue(2);
        d.memorySpin()->setValue(640);
        d.timeoutSpin()->setValue(300);
        d.networkCheck()->setChecked(false);
        d.scriptEdit()->setFocus();
        QTest::keyClicks(d.scriptEdit(), QStringLiteral("echo \"$GREETING from the form\"; nproc; echo to-stderr >&2; "
                                                       "df -BG --output=size /workspace | tail -1"));
        QVERIFY(d.isRunnable());
        QSignalSpy submitted(&d, &NewJobDialog::submitted);
        QTest::keyClick(d.scriptEdit(), Qt::Key_Return, Qt::ControlModifier);
        QCOMPARE(submitted.count(), 1);
        QCOMPARE(d.result(), int(QDialog::Accepted));
        QVERIFY(!d.isVisible());
        const QString id = submitted.first().first().toString();
        auto j = m_ex->job(id);
        QVERIFY(j);
        QCOMPARE(j->name, QStringLiteral("dialog job"));
        QCOMPARE(j->workspaceId, QStringLiteral("dialog-ws"));
        QCOMPARE(j->workspaceSizeGb, 3);
        QCOMPARE(j->vcpus, 2);
        QCOMPARE(j->memoryMb, 640);
        QCOMPARE(j->timeoutSec, 300);
        QCOMPARE(j->network, false);
        QCOMPARE(j->source, QStringLiteral("gui"));
        QCOMPARE(j->image, QStringLiteral("base"));
        QCOMPARE(j->env, (QList<QPair<QString, QString>>{{QStringLiteral("GREETING"), QStringLiteral("hello")}}));
        QVERIFY(test::waitFinished(*m_ex, id));
        j = m_ex->job(id);
        const QByteArray out = m_ex->readLog(id, 1, 0, 1 << 20).data;
        QVERIFY2(j->status == JobStatus::Completed, qPrintable(statusName(j->status) + QStringLiteral(": ") + j->error + QString::fromUtf8(m_ex->readLog(id, 2, 0, 1 << 20).data)));
        QVERIFY2(out.contains("hello from the form\n2\n"), out.constData());
        QVERIFY2(out.trimmed().endsWith("3G"), out.constData());
        QCOMPARE(m_ex->readLog(id, 2, 0, 1 << 20).data, QByteArray("to-stderr\n"));
    }
};

QTEST_MAIN(TestNewJobDialog)
#include "TestNewJobDialog.moc"
