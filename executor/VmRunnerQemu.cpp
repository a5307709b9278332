// VmRunnerQemu.cpp — the VmRunner's side of QEMU itself: launching it (a cold boot, or a restore
// from a saved snapshot: its RAM file mapped copy-on-write, its device state loaded over the
// monitor; a restore that does not work falls back to a cold boot),
// saving a snapshot over QMP (template mode), and the events of QEMU's monitor (I/O errors, an
// unexpected pause). VmRunner members; the state machine is in VmRunner.cpp.
#include "VmRunner.h"

#include "ConsoleCapture.h"
#include "QemuCommand.h"
#include "QmpClient.h"
#include "Tools.h"
#include "WorkspaceDisk.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QLocalServer>
#include <QStorageInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <utility>
#include <sys/prctl.h>
#include <unistd.h>

namespace magpie {

namespace {
constexpr qint64 kPlaceholderBytes = 1024 * 1024;
} // namespace

void VmRunner::launch()
{
    m_phase = Phase::Starting;
    m_launchMs = m_clock.elapsed();
    m_monitorUpMs = m_resumedMs = -1;
    m_inbuf.clear();
    m_qemuStderr.clear();
    m_gotExit = m_gotFail = false;
    m_failText.clear();

    // A restored VM reads its saved device state from a file descriptor it inherits (fd: URI; no
    // shell and cat between the file and QEMU). A state that cannot be opened: a cold boot.
    int stateFd = -1;
    if (m_restoring) {
        stateFd = ::open(QFile::encodeName(m_cfg.restoreFrom->statePath()).constData(), O_RDONLY | O_CLOEXEC);
        if (stateFd < 0) {
            const QString why = QStringLiteral("cannot open the saved state: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
            log(QStringLiteral("[host] restore failed (%1); booting the VM instead\n").arg(why).toUtf8());
            m_result.timings.insert(QStringLiteral("restore_failed"), 0.0);
            m_restoring = false;
            emit restoreFailed(why, true);
        }
    }
    if (m_restoring)
        checkpointBeforeIncoming();
    struct CloseAtReturn {
        int fd;
        ~CloseAtReturn() { if (fd >= 0) ::close(fd); } // QEMU (started by then) has its own copy
    } closeState{stateFd};

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
    // A VM that boots for its job alone (no snapshot saved or restored) gets only the devices
    // the job uses: no placeholder disk for a stateless job, no NIC without network.
    cmd.oneJobOnly = !saving && !m_restoring;
    if (!m_cfg.workspaceDisk.isEmpty()) {
        cmd.workspaceFile = m_cfg.workspaceDisk;
        cmd.workspaceIsQcow2 = true;
    } else if (!cmd.oneJobOnly) {
        m_placeholder = m_cfg.runDir + QStringLiteral("/placeholder.raw");
        QFile ph(m_placeholder);
        if (!ph.open(QIODevice::WriteOnly | QIODevice::Truncate) || !ph.resize(kPlaceholderBytes))
            return fail(QStringLiteral("cannot create %1: %2").arg(m_placeholder, ph.errorString()));
        cmd.workspaceFile = m_placeholder;
    }
    if (saving) {
        cmd.ramFile = m_cfg.saveTo + QStringLiteral("/ram");
        cmd.ramShared = true;
        QFile::remove(cmd.ramFile);
    } else if (m_restoring) {
        cmd.ramFile = m_cfg.restoreFrom->ramPath();
        cmd.incomingDeferred = true;
    }

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
    m_qmp = new QmpClient(cmd.qmpSocket, this);
    if (!m_qmp->listen(&err))
        return fail(err);
    connect(m_qmp, &QmpClient::event, this, &VmRunner::onQmpEvent);
    connect(m_qmp, &QmpClient::ready, this, [this] { m_monitorUpMs = m_clock.elapsed() - m_launchMs; });
    if (!m_restoring) // a restored VM's disks are QEMU's only once its state is in (RESUME)
        connect(m_qmp, &QmpClient::ready, this, &VmRunner::takeCheckpoint);
    connect(m_qmp, &QmpClient::failed, this, [this](const QString &e) {
        if (!m_cfg.saveTo.isEmpty())
            return fail(e);
        log(QStringLiteral("[host] monitor: %1\n").arg(e).toUtf8());
    });

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
    m_qemu->setChildProcessModifier([stateFd] {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (stateFd >= 0)
            ::fcntl(stateFd, F_SETFD, 0); // inherited by QEMU only
    });
    connect(m_qemu, &QProcess::readyReadStandardError, this, [this, q = m_qemu] {
        const QByteArray more = q->readAllStandardError();
        m_qemuStderr += more;
        if (m_qemuStderr.size() > 16384)
            m_qemuStderr = m_qemuStderr.right(16384);
        if (restorePending())
            checkRestoreStderr(more);
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
    if (stateFd >= 0)
        loadSnapshotState(stateFd);
}

namespace {
QJsonObject ignoreSharedRam()
{
    // Migration skips RAM blocks that are shared files: the snapshot's RAM is its `ram` file.
    return {{QStringLiteral("capabilities"),
             QJsonArray{QJsonObject{{QStringLiteral("capability"), QStringLiteral("x-ignore-shared")}, {QStringLiteral("state"), true}}}}};
}
} // namespace

void VmRunner::loadSnapshotState(int stateFd)
{
    // Queued until the monitor answers; QEMU waits (-incoming defer) with the snapshot's RAM
    // mapped. The saved run state is "running": the guest resumes as soon as the state is in.
    m_qmp->execute(QStringLiteral("migrate-set-capabilities"), ignoreSharedRam(), [this](const QString &err, const QJsonObject &) {
        if (!err.isEmpty())
            fallBackToColdBoot(QStringLiteral("cannot set up the restore: %1").arg(err), false);
    });
    m_incomingUri = QStringLiteral("fd:%1").arg(stateFd); // the number QEMU inherited
    if (!m_checkpointWorking)
        startIncoming();
}

// The state is loaded, and the disks activated, only once a checkpoint being taken beside QEMU
// is done (see checkpointBeforeIncoming).
void VmRunner::startIncoming()
{
    if (m_incomingUri.isEmpty() || !m_qmp)
        return;
    const QString uri = std::exchange(m_incomingUri, QString());
    m_qmp->execute(QStringLiteral("migrate-incoming"), {{QStringLiteral("uri"), uri}}, [this](const QString &err, const QJsonObject &) {
        if (!err.isEmpty())
            fallBackToColdBoot(QStringLiteral("cannot load the saved state: %1").arg(err), true);
    });
}

// A restored VM's checkpoint is taken by qemu-img while its QEMU starts: QEMU holds the disk
// inactive (no lock, as a migration target must) until the state is in, and reads the disk's
// metadata afresh when it activates it. Off the job's path (~10 ms of snapshot and flush that
// the guest would otherwise wait for before it sees its disk).
void VmRunner::checkpointBeforeIncoming()
{
    if (m_cfg.createCheckpoint.isEmpty() || m_checkpointSent)
        return;
    m_checkpointSent = true;
    m_checkpointBeside = true;
    m_checkpointWorking = true;
    m_bytesBeforeCheckpoint = WorkspaceDisk::allocatedBytes(m_cfg.workspaceDisk);
    const qint64 sentAt = m_clock.elapsed();
    const QString disk = m_cfg.workspaceDisk, name = m_cfg.createCheckpoint;
    auto *w = new QFutureWatcher<QString>(this);
    connect(w, &QFutureWatcher<QString>::finished, this, [this, w, sentAt] {
        const QString err = w->result();
        w->deleteLater();
        m_checkpointWorking = false;
        noteCheckpoint(err, sentAt);
        if (m_launchAfterCheckpoint) {
            m_launchAfterCheckpoint = false;
            launch();
            return;
        }
        startIncoming();
    });
    w->setFuture(QtConcurrent::run([disk, name] { return WorkspaceDisk::createSnapshot(disk, name); }));
}

void VmRunner::noteCheckpoint(const QString &err, qint64 sentAt)
{
    if (!err.isEmpty()) {
        log(QStringLiteral("[host] no checkpoint %1 before the job: %2\n").arg(m_cfg.createCheckpoint, err).toUtf8());
        return;
    }
    m_result.checkpoint = m_cfg.createCheckpoint;
    m_result.timings.insert(QStringLiteral("checkpoint"), double(m_clock.elapsed() - sentAt));
    m_result.timings.insert(QStringLiteral("checkpoint_bytes"),
                            double(qMax<qint64>(0, WorkspaceDisk::allocatedBytes(m_cfg.workspaceDisk) - m_bytesBeforeCheckpoint)));
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
    if (m_checkpointWorking) { // a booting QEMU would find the disk locked by qemu-img
        m_launchAfterCheckpoint = true;
        return;
    }
    launch();
}

// A restored VM whose QEMU cannot take over its disks once the state is in (another process holds
// the workspace's lock) stays paused, with no RESUME, and says so only on stderr: boot instead at
// once (that QEMU reports the lock as the job's error) rather than after the restore timeout. A
// state QEMU cannot load makes it exit, handled in onQemuFinished.
void VmRunner::checkRestoreStderr(const QByteArray &text)
{
    if (!text.contains("Failed to get") || !text.contains("lock"))
        return;
    const QString why = QString::fromLocal8Bit(text).trimmed().section(QLatin1Char('\n'), 0, 0).left(300);
    QMetaObject::invokeMethod(this, [this, why] { fallBackToColdBoot(QStringLiteral("QEMU: %1").arg(why), false); }, Qt::QueuedConnection);
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
    m_qmp->execute(QStringLiteral("migrate-set-capabilities"), ignoreSharedRam(), [this](const QString &err, const QJsonObject &) {
        if (!err.isEmpty())
            fail(QStringLiteral("cannot save the VM: %1").arg(err));
    });
    m_qmp->execute(QStringLiteral("migrate"), {{QStringLiteral("uri"), QStringLiteral("exec:cat > %1").arg(QemuCommand::shellQuoted(tmp))}},
                   [this, step](const QString &err, const QJsonObject &) {
                       if (!err.isEmpty())
                           return fail(QStringLiteral("cannot save the VM: %1").arg(err));
                       (*step)();
                   });
}

void VmRunner::announceWorkspaceSize()
{
    // The restored guest's workspace device was the snapshot's 1 MiB placeholder; behind it is
    // the job's disk now. A resize to the disk's own size makes QEMU raise the device's config
    // interrupt, and the guest reads the real size (the agent waits for it, else re-probes).
    // The size comes from the disk's qcow2 header (no query-block round trip first).
    const auto resize = [this](double size) {
        m_qmp->execute(QStringLiteral("block_resize"), {{QStringLiteral("device"), QStringLiteral("ws")}, {QStringLiteral("size"), size}},
                       [this](const QString &e, const QJsonObject &) {
                           if (!e.isEmpty())
                               log(QStringLiteral("[host] announcing the workspace's size: %1\n").arg(e).toUtf8());
                       });
    };
    const qint64 header = WorkspaceDisk::headerVirtualSize(m_cfg.workspaceDisk);
    if (header > 0)
        return resize(double(header));
    m_qmp->executeForArray(QStringLiteral("query-block"), [this, resize](const QString &err, const QJsonArray &devices) {
        if (!err.isEmpty())
            return log(QStringLiteral("[host] query-block: %1\n").arg(err).toUtf8());
        for (const QJsonValue &v : devices) {
            const QJsonObject d = v.toObject();
            if (d.value(QStringLiteral("device")).toString() != QLatin1String("ws"))
                continue;
            const double size = d.value(QStringLiteral("inserted")).toObject().value(QStringLiteral("image")).toObject()
                                    .value(QStringLiteral("virtual-size")).toDouble(-1);
            if (size > 0)
                resize(size);
            break;
        }
    });
}

// The checkpoint before the job: an internal snapshot of the workspace disk. A booting VM's
// QEMU takes it as soon as its monitor is up (its guest mounts the disk a second later; a
// qemu-img run before the VM cost the job ~12 ms); a restored VM's is taken beside its QEMU
// (checkpointBeforeIncoming). A job whose checkpoint fails runs without one, as before.
void VmRunner::takeCheckpoint()
{
    if (!m_qmp)
        return;
    if (m_checkpointBeside) { // taken by qemu-img before the disk was QEMU's
        if (!m_result.checkpoint.isEmpty())
            dropCheckpoints();
        return;
    }
    if (m_checkpointSent)
        return;
    if (m_cfg.createCheckpoint.isEmpty())
        return dropCheckpoints();
    m_checkpointSent = true;
    m_bytesBeforeCheckpoint = WorkspaceDisk::allocatedBytes(m_cfg.workspaceDisk);
    const qint64 sentAt = m_clock.elapsed();
    ++m_dropsPending;
    m_qmp->execute(QStringLiteral("blockdev-snapshot-internal-sync"),
                   {{QStringLiteral("device"), QStringLiteral("ws")}, {QStringLiteral("name"), m_cfg.createCheckpoint}},
                   [this, sentAt](const QString &err, const QJsonObject &) {
                       noteCheckpoint(err, sentAt);
                       if (err.isEmpty())
                           dropCheckpoints(); // only once the new one exists
                       monitorJobDone();
                   });
}

void VmRunner::dropCheckpoints()
{
    // The checkpoints beyond the ones kept, deleted by this QEMU while the guest starts (a
    // separate qemu-img run before the VM would cost the job ~20 ms). One left over (the VM
    // ended first, an error) is dropped by the workspace's next job.
    if (m_dropsSent || m_cfg.dropCheckpoints.isEmpty() || !m_qmp)
        return;
    m_dropsSent = true;
    for (const QString &name : m_cfg.dropCheckpoints) {
        ++m_dropsPending;
        m_qmp->execute(QStringLiteral("blockdev-snapshot-delete-internal-sync"), {{QStringLiteral("device"), QStringLiteral("ws")}, {QStringLiteral("name"), name}},
                       [this, name](const QString &err, const QJsonObject &) {
                           if (!err.isEmpty())
                               log(QStringLiteral("[host] could not delete the old checkpoint %1: %2\n").arg(name, err).toUtf8());
                           monitorJobDone();
                       });
    }
}

void VmRunner::monitorJobDone()
{
    if (--m_dropsPending == 0 && m_endAfterDrops) {
        m_endAfterDrops = false;
        endQemu(true);
    }
}

void VmRunner::onQmpEvent(const QString &name, const QJsonObject &data)
{
    if (name == QLatin1String("RESUME") && restorePending()) {
        if (m_resumedMs < 0)
            m_resumedMs = m_clock.elapsed() - m_launchMs;
        if (!m_cfg.workspaceDisk.isEmpty() && !m_sizeAnnounced) {
            m_sizeAnnounced = true;
            if (m_checkpointBeside) { // the checkpoint exists: the guest gets its disk at once
                announceWorkspaceSize();
                takeCheckpoint(); // the old ones' deletes
            } else {
                takeCheckpoint(); // first: the monitor answers in order, the guest sees its disk after the snapshot
                announceWorkspaceSize();
            }
        }
    }
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

} // namespace magpie
