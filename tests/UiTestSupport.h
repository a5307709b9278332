// UiTestSupport.h — helpers for the desktop-window tests (ui/): an isolated settings file and
// data folder, an executor, waiting for jobs, and driving widgets as a person does: clicking a
// row of a view at its visualRect (after scrolling to it; Ctrl for multi-select), double
// clicking, firing an action by objectName only when it is enabled. Questions are answered
// through MessageBox::setNextAnswer (ui/MessageBox.h), not by polling for a dialog.
#pragma once

#include "Executor.h"
#include "GuiSettingsStore.h"
#include "Settings.h"

#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QDeadlineTimer>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
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

inline std::unique_ptr<Executor> openExecutor(const QString &dataDir, int parallel = 2, bool holdWithoutImage = false,
                                              const GuestImage &image = GuestImage())
{
    ExecutorConfig cfg;
    cfg.dataDir = dataDir;
    cfg.maxParallel = parallel;
    cfg.accel = AccelMode::Tcg;
    cfg.holdWithoutImage = holdWithoutImage;
    cfg.image = image;
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

// Scrolls a view to a row and clicks it with the mouse, in the middle of the cell, as a person
// does (Qt::ControlModifier adds to or removes from a multi-selection).
inline void clickIndex(QAbstractItemView *view, const QModelIndex &index, Qt::KeyboardModifiers mods = Qt::NoModifier,
                       Qt::MouseButton button = Qt::LeftButton)
{
    view->scrollTo(index);
    QTest::mouseClick(view->viewport(), button, mods, view->visualRect(index).center());
}

inline void doubleClickIndex(QAbstractItemView *view, const QModelIndex &index)
{
    view->scrollTo(index);
    const QPoint at = view->visualRect(index).center();
    // A double click is a press, release, then a double-click event and a release.
    QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::NoModifier, at);
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, Qt::NoModifier, at);
}

// The row of a model whose `role` data is `value` (column 0), or an invalid index.
inline QModelIndex findRow(const QAbstractItemModel *m, int role, const QVariant &value)
{
    for (int r = 0; r < m->rowCount(); ++r)
        if (m->index(r, 0).data(role) == value)
            return m->index(r, 0);
    return QModelIndex();
}

// Fires the action named `name` under `root`, as a menu entry or a button would: only when it
// is enabled. False (and nothing fired) when it is missing or disabled.
inline bool triggerAction(QObject *root, const QString &name)
{
    auto *a = root->findChild<QAction *>(name);
    if (!a || !a->isEnabled())
        return false;
    a->trigger();
    return true;
}

inline bool actionEnabled(QObject *root, const QString &name)
{
    auto *a = root->findChild<QAction *>(name);
    return a && a->isEnabled();
}

} // namespace magpie::test
