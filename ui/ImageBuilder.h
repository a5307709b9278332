// ImageBuilder.h — runs the guest image builder (ImageSetup: packaging/guest/build-image.sh or
// the installed copy) as a child process and reports its progress from the lines it prints
// (root filesystem, kernel, initramfs, done) and its whole log. The builder needs root to
// make the Debian root filesystem the first time: as root it runs directly; otherwise through
// pkexec when that is installed (a password prompt from the desktop), else as the user, which
// works when the expensive parts are cached (the banner shows the sudo command to copy).
#pragma once

#include "ImageSetup.h"

#include <QObject>
#include <QProcess>

namespace magpie::ui {

class ImageBuilder : public QObject
{
    Q_OBJECT
public:
    enum Privilege { AsRoot, WithPkexec, AsUser };
    static constexpr int kSteps = 4; // root filesystem, kernel, initramfs, manifest

    explicit ImageBuilder(ImageSetup setup, QObject *parent = nullptr);
    ~ImageBuilder() override;

    static Privilege privilege();
    const ImageSetup &setup() const { return m_setup; }
    // The program and arguments it runs (pkexec in front when needed).
    QStringList commandLine() const;
    bool start(QString *error);
    bool isRunning() const;
    void cancel();
    int step() const { return m_step; }
    QString log() const { return m_log; }

signals:
    void output(const QString &text);
    void progress(int step, const QString &what);
    void finished(bool ok, const QString &message);

private:
    void onOutput();
    void onLine(const QString &line);

    ImageSetup m_setup;
    QProcess m_proc;
    QByteArray m_partial;
    QString m_log;
    QString m_lastError;
    int m_step = 0;
};

} // namespace magpie::ui
