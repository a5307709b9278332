// TestBackendSettings — the Settings dialog's "Where jobs run" box (ui/BackendSettingsBox),
// driven as a person does: clicking the radio buttons and OK, typing into the fields. A relative
// shared folder and an unbalanced quote in the extra sbatch arguments are refused next to the
// fields with OK disabled and nothing saved; a valid form is saved to the settings file and shown
// again when the dialog is reopened; "This computer" disables the Slurm fields. "Check cluster"
// runs a stand-in sinfo from PATH (found, missing, failing, hanging). GuiSettingsStore maps the
// fields both ways. No VM is started.
#include "BackendSettingsBox.h"
#include "SettingsDialog.h"
#include "UiTestSupport.h"

#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestBackendSettings : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<Executor> m_ex;
    GuiSettingsStore m_store;
    QByteArray m_path;

    std::unique_ptr<SettingsDialog> openDialog()
    {
        auto d = std::make_unique<SettingsDialog>(*m_ex, nullptr, m_store, m_store.load(), m_ex->dataDir());
        d->show();
        if (!QTest::qWaitForWindowExposed(d.get()))
            qFatal("the settings dialog was not shown");
        return d;
    }

    static QString message(SettingsDialog &d)
    {
        auto *l = d.findChild<QLabel *>(QStringLiteral("backendMessage"));
        return l && l->isVisible() ? l->text() : QString();
    }

    template<typename T>
    static T *child(SettingsDialog &d, const char *name)
    {
        auto *w = d.findChild<T *>(QLatin1String(name));
        if (!w)
            qFatal("no %s in the settings dialog", name);
        return w;
    }

    static void click(QWidget *w)
    {
        QTest::mouseClick(w, Qt::LeftButton, Qt::NoModifier, QPoint(8, w->height() / 2));
    }

    // Replaces a line edit's text by typing: select all, then the keys.
    static void type(QLineEdit *e, const QString &text)
    {
        e->setFocus();
        QTest::keyClick(e, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClick(e, Qt::Key_Delete);
        QTest::keyClicks(e, text);
    }

    // Back to the defaults in the settings file.
    static void resetStore()
    {
        QString err;
        if (!Settings().save(&err))
            qFatal("cannot reset the settings: %s", qPrintable(err));
    }

    // A stand-in sinfo in its own folder, which becomes the whole PATH.
    QString fakeSinfo(const QString &name, const QByteArray &body)
    {
        const QString dir = m_tmp.path() + QStringLiteral("/bin-") + name;
        QDir().mkpath(dir);
        if (!body.isEmpty()) {
            QFile f(dir + QStringLiteral("/sinfo"));
            if (!f.open(QIODevice::WriteOnly))
                qFatal("cannot write the fake sinfo");
            f.write("#!/bin/sh\n" + body);
            f.close();
            f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        }
        qputenv("PATH", dir.toUtf8());
        return dir;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        m_path = qgetenv("PATH");
        m_ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"));
    }

    void cleanup()
    {
        qputenv("PATH", m_path);
    }

    void cleanupTestCase()
    {
        m_ex.reset();
    }

    void defaultsToThisComputerWithSlurmFieldsDisabled()
    {
        resetStore();
        auto d = openDialog();
        auto *local = child<QRadioButton>(*d, "backendLocalRadio");
        auto *slurm = child<QRadioButton>(*d, "backendSlurmRadio");
        QVERIFY(local->isChecked());
        QVERIFY(!slurm->isChecked());
        for (const char *name : {"slurmPartitionEdit", "slurmAccountEdit", "slurmSharedEdit", "slurmExtraEdit"})
            QVERIFY2(!child<QLineEdit>(*d, name)->isEnabled(), name);
        QVERIFY(!d->backendBox()->checkClusterButton()->isEnabled());
        QVERIFY(d->okButton()->isEnabled());
        // What runs jobs now, and that a change needs a restart.
        const QString note = child<QLabel>(*d, "backendNote")->text();
        QVERIFY2(note.contains(QStringLiteral("this computer (QEMU)")), qPrintable(note));
        QVERIFY2(note.contains(QStringLiteral("restarts")), qPrintable(note));
        QVERIFY2(!note.contains(QStringLiteral("new choice")), qPrintable(note)); // nothing changed yet
        QCOMPARE(m_ex->backendName(), QStringLiteral("local"));
        // Choosing Slurm says what happens at the restart.
        click(slurm);
        const QString changed = child<QLabel>(*d, "backendNote")->text();
        QVERIFY2(changed.contains(QStringLiteral("jobs still queued then run on the new choice")), qPrintable(changed));
        click(local);
        QVERIFY(!child<QLabel>(*d, "backendNote")->text().contains(QStringLiteral("new choice")));
        // Before open() an executor names the backend it is configured with.
        ExecutorConfig cfg;
        cfg.dataDir = m_tmp.path() + QStringLiteral("/unopened");
        cfg.backend = QStringLiteral("slurm");
        QCOMPARE(Executor(cfg).backendName(), QStringLiteral("slurm"));
    }

    void slurmNeedsAnAbsoluteSharedFolder()
    {
        resetStore();
        auto d = openDialog();
        auto *slurm = child<QRadioButton>(*d, "backendSlurmRadio");
        auto *shared = child<QLineEdit>(*d, "slurmSharedEdit");
        click(slurm);
        QVERIFY(slurm->isChecked());
        QVERIFY(shared->isEnabled());
        QVERIFY(child<QLineEdit>(*d, "slurmPartitionEdit")->isEnabled());
        // No folder yet: refused, and the message says what is missing.
        QVERIFY(!d->okButton()->isEnabled());
        QVERIFY2(message(*d).contains(QStringLiteral("shared data folder")), qPrintable(message(*d)));
        type(shared, QStringLiteral("relative/shared"));
        QVERIFY(!d->okButton()->isEnabled());
        QVERIFY2(message(*d).contains(QStringLiteral("absolute path")), qPrintable(message(*d)));
        QVERIFY(d->okButton()->toolTip().contains(QStringLiteral("absolute path")));
        // Clicking the disabled OK does nothing: the dialog stays, nothing is saved.
        click(d->okButton());
        QVERIFY(d->isVisible());
        QVERIFY(!d->apply());
        QCOMPARE(Settings::load().backend, QStringLiteral("local"));
        QVERIFY(Settings::load().slurmShared.isEmpty());
        // Fixed: the message goes and OK can be clicked.
        type(shared, m_tmp.path() + QStringLiteral("/shared"));
        QVERIFY(d->okButton()->isEnabled());
        QVERIFY(message(*d).isEmpty());
        QVERIFY(!child<QLabel>(*d, "backendMessage")->isVisible());
    }

    void unbalancedQuoteInExtraArgumentsIsRefused()
    {
        resetStore();
        auto d = openDialog();
        click(child<QRadioButton>(*d, "backendSlurmRadio"));
        type(child<QLineEdit>(*d, "slurmSharedEdit"), m_tmp.path() + QStringLiteral("/shared"));
        auto *extra = child<QLineEdit>(*d, "slurmExtraEdit");
        QVERIFY(d->okButton()->isEnabled());
        type(extra, QStringLiteral("--qos=long --comment=\"two words"));
        QVERIFY(!d->okButton()->isEnabled());
        QVERIFY2(message(*d).contains(QStringLiteral("unbalanced")), qPrintable(message(*d)));
        click(d->okButton());
        QVERIFY(d->isVisible());
        QCOMPARE(Settings::load().backend, QStringLiteral("local"));
        QTest::keyClicks(extra, QStringLiteral("\""));
        QVERIFY(d->okButton()->isEnabled());
        QVERIFY(message(*d).isEmpty());
        // Single quotes would be passed on as they are (QProcess::splitCommand): refused too.
        type(extra, QStringLiteral("--comment='two words'"));
        QVERIFY(!d->okButton()->isEnabled());
        QVERIFY2(message(*d).contains(QStringLiteral("double quotes")), qPrintable(message(*d)));
        // A partition with a space in it is no partition name.
        type(extra, QString());
        type(child<QLineEdit>(*d, "slurmPartitionEdit"), QStringLiteral("two parts"));
        QVERIFY(!d->okButton()->isEnabled());
        QVERIFY2(message(*d).contains(QStringLiteral("partition")), qPrintable(message(*d)));
    }

    void splitsExtraArgumentsAsTheAppDoes()
    {
        QStringList args;
        QString err;
        QVERIFY(BackendSettingsBox::splitExtraArgs(QStringLiteral("--qos=long  --comment=\"a b\" --x"), &args, &err));
        QCOMPARE(args, (QStringList{QStringLiteral("--qos=long"), QStringLiteral("--comment=a b"), QStringLiteral("--x")}));
        QVERIFY(BackendSettingsBox::splitExtraArgs(QString(), &args, &err));
        QVERIFY(args.isEmpty());
        QVERIFY(BackendSettingsBox::splitExtraArgs(QStringLiteral("--comment=\"it's\""), &args, &err));
        QCOMPARE(args, QStringList{QStringLiteral("--comment=it's")});
        QVERIFY(BackendSettingsBox::splitExtraArgs(QStringLiteral("--comment=\"\"\"quoted\"\"\""), &args, &err));
        QCOMPARE(args, QStringList{QStringLiteral("--comment=\"quoted\"")});
        QVERIFY(BackendSettingsBox::splitExtraArgs(QStringLiteral("--comment=\"\""), &args, &err));
        for (const char *bad : {"--comment=\"a b", "--comment=a\"", "\"", "--x \"\"\"\"", "--comment='a b'"}) {
            err.clear();
            QVERIFY2(!BackendSettingsBox::splitExtraArgs(QString::fromUtf8(bad), &args, &err), bad);
            QVERIFY2(!err.isEmpty(), bad);
        }
    }

    void validFormIsSavedAndShownAgain()
    {
        resetStore();
        const QString shared = m_tmp.path() + QStringLiteral("/shared");
        {
            auto d = openDialog();
            click(child<QRadioButton>(*d, "backendSlurmRadio"));
            type(child<QLineEdit>(*d, "slurmPartitionEdit"), QStringLiteral("debug"));
            type(child<QLineEdit>(*d, "slurmAccountEdit"), QStringLiteral("lab42"));
            type(child<QLineEdit>(*d, "slurmSharedEdit"), shared);
            type(child<QLineEdit>(*d, "slurmExtraEdit"), QStringLiteral("--qos=long --comment=\"two words\""));
            QVERIFY(d->okButton()->isEnabled());
            // Jobs still run here until the app restarts.
            const QString note = child<QLabel>(*d, "backendNote")->text();
            QVERIFY2(note.contains(QStringLiteral("In use now: this computer")) && note.contains(QStringLiteral("restarts")), qPrintable(note));
            QSignalSpy applied(d.get(), &SettingsDialog::applied);
            click(d->okButton());
            QCOMPARE(applied.size(), 1);
            QCOMPARE(d->result(), int(QDialog::Accepted));
            QVERIFY(!d->isVisible());
        }
        // The settings file has them (what GuiMain reads at the next start).
        const Settings l = Settings::load();
        QCOMPARE(l.backend, QStringLiteral("slurm"));
        QCOMPARE(l.slurmPartition, QStringLiteral("debug"));
        QCOMPARE(l.slurmAccount, QStringLiteral("lab42"));
        QCOMPARE(l.slurmShared, shared);
        QCOMPARE(l.slurmExtra, QStringLiteral("--qos=long --comment=\"two words\""));
        QCOMPARE(QProcess::splitCommand(l.slurmExtra), (QStringList{QStringLiteral("--qos=long"), QStringLiteral("--comment=two words")}));
        {
            // Reopened: the saved values, the Slurm radio checked, its fields enabled.
            auto d = openDialog();
            QVERIFY(child<QRadioButton>(*d, "backendSlurmRadio")->isChecked());
            QVERIFY(!child<QRadioButton>(*d, "backendLocalRadio")->isChecked());
            QCOMPARE(child<QLineEdit>(*d, "slurmPartitionEdit")->text(), QStringLiteral("debug"));
            QCOMPARE(child<QLineEdit>(*d, "slurmAccountEdit")->text(), QStringLiteral("lab42"));
            QCOMPARE(child<QLineEdit>(*d, "slurmSharedEdit")->text(), shared);
            QCOMPARE(child<QLineEdit>(*d, "slurmExtraEdit")->text(), QStringLiteral("--qos=long --comment=\"two words\""));
            QVERIFY(child<QLineEdit>(*d, "slurmSharedEdit")->isEnabled());
            QVERIFY(d->okButton()->isEnabled());
            // Back to this computer: the Slurm fields are disabled; saved, they are kept for later.
            click(child<QRadioButton>(*d, "backendLocalRadio"));
            QVERIFY(child<QRadioButton>(*d, "backendLocalRadio")->isChecked());
            for (const char *name : {"slurmPartitionEdit", "slurmAccountEdit", "slurmSharedEdit", "slurmExtraEdit"})
                QVERIFY2(!child<QLineEdit>(*d, name)->isEnabled(), name);
            QVERIFY(!d->backendBox()->browseButton()->isEnabled());
            click(d->okButton());
            QCOMPARE(d->result(), int(QDialog::Accepted));
        }
        const Settings back = Settings::load();
        QCOMPARE(back.backend, QStringLiteral("local"));
        QCOMPARE(back.slurmShared, shared);
        QCOMPARE(back.slurmPartition, QStringLiteral("debug"));
        // Other settings saved from the dialog leave the backend alone (they used to reset it).
        QCOMPARE(m_store.load().backend, QStringLiteral("local"));
    }

    void refusedSlurmFieldsAreNotSavedWhileLocal()
    {
        resetStore();
        const QString shared = m_tmp.path() + QStringLiteral("/kept");
        {
            auto d = openDialog();
            click(child<QRadioButton>(*d, "backendSlurmRadio"));
            type(child<QLineEdit>(*d, "slurmSharedEdit"), shared);
            click(d->okButton());
            QCOMPARE(d->result(), int(QDialog::Accepted));
        }
        auto d = openDialog();
        type(child<QLineEdit>(*d, "slurmSharedEdit"), QStringLiteral("not/absolute"));
        QVERIFY(!d->okButton()->isEnabled());
        click(child<QRadioButton>(*d, "backendLocalRadio"));
        QVERIFY(d->okButton()->isEnabled()); // the Slurm fields do not matter for local jobs
        click(d->okButton());
        QCOMPARE(d->result(), int(QDialog::Accepted));
        QCOMPARE(Settings::load().backend, QStringLiteral("local"));
        QCOMPARE(Settings::load().slurmShared, shared); // not the refused relative path
    }

    void checkClusterShowsWhatSinfoSays()
    {
        resetStore();
        auto d = openDialog();
        BackendSettingsBox *box = d->backendBox();
        click(child<QRadioButton>(*d, "backendSlurmRadio"));
        QVERIFY(box->checkClusterButton()->isEnabled());
        QSignalSpy checked(box, &BackendSettingsBox::clusterChecked);

        fakeSinfo(QStringLiteral("ok"), "[ \"$1 $2 $3\" = '-h -o %P %a %D %T' ] || { echo \"bad args: $*\" >&2; exit 3; }\n"
                                         "echo 'debug* up 2 idle'\necho 'long up 1 mixed'\n");
        click(box->checkClusterButton());
        QVERIFY(!box->checkClusterButton()->isEnabled()); // while it runs
        QVERIFY(checked.wait(10000));
        QCOMPARE(checked.last().first().toBool(), true);
        QVERIFY2(box->clusterLabel()->text().contains(QStringLiteral("debug* up 2 idle")), qPrintable(box->clusterLabel()->text()));
        QVERIFY(box->clusterLabel()->text().contains(QStringLiteral("long up 1 mixed")));
        QVERIFY(box->checkClusterButton()->isEnabled());

        fakeSinfo(QStringLiteral("none"), QByteArray());
        click(box->checkClusterButton());
        QVERIFY(checked.wait(10000));
        QCOMPARE(checked.last().first().toBool(), false);
        QVERIFY2(box->clusterLabel()->text().contains(QStringLiteral("sinfo not found: install slurm-client")), qPrintable(box->clusterLabel()->text()));

        fakeSinfo(QStringLiteral("fails"), "echo 'sinfo: error: noise 1' >&2\necho 'sinfo: error: noise 2' >&2\n"
                                            "echo 'slurm_load_partitions: Unable to contact slurm controller' >&2\nexit 1\n");
        click(box->checkClusterButton());
        QVERIFY(checked.wait(10000));
        QCOMPARE(checked.last().first().toBool(), false);
        QVERIFY2(box->clusterLabel()->text().contains(QStringLiteral("Unable to contact slurm controller")), qPrintable(box->clusterLabel()->text()));
        QVERIFY(box->clusterLabel()->text().contains(QStringLiteral("exit code 1")));
        QVERIFY(!box->clusterLabel()->text().contains(QStringLiteral("noise 1"))); // the last two lines only
        QVERIFY(box->clusterLabel()->text().contains(QStringLiteral("noise 2")));

        fakeSinfo(QStringLiteral("hangs"), "exec /bin/sleep 30\n");
        QElapsedTimer t;
        t.start();
        click(box->checkClusterButton());
        QVERIFY(checked.wait(15000));
        QVERIFY(t.elapsed() >= BackendSettingsBox::kCheckTimeoutMs * 9 / 10); // a coarse timer may fire 5 % early
        QVERIFY(t.elapsed() < BackendSettingsBox::kCheckTimeoutMs + 4000);
        QCOMPARE(checked.last().first().toBool(), false);
        QVERIFY2(box->clusterLabel()->text().contains(QStringLiteral("did not answer within 5 s")), qPrintable(box->clusterLabel()->text()));
        QVERIFY(box->checkClusterButton()->isEnabled());
    }

    void storeMapsBackendFieldsBothWays()
    {
        Settings s;
        s.backend = QStringLiteral("slurm");
        s.slurmPartition = QStringLiteral("p1");
        s.slurmAccount = QStringLiteral("a1");
        s.slurmShared = QStringLiteral("/shared/x");
        s.slurmExtra = QStringLiteral("--qos=q");
        const WindowSettings w = GuiSettingsStore::toWindow(s);
        QCOMPARE(w.backend, QStringLiteral("slurm"));
        QCOMPARE(w.slurmPartition, QStringLiteral("p1"));
        QCOMPARE(w.slurmAccount, QStringLiteral("a1"));
        QCOMPARE(w.slurmShared, QStringLiteral("/shared/x"));
        QCOMPARE(w.slurmExtra, QStringLiteral("--qos=q"));
        const Settings back = GuiSettingsStore::fromWindow(w);
        QCOMPARE(back.backend, s.backend);
        QCOMPARE(back.slurmPartition, s.slurmPartition);
        QCOMPARE(back.slurmAccount, s.slurmAccount);
        QCOMPARE(back.slurmShared, s.slurmShared);
        QCOMPARE(back.slurmExtra, s.slurmExtra);
        WindowSettings odd;
        odd.backend = QStringLiteral("cloud");
        QCOMPARE(GuiSettingsStore::fromWindow(odd).backend, QStringLiteral("local"));
        // Through the file.
        resetStore();
        QString err;
        QVERIFY2(m_store.save(w, &err), qPrintable(err));
        const WindowSettings loaded = m_store.load();
        QCOMPARE(loaded.backend, QStringLiteral("slurm"));
        QCOMPARE(loaded.slurmShared, QStringLiteral("/shared/x"));
        QCOMPARE(loaded.slurmExtra, QStringLiteral("--qos=q"));
    }
};

QTEST_MAIN(TestBackendSettings)
#include "TestBackendSettings.moc"
