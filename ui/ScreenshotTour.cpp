#include "ScreenshotTour.h"

#include "CleanupDialog.h"
#include "Executor.h"
#include "FileBrowser.h"
#include "ImageBanner.h"
#include "ImageBuilder.h"
#include "JobDetail.h"
#include "JobTemplates.h"
#include "JobsView.h"
#include "MainWindow.h"
#include "NewJobDialog.h"
#include "SettingsDialog.h"
#include "WorkspacesView.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QGroupBox>
#include <QPushButton>
#include <QJsonDocument>
#include <QTabWidget>
#include <QTreeWidget>

#include <cstdio>

namespace magpie::ui {

namespace {
void after(int ms, std::function<void()> f)
{
    QTimer::singleShot(ms, qApp, std::move(f));
}
} // namespace

ScreenshotTour::ScreenshotTour(MainWindow &window, Executor &executor, QString dir, QObject *parent)
    : QObject(parent), m_window(window), m_ex(executor), m_dir(std::move(dir))
{
    QDir().mkpath(m_dir);
    QFile::remove(m_dir + QStringLiteral("/done"));
    m_poll.setInterval(300);
    connect(&m_poll, &QTimer::timeout, this, &ScreenshotTour::poll);
    m_poll.start();
}

void ScreenshotTour::log(const QString &text)
{
    std::fprintf(stderr, "[screenshots] %s\n", qPrintable(text));
}

void ScreenshotTour::poll()
{
    QFile f(m_dir + QStringLiteral("/take"));
    if (!f.open(QIODevice::ReadOnly))
        return;
    m_spec = QJsonDocument::fromJson(f.readAll()).object();
    f.close();
    f.remove();
    m_poll.stop();
    start();
}

void ScreenshotTour::save(QWidget *w, const QString &name)
{
    const QString path = QStringLiteral("%1/%2.png").arg(m_dir, name);
    const bool ok = w->grab().save(path);
    log(QStringLiteral("%1 %2").arg(ok ? QStringLiteral("saved") : QStringLiteral("FAILED"), path));
}

void ScreenshotTour::start()
{
    const QString job = m_spec.value(QStringLiteral("job")).toString();
    const QString running = m_spec.value(QStringLiteral("running_job")).toString();
    const QString failed = m_spec.value(QStringLiteral("failed_job")).toString();
    const QString ws = m_spec.value(QStringLiteral("workspace")).toString();
    const QString browseWs = m_spec.value(QStringLiteral("browse_workspace")).toString(ws);
    MainWindow *w = &m_window;
    const Step finish = [this, w](auto) {
        QFile done(m_dir + QStringLiteral("/done"));
        if (done.open(QIODevice::WriteOnly))
            done.write("ok\n");
        done.close();
        log(QStringLiteral("done"));
        after(200, [w] { w->forceQuit(); });
    };

    m_steps << [w](auto next) {
        w->showNormal();
        w->resize(1280, 800);
        w->tabs()->setCurrentIndex(MainWindow::JobsTab);
        after(500, next);
    };
    if (m_spec.value(QStringLiteral("first_run")).toBool()) {
        m_steps << [this, w](auto next) {
            w->imageBanner()->refresh();
            after(600, [this, w, next] {
                save(w, QStringLiteral("first-run"));
                next();
            });
        };
        if (m_spec.value(QStringLiteral("build_image")).toBool())
            m_steps << [this, w](auto next) {
                ImageBanner *b = w->imageBanner();
                auto done = std::make_shared<bool>(false);
                connect(b, &ImageBanner::buildFinished, b, [this, w, next, done](bool ok, const QString &msg) {
                    log(QStringLiteral("image build: %1 %2").arg(ok ? QStringLiteral("ok") : QStringLiteral("FAILED"), msg));
                    *done = true;
                    after(300, [this, w, next] {
                        save(w, QStringLiteral("image-built"));
                        next();
                    });
                });
                b->buildButton()->click();
                // Shot while it runs: once the log has a few lines (or after two seconds).
                auto shoot = std::make_shared<std::function<void(int)>>();
                *shoot = [this, w, b, done, shoot](int tries) {
                    if (*done)
                        return;
                    if (b->builder() && b->builder()->log().count(QLatin1Char('\n')) < 3 && tries < 40)
                        return after(50, [shoot, tries] { (*shoot)(tries + 1); });
                    save(w, QStringLiteral("image-building"));
                };
                after(0, [shoot] { (*shoot)(0); });
            };
        m_steps << finish;
        runStep(0);
        return;
    }
    if (!job.isEmpty())
        m_steps << [this, w, job](auto next) {
            w->jobsView()->selectJob(job);
            w->jobsView()->detail()->tabs()->setCurrentIndex(JobDetail::TabAll);
            after(900, [this, w, next] {
                save(w, QStringLiteral("jobs"));
                next();
            });
        };
    if (!job.isEmpty())
        m_steps << [this, w](auto next) {
            w->jobsView()->detail()->tabs()->setCurrentIndex(JobDetail::TabScript); // highlighted
            after(500, [this, w, next] {
                save(w, QStringLiteral("jobs-script"));
                w->jobsView()->detail()->tabs()->setCurrentIndex(JobDetail::TabDetails);
                after(400, [this, w, next] {
                    save(w, QStringLiteral("jobs-details"));
                    w->jobsView()->detail()->tabs()->setCurrentIndex(JobDetail::TabAll);
                    next();
                });
            });
        };
    if (!running.isEmpty())
        m_steps << [this, w, running](auto next) {
            w->jobsView()->selectJob(running);
            after(2500, [this, w, next] {
                save(w, QStringLiteral("jobs-running"));
                next();
            });
        };
    if (!failed.isEmpty())
        m_steps << [this, w, failed](auto next) {
            w->jobsView()->selectJob(failed);
            after(900, [this, w, next] {
                save(w, QStringLiteral("jobs-failed"));
                next();
            });
        };
    m_steps << [this, w, ws](auto next) {
        w->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
        if (!ws.isEmpty())
            w->workspacesView()->selectWorkspace(ws);
        after(700, [this, w, next] {
            save(w, QStringLiteral("workspaces"));
            next();
        });
    };
    m_steps << [this, w](auto next) {
        NewJobDialog *d = w->openNewJob();
        for (const JobTemplate &t : JobTemplate::all())
            if (t.title == QLatin1String("Counter"))
                d->applyTemplate(t);
        after(700, [this, d, next] {
            save(d, QStringLiteral("new-job"));
            d->workspaceEdit()->setEditText(QStringLiteral("My_Workspace"));
            after(400, [this, d, next] {
                save(d, QStringLiteral("new-job-invalid"));
                d->close();
                next();
            });
        });
    };
    if (!browseWs.isEmpty())
        m_steps << [this, w, browseWs](auto next) {
            FileBrowser *b = w->workspacesView()->browse(browseWs);
            if (!b)
                return next();
            b->resize(760, 500);
            auto done = std::make_shared<bool>(false);
            auto finish = [this, b, next, done] {
                if (*done)
                    return;
                *done = true;
                after(500, [this, b, next] {
                    save(b, QStringLiteral("file-browser"));
                    b->close();
                    next();
                });
            };
            connect(b, &FileBrowser::listed, b, [b, finish](const QString &path) {
                if (path.isEmpty()) {
                    // Open the first folder, to show the tree lists folders on demand.
                    for (int i = 0; i < b->tree()->topLevelItemCount(); ++i) {
                        QTreeWidgetItem *it = b->tree()->topLevelItem(i);
                        if (it->data(0, FileBrowser::TypeRole).toString() == QLatin1String("dir")) {
                            it->setExpanded(true);
                            return;
                        }
                    }
                }
                finish();
            });
            connect(b, &FileBrowser::listFailed, b, [finish] { finish(); });
            after(120000, finish);
        };
    if (!browseWs.isEmpty())
        m_steps << [this, w, browseWs](auto next) {
            CleanupDialog *d = w->workspacesView()->cleanup(browseWs);
            if (!d)
                return next();
            auto done = std::make_shared<bool>(false);
            auto finish = [this, d, next, done] {
                if (*done)
                    return;
                *done = true;
                after(500, [this, d, next] {
                    save(d, QStringLiteral("cleanup"));
                    d->close();
                    next();
                });
            };
            connect(d, &CleanupDialog::loaded, d, finish);
            after(120000, finish);
        };
    if (!browseWs.isEmpty())
        m_steps << [this, w, browseWs](auto next) {
            // The confirmation that names what deleting the workspace loses (answered Cancel).
            w->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
            w->workspacesView()->selectWorkspace(browseWs);
            after(700, [this] {
                if (QWidget *box = QApplication::activeModalWidget()) {
                    save(box, QStringLiteral("delete-workspace"));
                    QMetaObject::invokeMethod(box, "reject", Qt::QueuedConnection);
                }
            });
            after(0, [w, browseWs, next] {
                w->workspacesView()->deleteWorkspace(browseWs); // modal until the Cancel above
                next();
            });
        };
    if (!m_spec.value(QStringLiteral("first_run")).toBool())
        m_steps << [this, w](auto next) {
            SettingsDialog *d = w->openSettings(); // at the size it opens at (adjustSize would cut the wrapped notes)
            after(700, [this, d, next] {
                save(d, QStringLiteral("settings"));
                if (auto *box = d->findChild<QGroupBox *>(QStringLiteral("snippetsBox"))) {
                    save(box, QStringLiteral("snippets"));
                    if (auto *tabs = box->findChild<QTabWidget *>(QStringLiteral("snippetTabs"))) {
                        tabs->setCurrentIndex(1);
                        save(box, QStringLiteral("snippets-cloud"));
                    }
                }
                d->reject();
                next();
            });
        };
    if (m_spec.value(QStringLiteral("theme_dark")).toBool())
        m_steps << [this, w, job](auto next) {
            MainWindow::applyTheme(QStringLiteral("dark"));
            w->tabs()->setCurrentIndex(MainWindow::JobsTab);
            if (!job.isEmpty())
                w->jobsView()->selectJob(job);
            after(900, [this, w, next] {
                save(w, QStringLiteral("jobs-dark"));
                w->tabs()->setCurrentIndex(MainWindow::WorkspacesTab);
                after(600, [this, w, next] {
                    save(w, QStringLiteral("workspaces-dark"));
                    NewJobDialog *d = w->openNewJob();
                    for (const JobTemplate &t : JobTemplate::all())
                        if (t.title == QLatin1String("Counter"))
                            d->applyTemplate(t);
                    after(600, [this, d, next] {
                        save(d, QStringLiteral("new-job-dark"));
                        d->close();
                        next();
                    });
                });
            });
        };
    m_steps << finish;
    runStep(0);
}

void ScreenshotTour::runStep(int i)
{
    if (i >= m_steps.size())
        return;
    m_steps.at(i)([this, i] { after(0, [this, i] { runStep(i + 1); }); });
}

} // namespace magpie::ui
