// MainWindow.h — the desktop window: the Jobs and Workspaces tabs, menus, toolbar and
// shortcuts, the status bar (running/queued counts, the HTTP endpoint), the tray icon with a
// notification when a job finishes while the window is not active (JobNotifier), the guest
// image banner, and the restored window state.
// It drives the same Executor as the HTTP API, so jobs from SDK scripts show up live.
#pragma once

#include "Executor.h"
#include "CodeSnippets.h"
#include "ImageSetup.h"
#include "WindowSettings.h"

#include <QMainWindow>
#include <QPointer>
#include <memory>

class QAction;
class QLabel;
class QSystemTrayIcon;
class QTabWidget;

namespace magpie::ui {

class EndpointControl;
class ImageBanner;
class JobNotifier;
class JobsView;
class NotificationBackend;
class NewJobDialog;
class SettingsDialog;
class WorkspacesView;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    enum Tab { JobsTab = 0, WorkspacesTab = 1 };

    // `endpoint` may be null (no HTTP endpoint, e.g. in tests that run HttpApi themselves).
    // `store` gives the settings and keeps them; it must outlive the window.
    MainWindow(Executor &executor, EndpointControl *endpoint, SettingsStore &store, QWidget *parent = nullptr);
    ~MainWindow() override;

    JobsView *jobsView() const { return m_jobs; }
    WorkspacesView *workspacesView() const { return m_workspaces; }
    QTabWidget *tabs() const { return m_tabs; }
    QLabel *poolLabel() const { return m_poolLabel; }
    QLabel *endpointLabel() const { return m_endpointLabel; }
    QSystemTrayIcon *trayIcon() const { return m_tray; }
    JobNotifier *notifier() const { return m_notifier; }
    ImageBanner *imageBanner() const { return m_banner; }
    // Where the code snippets (job details, Settings) point: this window's endpoint.
    SnippetContext snippetContext() const;
    // How this installation builds the guest image (for the banner's command and "Build now").
    void setImageSetup(const ImageSetup &setup);
    const WindowSettings &settings() const { return m_settings; }

    // Opens the new-job form (with a workspace picked, when given) and returns it.
    NewJobDialog *openNewJob(const QString &workspaceId = QString());
    NewJobDialog *openRerunEdited(const JobRecord &job);
    SettingsDialog *openSettings();
    void refresh();
    // The Delete key: cancels the selected job (Jobs tab) or deletes the selected workspace.
    void deleteSelected();
    // Asks before quitting while jobs run (off in tests).
    void setConfirmQuit(bool on) { m_confirmQuit = on; }
    bool quitRequested();
    // Quits without asking and without staying in the tray (SIGTERM, end of a screenshot run).
    void forceQuit();

    // Window geometry, column widths, splitter and last tab, in the settings file ("ui/…").
    void saveWindowState();
    void restoreWindowState();

    // Applies "system", "light" or "dark" to the whole application.
    static void applyTheme(const QString &theme);

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void buildActions();
    void buildTray();
    void updateStatus();
    void updateEndpoint();
    void showError(const QString &title, const QString &text);
    void showAbout();
    void showApiHelp();

    Executor &m_ex;
    EndpointControl *m_endpoint;
    SettingsStore &m_store;
    WindowSettings m_settings;
    QTabWidget *m_tabs;
    ImageBanner *m_banner;
    JobsView *m_jobs;
    WorkspacesView *m_workspaces;
    QLabel *m_poolLabel, *m_endpointLabel;
    QSystemTrayIcon *m_tray = nullptr;
    std::unique_ptr<NotificationBackend> m_trayNotifications;
    JobNotifier *m_notifier;
    QAction *m_newJob, *m_settingsAction, *m_quit, *m_refresh, *m_search, *m_delete, *m_showWindow;
    QPointer<SettingsDialog> m_settingsDialog;
    bool m_confirmQuit = true;
    bool m_quitting = false;
    bool m_toldAboutTray = false;
};

} // namespace magpie::ui
