#include "JobNotifier.h"

#include "NotificationBackend.h"
#include "UiFormat.h"

#include <QWidget>

namespace magpie::ui {

JobNotifier::JobNotifier(Executor &executor, QWidget *window, QObject *parent)
    : QObject(parent), m_ex(executor), m_window(window)
{
    connect(&m_ex, &Executor::jobChanged, this, &JobNotifier::onJobChanged);
}

bool JobNotifier::wouldNotify() const
{
    return m_backend && (!m_window || !m_window->isVisible() || m_window->isMinimized() || !m_window->isActiveWindow());
}

void JobNotifier::onJobChanged(const QString &id)
{
    const auto j = m_ex.job(id);
    if (!j || !isFinished(j->status) || m_done.contains(id))
        return;
    m_done.insert(id);
    if (!wouldNotify())
        return;
    QString body = statusLabel(j->status);
    if (j->exitCode)
        body += tr(" (exit code %1)").arg(*j->exitCode);
    if (j->durationMs)
        body += tr(" after %1").arg(formatDuration(*j->durationMs));
    if (!j->workspaceId.isEmpty())
        body += tr(" · workspace %1").arg(j->workspaceId);
    if (!j->error.isEmpty())
        body += QStringLiteral("\n") + j->error.left(200);
    const bool ok = j->status == JobStatus::Completed || j->status == JobStatus::Cancelled;
    m_backend->notify(tr("Job finished: %1").arg(j->name), body, ok ? NotificationBackend::Info : NotificationBackend::Warning);
    emit notified(id);
}

} // namespace magpie::ui
