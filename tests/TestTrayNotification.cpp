// TestTrayNotification — the real system tray: run under X (tests/run-with-tray.sh starts Xvfb
// and the `trayer` tray host), the window gets a QSystemTrayIcon, and a job that finishes while
// another window is active raises a real tray message (Qt's balloon beside the icon) with the
// job's name; while the window is active, none. No VM boots (the job is cancelled).
#include "JobNotifier.h"
#include "MainWindow.h"
#include "UiTestSupport.h"

#include <QSystemTrayIcon>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestTrayNotification : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    GuiSettingsStore m_store;

    static QWidget *balloon()
    {
        for (QWidget *w : QApplication::topLevelWidgets())
            if (w->inherits("QBalloonTip") && w->isVisible())
                return w;
        return nullptr;
    }

    QString finishOne(Executor &ex, const QString &name)
    {
        JobRequest r;
        r.name = name;
        r.script = QStringLiteral("true");
        ExecError e;
        const auto j = ex.submit(r, &e);
        if (!j || !ex.cancel(j->requestId, &e))
            qFatal("submit/cancel: %s", qPrintable(e.message));
        return j->requestId;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        if (QGuiApplication::platformName() != QLatin1String("xcb"))
            QSKIP("needs X11 with a tray host (tests/run-with-tray.sh)");
        QTRY_VERIFY_WITH_TIMEOUT(QSystemTrayIcon::isSystemTrayAvailable(), 10000);
    }

    void finishedJobShowsATrayMessageWhenInactive()
    {
        auto ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"));
        MainWindow w(*ex, nullptr, m_store);
        w.setConfirmQuit(false);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.trayIcon());
        QVERIFY(w.trayIcon()->isVisible());
        w.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&w));
        QSignalSpy notified(w.notifier(), &JobNotifier::notified);
        finishOne(*ex, QStringLiteral("seen in the window"));
        QCOMPARE(notified.count(), 0);
        QTest::qWait(300);
        QVERIFY(!balloon());

        QWidget other;
        other.setWindowTitle(QStringLiteral("another application"));
        other.resize(300, 200);
        other.show();
        other.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&other));
        finishOne(*ex, QStringLiteral("Nightly import"));
        QCOMPARE(notified.count(), 1);
        QWidget *tip = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((tip = balloon()), 5000);
        QStringList texts;
        for (QObject *o : tip->findChildren<QObject *>())
            if (o->property("text").isValid())
                texts << o->property("text").toString();
        QVERIFY2(texts.join(QLatin1Char('\n')).contains(QStringLiteral("Job finished: Nightly import")), qPrintable(texts.join(QLatin1Char('|'))));
    }
};

QTEST_MAIN(TestTrayNotification)
#include "TestTrayNotification.moc"
