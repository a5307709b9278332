// TestImageBanner — the guest image banner against the real builder: with no image in the
// folder the app uses, the banner says so and shows the exact command; a job submitted then
// waits ("waiting for the guest image") instead of failing; "Build now" (a real click) runs
// packaging/guest/build-image.sh into that folder with progress and log, the executor finds
// the image again and the waiting job runs to completion in a real VM. A copy of the image
// whose manifest names another agent is reported as stale.
#include "GuestImageSetup.h"
#include "ImageBanner.h"
#include "ImageBuilder.h"
#include "JobsModel.h"
#include "JobsView.h"
#include "MainWindow.h"
#include "UiTestSupport.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestImageBanner : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    GuiSettingsStore m_store;

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        QVERIFY2(GuestImage::locate().isValid(), "the guest-image target must be built (the builder's cache makes this test fast)");
    }

    void staleManifestIsReported()
    {
        const GuestImage real = GuestImage::locate();
        const QString dir = m_tmp.path() + QStringLiteral("/stale");
        QVERIFY(QDir().mkpath(dir));
        for (const char *f : {"vmlinuz", "initrd.img", "rootfs.qcow2"})
            QVERIFY(QFile::link(real.dir + QLatin1Char('/') + QLatin1String(f), dir + QLatin1Char('/') + QLatin1String(f)));
        QFile m(real.dir + QStringLiteral("/manifest.json"));
        QVERIFY(m.open(QIODevice::ReadOnly));
        QJsonObject o = QJsonDocument::fromJson(m.readAll()).object();
        o.insert(QStringLiteral("agent_hash"), QString(64, QLatin1Char('0')));
        QFile out(dir + QStringLiteral("/manifest.json"));
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(QJsonDocument(o).toJson());
        out.close();
        qputenv("MAGPIE_GUEST_DIR", dir.toUtf8());
        const ImageSetup setup = guestImageSetup();
        QVERIFY(setup.canBuild());
        QCOMPARE(setup.outDir, dir);
        const ImageStatus s = ImageStatus::of(GuestImage::fromDir(dir), setup);
        QCOMPARE(s.state, ImageStatus::Stale);
        QVERIFY2(s.reason.contains(QStringLiteral("agent")), qPrintable(s.reason));
        // The image the build made is fine.
        QCOMPARE(ImageStatus::of(real, setup).state, ImageStatus::Ready);
        QFile::remove(dir + QStringLiteral("/manifest.json"));
        QCOMPARE(ImageStatus::of(GuestImage::fromDir(dir), setup).state, ImageStatus::Stale); // no manifest at all
    }

    void buildNowMakesTheImageAndTheWaitingJobRuns()
    {
        const QString dir = m_tmp.path() + QStringLiteral("/guest");
        qputenv("MAGPIE_GUEST_DIR", dir.toUtf8());
        const ImageSetup setup = guestImageSetup();
        QCOMPARE(setup.outDir, dir);
        auto ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"), 2, true, GuestImage::fromDir(dir));
        QVERIFY(!ex->image().isValid());
        MainWindow w(*ex, nullptr, m_store);
        w.setConfirmQuit(false);
        w.setImageSetup(setup);
        w.resize(1100, 760);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        ImageBanner *b = w.imageBanner();
        QVERIFY(b->isVisible());
        QCOMPARE(b->status().state, ImageStatus::Missing);
        QVERIFY2(b->commandEdit()->text().contains(QStringLiteral("build-image.sh --agent ")), qPrintable(b->commandEdit()->text()));
        QVERIFY(b->commandEdit()->text().contains(QStringLiteral("--out ") + dir));

        // A job submitted now waits for the image.
        JobRequest r;
        r.name = QStringLiteral("after the build");
        r.script = QStringLiteral("echo built and ran");
        r.network = false;
        ExecError e;
        const auto j = ex->submit(r, &e);
        QVERIFY(j);
        QTest::qWait(500);
        QCOMPARE(ex->job(j->requestId)->status, JobStatus::Queued);
        JobsModel *m = w.jobsView()->model();
        QCOMPARE(m->index(m->rowOf(j->requestId), JobsModel::ColDuration).data().toString(), QStringLiteral("waiting for the guest image"));
        QVERIFY(b->messageLabel()->text().contains(QStringLiteral("1 job is waiting")));

        // Build now: progress, log, then the image is there and the job runs.
        QSignalSpy finished(b, &ImageBanner::buildFinished);
        QVERIFY(b->buildButton()->isEnabled());
        QTest::mouseClick(b->buildButton(), Qt::LeftButton);
        QVERIFY(b->progressBar()->isVisible());
        QVERIFY(!b->buildButton()->isEnabled());
        QVERIFY(finished.wait(600000));
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString() + QLatin1Char('\n') + b->logView()->toPlainText()));
        QVERIFY(b->logView()->toPlainText().contains(QStringLiteral("[guest-image] done")));
        QCOMPARE(b->builder()->step(), ImageBuilder::kSteps);
        QVERIFY(ex->image().isValid());
        QCOMPARE(ex->image().dir, dir);
        QVERIFY(!b->isVisible());
        QVERIFY(QFile::exists(dir + QStringLiteral("/manifest.json")));
        QVERIFY(test::waitFinished(*ex, j->requestId));
        QCOMPARE(ex->job(j->requestId)->status, JobStatus::Completed);
        QCOMPARE(ex->readLog(j->requestId, 1, 0, 1000).data, QByteArray("built and ran\n"));
    }
};

QTEST_MAIN(TestImageBanner)
#include "TestImageBanner.moc"
