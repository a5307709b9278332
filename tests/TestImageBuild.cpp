// TestImageBuild — `magpie-desktop --build-image NAME` for real (the binary, build-image.sh,
// debootstrap/apt in a chroot): an unknown name lists the profiles; a recipe whose package does
// not exist fails and leaves the existing image byte for byte as it was; a user recipe with a
// package and a setup script builds into <data>/images/NAME, and a job on that image (a real VM)
// sees both. Needs root (the first build of a profile runs debootstrap and apt-get).
#include "ExecutorTestSupport.h"
#include "ImageRegistry.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

namespace {
void write(const QString &path, const QByteArray &text)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

QByteArray read(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

struct Run {
    int code = -1;
    QByteArray out;
};

Run buildImage(const QString &data, const QString &name)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(MAGPIE_DESKTOP_BIN), {QStringLiteral("--build-image"), name, QStringLiteral("--data-dir"), data});
    p.waitForFinished(1200000);
    return Run{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAll()};
}
} // namespace

class TestImageBuild : public QObject
{
    Q_OBJECT
    QTemporaryDir m_data;

private slots:
    void unknownNameListsTheProfiles()
    {
        const Run r = buildImage(m_data.path(), QStringLiteral("nosuch"));
        QCOMPARE(r.code, 2);
        QVERIFY2(r.out.contains("unknown image 'nosuch'") && r.out.contains("base") && r.out.contains("dev"), r.out.constData());
    }

    void failingRecipeLeavesTheExistingImageAlone()
    {
        const ImageRegistry reg(m_data.path());
        write(reg.userRecipeDir() + QStringLiteral("/broken.conf"), "name=broken\npackages=magpie-no-such-package-xyz\n");
        const QString dir = reg.userImageDir(QStringLiteral("broken"));
        for (const char *f : {"vmlinuz", "initrd.img", "rootfs.qcow2"})
            write(dir + QLatin1Char('/') + QLatin1String(f), QByteArray("the previous build of ") + f);
        const Run r = buildImage(m_data.path(), QStringLiteral("broken"));
        QVERIFY2(r.code == 1, r.out.constData());
        QVERIFY2(r.out.contains("magpie-no-such-package-xyz"), r.out.constData());
        for (const char *f : {"vmlinuz", "initrd.img", "rootfs.qcow2"})
            QCOMPARE(read(dir + QLatin1Char('/') + QLatin1String(f)), QByteArray("the previous build of ") + f);
        QVERIFY(!QFileInfo::exists(ImageRegistry::stagingDir(dir)));
    }

    void userRecipeBuildsAndAJobRunsOnIt()
    {
        const ImageRegistry reg(m_data.path());
        write(reg.userRecipeDir() + QStringLiteral("/tools.conf"),
              "# a recipe of the user's\nname=tools\ndescription=tree and a marker\npackages=tree\nsetup=tools-setup.sh\n");
        write(reg.userRecipeDir() + QStringLiteral("/tools-setup.sh"), "set -e\necho 'made by tools-setup.sh' > /etc/magpie-tools-marker\n");
        const Run r = buildImage(m_data.path(), QStringLiteral("tools"));
        QVERIFY2(r.code == 0, r.out.constData());
        QVERIFY2(r.out.contains("image 'tools' is ready"), r.out.constData());
        const GuestImage img = reg.resolve(QStringLiteral("tools"));
        QVERIFY2(img.isValid(), qPrintable(img.error));
        QCOMPARE(img.dir, QDir(reg.userImageDir(QStringLiteral("tools"))).absolutePath());
        QVERIFY(read(img.dir + QStringLiteral("/manifest.json")).contains("\"profile\": \"tools\""));

        auto ex = test::openExecutor(m_data.path(), 1);
        JobRequest j;
        j.script = QStringLiteral("tree --version | head -c 9; echo; cat /etc/magpie-tools-marker");
        j.image = QStringLiteral("tools");
        j.network = false;
        const JobRecord rec = test::submitOk(*ex, j);
        QCOMPARE(rec.image, QStringLiteral("tools"));
        const JobRecord done = test::waitDone(*ex, rec.requestId, 600000);
        const QByteArray out = test::stdoutOf(*ex, rec.requestId);
        QVERIFY2(done.status == JobStatus::Completed, qPrintable(done.error + QString::fromUtf8(out)));
        QCOMPARE(out, QByteArray("tree v2.1\nmade by tools-setup.sh\n"));
    }
};

QTEST_GUILESS_MAIN(TestImageBuild)
#include "TestImageBuild.moc"
