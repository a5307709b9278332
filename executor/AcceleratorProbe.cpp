#include "AcceleratorProbe.h"

#include "Tools.h"
#include "VmRunner.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

namespace magpie {

AcceleratorProbe::AcceleratorProbe(QString cacheFile, QString runDir, QObject *parent)
    : QObject(parent), m_cacheFile(std::move(cacheFile)), m_runDir(std::move(runDir))
{
}

int AcceleratorProbe::probeTimeoutSec()
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue("MAGPIE_KVM_PROBE_TIMEOUT", &ok);
    return ok && v > 0 ? v : 8;
}

void AcceleratorProbe::setMode(AccelMode mode)
{
    if (mode == m_mode)
        return;
    m_mode = mode;
    if (!m_probe)
        m_decided.reset();
}

void AcceleratorProbe::decide(Accelerator a, const QString &why, bool remember)
{
    m_decided = a;
    m_reason = why;
    if (remember && !m_cacheFile.isEmpty()) {
        QJsonObject o{{QStringLiteral("accelerator"), accelName(a)},
                      {QStringLiteral("reason"), why},
                      {QStringLiteral("image"), m_imageIdentity},
                      {QStringLiteral("decided_at"), isoNow()}};
        QFile f(m_cacheFile);
        if (f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            f.write(QJsonDocument(o).toJson());
    }
    const auto waiting = std::move(m_waiting);
    m_waiting.clear();
    for (const auto &cb : waiting)
        cb(a, why);
}

void AcceleratorProbe::resolve(const GuestImage &image, std::function<void(Accelerator, QString)> done)
{
    const AccelMode mode = accelModeFromEnvironment(m_mode);
    if (mode == AccelMode::Tcg) {
        done(Accelerator::Tcg, QStringLiteral("TCG was chosen (setting or MAGPIE_ACCEL)"));
        return;
    }
    if (mode == AccelMode::Kvm) {
        done(Accelerator::Kvm, QStringLiteral("KVM was chosen (setting or MAGPIE_ACCEL)"));
        return;
    }
    if (m_decided) {
        done(*m_decided, m_reason);
        return;
    }
    m_waiting.append(std::move(done));
    if (m_probe)
        return;
    m_imageIdentity = QString::fromLatin1(QCryptographicHash::hash(image.identity.toUtf8(), QCryptographicHash::Sha256).toHex().left(16));
    if (!kvmDeviceUsable()) {
        decide(Accelerator::Tcg, QStringLiteral("auto: /dev/kvm is not usable, using TCG"), false);
        return;
    }
    // A decision remembered for this very guest image?
    QFile f(m_cacheFile);
    if (!m_cacheFile.isEmpty() && f.open(QIODevice::ReadOnly)) {
        const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
        if (o.value(QStringLiteral("image")).toString() == m_imageIdentity) {
            const Accelerator a = o.value(QStringLiteral("accelerator")).toString() == QLatin1String("kvm") ? Accelerator::Kvm : Accelerator::Tcg;
            decide(a, o.value(QStringLiteral("reason")).toString() + QStringLiteral(" (remembered)"), false);
            return;
        }
    }
    VmConfig cfg;
    cfg.name = QStringLiteral("kvm-probe");
    cfg.runDir = m_runDir + QStringLiteral("/kvm-probe");
    cfg.image = image;
    cfg.accel = Accelerator::Kvm;
    cfg.memoryMb = 256;
    cfg.probeOnly = true;
    cfg.bootTimeoutSec = probeTimeoutSec();
    cfg.killGraceSec = 2;
    m_probe = new VmRunner(cfg, this);
    connect(m_probe, &VmRunner::finished, this, [this](const VmResult &r) {
        m_probe->deleteLater();
        m_probe = nullptr;
        if (r.outcome == VmResult::Exited)
            decide(Accelerator::Kvm, QStringLiteral("auto: a KVM test boot reached the guest agent in %1 ms").arg(r.bootMs), true);
        else if (r.error.contains(QStringLiteral("did not answer")))
            // Not definite: a loaded machine can be that slow. Probe again at the next start.
            decide(Accelerator::Tcg, QStringLiteral("auto: a KVM test boot did not reach the guest agent within %1 s, using TCG "
                                                    "for now (probed again at the next start)")
                                         .arg(probeTimeoutSec()), false);
        else if (r.error.startsWith(QStringLiteral("cannot start")))
            // qemu itself is missing or broken: nothing is known about KVM yet.
            decide(Accelerator::Tcg, QStringLiteral("auto: %1; using TCG for now").arg(r.error.left(160)), false);
        else {
            // One line of why: qemu's own first complaint when there is one.
            QString why = r.error.section(QLatin1Char('\n'), 0, 0);
            const qsizetype colon = why.indexOf(QStringLiteral("): "));
            if (colon >= 0)
                why = why.mid(colon + 3);
            decide(Accelerator::Tcg, QStringLiteral("auto: a KVM test boot failed (%1), using TCG").arg(why.left(160)), true);
        }
    });
    m_probe->start();
}

} // namespace magpie
