// VmRunner.cpp — the VmRunner's state machine and public API: construction (the timers of each
// phase), start(), cancel() and stopping (requestStop), failing, ending qemu (endQemu, the grace
// timer) and the one finished() with its result, then teardown. Launching QEMU, restoring and
// saving snapshots, and its monitor are in VmRunnerQemu.cpp; the guest protocol on the control
// socket (frames, the job, stdin) is in VmRunnerFrames.cpp.
#include "VmRunner.h"

#include "ConsoleCapture.h"
#include "GuestProtocol.h"
#include "QmpClient.h"

#include <QDir>
#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRandomGenerator>

namespace magpie {

namespace {
QString phaseName(VmRunner::Phase p)
{
    switch (p) {
    case VmRunner::Phase::Idle: return QStringLiteral("idle");
    case VmRunner::Phase::Starting: return QStringLiteral("starting");
    case VmRunner::Phase::Saving: return QStringLiteral("saving");
    case VmRunner::Phase::Running: return QStringLiteral("running");
    case VmRunner::Phase::Stopping: return QStringLiteral("stopping");
    case VmRunner::Phase::Ending: return QStringLiteral("ending");
    case VmRunner::Phase::Done: return QStringLiteral("done");
    }
    return QString();
}
} // namespace

VmRunner::VmRunner(VmConfig config, QObject *parent)
    : QObject(parent), m_cfg(std::move(config)), m_log(m_cfg.vmLogPath)
{
    for (QTimer *t : {&m_startTimer, &m_prepareTimer, &m_runTimer, &m_graceTimer})
        t->setSingleShot(true);
    connect(&m_startTimer, &QTimer::timeout, this, [this] {
        if (m_restoring)
            return fallBackToColdBoot(QStringLiteral("the restored VM did not accept its job within %1 s").arg(m_cfg.restoreTimeoutSec), false);
        fail(QStringLiteral("the guest agent did not answer within %1 s of starting the VM (accelerator %2)%3")
                 .arg(m_cfg.bootTimeoutSec).arg(accelName(m_cfg.accel))
                 .arg(m_lastAgentStep.isEmpty() ? QString() : QStringLiteral("; last step: ") + m_lastAgentStep));
    });
    connect(&m_prepareTimer, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("the guest did not start the script within %1 s of receiving the job; it hung %2")
                 .arg(m_prepareTimer.interval() / 1000)
                 .arg(m_lastAgentStep.isEmpty() ? QStringLiteral("before reporting any step (mounting /workspace or setting up the network)")
                                                : QStringLiteral("after: ") + m_lastAgentStep));
    });
    connect(&m_runTimer, &QTimer::timeout, this, [this] { requestStop(StopReason::Timeout); });
    connect(&m_graceTimer, &QTimer::timeout, this, [this] {
        log(QStringLiteral("[host] the VM did not end within the grace period (%1 s, phase %2): killing qemu\n")
                .arg(m_cfg.killGraceSec).arg(phaseName(m_phase)).toUtf8());
        if (m_phase == Phase::Stopping)
            m_result.error = QStringLiteral("%1; the VM did not stop within %2 s of being asked and was killed")
                                 .arg(m_stop == StopReason::Timeout ? QStringLiteral("timed out after %1 s").arg(m_cfg.timeoutSec)
                                                                    : QStringLiteral("cancelled"))
                                 .arg(m_cfg.killGraceSec);
        m_phase = Phase::Ending;
        endQemu(false);
    });
}

VmRunner::~VmRunner()
{
    stopProcess();
    cleanup();
}

qint64 VmRunner::qemuPid() const
{
    return m_qemu ? m_qemu->processId() : 0;
}

QString VmRunner::socketPath(const QString &name) const
{
    return m_socketDir + QLatin1Char('/') + name;
}

void VmRunner::start()
{
    if (m_phase != Phase::Idle)
        return;
    m_clock.start();
    m_restoring = m_cfg.restoreFrom != nullptr && m_cfg.saveTo.isEmpty();
    if (!m_cfg.image.isValid())
        return fail(m_cfg.image.error.isEmpty() ? QStringLiteral("no guest image") : m_cfg.image.error);
    if (!QDir().mkpath(m_cfg.runDir))
        return fail(QStringLiteral("cannot create the run folder %1").arg(m_cfg.runDir));
    // sun_path holds 108 bytes: a long run folder gets its sockets in a short temp folder.
    if ((m_cfg.runDir + QStringLiteral("/console.sock")).toLocal8Bit().size() < 100) {
        m_socketDir = m_cfg.runDir;
    } else {
        QString base = QDir::tempPath();
        if ((base + QStringLiteral("/magpie-0123456789abcdef/console.sock")).toLocal8Bit().size() >= 100)
            base = QStringLiteral("/tmp");
        m_socketDir = base + QStringLiteral("/magpie-%1").arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'));
        if (!QDir().mkpath(m_socketDir))
            return fail(QStringLiteral("cannot create the socket folder %1").arg(m_socketDir));
        QFile::setPermissions(m_socketDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }
    launch();
}

void VmRunner::requestStop(StopReason reason)
{
    if (m_phase == Phase::Done || m_phase == Phase::Ending || m_gotExit || m_gotFail)
        return;
    if (m_stop == StopReason::None || reason == StopReason::Failure)
        m_stop = reason;
    log(QStringLiteral("[host] %1 after %2 ms (phase %3): stopping the script\n")
            .arg(reason == StopReason::Timeout ? QStringLiteral("timeout") : QStringLiteral("cancel"))
            .arg(m_clock.elapsed()).arg(phaseName(m_phase)).toUtf8());
    if (m_phase != Phase::Running || !m_sock) { // nothing to ask politely yet
        m_phase = Phase::Ending;
        endQemu(false);
        return;
    }
    m_phase = Phase::Stopping;
    m_prepareTimer.stop();
    sendFrame(static_cast<uint8_t>(guest::Msg::Kill), QByteArray());
    m_graceTimer.start(m_cfg.killGraceSec * 1000);
}

void VmRunner::cancel()
{
    if (!isRunning())
        return;
    requestStop(StopReason::Cancel);
}

void VmRunner::endQemu(bool graceful)
{
    if (m_qemu && m_qemu->state() != QProcess::NotRunning) {
        if (graceful) {
            m_qemu->terminate(); // QEMU flushes and closes its disks on SIGTERM
            m_graceTimer.start(m_cfg.killGraceSec * 1000);
        } else {
            m_qemu->kill();
            m_result.diskClosedCleanly = false;
        }
    } else {
        finish();
    }
}

void VmRunner::fail(const QString &error, bool infrastructure)
{
    if (m_phase == Phase::Done)
        return;
    if (m_result.error.isEmpty())
        m_result.error = error;
    m_result.infrastructure = infrastructure;
    m_stop = StopReason::Failure;
    m_gotFail = true;
    m_failText = error;
    m_phase = Phase::Ending;
    endQemu(false); // finish() follows from onQemuFinished
}

void VmRunner::onQemuFinished(int exitCode, QProcess::ExitStatus status)
{
    // Frames the guest wrote just before it powered off may still wait in the socket: QProcess
    // can report qemu's exit before the socket's readyRead. Read them before deciding.
    for (int i = 0; m_sock && i < 40 && !m_gotExit && !m_gotFail; ++i) {
        if (m_sock->bytesAvailable() <= 0 && !m_sock->waitForReadyRead(25))
            break;
        onReadyRead();
    }
    if (m_sock)
        onReadyRead();
    if (m_phase == Phase::Done)
        return;
    const QString detail = QString::fromUtf8(m_qemuStderr).trimmed();
    if (restorePending() && m_stop == StopReason::None) {
        // QEMU could not load the state (or died while loading): boot instead.
        const bool bad = detail.contains(QLatin1String("load")) || detail.contains(QLatin1String("migration")) || exitCode != 0;
        return fallBackToColdBoot(QStringLiteral("qemu %1: %2").arg(exitCode).arg(detail.right(300)), bad);
    }
    if (m_exitMs > 0 && m_gotExit)
        m_result.timings.insert(QStringLiteral("teardown"), double(m_clock.elapsed() - m_exitMs));
    if (!m_gotExit && !m_gotFail && m_stop == StopReason::None) {
        const QString how = status == QProcess::CrashExit ? QStringLiteral("was killed") : QStringLiteral("exited with code %1").arg(exitCode);
        const QString why = detail.isEmpty() ? consoleTail() : detail;
        m_result.error = QStringLiteral("the VM stopped unexpectedly before the job finished (qemu %1)%2")
                             .arg(how, why.isEmpty() ? QString() : QStringLiteral(": ") + why.right(600));
        m_result.infrastructure = true;
    } else if (!m_gotExit && m_stop == StopReason::Timeout) {
        m_result.error = QStringLiteral("timed out after %1 s; the VM did not stop within %2 s and was killed").arg(m_cfg.timeoutSec).arg(m_cfg.killGraceSec);
    } else if (!m_gotExit && m_stop == StopReason::Cancel) {
        m_result.error = QStringLiteral("cancelled; the VM was stopped");
    } else if (m_gotFail && m_result.error.isEmpty()) {
        m_result.error = m_failText;
        m_result.infrastructure = true;
    }
    finish();
}

void VmRunner::finish()
{
    if (m_phase == Phase::Done)
        return;
    m_phase = Phase::Done;
    for (QTimer *t : {&m_startTimer, &m_prepareTimer, &m_runTimer, &m_graceTimer})
        t->stop();
    if (m_stop == StopReason::Timeout)
        m_result.outcome = VmResult::TimedOut;
    else if (m_stop == StopReason::Cancel)
        m_result.outcome = VmResult::Cancelled;
    else if (m_gotFail || m_stop == StopReason::Failure)
        m_result.outcome = VmResult::Failed;
    else if (m_gotExit)
        m_result.outcome = VmResult::Exited;
    else
        m_result.outcome = VmResult::Failed;
    if (m_result.outcome == VmResult::TimedOut || m_result.outcome == VmResult::Cancelled)
        m_result.infrastructure = false;
    if (m_result.outcome == VmResult::TimedOut && (m_result.error.isEmpty() || m_gotFail))
        m_result.error = QStringLiteral("timed out after %1 s").arg(m_cfg.timeoutSec);
    if (m_result.outcome == VmResult::Cancelled && (m_result.error.isEmpty() || m_gotFail))
        m_result.error = QStringLiteral("cancelled");
    m_result.wallMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    log(QStringLiteral("[host] finished: %1 exit=%2 after %3 ms %4\n")
            .arg(VmResult::outcomeName(m_result.outcome)).arg(m_result.exitCode).arg(m_result.wallMs).arg(m_result.error).toUtf8());
    stopProcess();
    cleanup();
    emit finished(m_result);
}

void VmRunner::log(const QByteArray &line)
{
    m_log.append(line);
}

QString VmRunner::consoleTail() const
{
    return m_console ? QString::fromUtf8(m_console->tail().right(2000)).trimmed() : QString();
}

void VmRunner::stopProcess()
{
    if (m_qemu) {
        m_qemu->disconnect(this);
        if (m_qemu->state() != QProcess::NotRunning) {
            m_qemu->kill();
            m_qemu->waitForFinished(5000);
        }
        m_qemu->deleteLater();
        m_qemu = nullptr;
    }
}

void VmRunner::cleanup()
{
    if (m_console) {
        m_console->close();
        const QByteArray tail = m_console->tail();
        if (!tail.isEmpty())
            m_log.appendTail(QStringLiteral("[console] %1 bytes in all\n").arg(m_console->totalBytes()).toUtf8(), tail);
        m_console->deleteLater();
        m_console = nullptr;
    }
    if (m_qmp) {
        m_qmp->disconnect(this);
        m_qmp->deleteLater();
        m_qmp = nullptr;
    }
    if (m_sock) {
        m_sock->disconnect(this);
        m_sock->abort();
        m_sock->deleteLater();
        m_sock = nullptr;
    }
    if (m_server) {
        m_server->close();
        m_server->deleteLater();
        m_server = nullptr;
    }
    if (m_socketDir.isEmpty())
        return;
    for (const char *s : {"console.sock", "ctl.sock", "qmp.sock"})
        QFile::remove(socketPath(QLatin1String(s)));
    if (!m_placeholder.isEmpty())
        QFile::remove(m_placeholder);
    QFile::remove(m_cfg.runDir + QStringLiteral("/qemu.pid"));
    if (m_socketDir != m_cfg.runDir)
        QDir().rmdir(m_socketDir);
    QDir().rmdir(m_cfg.runDir);
}

} // namespace magpie
