// UiTestSupport.h — helpers for the desktop-window tests (ui/): an isolated settings file and
// data folder, an executor, waiting for jobs, answering message boxes.
#pragma once

#include "Executor.h"
#include "Settings.h"

#include <QAbstractButton>
#include <QApplication>
#include <QDeadlineTimer>
#include <QMessageBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <memory>

namespace magpie::test {

// Keeps the tests away from the user's settings and key: a settings file in a temporary
// folder (MAGPIE_SETTINGS_FILE), QStandardPaths in test mode, no MAGPIE_API_KEY.
inline void isolateSettings(const QTemporaryDir &dir)
{
    QStandardPaths::setTestModeEnabled(true);
    qputenv(Settings::kEnvVar, (dir.path() + QStringLiteral("/magpie-desktop.conf")).toUtf8());
    qunsetenv("MAGPIE_API_KEY");
}

inline std::unique_ptr<Executor> openExecutor(const QString &dataDir, int parallel = 2)
{
    ExecutorConfig cfg;
    cfg.dataDir = dataDir;
    cfg.maxParallel = parallel;
    cfg.accel = AccelMode::Tcg;
    auto ex = std::make_unique<Executor>(cfg);
    QString err;
    if (!ex->open(&err))
        qFatal("executor open failed: %s", qPrintable(err));
    return ex;
}

// Waits (processing events) until a job has finished; false on timeout.
inline bool waitFinished(Executor &ex, const QString &id, int ms = 240000)
{
    QDeadlineTimer until(ms);
    while (!until.hasExpired()) {
        const auto j = ex.job(id);
        if (j && isFinished(j->status))
            return true;
        QTest::qWait(50);
    }
    return false;
}

// Answers the next QMessageBox that becomes modal by clicking its button with `role`. The box's
// text and informative text end up in *seen (shared, since the answer happens later).
inline std::shared_ptr<QString> answerNextMessageBox(QMessageBox::ButtonRole role, int timeoutMs = 20000)
{
    auto seen = std::make_shared<QString>();
    auto *timer = new QTimer(qApp);
    timer->setInterval(30);
    const QDeadlineTimer until(timeoutMs);
    QObject::connect(timer, &QTimer::timeout, timer, [timer, seen, role, until] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box) {
            if (until.hasExpired())
                timer->deleteLater();
            return;
        }
        *seen = box->text() + QLatin1Char('\n') + box->informativeText();
        QAbstractButton *pick = nullptr;
        for (QAbstractButton *b : box->buttons())
            if (box->buttonRole(b) == role)
                pick = b;
        timer->stop();
        timer->deleteLater();
        if (pick)
            pick->click();
        else
            box->reject();
    });
    timer->start();
    return seen;
}

} // namespace magpie::test
