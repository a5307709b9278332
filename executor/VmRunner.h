// VmRunner.h — runs one QEMU VM for one job (or one workspace operation): boots it, or restores
// it from a saved snapshot, hands it the job over the virtio-serial channel, streams its output,
// and always ends with exactly one finished() carrying a recorded outcome. It can also make a
// snapshot: boot, let the agent prepare, stop the VM and save it (template mode).
//
// The root disk is a throwaway copy-on-write layer over the read-only guest image (or over the
// snapshot's root), so nothing outside /workspace survives. Every VM has the device set of
// QemuCommand. The serial console is read through a socket and only its tail is kept; the
// diagnostics in vm.log are capped (CappedLog). QEMU's monitor is watched for I/O errors, so a
// full host disk ends the job at once instead of pausing the VM.
#pragma once

#include "Accelerator.h"
#include "CappedLog.h"
#include "GuestImage.h"
#include "VmResult.h"
#include "VmSnapshot.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPair>
#include <QProcess>
#include <QString>
#include <QTimer>
#include <memory>

class QFile;
class QLocalServer;
class QLocalSocket;

namespace magpie {

class ConsoleCapture;
class QmpClient;

struct VmConfig {
    QString name;              // shown in `ps` as -name magpie-<name>
    QString runDir;            // scratch: sockets, placeholder, pid file (deleted at the end)
    QString vmLogPath;         // QEMU's command line, agent LOG lines, the console tail (capped)
    GuestImage image;
    Accelerator accel = Accelerator::Tcg;
    int vcpus = 1;
    int memoryMb = 512;
    bool network = false;
    QString workspaceDisk;     // qcow2 path; empty = an empty ephemeral /workspace
    int workspaceSizeGb = 0;   // for the preparation watchdog (fsck time grows with size)
    QString script;
    QString interpreter;       // e.g. /usr/bin/python3; empty: bash, or the script's "#!" line
    QList<QPair<QString, QString>> env;
    QString hostname;          // empty: "magpie"
    int timeoutSec = 0;        // 0 = no limit; counted from the moment the script starts
    int bootTimeoutSec = 120;  // a booting VM's agent must say HELLO within this
    int restoreTimeoutSec = 20; // a restored VM must accept its job within this, else it boots cold
    int killGraceSec = 15;     // after KILL the agent kills, syncs and unmounts; then qemu is killed
    int prepareTimeoutSec = 60; // job sent -> script started, plus 1 s per GiB of workspace (fsck)
    bool probeOnly = false;    // stop as soon as the agent answers (accelerator probe)
    std::shared_ptr<const VmSnapshot> restoreFrom; // restore this instead of booting
    QString saveTo;            // template mode: boot, prepare and save the VM into this folder
    bool recordChanges = false; // the agent compares /workspace before and after the script (CHANGES)
    QString createCheckpoint;    // an internal snapshot of the workspace disk that QEMU takes before the guest sees the disk
    QStringList dropCheckpoints; // internal snapshots of the workspace disk that QEMU deletes while the VM runs (after the create)
    QString stdinPath;         // a host file streamed to the script's stdin (empty: /dev/null)
    QString spaceDir;          // whose free space a "host disk full" error reports (the data folder)
};

class VmRunner : public QObject
{
    Q_OBJECT
public:
    // What the VM is doing, as far as the host knows.
    enum class Phase {
        Idle,      // start() not called yet
        Starting,  // qemu launched; waiting for the agent (HELLO after a boot, ACCEPTED after a restore)
        Saving,    // template mode: PREPARE sent, or the stopped VM is being written to the state file
        Running,   // JOB sent: the agent prepares /workspace and runs the script
        Stopping,  // KILL sent (cancel or timeout): the agent has killGraceSec to end the script cleanly
        Ending,    // EXIT or FAIL received, or the VM is being killed: waiting for qemu to exit
        Done,      // finished() was emitted
    };
    // Why the host is ending the VM early.
    enum class StopReason {
        None,      // it ends by itself
        Cancel,    // cancel()
        Timeout,   // the job's timeout passed
        Failure,   // the host gave up on it (see the result's error)
    };

    explicit VmRunner(VmConfig config, QObject *parent = nullptr);
    ~VmRunner() override; // a qemu still running is killed and reaped

    const VmConfig &config() const { return m_cfg; }
    bool isRunning() const { return m_phase != Phase::Idle && m_phase != Phase::Done; }
    Phase phase() const { return m_phase; }
    qint64 qemuPid() const;

public slots:
    void start();
    void cancel();   // ends as Cancelled: KILL to the agent, then qemu after the grace period

signals:
    void booted();                        // the agent answered (HELLO, or ACCEPTED after a restore)
    void scriptStarted();                 // the agent started the script
    void output(int stream, const QByteArray &data); // 1 = stdout, 2 = stderr
    // A restore did not work and the VM boots instead; `stateBad` when QEMU rejected the state.
    void restoreFailed(const QString &why, bool stateBad);
    void finished(const magpie::VmResult &result);

private:
    void launch();
    void loadSnapshotState(int stateFd);
    void announceWorkspaceSize();
    void takeCheckpoint();
    void checkpointBeforeIncoming();
    void noteCheckpoint(const QString &err, qint64 sentAt);
    void startIncoming();
    void dropCheckpoints();
    void monitorJobDone();
    // A restore is under way and the restored agent has not accepted its job yet.
    bool restorePending() const { return m_restoring && m_result.start.isEmpty(); }
    void checkRestoreStderr(const QByteArray &text);
    void fallBackToColdBoot(const QString &why, bool stateBad);
    void fail(const QString &error, bool infrastructure = true);
    void onNewConnection();
    void onReadyRead();
    void handleFrame(uint8_t type, const QByteArray &payload);
    void onStarted(const QByteArray &payload);
    void onExit(const QByteArray &payload);
    void sendFrame(uint8_t type, const QByteArray &payload);
    void sendJob();
    void pumpStdin();
    static QJsonObject parseChanges(const QByteArray &payload);
    void saveSnapshot();
    void onQmpEvent(const QString &name, const QJsonObject &data);
    void requestStop(StopReason reason);
    void endQemu(bool graceful);
    void onQemuFinished(int exitCode, QProcess::ExitStatus status);
    void finish();
    void log(const QByteArray &line);
    QString consoleTail() const;
    void stopProcess();
    void cleanup();
    QString socketPath(const QString &name) const;

    VmConfig m_cfg;
    Phase m_phase = Phase::Idle;
    StopReason m_stop = StopReason::None;
    bool m_restoring = false;           // this launch restores m_cfg.restoreFrom
    bool m_sizeAnnounced = false;       // the restored workspace device was resized to its disk
    bool m_checkpointSent = false;
    bool m_checkpointBeside = false;    // taken by qemu-img while a restored VM's QEMU started
    bool m_checkpointWorking = false;   // that qemu-img is still running: no migrate-incoming yet
    bool m_launchAfterCheckpoint = false;
    QString m_incomingUri;              // migrate-incoming waiting for the checkpoint
    qint64 m_bytesBeforeCheckpoint = 0;
    bool m_dropsSent = false;
    int m_dropsPending = 0;             // checkpoint commands QEMU has not answered yet: the VM ends after them
    bool m_endAfterDrops = false;
    QProcess *m_qemu = nullptr;
    QFile *m_stdin = nullptr;     // the script's stdin being streamed (stdinPath)
    QLocalServer *m_server = nullptr;
    QLocalSocket *m_sock = nullptr;
    ConsoleCapture *m_console = nullptr;
    QmpClient *m_qmp = nullptr;
    QByteArray m_inbuf;
    QByteArray m_qemuStderr;
    QTimer m_startTimer;                // Starting: HELLO / ACCEPTED
    QTimer m_prepareTimer;              // Running until STARTED
    QTimer m_runTimer;                  // the job's timeout
    QTimer m_graceTimer;                // Stopping / Ending
    QElapsedTimer m_clock;              // since start()
    qint64 m_launchMs = 0, m_jobSentMs = 0, m_scriptStartMs = 0, m_exitMs = 0;
    qint64 m_monitorUpMs = -1, m_resumedMs = -1; // since launch; for the log
    QString m_socketDir;                // holds the unix sockets (runDir, or a short temp folder)
    QString m_placeholder;
    QString m_lastAgentStep;            // the agent's last LOG line (names the phase that hung)
    bool m_gotExit = false;
    bool m_gotFail = false;
    QString m_failText;
    VmResult m_result;
    CappedLog m_log;
};

} // namespace magpie
