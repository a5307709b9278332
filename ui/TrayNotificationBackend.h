// TrayNotificationBackend.h — notifications as balloon messages of the tray icon (on Linux
// desktops, QSystemTrayIcon passes them to the notification service).
#pragma once

#include "NotificationBackend.h"

class QSystemTrayIcon;

namespace magpie::ui {

class TrayNotificationBackend : public NotificationBackend
{
public:
    explicit TrayNotificationBackend(QSystemTrayIcon *tray) : m_tray(tray) {}
    void notify(const QString &title, const QString &body, Kind kind) override;

private:
    QSystemTrayIcon *m_tray;
};

} // namespace magpie::ui
