// Accelerator.h — KVM or TCG. `auto` probes KVM once with a short test boot and falls back to
// TCG when the guest agent does not answer; MAGPIE_ACCEL=tcg|kvm|auto forces the choice.
#pragma once

#include <QObject>
#include <QString>

namespace magpie {

enum class Accelerator { Tcg, Kvm };
enum class AccelMode { Auto, Tcg, Kvm };

QString accelName(Accelerator a);
QString accelModeName(AccelMode m);
// Parses "auto", "tcg", "kvm" (case-insensitive); false when the text is none of them.
bool parseAccelMode(const QString &text, AccelMode *out);
// The mode from MAGPIE_ACCEL when it is set and valid, otherwise `fallback`.
AccelMode accelModeFromEnvironment(AccelMode fallback);
bool kvmDeviceUsable();

} // namespace magpie
