#include "TrayNotificationBackend.h"

#include <QSystemTrayIcon>

namespace magpie::ui {

void TrayNotificationBackend::notify(const QString &title, const QString &body, Kind kind)
{
    if (m_tray)
        m_tray->showMessage(title, body, kind == Warning ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information, 8000);
}

} // namespace magpie::ui
