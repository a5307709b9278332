#include "VmRunner.h"

#include "ConsoleCapture.h"
#include "GuestProtocol.h"
#include "QemuCommand.h"
#include "QmpClient.h"
#include "Tools.h"
#include "WorkspaceLifecycle.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRandomGenerator>
#include <QStorageInfo>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace magpie {

namespace {
constexpr int kStdout = 1;
constexpr int kStderr = 2;
constexpr qint64 kPlaceholderBytes = 1024 * 1024;

QByteArray record(guest::JobKey key, const QByteArray &value)
{
    const std::string s = guest::encode(static_cast<uint8_t>(key), value.toStdString());
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

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

void VmRunner::launch()
{
    m_phase = Phase::Starting;
    m_launchMs = m_clock.elapsed();
    m_inbuf.clear();
    m_qemuStderr.clear();
    m_gotExit = m_gotFail = false;
    m_failText.clear();

    const bool saving = !m_cfg.saveTo.isEmpty();
    QemuCommand cmd;
    cmd.name = m_cfg.name;
    cmd.image = m_cfg.image;
    cmd.accel = m_cfg.accel;
    cmd.vcpus = m_cfg.vcpus;
    cmd.memoryMb = m_cfg.memoryMb;
    cmd.network = m_cfg.network;
    cmd.consoleSocket = socketPath(QStringLiteral("console.sock"));
    cmd.controlSocket = socketPath(QStringLiteral("ctl.sock"));
    cmd.qmpSocket = socketPath(QStringLiteral("qmp.sock"));
    cmd.pidFile = m_cfg.runDir + QStringLiteral("/qemu.pid");

    // The root disk: the VM's own copy-on-write layer (QEMU's snapshot=on keeps it in TMPDIR,
    // the run folder, and deletes it itself) over the guest image or the snapshot's root. A VM
    // being saved writes into the snapshot's root itself.
    if (saving) {
        cmd.rootOverlay = m_cfg.saveTo + QStringLiteral("/root.qcow2");
        QFile::remove(cmd.rootOverlay);
        const ToolResult img = runTool(qemuImgBinary(),
                                       {QStringLiteral("create"), QStringLiteral("-q"), QStringLiteral("-f"), QStringLiteral("qcow2"),
                                        QStringLiteral("-F"), QStringLiteral("qcow2"), QStringLiteral("-b"), m_cfg.image.rootfs, cmd.rootOverlay},
                                       30000);
        if (img.exitCode != 0)
            return fail(QStringLiteral("cannot create the snapshot's root disk: %1").arg(img.describe(QStringLiteral("qemu-img"))));
    } else {
        cmd.rootOverlay = m_restoring ? m_cfg.restoreFrom->rootPath() : m_cfg.image.rootfs;
    }
    if (!m_cfg.workspaceDisk.isEmpty()) {
        cmd.workspaceFile = m_cfg.workspaceDisk;
        cmd.workspaceIsQcow2 = true;
    } else {
        m_placeholder = m_cfg.runDir + QStringLiteral("/placeholder.raw");
        QFile ph(m_placeholder);
        if (!ph.open(QIODevice::WriteOnly | QIODevice::Truncate) || !ph.resize(kPlaceholderBytes))
            return fail(QStringLiteral("cannot create %1: %2").arg(m_placeholder, ph.errorString()));
        cmd.workspaceFile = m_placeholder;
    }
    if (m_restoring)
        cmd.incomingState = m_cfg.restoreFrom->statePath();

    m_console = new ConsoleCapture(this);
    QString err;
    if (!m_console->listen(cmd.consoleSocket, &err))
        return fail(err);
    QLocalServer::removeServer(cmd.controlSocket);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(cmd.controlSocket))
        return fail(QStringLiteral("cannot listen on %1: %2").arg(cmd.controlSocket, m_server->errorString()));
    connect(m_server, &QLocalServer::newConnection, this, &VmRunner::onNewConnection);
    QFile::remove(cmd.qmpSocket);

    QStringList args = cmd.arguments();
    if (!saving) {
        // snapshot=on: QEMU's own throwaway overlay over the (read-only) root
        for (QString &a : args)
            if (a.startsWith(QLatin1String("if=none,id=root,")))
                a += QStringLiteral(",snapshot=on");
    }
    m_qemu = new QProcess(this);
    m_qemu->setProcessChannelMode(QProcess::SeparateChannels);
    m_qemu->setStandardInputFile(QProcess::nullDevice());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TMPDIR"), m_cfg.runDir);
    m_qemu->setProcessEnvironment(env);
    // If this process dies (even by SIGKILL), the kernel kills qemu too.
    m_qemu->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    connect(m_qemu, &QProcess::readyReadStandardError, this, [this, q = m_qemu] {
        m_qemuStderr += q->readAllStandardError();
        if (m_qemuStderr.size() > 16384)
            m_qemuStderr = m_qemuStderr.right(16384);
    });
    connect(m_qemu, &QProcess::readyReadStandardOutput, this, [this, q = m_qemu] { log(q->readAllStandardOutput().left(16384)); });
    connect(m_qemu, &QProcess::finished, this, &VmRunner::onQemuFinished);
    connect(m_qemu, &QProcess::errorOccurred, this, [this, q = m_qemu](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            fail(QStringLiteral("cannot start %1: %2").arg(qemuSystemBinary(), q->errorString()));
    });
    log(QStringLiteral("[host] %1 %2\n").arg(qemuSystemBinary(), args.join(QLatin1Char(' '))).toUtf8());
    if (m_restoring)
        m_startTimer.start(m_cfg.restoreTimeoutSec * 1000);
    else
        m_startTimer.start(m_cfg.bootTimeoutSec * 1000);
    m_qemu->start(qemuSystemBinary(), args);

    m_qmp = new QmpClient(cmd.qmpSocket, this);
    connect(m_qmp, &QmpClient::event, this, &VmRunner::onQmpEvent);
    connect(m_qmp, &QmpClient::failed, this, [this](const QString &e) {
        if (!m_cfg.saveTo.isEmpty())
            return fail(e);
        log(QStringLiteral("[host] monitor: %1\n").arg(e).toUtf8());
    });
    m_qmp->connectToQemu(30000);
}

void VmRunner::fallBackToColdBoot(const QString &why, bool stateBad)
{
    if (!restorePending())
        return;
    log(QStringLiteral("[host] restore failed after %1 ms (%2); booting the VM instead\n")
            .arg(m_clock.elapsed() - m_launchMs).arg(why).toUtf8());
    m_result.timings.insert(QStringLiteral("restore_failed"), double(m_clock.elapsed() - m_launchMs));
    emit restoreFailed(why, stateBad);
    m_restoring = false;
    stopProcess();
    cleanup();
    QDir().mkpath(m_cfg.runDir);
    QDir().mkpath(m_socketDir);
    launch();
}

void VmRunner::onNewConnection()
{
    while (QLocalSocket *s = m_server->nextPendingConnection()) {
        if (m_sock) { // only qemu connects, and only once
            s->abort();
            s->deleteLater();
            continue;
        }
        m_sock = s;
        connect(m_sock, &QLocalSocket::readyRead, this, &VmRunner::onReadyRead);
        // A restored VM's agent is waiting for its job already: hand it over now (the bytes wait
        // in QEMU until the guest runs).
        if (m_restoring)
            sendJob();
    }
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
            log(QStringLiteral("[host] restored VM accepted its job after %1 ms\n").arg(m_result.bootMs).toUtf8());
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
    const std::string p = payload.toStdString();
    size_t pos = 0;
    while (pos < p.size()) {
        uint8_t key = 0;
        std::string value;
        const long used = guest::decode(p.data() + pos, p.size() - pos, key, value);
        if (used <= 0)
            break;
        pos += static_cast<size_t>(used);
        const QByteArray v = QByteArray::fromStdString(value);
        switch (static_cast<guest::ExitKey>(key)) {
        case guest::ExitKey::Code: m_result.exitCode = v.toInt(); break;
        case guest::ExitKey::Signal: m_result.signal = v.toInt(); break;
        case guest::ExitKey::UsedBytes: m_result.usedBytes = v.toLongLong(); break;
        case guest::ExitKey::TotalBytes: m_result.totalBytes = v.toLongLong(); break;
        case guest::ExitKey::Killed: break; // the host knows whether it asked for the kill
        }
    }
    if (m_scriptStartMs > 0)
        m_result.timings.insert(QStringLiteral("script"), double(m_exitMs - m_scriptStartMs));
    log(QStringLiteral("[host] script ended with exit code %1 after %2 ms\n").arg(m_result.exitCode).arg(m_exitMs).toUtf8());
    // The workspace is synced and unmounted: end the VM now (QEMU flushes its disks on SIGTERM).
    m_phase = Phase::Ending;
    if (m_sock)
        m_sock->abort();
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
    const std::string p = payload.toStdString();
    size_t pos = 0;
    auto typeName = [](char t) {
        switch (t) {
        case 'f': return QStringLiteral("file");
        case 'd': return QStringLiteral("dir");
        case 'l': return QStringLiteral("symlink");
        default: return QStringLiteral("other");
        }
    };
    while (pos < p.size()) {
        uint8_t key = 0;
        std::string value;
        const long used = guest::decode(p.data() + pos, p.size() - pos, key, value);
        if (used <= 0)
            break;
        pos += static_cast<size_t>(used);
        if (static_cast<guest::ChangeKey>(key) == guest::ChangeKey::Truncated) {
            c.truncated = true;
            continue;
        }
        // "<type> <size> <path>"
        const size_t sp1 = value.find(' '), sp2 = sp1 == std::string::npos ? sp1 : value.find(' ', sp1 + 1);
        if (sp1 != 1 || sp2 == std::string::npos)
            continue;
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
    }
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

void VmRunner::saveSnapshot()
{
    // The agent is ready: stop the VM and write its state next to the root disk it used.
    const QString tmp = m_cfg.saveTo + QStringLiteral("/state.tmp");
    QFile::remove(tmp);
    auto step = std::make_shared<std::function<void()>>();
    auto poll = [this, tmp, step] {
        m_qmp->execute(QStringLiteral("query-migrate"), {}, [this, tmp, step](const QString &err, const QJsonObject &r) {
            if (m_phase != Phase::Saving)
                return;
            const QString status = r.value(QStringLiteral("status")).toString();
            if (!err.isEmpty() || status == QLatin1String("failed") || status == QLatin1String("cancelled"))
                return fail(QStringLiteral("saving the VM failed: %1").arg(err.isEmpty() ? r.value(QStringLiteral("error-desc")).toString() : err));
            if (status != QLatin1String("completed")) {
                QTimer::singleShot(30, this, [step] { (*step)(); });
                return;
            }
            if (!QFile::rename(tmp, m_cfg.saveTo + QStringLiteral("/state")))
                return fail(QStringLiteral("cannot move the saved state into place in %1").arg(m_cfg.saveTo));
            m_result.outcome = VmResult::Exited;
            m_result.exitCode = 0;
            m_gotExit = true;
            m_result.timings.insert(QStringLiteral("save"), double(m_clock.elapsed() - m_exitMs));
            log(QStringLiteral("[host] VM saved in %1 ms\n").arg(m_clock.elapsed() - m_exitMs).toUtf8());
            m_phase = Phase::Ending;
            m_qmp->execute(QStringLiteral("quit"), {}, [](const QString &, const QJsonObject &) {});
            m_graceTimer.start(m_cfg.killGraceSec * 1000);
        });
    };
    *step = poll;
    m_exitMs = m_clock.elapsed();
    // Migrated while running (the guest is idle in poll(), so it converges at once): QEMU stops
    // the VM itself at the end, and the saved run state says "running", so every restored copy
    // resumes by itself as soon as its state is loaded.
    m_qmp->execute(QStringLiteral("migrate"), {{QStringLiteral("uri"), QStringLiteral("exec:cat > %1").arg(QemuCommand::shellQuoted(tmp))}},
                   [this, step](const QString &err, const QJsonObject &) {
                       if (!err.isEmpty())
                           return fail(QStringLiteral("cannot save the VM: %1").arg(err));
                       (*step)();
                   });
}

void VmRunner::onQmpEvent(const QString &name, const QJsonObject &data)
{
    if (name == QLatin1String("BLOCK_IO_ERROR")) {
        const QString dev = data.value(QStringLiteral("device")).toString() + data.value(QStringLiteral("node-name")).toString();
        log(QStringLiteral("[host] block I/O error on %1: %2 (%3)\n")
                .arg(dev, data.value(QStringLiteral("operation")).toString(), data.value(QStringLiteral("reason")).toString()).toUtf8());
        // `nospace` is only reported when QEMU tracks I/O status (werror=stop); with werror=report
        // the reason names ENOSPC.
        if (data.value(QStringLiteral("nospace")).toBool() || data.value(QStringLiteral("reason")).toString().contains(QLatin1String("No space left"))) {
            const QString dir = m_cfg.spaceDir.isEmpty() ? m_cfg.runDir : m_cfg.spaceDir;
            const QStorageInfo si(dir);
            fail(QStringLiteral("host disk full: %1 bytes free in %2").arg(si.bytesAvailable()).arg(dir));
        }
        return;
    }
    if (name == QLatin1String("STOP") && m_phase != Phase::Saving && m_phase != Phase::Ending && m_phase != Phase::Done &&
        !restorePending())
        fail(QStringLiteral("the VM was paused unexpectedly"));
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
