// GuestImage.h — where the guest kernel, initramfs and read-only root image are.
//
// Lookup order (first folder holding vmlinuz, initrd.img and rootfs.qcow2 wins):
//   1. $MAGPIE_GUEST_DIR
//   2. <folder of the executable>/../share/magpie-desktop/guest   (installed layout)
//   3. the build tree's guest/ folder (MAGPIE_GUEST_BUILD_DIR, set by CMake)
#pragma once

#include <QString>
#include <QStringList>

namespace magpie {

struct GuestImage {
    QString dir;
    QString kernel;
    QString initrd;
    QString rootfs;
    QString error;         // why no image was found (lists where we looked)
    QString identity;      // changes when any of the three files change (for caching probe results)

    bool isValid() const { return error.isEmpty(); }

    static QStringList searchPath();
    static GuestImage fromDir(const QString &dir);
    static GuestImage locate();
    // Why the image in `dir` does not match what this build expects ("" when it does): no
    // manifest.json, or its agent_hash is not the sha256 of `agentPath` (the agent this build
    // made; "" skips that comparison).
    static QString staleReason(const QString &dir, const QString &agentPath);
};

} // namespace magpie
