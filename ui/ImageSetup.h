// ImageSetup.h — how this installation builds its guest image (the app fills it in: the
// builder script, the agent it packs, the folder it writes), and what state the image the
// executor uses is in: fine, missing, or stale (its manifest names another agent than the one
// this build made; GuestImage::staleReason).
#pragma once

#include <QString>
#include <QStringList>

namespace magpie {
struct GuestImage;
}

namespace magpie::ui {

struct ImageSetup {
    QString builder;   // packaging/guest/build-image.sh or the installed copy; "" when none
    QString agent;     // the magpie-agent binary it packs
    QString outDir;    // where it writes vmlinuz, initrd.img, rootfs.qcow2, manifest.json
    QString recipe;    // an image profile's recipe (--recipe); "" for the base image

    bool canBuild() const { return !builder.isEmpty() && !agent.isEmpty() && !outDir.isEmpty(); }
    // bash BUILDER --agent AGENT --out OUTDIR
    QStringList arguments() const;
    // The same as one line to paste in a terminal; `sudo ` in front when asked.
    QString commandLine(bool withSudo) const;
};

struct ImageStatus {
    enum State { Ready, Missing, Stale } state = Ready;
    QString reason;    // why it is missing or stale

    static ImageStatus of(const GuestImage &image, const ImageSetup &setup);
};

} // namespace magpie::ui
