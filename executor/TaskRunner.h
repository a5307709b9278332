// TaskRunner.h — runs one task on this machine, start to end: creates the workspace's disk on
// its first use, boots (or restores) the VM through VmRunner, streams the output and ends with
// exactly one finished(). LocalBackend runs one TaskRunner per running task; the Slurm node-side
// runner runs exactly one, so a task behaves the same wherever it runs.
#pragma once

#include "Accelerator.h"
#include "GuestImage.h"
#include "TaskSpec.h"
#include "VmResult.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>

namespace magpie {

class VmRunner;

struct RunContext {
    QString runDir;            // scratch for this task's VM (deleted at the end)
    QString vmLogPath;         // QEMU and agent diagnostics are appended here (empty: not kept)
    QString workspaceDisk;     // the workspace's qcow2 path (may not exist yet)
    GuestImage image;
    Accelerator accel = Accelerator::Tcg;
    int bootTimeoutSec = 120;
};

class TaskRunner : public QObject
{
    Q_OBJECT
public:
    TaskRunner(TaskSpec spec, RunContext ctx, QObject *parent = nullptr);
    ~TaskRunner() override; // a VM still running is stopped

    const TaskSpec &spec() const { return m_spec; }
    void start();
    void cancel();

signals:
    void scriptStarted();
    void output(int stream, const QByteArray &data);
    void finished(const magpie::VmResult &result);

private:
    void startVm();
    void end(VmResult r);

    TaskSpec m_spec;
    RunContext m_ctx;
    QPointer<VmRunner> m_vm;
    QElapsedTimer m_clock;
    qint64 m_diskCreateMs = -1;
    bool m_cancelled = false;
    bool m_done = false;
};

} // namespace magpie
