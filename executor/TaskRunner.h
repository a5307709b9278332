// TaskRunner.h — runs one task on this machine, start to end: checks that the host has room,
// creates the workspace's disk on its first use (and repairs leaked clusters when its last VM
// was killed), starts the VM through VmRunner — restored from a snapshot when one fits —
// streams the output and ends with exactly one finished(). LocalBackend runs one TaskRunner per
// running task; the Slurm node-side runner runs exactly one, so a task behaves the same
// wherever it runs.
#pragma once

#include "Accelerator.h"
#include "GuestImage.h"
#include "TaskSpec.h"
#include "VmResult.h"
#include "VmSnapshot.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <memory>

namespace magpie {

class VmRunner;

struct RunContext {
    QString runDir;            // scratch for this task's VM (deleted at the end)
    QString vmLogPath;         // QEMU and agent diagnostics are appended here (empty: not kept)
    QString workspaceDisk;     // the workspace's qcow2 path (may not exist yet)
    QString baseDisk;          // stateless job on a base workspace: that workspace's disk (read only)
    QString spaceDir;          // the folder whose free space is checked (the data folder)
    GuestImage image;
    Accelerator accel = Accelerator::Tcg;
    int bootTimeoutSec = 120;
    // A saved, booted VM of the same image and shape to restore instead of booting (may be null).
    std::shared_ptr<const VmSnapshot> snapshot;
};

class TaskRunner : public QObject
{
    Q_OBJECT
public:
    // A job does not start when the data folder's file system has less free space than this
    // (MAGPIE_MIN_FREE_BYTES overrides; default 1 GiB).
    static qint64 minFreeBytes();

    TaskRunner(TaskSpec spec, RunContext ctx, QObject *parent = nullptr);
    ~TaskRunner() override; // a VM still running is stopped

    const TaskSpec &spec() const { return m_spec; }
    void start();
    void cancel();

signals:
    void scriptStarted();
    void output(int stream, const QByteArray &data);
    void restoreFailed(const QString &snapshotKey, const QString &why, bool stateBad);
    void finished(const magpie::VmResult &result);

private:
    void prepareDisk();
    void runDiskOp();
    void startVm();
    void end(VmResult r);
    void endWithError(const QString &error);
    QString dirtyMarker() const { return m_ctx.workspaceDisk + QStringLiteral(".dirty"); }

    TaskSpec m_spec;
    RunContext m_ctx;
    QPointer<VmRunner> m_vm;
    QElapsedTimer m_clock;
    QJsonObject m_timings;
    bool m_cancelled = false;
    bool m_done = false;
    QString m_overlay;         // the throwaway layer over the base disk (deleted at the end)
};

} // namespace magpie
