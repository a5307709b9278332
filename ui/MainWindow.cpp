#include "MainWindow.h"

#include "DialogPlacement.h"
#include "EndpointControl.h"
#include "ImageBanner.h"
#include "JobDetail.h"
#include "JobsModel.h"
#include "JobNotifier.h"
#include "JobsView.h"
#include "MessageBox.h"
#include "NewJobDialog.h"
#include "SettingsDialog.h"
#include "Theme.h"
#include "TrayNotificationBackend.h"
#include "UiFormat.h"
#include "WorkspacesView.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

namespace magpie::ui {

MainWindow::MainWindow(Executor &executor, EndpointControl *endpoint, SettingsStore &store, QWidget *parent)
    : QMainWindow(parent), m_ex(executor), m_endpoint(endpoint), m_store(store), m_settings(store.load())
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Magpie Desktop"));
    setWindowIcon(appIcon());
    resize(1180, 760);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("mainTabs"));
    m_tabs->setDocumentMode(true);
    m_jobs = new JobsView(m_ex, m_tabs);
    m_workspaces = new WorkspacesView(m_ex, m_tabs);
    m_tabs->addTab(m_jobs, tr("&Jobs"));
    m_tabs->addTab(m_workspaces, tr("&Workspaces"));
    auto *central = new QWidget(this);
    auto *cv = new QVBoxLayout(central);
    cv->setContentsMargins(0, 0, 0, 0);
    cv->setSpacing(0);
    m_banner = new ImageBanner(m_ex, ImageSetup(), central);
    cv->addWidget(m_banner);
    cv->addWidget(m_tabs, 1);
    setCentralWidget(central);

    m_poolLabel = new QLabel(this);
    m_poolLabel->setObjectName(QStringLiteral("poolLabel"));
    m_endpointLabel = new QLabel(this);
    m_endpointLabel->setObjectName(QStringLiteral("endpointLabel"));
    m_endpointLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusBar()->addPermanentWidget(m_poolLabel);
    statusBar()->addPermanentWidget(m_endpointLabel);

    m_notifier = new JobNotifier(m_ex, this, this);
    m_jobs->detail()->setSnippetContext([this] { return snippetContext(); });
    buildActions();
    buildTray();

    connect(&m_ex, &Executor::poolChanged, this, &MainWindow::updateStatus);
    connect(&m_ex, &Executor::jobChanged, this, &MainWindow::updateStatus);
    connect(m_jobs, &JobsView::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 6000); });
    connect(m_jobs, &JobsView::errorMessage, this, &MainWindow::showError);
    connect(m_jobs, &JobsView::rerunEditedRequested, this, &MainWindow::openRerunEdited);
    connect(m_jobs, &JobsView::newJobRequested, this, [this] { openNewJob(); });
    connect(m_workspaces, &WorkspacesView::statusMessage, this, [this](const QString &t) { statusBar()->showMessage(t, 6000); });
    connect(m_workspaces, &WorkspacesView::newJobRequested, this, [this](const QString &id) { openNewJob(id); });
    connect(m_workspaces, &WorkspacesView::showJobsRequested, this, [this](const QString &id) {
        m_jobs->showWorkspace(id);
        m_tabs->setCurrentIndex(JobsTab);
    });
    connect(m_workspaces, &WorkspacesView::jobSubmitted, this, [this](const QString &id) {
        statusBar()->showMessage(tr("Queued “%1”.").arg(m_ex.job(id) ? m_ex.job(id)->name : id), 6000);
    });
    if (m_endpoint)
        connect(m_endpoint, &EndpointControl::changed, this, &MainWindow::updateEndpoint);
    updateStatus();
    updateEndpoint();
    restoreWindowState();
}

MainWindow::~MainWindow() = default;

SnippetContext MainWindow::snippetContext() const
{
    SnippetContext c;
    c.dataDir = m_ex.dataDir();
    if (m_endpoint) {
        c.url = m_endpoint->url();
        c.keyFile = m_endpoint->keyFile();
    }
    return c;
}

void MainWindow::setImageSetup(const ImageSetup &setup)
{
    m_banner->setSetup(setup);
}

void MainWindow::buildActions()
{
    m_newJob = new QAction(style()->standardIcon(QStyle::SP_FileIcon), tr("&New job…"), this);
    m_newJob->setObjectName(QStringLiteral("newJobAction"));
    m_newJob->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_N));
    m_newJob->setToolTip(tr("Write and run a new job (Ctrl+N)"));
    connect(m_newJob, &QAction::triggered, this, [this] {
        // From the Workspaces tab, the selected workspace is picked already.
        openNewJob(m_tabs->currentIndex() == WorkspacesTab ? m_workspaces->currentWorkspaceId() : QString());
    });
    m_settingsAction = new QAction(style()->standardIcon(QStyle::SP_FileDialogInfoView), tr("&Settings…"), this);
    m_settingsAction->setObjectName(QStringLiteral("settingsAction"));
    m_settingsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    connect(m_settingsAction, &QAction::triggered, this, &MainWindow::openSettings);
    m_quit = new QAction(tr("&Quit"), this);
    m_quit->setObjectName(QStringLiteral("quitAction"));
    m_quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    m_quit->setMenuRole(QAction::QuitRole);
    connect(m_quit, &QAction::triggered, this, [this] {
        if (quitRequested())
            qApp->quit();
    });
    m_refresh = new QAction(style()->standardIcon(QStyle::SP_BrowserReload), tr("&Refresh"), this);
    m_refresh->setObjectName(QStringLiteral("refreshAction"));
    m_refresh->setShortcut(QKeySequence(Qt::Key_F5));
    connect(m_refresh, &QAction::triggered, this, &MainWindow::refresh);
    m_search = new QAction(tr("&Search jobs"), this);
    m_search->setObjectName(QStringLiteral("searchAction"));
    m_search->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
    connect(m_search, &QAction::triggered, this, [this] {
        m_tabs->setCurrentIndex(JobsTab);
        m_jobs->focusSearch();
    });
    m_delete = new QAction(style()->standardIcon(QStyle::SP_TrashIcon), tr("&Delete / cancel selected"), this);
    m_delete->setObjectName(QStringLiteral("deleteAction"));
    m_delete->setShortcut(QKeySequence(Qt::Key_Delete));
    m_delete->setToolTip(tr("Jobs tab: cancel the selected running or queued job, or delete the selected finished jobs from the history. Workspaces tab: delete the selected workspace. Always asks first."));
    connect(m_delete, &QAction::triggered, this, &MainWindow::deleteSelected);

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_newJob);
    file->addSeparator();
    file->addAction(m_settingsAction);
    file->addSeparator();
    file->addAction(m_quit);

    QMenu *job = menuBar()->addMenu(tr("&Job"));
    job->addAction(m_jobs->cancelAction());
    job->addAction(m_jobs->rerunAction());
    job->addAction(m_jobs->rerunEditedAction());
    job->addAction(m_jobs->copyOutputAction());

    QMenu *ws = menuBar()->addMenu(tr("W&orkspace"));
    ws->addAction(m_workspaces->newJobAction());
    ws->addAction(m_workspaces->browseAction());
    ws->addAction(m_workspaces->cleanupAction());
    ws->addAction(m_workspaces->showJobsAction());
    ws->addSeparator();
    ws->addAction(m_workspaces->deleteAction());

    QMenu *view = menuBar()->addMenu(tr("&View"));
    auto *jobsTab = view->addAction(tr("&Jobs"));
    jobsTab->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
    connect(jobsTab, &QAction::triggered, this, [this] { m_tabs->setCurrentIndex(JobsTab); });
    auto *wsTab = view->addAction(tr("&Workspaces"));
    wsTab->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
    connect(wsTab, &QAction::triggered, this, [this] { m_tabs->setCurrentIndex(WorkspacesTab); });
    view->addSeparator();
    view->addAction(m_search);
    view->addAction(m_refresh);
    view->addSeparator();
    view->addAction(m_delete);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("Using the &HTTP API…"), this, &MainWindow::showApiHelp);
    help->addAction(tr("&About Magpie Desktop"), this, &MainWindow::showAbout);

    QToolBar *tb = addToolBar(tr("Main"));
    tb->setObjectName(QStringLiteral("mainToolBar"));
    tb->setMovable(false);
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tb->addAction(m_newJob);
    tb->addSeparator();
    tb->addAction(m_jobs->rerunAction());
    tb->addAction(m_jobs->cancelAction());
    tb->addSeparator();
    tb->addAction(m_refresh);
    tb->addAction(m_settingsAction);
    addAction(m_delete); // the shortcut works without a toolbar button
}

void MainWindow::buildTray()
{
    m_showWindow = new QAction(tr("&Show Magpie Desktop"), this);
    connect(m_showWindow, &QAction::triggered, this, [this] {
        showNormal();
        raise();
        activateWindow();
    });
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_tray = new QSystemTrayIcon(appIcon(), this);
    m_tray->setObjectName(QStringLiteral("trayIcon"));
    auto *menu = new QMenu(this);
    menu->addAction(m_showWindow);
    menu->addAction(m_newJob);
    menu->addSeparator();
    menu->addAction(m_quit);
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason r) {
        if (r == QSystemTrayIcon::Trigger || r == QSystemTrayIcon::DoubleClick) {
            if (isVisible() && !isMinimized())
                hide();
            else
                m_showWindow->trigger();
        }
    });
    connect(m_tray, &QSystemTrayIcon::messageClicked, m_showWindow, &QAction::trigger);
    m_tray->show();
    m_trayNotifications = std::make_unique<TrayNotificationBackend>(m_tray);
    m_notifier->setBackend(m_trayNotifications.get());
}

void MainWindow::updateStatus()
{
    const PoolStatus p = m_ex.pool();
    QString text = tr("%1 running · %2 queued · up to %3 VMs").arg(p.running).arg(p.queued).arg(p.maxParallel);
    if (!p.accelerator.isEmpty())
        text += QStringLiteral(" · ") + p.accelerator.toUpper();
    m_poolLabel->setText(text);
    m_poolLabel->setToolTip(p.acceleratorReason.isEmpty() ? QString() : tr("Accelerator: %1").arg(p.acceleratorReason));
    setWindowTitle(p.running > 0 ? tr("Magpie Desktop — %1 running").arg(p.running) : tr("Magpie Desktop"));
    if (m_tray)
        m_tray->setToolTip(tr("Magpie Desktop: %1 running, %2 queued").arg(p.running).arg(p.queued));
}

void MainWindow::updateEndpoint()
{
    if (!m_endpoint) {
        m_endpointLabel->setText(tr("API: not served by this window"));
        return;
    }
    if (m_endpoint->isListening()) {
        m_endpointLabel->setText(tr("API: %1").arg(m_endpoint->url()));
        m_endpointLabel->setToolTip(tr("The local HTTP API; SDK scripts find it through endpoint.json in the data folder. "
                                       "The key is in Settings."));
        m_endpointLabel->setStyleSheet(QString());
    } else if (!m_endpoint->lastError().isEmpty()) {
        m_endpointLabel->setText(tr("API: not running"));
        m_endpointLabel->setToolTip(m_endpoint->lastError());
        m_endpointLabel->setStyleSheet(QStringLiteral("color: %1").arg(statusColor(JobStatus::Failed, palette()).name()));
    } else {
        m_endpointLabel->setText(tr("API: off"));
        m_endpointLabel->setToolTip(tr("Switch it on in Settings"));
        m_endpointLabel->setStyleSheet(QString());
    }
}

NewJobDialog *MainWindow::openNewJob(const QString &workspaceId)
{
    auto *d = new NewJobDialog(m_ex, this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    d->setImageSetup(m_banner->setup());
    if (!workspaceId.isEmpty())
        d->setWorkspace(workspaceId);
    connect(d, &NewJobDialog::submitted, this, [this](const QString &id) {
        m_tabs->setCurrentIndex(JobsTab);
        m_jobs->selectJob(id);
        const auto j = m_ex.job(id);
        statusBar()->showMessage(tr("Queued “%1”.").arg(j ? j->name : id), 6000);
    });
    centreOnParentWindow(d);
    d->show();
    d->raise();
    d->activateWindow();
    return d;
}

NewJobDialog *MainWindow::openRerunEdited(const JobRecord &job)
{
    NewJobDialog *d = openNewJob();
    d->loadFromJob(job);
    return d;
}

SettingsDialog *MainWindow::openSettings()
{
    if (m_settingsDialog) {
        m_settingsDialog->raise();
        m_settingsDialog->activateWindow();
        return m_settingsDialog;
    }
    auto *d = new SettingsDialog(m_ex, m_endpoint, m_store, m_settings, m_ex.dataDir(), this);
    d->setAttribute(Qt::WA_DeleteOnClose);
    connect(d, &SettingsDialog::applied, this, [this](const WindowSettings &s) {
        const bool themeChanged = s.theme != m_settings.theme;
        m_settings = s;
        if (themeChanged)
            applyTheme(s.theme);
        updateStatus();
        updateEndpoint();
    });
    m_settingsDialog = d;
    centreOnParentWindow(d);
    d->open();
    return d;
}

void MainWindow::refresh()
{
    m_jobs->refresh();
    m_workspaces->refresh();
    updateStatus();
    updateEndpoint();
    statusBar()->showMessage(tr("Refreshed."), 2000);
}

void MainWindow::deleteSelected()
{
    if (m_tabs->currentIndex() == WorkspacesTab) {
        const QString id = m_workspaces->currentWorkspaceId();
        if (id.isEmpty())
            statusBar()->showMessage(tr("Select a workspace to delete it."), 4000);
        else
            m_workspaces->deleteWorkspace(id);
        return;
    }
    const auto j = m_jobs->currentJobId().isEmpty() ? std::nullopt : m_ex.job(m_jobs->currentJobId());
    if (!j) {
        statusBar()->showMessage(tr("Select a job to cancel it."), 4000);
        return;
    }
    if (isFinished(j->status) || m_jobs->selectedJobIds().size() > 1) {
        m_jobs->deleteSelected(); // asks first; queued or running ones among them are kept
        return;
    }
    const auto r = MessageBox::question(this, tr("Cancel job"),
                                        j->status == JobStatus::Running ? tr("Cancel “%1”? Its VM is stopped now.").arg(j->name)
                                                                        : tr("Cancel “%1” before it starts?").arg(j->name));
    if (r == MessageBox::Yes)
        m_jobs->cancelCurrent();
}

bool MainWindow::quitRequested()
{
    const PoolStatus p = m_ex.pool();
    if (m_confirmQuit && p.running > 0) {
        const auto r = MessageBox::question(this, tr("Quit Magpie Desktop"),
                                            tr("%1 running. Quitting stops their VMs and records them as interrupted; "
                                               "queued jobs start again next time. Quit anyway?")
                                                .arg(counted(p.running, tr("job is"), tr("jobs are"))));
        if (r != MessageBox::Yes)
            return false;
    }
    m_quitting = true;
    saveWindowState();
    return true;
}

void MainWindow::forceQuit()
{
    m_quitting = true;
    saveWindowState();
    qApp->quit();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!m_quitting && m_tray && m_settings.closeToTray) {
        saveWindowState();
        hide();
        if (!m_toldAboutTray) {
            m_toldAboutTray = true;
            m_tray->showMessage(tr("Magpie Desktop is still running"),
                                tr("Jobs and the HTTP API keep running. Use Quit in the tray menu to stop."),
                                QSystemTrayIcon::Information, 5000);
        }
        event->ignore();
        return;
    }
    if (!m_quitting && !quitRequested()) {
        event->ignore();
        return;
    }
    saveWindowState();
    event->accept();
    qApp->quit();
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        updateEndpoint();
}

void MainWindow::saveWindowState()
{
    auto st = m_store.stateStore();
    st->setValue(QStringLiteral("ui/geometry"), saveGeometry());
    st->setValue(QStringLiteral("ui/windowState"), QMainWindow::saveState());
    st->setValue(QStringLiteral("ui/lastTab"), m_tabs->currentIndex());
    st->setValue(QStringLiteral("ui/jobsHeader"), m_jobs->table()->horizontalHeader()->saveState());
    st->setValue(QStringLiteral("ui/jobsSplitter"), m_jobs->splitter()->saveState());
    st->setValue(QStringLiteral("ui/workspacesHeader"), m_workspaces->table()->horizontalHeader()->saveState());
    st->setValue(QStringLiteral("ui/detailTab"), m_jobs->detail()->tabs()->currentIndex());
    st->sync();
}

void MainWindow::restoreWindowState()
{
    auto st = m_store.stateStore();
    if (st->contains(QStringLiteral("ui/geometry")))
        restoreGeometry(st->value(QStringLiteral("ui/geometry")).toByteArray());
    if (st->contains(QStringLiteral("ui/windowState")))
        QMainWindow::restoreState(st->value(QStringLiteral("ui/windowState")).toByteArray());
    if (st->contains(QStringLiteral("ui/jobsHeader")))
        m_jobs->table()->horizontalHeader()->restoreState(st->value(QStringLiteral("ui/jobsHeader")).toByteArray());
    if (st->contains(QStringLiteral("ui/jobsSplitter")))
        m_jobs->splitter()->restoreState(st->value(QStringLiteral("ui/jobsSplitter")).toByteArray());
    if (st->contains(QStringLiteral("ui/workspacesHeader")))
        m_workspaces->table()->horizontalHeader()->restoreState(st->value(QStringLiteral("ui/workspacesHeader")).toByteArray());
    const int tab = st->value(QStringLiteral("ui/lastTab"), 0).toInt();
    m_tabs->setCurrentIndex(tab == WorkspacesTab ? WorkspacesTab : JobsTab);
    const int dtab = st->value(QStringLiteral("ui/detailTab"), 0).toInt();
    if (dtab >= 0 && dtab < m_jobs->detail()->tabs()->count())
        m_jobs->detail()->tabs()->setCurrentIndex(dtab);
}

void MainWindow::showError(const QString &title, const QString &text)
{
    MessageBox::warning(this, title, text);
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Magpie Desktop"),
                       tr("<h3>Magpie Desktop %1</h3><p>Runs bash scripts in local QEMU virtual machines, with persistent "
                          "workspaces mounted at <tt>/workspace</tt>.</p><p>Data folder: <tt>%2</tt></p>")
                           .arg(QApplication::applicationVersion().toHtmlEscaped(), m_ex.dataDir().toHtmlEscaped()));
}

void MainWindow::showApiHelp()
{
    QString url = m_endpoint && m_endpoint->isListening() ? m_endpoint->url() : QStringLiteral("http://127.0.0.1:PORT");
    QMessageBox box(QMessageBox::Information, tr("Using the HTTP API"),
                    tr("Scripts and the Python SDK talk to this window through the local HTTP API at %1.").arg(url), QMessageBox::Ok, this);
    box.setInformativeText(tr("The SDK finds the address and the key by itself (endpoint.json and api-key in %1).\n\n"
                              "With curl:\n  curl -H \"Authorization: Bearer $(cat %1/api-key)\" %2/api/v1/jobs\n\n"
                              "Jobs submitted that way appear in the Jobs tab at once.")
                               .arg(m_ex.dataDir(), url));
    box.exec();
}

void MainWindow::applyTheme(const QString &theme)
{
    ui::applyTheme(theme);
}

} // namespace magpie::ui
