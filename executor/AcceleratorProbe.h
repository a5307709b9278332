// AcceleratorProbe.h — decides KVM or TCG once. In `auto` mode it boots a probe VM with KVM
// and waits a few seconds for the guest agent's HELLO; no answer means TCG. Only definite
// outcomes are remembered in a small file (keyed by the guest image) so later starts need no
// probe: KVM works, or KVM fails (qemu reports an error). A probe that timed out (a loaded
// machine) or a qemu that could not start is probed again at the next start.
#pragma once

#include "Accelerator.h"
#include "GuestImage.h"

#include <QObject>
#include <QString>
#include <functional>
#include <optional>

namespace magpie {

class VmRunner;

class AcceleratorProbe : public QObject
{
    Q_OBJECT
public:
    AcceleratorProbe(QString cacheFile, QString runDir, QObject *parent = nullptr);

    void setMode(AccelMode mode); // forgets an earlier decision
    AccelMode mode() const { return m_mode; }
    // Calls back (maybe at once) with the accelerator to use and why it was chosen.
    void resolve(const GuestImage &image, std::function<void(Accelerator, QString)> done);
    std::optional<Accelerator> decided() const { return m_decided; }
    QString reason() const { return m_reason; }

    static int probeTimeoutSec(); // MAGPIE_KVM_PROBE_TIMEOUT, default 8

private:
    void decide(Accelerator a, const QString &why, bool remember);
    QString m_cacheFile;
    QString m_runDir;
    AccelMode m_mode = AccelMode::Auto;
    std::optional<Accelerator> m_decided;
    QString m_reason;
    QString m_imageIdentity;
    VmRunner *m_probe = nullptr;
    QList<std::function<void(Accelerator, QString)>> m_waiting;
};

} // namespace magpie
