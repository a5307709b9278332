#include "ImageBuilder.h"

#include <QStandardPaths>

#include <unistd.h>

namespace magpie::ui {

ImageBuilder::ImageBuilder(ImageSetup setup, QObject *parent)
    : QObject(parent), m_setup(std::move(setup))
{
    m_proc.setProcessChannelMode(QProcess::MergedChannels);
    connect(&m_proc, &QProcess::readyReadStandardOutput, this, &ImageBuilder::onOutput);
    connect(&m_proc, &QProcess::finished, this, [this](int code, QProcess::ExitStatus st) {
        onOutput();
        if (!m_partial.isEmpty())
            onLine(QString::fromUtf8(m_partial));
        m_partial.clear();
        const bool ok = st == QProcess::NormalExit && code == 0;
        if (ok) {
            m_step = kSteps;
            emit progress(m_step, tr("The guest image is ready"));
        }
        QString msg = ok ? tr("Built the guest image in %1.").arg(m_setup.outDir)
                         : st != QProcess::NormalExit ? tr("The builder stopped (%1).").arg(m_proc.errorString())
                                                      : tr("The builder failed (exit code %1)%2").arg(code).arg(m_lastError.isEmpty() ? QStringLiteral(".") : QStringLiteral(": ") + m_lastError);
        if (!ok && code == 126 && privilege() == WithPkexec)
            msg = tr("Not authorised: pkexec was cancelled or refused.");
        emit finished(ok, msg);
    });
    connect(&m_proc, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            emit finished(false, tr("Could not start the builder: %1").arg(m_proc.errorString()));
    });
}

ImageBuilder::~ImageBuilder()
{
    cancel();
}

ImageBuilder::Privilege ImageBuilder::privilege()
{
    if (::geteuid() == 0)
        return AsRoot;
    return QStandardPaths::findExecutable(QStringLiteral("pkexec")).isEmpty() ? AsUser : WithPkexec;
}

QStringList ImageBuilder::commandLine() const
{
    QString bash = QStandardPaths::findExecutable(QStringLiteral("bash"));
    if (bash.isEmpty())
        bash = QStringLiteral("/bin/bash");
    QStringList cmd{bash};
    cmd << m_setup.arguments();
    if (privilege() == WithPkexec)
        cmd.prepend(QStandardPaths::findExecutable(QStringLiteral("pkexec")));
    return cmd;
}

bool ImageBuilder::start(QString *error)
{
    if (isRunning())
        return true;
    if (!m_setup.canBuild()) {
        if (error)
            *error = tr("this installation has no guest image builder");
        return false;
    }
    m_log.clear();
    m_lastError.clear();
    m_step = 0;
    const QStringList cmd = commandLine();
    m_proc.start(cmd.first(), cmd.mid(1));
    if (!m_proc.waitForStarted(5000)) {
        if (error)
            *error = m_proc.errorString();
        return false;
    }
    emit progress(0, tr("Starting the builder…"));
    return true;
}

bool ImageBuilder::isRunning() const
{
    return m_proc.state() != QProcess::NotRunning;
}

void ImageBuilder::cancel()
{
    if (!isRunning())
        return;
    m_proc.terminate(); // the builder's trap removes its temporary files
    if (!m_proc.waitForFinished(10000)) {
        m_proc.kill();
        m_proc.waitForFinished(2000);
    }
}

void ImageBuilder::onOutput()
{
    m_partial += m_proc.readAllStandardOutput();
    int nl;
    while ((nl = m_partial.indexOf('\n')) >= 0) {
        onLine(QString::fromUtf8(m_partial.left(nl)));
        m_partial.remove(0, nl + 1);
    }
}

void ImageBuilder::onLine(const QString &line)
{
    m_log += line + QLatin1Char('\n');
    emit output(line + QLatin1Char('\n'));
    if (line.contains(QLatin1String("ERROR:")))
        m_lastError = line.section(QLatin1String("ERROR:"), 1).trimmed();
    const QString body = line.startsWith(QLatin1String("[guest-image] ")) ? line.mid(14) : QString();
    int step = -1;
    QString what;
    if (body.startsWith(QLatin1String("debootstrap "))) {
        step = 0;
        what = tr("Making the Debian root filesystem (about a minute)…");
    } else if (body.startsWith(QLatin1String("rootfs"))) {
        step = 1;
        what = tr("Root filesystem ready; fetching the kernel…");
    } else if (body.startsWith(QLatin1String("kernel"))) {
        step = 2;
        what = tr("Kernel ready; packing the initramfs with the agent…");
    } else if (body.startsWith(QLatin1String("initrd"))) {
        step = 3;
        what = tr("Initramfs ready; writing the image…");
    }
    if (step > m_step || (step == 0 && m_step == 0 && !what.isEmpty())) {
        m_step = qMax(m_step, step);
        emit progress(m_step, what);
    }
}

} // namespace magpie::ui
