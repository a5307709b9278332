// JobNotifier.h — a desktop notification when a job finishes while the window is not the
// active one (in the background, minimised or hidden in the tray): its name, how it ended,
// the exit code and how long it ran. Each job is announced once. The notification goes to a
// NotificationBackend (the tray in the app, a recorder in tests).
#pragma once

#include "Executor.h"

#include <QObject>
#include <QPointer>
#include <QSet>

class QWidget;

namespace magpie::ui {

class NotificationBackend;

class JobNotifier : public QObject
{
    Q_OBJECT
public:
    JobNotifier(Executor &executor, QWidget *window, QObject *parent = nullptr);

    // Not owned; null: no notifications.
    void setBackend(NotificationBackend *backend) { m_backend = backend; }
    NotificationBackend *backend() const { return m_backend; }
    // Whether a finished job is announced now (the window is not active).
    bool wouldNotify() const;

signals:
    void notified(const QString &requestId);

private:
    void onJobChanged(const QString &id);

    Executor &m_ex;
    QPointer<QWidget> m_window;
    NotificationBackend *m_backend = nullptr;
    QSet<QString> m_done;
};

} // namespace magpie::ui
