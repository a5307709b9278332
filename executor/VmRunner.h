// VmRunner.h — boots one QEMU VM, hands it one job over the virtio-serial channel, streams
// its output and always ends with exactly one finished() signal carrying a recorded outcome.
//
// The root disk is a throwaway qcow2 overlay of the read-only base image, made in the run
// folder and deleted afterwards, so nothing outside /workspace survives. The workspace disk,
// when given, is attached as a virtio-blk device with serial guest::kWorkspaceSerial.
#pragma once

#include "Accelerator.h"
#include "GuestImage.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QProcess>
#include <QString>
#include <QTimer>

class QLocalServer;
class QLocalSocket;
class QFile;

namespace magpie {

struct VmConfig {
    QString name;              // shown in `ps` as -name magpie-<name>
    QString runDir;            // scratch: overlay, sockets, pid file (deleted at the end)
    QString vmLogPath;         // the serial console and agent LOG lines are appended here (kept)
    GuestImage image;
    Accelerator accel = Accelerator::Tcg;
    int vcpus = 1;
    int memoryMb = 512;
    bool network = false;
    QString workspaceDisk;     // qcow2 path; empty = an empty ephemeral /workspace
    QString script;
    QString interpreter;       // e.g. /usr/bin/python3; empty: bash, or the script's "#!" line
    QList<QPair<QString, QString>> env;
    int timeoutSec = 0;        // 0 = no limit; counted from the moment the script starts
    int bootTimeoutSec = 90;   // the agent must say HELLO within this
    int killGraceSec = 10;     // after KILL, the VM must be gone within this or qemu is killed
    bool probeOnly = false;    // stop as soon as the agent answers (accelerator probe)
    // Boot ahead of time ("warm" VM): the VM boots with a NIC and a QMP monitor but no job and
    // no workspace disk; assign() later hands it a job, hot-plugs the workspace disk through QMP
    // and removes the network backend when the job wants no network.
    bool preboot = false;
};

struct VmResult {
    enum Outcome { Exited, TimedOut, Cancelled, Failed };
    Outcome outcome = Failed;
    int exitCode = -1;         // the script's exit code (128+N when killed by signal N)
    int signal = 0;
    QString error;             // a sentence for anything but a plain exit
    qint64 usedBytes = -1;     // workspace used/total bytes reported by the guest
    qint64 totalBytes = -1;
    qint64 bootMs = -1;        // qemu start -> agent HELLO
    qint64 wallMs = 0;         // start() -> finished
    static QString outcomeName(Outcome o);
};

class VmRunner : public QObject
{
    Q_OBJECT
public:
    explicit VmRunner(VmConfig config, QObject *parent = nullptr);
    ~VmRunner() override; // a qemu still running is killed and reaped

    const VmConfig &config() const { return m_cfg; }
    bool isRunning() const { return m_running; }
    qint64 qemuPid() const;

    // The qemu command line for this config (without the program); public for tests and logs.
    QStringList qemuArguments(const QString &overlay, const QString &socketPath, const QString &pidFile) const;

    // For a preboot VM: the job part of `job` (name, script, env, workspace disk, network,
    // timeout, vm log) is taken over; the job starts as soon as the agent is up.
    void assign(const VmConfig &job);
    bool isAssigned() const { return m_assigned; }
    bool hasBooted() const { return m_gotHello; }

public slots:
    void start();
    void cancel();   // ends as Cancelled: KILL to the agent, then qemu after the grace period

signals:
    void booted();                        // the agent said HELLO
    void scriptStarted();                 // the agent started the script
    void output(int stream, const QByteArray &data); // 1 = stdout, 2 = stderr
    void finished(const magpie::VmResult &result);

private:
    void fail(const QString &error);
    void onNewConnection();
    void onReadyRead();
    void handleFrame(uint8_t type, const QByteArray &payload);
    void sendFrame(uint8_t type, const QByteArray &payload);
    void sendJob();
    void dispatch();
    void requestKill(bool timedOut);
    void onQemuFinished(int exitCode, QProcess::ExitStatus status);
    void hardKill();
    void finish();
    void appendVmLog(const QByteArray &line);
    QString consoleTail() const;
    void cleanupRunDir();

    VmConfig m_cfg;
    QProcess *m_qemu = nullptr;
    QLocalServer *m_server = nullptr;
    QLocalSocket *m_sock = nullptr;
    QByteArray m_inbuf;
    QByteArray m_qemuStderr;
    QTimer m_bootTimer;
    QTimer m_runTimer;
    QTimer m_graceTimer;
    QElapsedTimer m_clock;
    QString m_socketPath;
    QString m_overlay;
    QString m_consolePath;
    VmResult m_result;
    bool m_running = false;
    bool m_done = false;
    bool m_gotHello = false;
    bool m_gotExit = false;
    bool m_gotFail = false;
    bool m_timedOut = false;
    bool m_cancelled = false;
    QString m_failText;
    bool m_assigned = true;
    bool m_dispatched = false;
    QByteArray m_earlyLog;     // log lines of a preboot VM before it has a job (and a log file)
    class QmpClient *m_qmp = nullptr;
};

} // namespace magpie

Q_DECLARE_METATYPE(magpie::VmResult)
