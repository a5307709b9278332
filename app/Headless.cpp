#include "Headless.h"

#include "ApiKey.h"
#include "DataDir.h"
#include "Executor.h"
#include "HttpApi.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace magpie {

namespace {
int g_signalPipe[2] = {-1, -1};

extern "C" void onStopSignal(int sig)
{
    const int saved = errno;
    const char c = char(sig);
    if (g_signalPipe[1] >= 0)
        (void)!::write(g_signalPipe[1], &c, 1);
    errno = saved;
}

void say(const QString &text)
{
    std::fprintf(stderr, "magpie-desktop: %s\n", text.toLocal8Bit().constData());
    std::fflush(stderr);
}
} // namespace

Headless::Headless(HeadlessOptions options, QObject *parent) : QObject(parent), m_opt(std::move(options)) {}

Headless::~Headless()
{
    // The API goes first (it refers to the executor), the executor before the data folder's
    // lock is released.
    m_api.reset();
    m_exec.reset();
    m_dir.reset();
    if (m_signalNotifier) {
        for (int sig : {SIGTERM, SIGINT, SIGHUP})
            ::signal(sig, SIG_DFL);
        delete m_signalNotifier;
        ::close(g_signalPipe[0]);
        ::close(g_signalPipe[1]);
        g_signalPipe[0] = g_signalPipe[1] = -1;
    }
}

bool Headless::parseListen(const QString &text, QHostAddress *address, quint16 *port, QString *error)
{
    QString host;
    QString portText;
    const QString t = text.trimmed();
    if (t.startsWith(QLatin1Char('['))) {
        const int close = t.indexOf(QLatin1Char(']'));
        if (close < 0 || t.mid(close + 1, 1) != QLatin1String(":")) {
            *error = QStringLiteral("--listen '%1' is not of the form [ADDRESS]:PORT").arg(text);
            return false;
        }
        host = t.mid(1, close - 1);
        portText = t.mid(close + 2);
    } else if (t.count(QLatin1Char(':')) == 1) {
        host = t.section(QLatin1Char(':'), 0, 0);
        portText = t.section(QLatin1Char(':'), 1);
    } else if (!t.contains(QLatin1Char(':'))) {
        portText = t;
    } else {
        *error = QStringLiteral("--listen '%1' is not of the form HOST:PORT (write IPv6 addresses as [::1]:PORT)").arg(text);
        return false;
    }
    bool ok = false;
    const uint p = portText.toUInt(&ok);
    if (!ok || p > 65535) {
        *error = QStringLiteral("--listen '%1': the port must be a number from 0 to 65535 (0 picks a free one)").arg(text);
        return false;
    }
    QHostAddress a;
    if (host.isEmpty() || host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        a = QHostAddress(QHostAddress::LocalHost);
    else if (!a.setAddress(host)) {
        *error = QStringLiteral("--listen '%1': '%2' is not an IP address; use 127.0.0.1 (or ::1)").arg(text, host);
        return false;
    }
    if (!a.isLoopback()) {
        *error = QStringLiteral("refusing --listen %1: the API has no TLS and is meant for this computer only, so it "
                                "only listens on loopback addresses (127.0.0.1 or ::1)")
                     .arg(text);
        return false;
    }
    *address = a;
    *port = quint16(p);
    return true;
}

bool Headless::installSignalHandlers(QString *error)
{
    if (::pipe2(g_signalPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        *error = QStringLiteral("cannot create a pipe: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    m_signalNotifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, this);
    connect(m_signalNotifier, &QSocketNotifier::activated, this, &Headless::onSignal);
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
    return true;
}

void Headless::onSignal()
{
    char buf[16];
    int sig = 0;
    ssize_t n;
    while ((n = ::read(g_signalPipe[0], buf, sizeof buf)) > 0)
        sig = buf[n - 1];
    if (m_stopping)
        return;
    say(QStringLiteral("%1 received, stopping").arg(QString::fromLatin1(sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM")));
    stop();
}

void Headless::stop()
{
    if (m_stopping)
        return;
    m_stopping = true;
    if (m_api)
        m_api->close();
    if (m_exec)
        m_exec->shutdown();
    if (m_dir)
        m_dir->removeEndpoint();
    QCoreApplication::exit(Ok);
}

int Headless::start()
{
    QHostAddress address;
    quint16 port = 0;
    QString error;
    if (!parseListen(m_opt.listen, &address, &port, &error)) {
        say(error);
        return Usage;
    }

    m_dir = std::make_unique<DataDir>(m_opt.dataDir);
    bool unsafe = false;
    if (!m_dir->prepare(&error, &unsafe) || !m_dir->lock(&error)) {
        say(error);
        return unsafe ? Usage : Failed;
    }
    const auto key = ApiKey::load(m_dir->path(), &error, &unsafe);
    if (!key) {
        say(error);
        return unsafe ? Usage : Failed;
    }
    if (!installSignalHandlers(&error)) {
        say(error);
        return Failed;
    }

    ExecutorConfig cfg;
    cfg.dataDir = m_dir->path();
    cfg.maxParallel = m_opt.maxParallel;
    cfg.keepJobs = m_opt.keepJobs;
    cfg.keepDays = m_opt.keepDays;
    cfg.checkpoints = m_opt.checkpoints;
    cfg.keepCheckpoints = m_opt.keepCheckpoints;
    if (m_opt.accel) // an explicit --accel beats MAGPIE_ACCEL, which the executor also reads
        qunsetenv("MAGPIE_ACCEL");
    cfg.accel = m_opt.accel ? *m_opt.accel : accelModeFromEnvironment(AccelMode::Auto);
    cfg.backend = m_opt.backend;
    cfg.slurm = m_opt.slurm;
    m_exec = std::make_unique<Executor>(cfg);
    if (!m_exec->image().isValid())
        say(QStringLiteral("warning: no guest image found, jobs will fail until one is installed: %1").arg(m_exec->image().error));
    if (!m_exec->open(&error)) {
        say(QStringLiteral("cannot open the data folder %1: %2").arg(m_dir->path(), error));
        return Failed;
    }

    m_api = std::make_unique<HttpApi>(*m_exec, key->key());
    if (!m_api->listen(address, port, &error)) {
        say(error);
        return Failed;
    }
    if (!m_dir->writeEndpoint(m_api->url(), key->file(), &error)) {
        say(error);
        return Failed;
    }
    if (cfg.backend == QLatin1String("slurm"))
        say(QStringLiteral("jobs run on Slurm (partition %1, shared folder %2)")
                .arg(cfg.slurm.partition.isEmpty() ? QStringLiteral("default") : cfg.slurm.partition, cfg.slurm.sharedDir));
    say(QStringLiteral("%1 serving data folder %2 (API key %3, max %4 parallel VMs, accelerator %5)")
            .arg(HttpApi::version(), m_dir->path(),
                 key->fromEnvironment() ? QStringLiteral("from MAGPIE_API_KEY") : QStringLiteral("in ") + key->file())
            .arg(m_exec->maxParallel())
            .arg(accelModeName(cfg.accel)));
    std::fprintf(stdout, "listening on %s\n", m_api->url().toUtf8().constData());
    std::fflush(stdout);
    return Ok;
}

int Headless::exec()
{
    const int rc = start();
    if (rc != Ok)
        return rc;
    return QCoreApplication::exec();
}

} // namespace magpie
