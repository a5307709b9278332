// NotificationBackend.h — where a desktop notification goes. The window uses the system tray
// (TrayNotificationBackend, QSystemTrayIcon::showMessage); tests inject their own to see what
// would have been shown.
#pragma once

#include <QString>

namespace magpie::ui {

class NotificationBackend
{
public:
    enum Kind { Info, Warning };
    virtual ~NotificationBackend() = default;
    virtual void notify(const QString &title, const QString &body, Kind kind) = 0;
};

} // namespace magpie::ui
