#include "VmRunner.h"

#include "GuestProtocol.h"
#include "QmpClient.h"
#include "Tools.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRandomGenerator>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace magpie {

namespace {
constexpr int kStdout = 1;
constexpr int kStderr = 2;

QString shortSocketPath(const QString &runDir)
{
    const QString inRunDir = runDir + QStringLiteral("/ctl.sock");
    if (inRunDir.toLocal8Bit().size() < 100)
        return inRunDir;
    // sun_path holds 108 bytes; long data folders get a socket in the temp folder instead.
    return QDir::tempPath() + QStringLiteral("/magpie-%1.sock").arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'));
}

QByteArray record(guest::JobKey key, const QByteArray &value)
{
    const std::string s = guest::encode(static_cast<uint8_t>(key), value.toStdString());
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}
} // namespace

QString VmResult::outcomeName(Outcome o)
{
    switch (o) {
    case Exited: return QStringLiteral("exited");
    case TimedOut: return QStringLiteral("timed_out");
    case Cancelled: return QStringLiteral("cancelled");
    case Failed: return QStringLiteral("failed");
    }
    return QString();
}

VmRunner::VmRunner(VmConfig config, QObject *parent)
    : QObject(parent), m_cfg(std::move(config))
{
    m_assigned = !m_cfg.preboot;
    m_bootTimer.setSingleShot(true);
    m_runTimer.setSingleShot(true);
    m_graceTimer.setSingleShot(true);
    connect(&m_bootTimer, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("the guest agent did not answer within %1 s of starting the VM (accelerator %2)")
                 .arg(m_cfg.bootTimeoutSec).arg(accelName(m_cfg.accel)));
    });
    connect(&m_runTimer, &QTimer::timeout, this, [this] { requestKill(true); });
    connect(&m_graceTimer, &QTimer::timeout, this, &VmRunner::hardKill);
}

VmRunner::~VmRunner()
{
    if (m_qemu) {
        m_qemu->disconnect(this);
        if (m_qemu->state() != QProcess::NotRunning) {
            m_qemu->kill();
            m_qemu->waitForFinished(5000);
        }
    }
    cleanupRunDir();
}

qint64 VmRunner::qemuPid() const
{
    return m_qemu ? m_qemu->processId() : 0;
}

QStringList VmRunner::qemuArguments(const QString &overlay, const QString &socketPath, const QString &pidFile) const
{
    QStringList a;
    a << QStringLiteral("-name") << QStringLiteral("magpie-%1").arg(m_cfg.name)
      << QStringLiteral("-nodefaults") << QStringLiteral("-no-user-config")
      << QStringLiteral("-display") << QStringLiteral("none")
      << QStringLiteral("-no-reboot")
      << QStringLiteral("-M") << QStringLiteral("pc");
    if (m_cfg.accel == Accelerator::Kvm)
        a << QStringLiteral("-accel") << QStringLiteral("kvm") << QStringLiteral("-cpu") << QStringLiteral("host");
    else
        a << QStringLiteral("-accel") << QStringLiteral("tcg,thread=multi") << QStringLiteral("-cpu") << QStringLiteral("max");
    a << QStringLiteral("-smp") << QString::number(m_cfg.vcpus)
      << QStringLiteral("-m") << QString::number(m_cfg.memoryMb)
      << QStringLiteral("-kernel") << m_cfg.image.kernel
      << QStringLiteral("-initrd") << m_cfg.image.initrd
      << QStringLiteral("-append")
      << QStringLiteral("console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off tsc=reliable no_timer_check "
                        "i8042.noaux i8042.nomux i8042.nopnp i8042.nokbd cryptomgr.notests random.trust_cpu=on")
      << QStringLiteral("-serial") << QStringLiteral("file:%1").arg(m_consolePath)
      << QStringLiteral("-drive") << QStringLiteral("if=none,id=root,file=%1,format=qcow2,cache=unsafe").arg(overlay)
      << QStringLiteral("-device") << QStringLiteral("virtio-blk-pci,drive=root,serial=%1").arg(QLatin1String(guest::kRootSerial));
    if (!m_cfg.workspaceDisk.isEmpty() && !m_cfg.preboot) {
        a << QStringLiteral("-drive")
          << QStringLiteral("if=none,id=ws,file=%1,format=qcow2,cache=writeback,discard=unmap,detect-zeroes=unmap").arg(m_cfg.workspaceDisk)
          << QStringLiteral("-device") << QStringLiteral("virtio-blk-pci,drive=ws,serial=%1").arg(QLatin1String(guest::kWorkspaceSerial));
    }
    a << QStringLiteral("-device") << QStringLiteral("virtio-serial-pci")
      << QStringLiteral("-chardev") << QStringLiteral("socket,id=ctl,path=%1").arg(socketPath)
      << QStringLiteral("-device") << QStringLiteral("virtserialport,chardev=ctl,name=%1").arg(QLatin1String(guest::kPortName));
    if (m_cfg.network || m_cfg.preboot)
        a << QStringLiteral("-netdev") << QStringLiteral("user,id=n0")
          << QStringLiteral("-device") << QStringLiteral("virtio-net-pci,netdev=n0,id=nic0");
    if (m_cfg.preboot)
        a << QStringLiteral("-qmp") << QStringLiteral("unix:%1/qmp.sock,server=on,wait=off").arg(m_cfg.runDir);
    a << QStringLiteral("-pidfile") << pidFile;
    return a;
}

void VmRunner::start()
{
    if (m_running || m_done)
        return;
    m_running = true;
    m_clock.start();

    if (!m_cfg.image.isValid())
        return fail(m_cfg.image.error.isEmpty() ? QStringLiteral("no guest image") : m_cfg.image.error);
    if (!QDir().mkpath(m_cfg.runDir))
        return fail(QStringLiteral("cannot create the run folder %1").arg(m_cfg.runDir));
    m_consolePath = m_cfg.runDir + QStringLiteral("/console.log");
    m_overlay = m_cfg.runDir + QStringLiteral("/root-overlay.qcow2");
    QFile::remove(m_overlay);
    const ToolResult img = runTool(qemuImgBinary(),
                                   {QStringLiteral("create"), QStringLiteral("-q"), QStringLiteral("-f"), QStringLiteral("qcow2"),
                                    QStringLiteral("-F"), QStringLiteral("qcow2"), QStringLiteral("-b"), m_cfg.image.rootfs, m_overlay},
                                   30000);
    if (img.exitCode != 0)
        return fail(QStringLiteral("cannot create the root overlay: %1").arg(img.describe(QStringLiteral("qemu-img"))));

    m_socketPath = shortSocketPath(m_cfg.runDir);
    QLocalServer::removeServer(m_socketPath);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(m_socketPath))
        return fail(QStringLiteral("cannot listen on %1: %2").arg(m_socketPath, m_server->errorString()));
    connect(m_server, &QLocalServer::newConnection, this, &VmRunner::onNewConnection);

    m_qemu = new QProcess(this);
    m_qemu->setProcessChannelMode(QProcess::SeparateChannels);
    m_qemu->setStandardInputFile(QProcess::nullDevice());
    // If this process dies (even by SIGKILL), the kernel kills qemu too.
    m_qemu->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    connect(m_qemu, &QProcess::readyReadStandardError, this, [this] {
        m_qemuStderr += m_qemu->readAllStandardError();
        if (m_qemuStderr.size() > 16384)
            m_qemuStderr = m_qemuStderr.right(16384);
    });
    connect(m_qemu, &QProcess::readyReadStandardOutput, this, [this] { appendVmLog(m_qemu->readAllStandardOutput()); });
    connect(m_qemu, &QProcess::finished, this, &VmRunner::onQemuFinished);
    connect(m_qemu, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            fail(QStringLiteral("cannot start %1: %2").arg(qemuSystemBinary(), m_qemu->errorString()));
    });
    const QString pidFile = m_cfg.runDir + QStringLiteral("/qemu.pid");
    const QStringList args = qemuArguments(m_overlay, m_socketPath, pidFile);
    appendVmLog(QStringLiteral("[host] %1 %2\n").arg(qemuSystemBinary(), args.join(QLatin1Char(' '))).toUtf8());
    m_bootTimer.start(m_cfg.bootTimeoutSec * 1000);
    m_qemu->start(qemuSystemBinary(), args);
    if (m_cfg.preboot) {
        m_qmp = new QmpClient(m_cfg.runDir + QStringLiteral("/qmp.sock"), this);
        connect(m_qmp, &QmpClient::failed, this, [this](const QString &e) { fail(e); });
        m_qmp->connectToQemu(m_cfg.bootTimeoutSec * 1000);
    }
}

void VmRunner::assign(const VmConfig &job)
{
    if (m_assigned || m_done)
        return;
    m_assigned = true;
    m_cfg.script = job.script;
    m_cfg.interpreter = job.interpreter;
    m_cfg.env = job.env;
    m_cfg.workspaceDisk = job.workspaceDisk;
    m_cfg.network = job.network;
    m_cfg.timeoutSec = job.timeoutSec;
    m_cfg.vmLogPath = job.vmLogPath;
    appendVmLog(m_earlyLog);
    m_earlyLog.clear();
    appendVmLog(QStringLiteral("[host] job %1 given to VM %2 booted ahead of time (%3 ms after its start, agent %4)\n")
                    .arg(job.name, m_cfg.name).arg(m_clock.elapsed())
                    .arg(m_gotHello ? QStringLiteral("ready") : QStringLiteral("still booting")).toUtf8());
    if (m_gotHello)
        dispatch();
}

void VmRunner::dispatch()
{
    if (m_dispatched || m_done)
        return;
    m_dispatched = true;
    if (!m_cfg.preboot || !m_qmp) {
        sendJob();
        return;
    }
    // Warm VM: shape it for the job through QMP, then send the job.
    auto steps = std::make_shared<QList<std::pair<QString, QJsonObject>>>();
    if (!m_cfg.network)
        steps->append({QStringLiteral("netdev_del"), QJsonObject{{QStringLiteral("id"), QStringLiteral("n0")}}});
    if (!m_cfg.workspaceDisk.isEmpty()) {
        steps->append({QStringLiteral("blockdev-add"),
                       QJsonObject{{QStringLiteral("driver"), QStringLiteral("qcow2")},
                                   {QStringLiteral("node-name"), QStringLiteral("ws")},
                                   {QStringLiteral("discard"), QStringLiteral("unmap")},
                                   {QStringLiteral("detect-zeroes"), QStringLiteral("unmap")},
                                   {QStringLiteral("file"), QJsonObject{{QStringLiteral("driver"), QStringLiteral("file")},
                                                                        {QStringLiteral("filename"), m_cfg.workspaceDisk}}}}});
        steps->append({QStringLiteral("device_add"),
                       QJsonObject{{QStringLiteral("driver"), QStringLiteral("virtio-blk-pci")},
                                   {QStringLiteral("drive"), QStringLiteral("ws")},
                                   {QStringLiteral("id"), QStringLiteral("wsdev")},
                                   {QStringLiteral("serial"), QLatin1String(guest::kWorkspaceSerial)}}});
    }
    auto run = std::make_shared<std::function<void()>>();
    *run = [this, steps, run] {
        if (m_done)
            return;
        if (steps->isEmpty()) {
            if (m_cancelled || m_timedOut)
                return hardKill();
            sendJob();
            return;
        }
        const auto step = steps->takeFirst();
        m_qmp->execute(step.first, step.second, [this, step, run](const QString &err, const QJsonObject &) {
            if (!err.isEmpty())
                return fail(QStringLiteral("could not prepare the VM for the job (%1): %2").arg(step.first, err));
            (*run)();
        });
    };
    if (m_qmp->isReady())
        (*run)();
    else
        connect(m_qmp, &QmpClient::ready, this, [run] { (*run)(); }, Qt::SingleShotConnection);
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
    }
}

void VmRunner::onReadyRead()
{
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
        if (m_done)
            return;
    }
    m_inbuf.remove(0, pos);
}

void VmRunner::handleFrame(uint8_t type, const QByteArray &payload)
{
    switch (static_cast<guest::Msg>(type)) {
    case guest::Msg::Hello:
        if (m_gotHello)
            return;
        m_gotHello = true;
        m_bootTimer.stop();
        m_result.bootMs = m_clock.elapsed();
        appendVmLog(QStringLiteral("[host] agent answered after %1 ms: %2\n").arg(m_result.bootMs).arg(QString::fromUtf8(payload)).toUtf8());
        emit booted();
        if (m_cfg.probeOnly) {
            m_result.outcome = VmResult::Exited;
            m_result.exitCode = 0;
            m_gotExit = true;
            hardKill();
            return;
        }
        if (m_cancelled) {
            hardKill();
            return;
        }
        if (m_assigned)
            dispatch();
        return;
    case guest::Msg::Started:
        if (m_cfg.timeoutSec > 0 && !m_timedOut && !m_cancelled)
            m_runTimer.start(m_cfg.timeoutSec * 1000);
        emit scriptStarted();
        return;
    case guest::Msg::Stdout:
        emit output(kStdout, payload);
        return;
    case guest::Msg::Stderr:
        emit output(kStderr, payload);
        return;
    case guest::Msg::Log:
        appendVmLog("[agent] " + payload + "\n");
        return;
    case guest::Msg::Fail:
        m_gotFail = true;
        m_failText = QString::fromUtf8(payload);
        appendVmLog("[agent] FAIL " + payload + "\n");
        m_runTimer.stop();
        if (m_sock)
            m_sock->abort();
        m_graceTimer.start(m_cfg.killGraceSec * 1000);
        return;
    case guest::Msg::Exit: {
        m_gotExit = true;
        m_runTimer.stop();
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
        appendVmLog(QStringLiteral("[host] script ended with exit code %1 after %2 ms\n").arg(m_result.exitCode).arg(m_clock.elapsed()).toUtf8());
        // The workspace is unmounted; the guest powers off by itself. Closing our end tells the
        // agent that everything arrived, so it powers off at once. Give it the grace period.
        if (m_sock)
            m_sock->abort();
        m_graceTimer.start(m_cfg.killGraceSec * 1000);
        return;
    }
    case guest::Msg::Job:
    case guest::Msg::Kill:
        break;
    }
    appendVmLog(QStringLiteral("[host] ignored unknown frame type %1\n").arg(type).toUtf8());
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
    sendFrame(static_cast<uint8_t>(guest::Msg::Job), p);
}

void VmRunner::requestKill(bool timedOut)
{
    if (m_done || m_gotExit || m_gotFail)
        return;
    if (timedOut)
        m_timedOut = true;
    else
        m_cancelled = true;
    appendVmLog(QStringLiteral("[host] %1 after %2 ms: stopping the script\n")
                    .arg(timedOut ? QStringLiteral("timeout") : QStringLiteral("cancel")).arg(m_clock.elapsed()).toUtf8());
    if (!m_gotHello || !m_sock) { // nothing to ask politely yet
        hardKill();
        return;
    }
    sendFrame(static_cast<uint8_t>(guest::Msg::Kill), QByteArray());
    if (!m_graceTimer.isActive())
        m_graceTimer.start(m_cfg.killGraceSec * 1000);
}

void VmRunner::cancel()
{
    if (!m_running || m_done)
        return;
    if (m_gotExit || m_gotFail) // already over; let it finish as it is
        return;
    requestKill(false);
}

void VmRunner::hardKill()
{
    if (m_qemu && m_qemu->state() != QProcess::NotRunning) {
        m_qemu->kill();
    } else {
        finish();
    }
}

void VmRunner::fail(const QString &error)
{
    if (m_done)
        return;
    if (m_result.error.isEmpty())
        m_result.error = error;
    m_result.outcome = VmResult::Failed;
    m_gotExit = false;
    m_gotFail = true;
    m_failText = error;
    if (m_qemu && m_qemu->state() != QProcess::NotRunning)
        hardKill(); // finish() follows from onQemuFinished
    else
        finish();
}

void VmRunner::onQemuFinished(int exitCode, QProcess::ExitStatus status)
{
    m_bootTimer.stop();
    m_runTimer.stop();
    m_graceTimer.stop();
    // Frames the guest wrote just before it powered off may still wait in the socket: QProcess
    // can report qemu's exit before the socket's readyRead. Read them before deciding.
    for (int i = 0; m_sock && i < 40 && !m_gotExit && !m_gotFail; ++i) {
        if (m_sock->bytesAvailable() <= 0 && !m_sock->waitForReadyRead(25))
            break;
        onReadyRead();
    }
    if (m_sock)
        onReadyRead();
    if (m_done)
        return;
    if (m_gotExit && !m_gotFail) {
        // a normal end, or the probe
    } else if (m_gotFail) {
        if (m_result.error.isEmpty())
            m_result.error = m_failText;
    } else {
        QString how = status == QProcess::CrashExit ? QStringLiteral("was killed") : QStringLiteral("exited with code %1").arg(exitCode);
        QString detail = QString::fromUtf8(m_qemuStderr).trimmed();
        if (detail.isEmpty())
            detail = consoleTail();
        if (m_timedOut)
            m_result.error = QStringLiteral("timed out after %1 s; the VM did not stop within %2 s and was killed")
                                 .arg(m_cfg.timeoutSec).arg(m_cfg.killGraceSec);
        else if (m_cancelled)
            m_result.error = QStringLiteral("cancelled; the VM was stopped");
        else
            m_result.error = QStringLiteral("the VM stopped unexpectedly before the job finished (qemu %1)%2")
                                 .arg(how, detail.isEmpty() ? QString() : QStringLiteral(": ") + detail.right(600));
    }
    finish();
}

void VmRunner::finish()
{
    if (m_done)
        return;
    m_done = true;
    m_running = false;
    m_bootTimer.stop();
    m_runTimer.stop();
    m_graceTimer.stop();
    if (m_timedOut) // a KILL that reached the agent before the script started ends as FAIL: still a timeout
        m_result.outcome = VmResult::TimedOut;
    else if (m_cancelled)
        m_result.outcome = VmResult::Cancelled;
    else if (m_gotFail)
        m_result.outcome = VmResult::Failed;
    else if (m_gotExit)
        m_result.outcome = VmResult::Exited;
    else
        m_result.outcome = VmResult::Failed;
    if (m_result.outcome != VmResult::Failed && m_gotFail)
        m_result.error.clear(); // the agent's "cancelled by the host" sentence; ours follows
    if (m_result.outcome == VmResult::TimedOut && m_result.error.isEmpty())
        m_result.error = QStringLiteral("timed out after %1 s").arg(m_cfg.timeoutSec);
    if (m_result.outcome == VmResult::Cancelled && m_result.error.isEmpty())
        m_result.error = QStringLiteral("cancelled");
    m_result.wallMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    appendVmLog(QStringLiteral("[host] finished: %1 exit=%2 after %3 ms %4\n")
                    .arg(VmResult::outcomeName(m_result.outcome)).arg(m_result.exitCode).arg(m_result.wallMs).arg(m_result.error).toUtf8());
    if (m_sock)
        m_sock->abort();
    if (m_server)
        m_server->close();
    cleanupRunDir();
    emit finished(m_result);
}

void VmRunner::appendVmLog(const QByteArray &line)
{
    if (!m_assigned) {
        m_earlyLog += line;
        return;
    }
    if (m_cfg.vmLogPath.isEmpty())
        return;
    QFile f(m_cfg.vmLogPath);
    if (f.open(QIODevice::Append))
        f.write(line);
}

QString VmRunner::consoleTail() const
{
    QFile f(m_consolePath);
    if (!f.open(QIODevice::ReadOnly))
        return QString();
    const qint64 size = f.size();
    if (size > 2000)
        f.seek(size - 2000);
    return QString::fromUtf8(f.readAll()).trimmed();
}

void VmRunner::cleanupRunDir()
{
    if (m_cfg.runDir.isEmpty() || m_consolePath.isEmpty())
        return;
    if (!m_cfg.vmLogPath.isEmpty()) { // keep the guest console beside the job's logs
        QFile c(m_consolePath);
        if (c.open(QIODevice::ReadOnly)) {
            const QByteArray data = c.readAll();
            if (!data.isEmpty())
                appendVmLog("[console]\n" + data);
        }
    }
    QFile::remove(m_consolePath);
    QFile::remove(m_overlay);
    QFile::remove(m_cfg.runDir + QStringLiteral("/qemu.pid"));
    QFile::remove(m_cfg.runDir + QStringLiteral("/qmp.sock"));
    if (!m_socketPath.isEmpty())
        QLocalServer::removeServer(m_socketPath);
    QDir().rmdir(m_cfg.runDir);
    m_consolePath.clear();
}

} // namespace magpie
