// VmRunnerFrames.cpp — the VmRunner's framed guest protocol on the control socket (see
// GuestProtocol.h): reading frames and acting on them (HELLO, ACCEPTED, READY, STARTED, output,
// LOG, FAIL, EXIT, CHANGES), sending the job, and streaming the script's stdin. VmRunner members;
// the state machine is in VmRunner.cpp.
#include "VmRunner.h"

#include "GuestProtocol.h"
#include "LocalSockets.h"
#include "WorkspaceLifecycle.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRandomGenerator>

namespace magpie {

namespace {
constexpr int kStdout = 1;
constexpr int kStderr = 2;

QByteArray record(guest::JobKey key, const QByteArray &value)
{
    const std::string s = guest::encode(static_cast<uint8_t>(key), value.toStdString());
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}
} // namespace

void VmRunner::onNewConnection()
{
    QLocalSocket *s = takeFirstConnection(m_server, m_sock);
    if (!s)
        return;
    m_sock = s;
    connect(m_sock, &QLocalSocket::readyRead, this, &VmRunner::onReadyRead);
    // A restored VM's agent is waiting for its job already: hand it over now (the bytes wait
    // in QEMU until the guest runs).
    if (m_restoring)
        sendJob();
}

void VmRunner::onReadyRead()
{
    if (!m_sock)
        return;
    if (m_sock->isOpen())
        m_inbuf += m_sock->readAll();
    qsizetype pos = 0;
    while (true) {
        uint8_t type = 0;
        std::string payload;
        const long used = guest::decode(m_inbuf.constData() + pos, static_cast<size_t>(m_inbuf.size() - pos), type, payload);
        if (used < 0) {
            m_inbuf.clear();
            fail(QStringLiteral("protocol error: the guest sent an oversized frame"));
            return;
        }
        if (used == 0)
            break;
        pos += used;
        handleFrame(type, QByteArray(payload.data(), static_cast<qsizetype>(payload.size())));
        if (m_phase == Phase::Done)
            return;
    }
    m_inbuf.remove(0, pos);
}

void VmRunner::handleFrame(uint8_t type, const QByteArray &payload)
{
    switch (static_cast<guest::Msg>(type)) {
    case guest::Msg::Hello:
        if (m_phase != Phase::Starting || m_restoring)
            return;
        m_startTimer.stop();
        m_result.bootMs = m_clock.elapsed() - m_launchMs;
        m_result.start = QStringLiteral("cold");
        m_result.timings.insert(QStringLiteral("vm_start"), double(m_result.bootMs));
        log(QStringLiteral("[host] agent answered after %1 ms: %2\n").arg(m_result.bootMs).arg(QString::fromUtf8(payload)).toUtf8());
        emit booted();
        if (m_cfg.probeOnly) {
            m_result.outcome = VmResult::Exited;
            m_result.exitCode = 0;
            m_gotExit = true;
            return endQemu(false);
        }
        if (m_stop != StopReason::None)
            return endQemu(false);
        if (!m_cfg.saveTo.isEmpty()) {
            m_phase = Phase::Saving;
            m_graceTimer.start(120000); // preparing and saving must not hang either
            sendFrame(static_cast<uint8_t>(guest::Msg::Prepare), QByteArray());
            return;
        }
        sendJob();
        return;
    case guest::Msg::Accepted:
        if (restorePending()) {
            m_startTimer.stop();
            m_result.bootMs = m_clock.elapsed() - m_launchMs;
            m_result.start = QStringLiteral("restore");
            m_result.timings.insert(QStringLiteral("vm_start"), double(m_result.bootMs));
            log(QStringLiteral("[host] restored VM accepted its job after %1 ms (monitor up at %2 ms, state loaded at %3 ms)\n")
                    .arg(m_result.bootMs).arg(m_monitorUpMs).arg(m_resumedMs).toUtf8());
            emit booted();
        }
        return;
    case guest::Msg::Ready:
        if (m_phase == Phase::Saving)
            saveSnapshot();
        return;
    case guest::Msg::Started:
        return onStarted(payload);
    case guest::Msg::Stdout:
        emit output(kStdout, payload);
        return;
    case guest::Msg::Stderr:
        emit output(kStderr, payload);
        return;
    case guest::Msg::Log:
        m_lastAgentStep = QString::fromUtf8(payload.left(300));
        log("[agent] " + payload.left(4096) + "\n");
        return;
    case guest::Msg::Fail:
        m_gotFail = true;
        m_failText = QString::fromUtf8(payload.left(4096));
        log("[agent] FAIL " + payload.left(4096) + "\n");
        m_runTimer.stop();
        m_prepareTimer.stop();
        m_phase = Phase::Ending;
        if (m_sock)
            m_sock->abort();
        m_graceTimer.start(m_cfg.killGraceSec * 1000);
        return;
    case guest::Msg::Exit:
        return onExit(payload);
    case guest::Msg::Changes:
        m_result.changes = parseChanges(payload);
        return;
    case guest::Msg::Job:
    case guest::Msg::Kill:
    case guest::Msg::Prepare:
    case guest::Msg::Stdin:
        break;
    }
    log(QStringLiteral("[host] ignored unknown frame type %1\n").arg(type).toUtf8());
}

void VmRunner::onStarted(const QByteArray &payload)
{
    m_prepareTimer.stop();
    m_scriptStartMs = m_clock.elapsed();
    for (const QByteArray &kv : payload.split(' ')) {
        const int eq = kv.indexOf('=');
        if (eq > 0)
            m_result.timings.insert(QString::fromLatin1(kv.left(eq)), kv.mid(eq + 1).toDouble());
    }
    if (m_cfg.timeoutSec > 0 && m_stop == StopReason::None)
        m_runTimer.start(m_cfg.timeoutSec * 1000);
    if (!m_cfg.stdinPath.isEmpty() && m_sock) {
        m_stdin = new QFile(m_cfg.stdinPath, this);
        if (!m_stdin->open(QIODevice::ReadOnly))
            return fail(QStringLiteral("cannot read %1: %2").arg(m_cfg.stdinPath, m_stdin->errorString()));
        connect(m_sock, &QLocalSocket::bytesWritten, this, &VmRunner::pumpStdin);
        pumpStdin();
    }
    emit scriptStarted();
}

void VmRunner::onExit(const QByteArray &payload)
{
    m_gotExit = true;
    m_exitMs = m_clock.elapsed();
    m_runTimer.stop();
    m_prepareTimer.stop();
    guest::forEachRecord(payload.toStdString(), [this](uint8_t key, const std::string &value) {
        const QByteArray v = QByteArray::fromStdString(value);
        switch (static_cast<guest::ExitKey>(key)) {
        case guest::ExitKey::Code: m_result.exitCode = v.toInt(); break;
        case guest::ExitKey::Signal: m_result.signal = v.toInt(); break;
        case guest::ExitKey::UsedBytes: m_result.usedBytes = v.toLongLong(); break;
        case guest::ExitKey::TotalBytes: m_result.totalBytes = v.toLongLong(); break;
        case guest::ExitKey::Killed: break; // the host knows whether it asked for the kill
        }
    });
    if (m_scriptStartMs > 0)
        m_result.timings.insert(QStringLiteral("script"), double(m_exitMs - m_scriptStartMs));
    log(QStringLiteral("[host] script ended with exit code %1 after %2 ms\n").arg(m_result.exitCode).arg(m_exitMs).toUtf8());
    // The workspace is synced and unmounted: end the VM now (QEMU flushes its disks on SIGTERM).
    m_phase = Phase::Ending;
    if (m_sock)
        m_sock->abort();
    if (m_dropsPending > 0) { // QEMU is deleting old checkpoints: it ends when they are gone
        m_endAfterDrops = true;
        m_graceTimer.start(m_cfg.killGraceSec * 1000);
        return;
    }
    endQemu(true);
}

// Feeds the script's stdin from the host file, keeping at most ~2 MiB in the socket's buffer.
void VmRunner::pumpStdin()
{
    if (!m_stdin || !m_sock || m_phase != Phase::Running)
        return;
    constexpr qint64 kChunk = 256 * 1024, kInFlight = 2 * 1024 * 1024;
    while (m_stdin && m_sock->bytesToWrite() < kInFlight) {
        const QByteArray chunk = m_stdin->read(kChunk);
        if (chunk.isEmpty()) {
            QFile *f = m_stdin;
            m_stdin = nullptr; // before the write: flushing may call back into here
            f->close();
            f->deleteLater();
            sendFrame(static_cast<uint8_t>(guest::Msg::Stdin), QByteArray()); // end of input
            return;
        }
        const std::string f = guest::encode(static_cast<uint8_t>(guest::Msg::Stdin), chunk.toStdString());
        m_sock->write(f.data(), static_cast<qint64>(f.size()));
    }
}

QJsonObject VmRunner::parseChanges(const QByteArray &payload)
{
    JobChanges c;
    auto typeName = [](char t) {
        switch (t) {
        case 'f': return QStringLiteral("file");
        case 'd': return QStringLiteral("dir");
        case 'l': return QStringLiteral("symlink");
        default: return QStringLiteral("other");
        }
    };
    guest::forEachRecord(payload.toStdString(), [&c, &typeName](uint8_t key, const std::string &value) {
        if (static_cast<guest::ChangeKey>(key) == guest::ChangeKey::Truncated) {
            c.truncated = true;
            return;
        }
        // "<type> <size> <path>"
        const size_t sp1 = value.find(' '), sp2 = sp1 == std::string::npos ? sp1 : value.find(' ', sp1 + 1);
        if (sp1 != 1 || sp2 == std::string::npos)
            return;
        FileChange fc;
        fc.type = typeName(value[0]);
        fc.size = QByteArray::fromStdString(value.substr(sp1 + 1, sp2 - sp1 - 1)).toLongLong();
        fc.path = QString::fromUtf8(value.data() + sp2 + 1, qsizetype(value.size() - sp2 - 1));
        switch (static_cast<guest::ChangeKey>(key)) {
        case guest::ChangeKey::Added: c.added.append(fc); c.addedBytes += fc.size; break;
        case guest::ChangeKey::Modified: c.modified.append(fc); c.modifiedBytes += fc.size; break;
        case guest::ChangeKey::Deleted: c.deleted.append(fc); c.deletedBytes += fc.size; break;
        default: break;
        }
    });
    return c.toJson();
}

void VmRunner::sendFrame(uint8_t type, const QByteArray &payload)
{
    if (!m_sock)
        return;
    const std::string f = guest::encode(type, payload.toStdString());
    m_sock->write(f.data(), static_cast<qint64>(f.size()));
    m_sock->flush();
}

void VmRunner::sendJob()
{
    QByteArray p;
    p += record(guest::JobKey::Script, m_cfg.script.toUtf8());
    if (!m_cfg.interpreter.isEmpty())
        p += record(guest::JobKey::Interpreter, m_cfg.interpreter.toUtf8());
    for (const auto &kv : m_cfg.env)
        p += record(guest::JobKey::Env, (kv.first + QLatin1Char('=') + kv.second).toUtf8());
    p += record(guest::JobKey::Workspace, m_cfg.workspaceDisk.isEmpty() ? "0" : "1");
    p += record(guest::JobKey::Network, m_cfg.network ? "1" : "0");
    if (!m_cfg.stdinPath.isEmpty())
        p += record(guest::JobKey::Stdin, "1");
    if (m_cfg.recordChanges && !m_cfg.workspaceDisk.isEmpty())
        p += record(guest::JobKey::Changes, "1");
    const qint64 ms = QDateTime::currentMSecsSinceEpoch();
    p += record(guest::JobKey::Clock, QByteArray::number(ms / 1000) + '.' + QByteArray::number((ms % 1000) * 1000000));
    QByteArray seed(64, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(seed.data()), seed.size() / 4);
    p += record(guest::JobKey::Seed, seed);
    p += record(guest::JobKey::Hostname, (m_cfg.hostname.isEmpty() ? QStringLiteral("magpie") : m_cfg.hostname).toUtf8());
    m_phase = Phase::Running;
    m_lastAgentStep.clear(); // from now on it names the step of this job's preparation that hangs
    m_jobSentMs = m_clock.elapsed();
    sendFrame(static_cast<uint8_t>(guest::Msg::Job), p);
    m_prepareTimer.start((m_cfg.prepareTimeoutSec + qMax(0, m_cfg.workspaceSizeGb)) * 1000 +
                         (m_restoring ? m_cfg.restoreTimeoutSec * 1000 : 0));
}

} // namespace magpie
