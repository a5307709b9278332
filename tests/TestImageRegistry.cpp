// TestImageRegistry — guest image profiles: the built-in recipes (base, dev), a user's recipe
// under the data folder, malformed recipes, where a profile's image is found, and the job field
// `image` as Executor::submit checks it (unknown → 422 unknown_image listing the profiles; known
// but not built → 422 image_not_built; nothing is stored). No VM is started.
#include "Executor.h"
#include "ImageRegistry.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

namespace {
void writeFile(const QString &path, const QByteArray &text)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

// Three files are what makes a folder an image for GuestImage::fromDir (no VM boots here).
void writeImage(const QString &dir)
{
    for (const char *f : {"vmlinuz", "initrd.img", "rootfs.qcow2"})
        writeFile(dir + QLatin1Char('/') + QLatin1String(f), "x");
}
} // namespace

class TestImageRegistry : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        // The fake images must never be booted: no snapshot building, no KVM probe.
        qputenv("MAGPIE_SNAPSHOTS", "0");
        qputenv("MAGPIE_ACCEL", "tcg");
    }

    void builtInProfilesAreListed()
    {
        QTemporaryDir data;
        const QString base = data.filePath(QStringLiteral("guest"));
        writeImage(base);
        ImageRegistry reg(data.path(), GuestImage::fromDir(base));
        const QStringList names = reg.names();
        QVERIFY2(names.size() >= 2, qPrintable(names.join(',')));
        QCOMPARE(names.first(), QStringLiteral("base"));
        QVERIFY(names.contains(QStringLiteral("dev")));
        const auto dev = reg.profile(QStringLiteral("dev"));
        QVERIFY(dev);
        QVERIFY(dev->builtIn);
        for (const char *p : {"nodejs", "npm", "build-essential", "python3-venv", "python3-pip", "jq", "unzip", "rsync"})
            QVERIFY2(dev->packages.contains(QLatin1String(p)), p);
        QVERIFY(reg.resolve(QStringLiteral("base")).isValid());
        QCOMPARE(reg.resolve(QString()).dir, GuestImage::fromDir(base).dir);
    }

    void userRecipeIsParsedAndResolved()
    {
        QTemporaryDir data;
        const QString base = data.filePath(QStringLiteral("guest"));
        writeImage(base);
        ImageRegistry reg(data.path(), GuestImage::fromDir(base));
        writeFile(reg.userRecipeDir() + QStringLiteral("/mytools.conf"),
                  "# my tools\nname=mytools\ndescription=ripgrep and friends\npackages=ripgrep, fd-find  tree\nsetup=mytools.sh\n");
        writeFile(reg.userRecipeDir() + QStringLiteral("/mytools.sh"), "#!/bin/sh\necho hi\n");
        writeFile(reg.userRecipeDir() + QStringLiteral("/bad-name.conf"), "name=Bad Name\npackages=x\n");
        writeFile(reg.userRecipeDir() + QStringLiteral("/bad-pkg.conf"), "name=badpkg\npackages=rm;-rf\n");
        writeFile(reg.userRecipeDir() + QStringLiteral("/no-setup.conf"), "name=nosetup\nsetup=missing.sh\n");

        const auto p = reg.profile(QStringLiteral("mytools"));
        QVERIFY(p);
        QVERIFY(!p->builtIn);
        QCOMPARE(p->packages, (QStringList{"ripgrep", "fd-find", "tree"}));
        QCOMPARE(p->description, QStringLiteral("ripgrep and friends"));
        QCOMPARE(p->setupScript, QDir(reg.userRecipeDir()).absoluteFilePath(QStringLiteral("mytools.sh")));
        const QStringList names = reg.names();
        QVERIFY(names.contains(QStringLiteral("mytools")));
        QVERIFY(!names.contains(QStringLiteral("badpkg")));
        QVERIFY(!names.contains(QStringLiteral("nosetup")));
        QVERIFY(!names.contains(QStringLiteral("Bad Name")));
        QString err;
        QVERIFY(!ImageRegistry::parseRecipe(reg.userRecipeDir() + QStringLiteral("/bad-pkg.conf"), &err));
        QVERIFY2(err.contains(QStringLiteral("rm;-rf")), qPrintable(err));

        // Not built yet: the error says how to build it.
        GuestImage img = reg.resolve(QStringLiteral("mytools"));
        QVERIFY(!img.isValid());
        QVERIFY2(img.error.contains(QStringLiteral("--build-image mytools")), qPrintable(img.error));
        // Built into the data folder (what --build-image writes): found there.
        writeImage(reg.userImageDir(QStringLiteral("mytools")));
        img = reg.resolve(QStringLiteral("mytools"));
        QVERIFY2(img.isValid(), qPrintable(img.error));
        QCOMPARE(img.dir, QDir(reg.userImageDir(QStringLiteral("mytools"))).absolutePath());
        QVERIFY(img.identity != GuestImage::fromDir(base).identity); // its own snapshots

        img = reg.resolve(QStringLiteral("nope"));
        QVERIFY(!img.isValid());
        QVERIFY2(img.error.contains(QStringLiteral("unknown image 'nope'")) && img.error.contains(QStringLiteral("base")), qPrintable(img.error));
    }

    void submitChecksTheImage()
    {
        QTemporaryDir data;
        const QString base = data.filePath(QStringLiteral("guest"));
        writeImage(base);
        ExecutorConfig cfg;
        cfg.dataDir = data.filePath(QStringLiteral("d"));
        cfg.image = GuestImage::fromDir(base);
        cfg.holdWithoutImage = true;
        cfg.maxParallel = 1;
        cfg.accel = AccelMode::Tcg;
        writeFile(cfg.dataDir + QStringLiteral("/images/recipes/unbuilt.conf"), "name=unbuilt\npackages=tree\n");
        Executor ex(cfg);
        QString err;
        QVERIFY2(ex.open(&err), qPrintable(err));

        JobRequest r;
        r.script = QStringLiteral("echo hi");
        r.image = QStringLiteral("nosuch");
        ExecError e;
        QVERIFY(!ex.submit(r, &e));
        QCOMPARE(e.httpStatus, 422);
        QCOMPARE(e.code, QStringLiteral("unknown_image"));
        QVERIFY2(e.message.contains(QStringLiteral("base")) && e.message.contains(QStringLiteral("dev"))
                     && e.message.contains(QStringLiteral("unbuilt")),
                 qPrintable(e.message));

        r.image = QStringLiteral("unbuilt");
        QVERIFY(!ex.submit(r, &e));
        QCOMPARE(e.httpStatus, 422);
        QCOMPARE(e.code, QStringLiteral("image_not_built"));
        QCOMPARE(ex.jobs(JobFilter()).jobs.size(), 0);

        // From JSON: image must be a string.
        RequestError re;
        QVERIFY(!JobRequest::fromJson(QJsonObject{{"script", "echo"}, {"image", 3}}, &re));
        QCOMPARE(re.field, QStringLiteral("image"));
        const auto ok = JobRequest::fromJson(QJsonObject{{"script", "echo"}, {"image", " dev "}}, &re);
        QVERIFY(ok);
        QCOMPARE(ok->image, QStringLiteral("dev"));
    }
};

QTEST_GUILESS_MAIN(TestImageRegistry)
#include "TestImageRegistry.moc"
