// TestImageBuildDialog — the window's image builder for real (packaging/guest/build-image.sh run
// by the dialog): a recipe whose package does not exist, chosen in the profile picker and built
// with a real click on Build, ends with an error in the dialog, the progress bar having moved,
// and the existing image of that profile untouched. Needs root (debootstrap/apt in a chroot).
#include "GuestImageSetup.h"
#include "ImageBuildDialog.h"
#include "ImageRegistry.h"
#include "UiTestSupport.h"

#include <QComboBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestImageBuildDialog : public QObject
{
    Q_OBJECT

private slots:
    void failingRecipeShowsTheErrorAndKeepsTheImage()
    {
        QTemporaryDir data;
        const ImageRegistry reg(data.path());
        QDir().mkpath(reg.userRecipeDir());
        QFile recipe(reg.userRecipeDir() + QStringLiteral("/zz-broken.conf"));
        QVERIFY(recipe.open(QIODevice::WriteOnly));
        recipe.write("name=zz-broken\npackages=magpie-no-such-package-xyz\n");
        recipe.close();
        const QString dir = reg.userImageDir(QStringLiteral("zz-broken"));
        QVERIFY(QDir().mkpath(dir));
        for (const char *f : {"vmlinuz", "initrd.img", "rootfs.qcow2"}) {
            QFile out(dir + QLatin1Char('/') + QLatin1String(f));
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write("previous");
        }

        const ImageSetup setup = guestImageSetup();
        QVERIFY2(setup.canBuild(), "no image builder in this build tree");
        ImageBuildDialog d(setup, data.path(), QStringLiteral("base"));
        d.show();
        QVERIFY(QTest::qWaitForWindowExposed(&d));
        QComboBox *profiles = d.profileCombo();
        QVERIFY(profiles->findData(QStringLiteral("dev")) >= 0);
        QCOMPARE(profiles->currentData().toString(), QStringLiteral("base"));
        profiles->setFocus();
        QTest::keyClick(profiles, Qt::Key_End); // the user's recipes come after the built-in ones
        QCOMPARE(profiles->currentData().toString(), QStringLiteral("zz-broken"));
        QCOMPARE(profiles->currentText(), QStringLiteral("zz-broken (built: rebuild)"));

        QSignalSpy built(&d, &ImageBuildDialog::imageBuilt);
        QPushButton *build = d.buildButton();
        QVERIFY(build->isEnabled());
        QTest::mouseClick(build, Qt::LeftButton, {}, build->rect().center());
        QVERIFY(d.isBuilding());
        QVERIFY(!build->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(!d.isBuilding(), 900000);
        QVERIFY(build->isEnabled());
        QCOMPARE(built.count(), 0);
        QVERIFY2(d.statusLabel()->property("error").toBool(), qPrintable(d.statusLabel()->text()));
        QVERIFY2(d.statusLabel()->text().contains(QStringLiteral("unchanged")), qPrintable(d.statusLabel()->text()));
        // It failed where the recipe is wrong: apt in the image could not find the package.
        const QString log = d.logView()->toPlainText();
        QVERIFY2(log.contains(QStringLiteral("Unable to locate package magpie-no-such-package-xyz")), qPrintable(log.right(2000)));
        QVERIFY(d.progressBar()->value() >= 0);
        for (const char *f : {"vmlinuz", "initrd.img", "rootfs.qcow2"}) {
            QFile in(dir + QLatin1Char('/') + QLatin1String(f));
            QVERIFY(in.open(QIODevice::ReadOnly));
            QCOMPARE(in.readAll(), QByteArray("previous"));
        }
        QVERIFY(!QFileInfo::exists(ImageRegistry::stagingDir(dir)));
    }
};

QTEST_MAIN(TestImageBuildDialog)
#include "TestImageBuildDialog.moc"
