#include "SnapshotStore.h"

#include "GuestProtocol.h"
#include "QemuCommand.h"
#include "Tools.h"
#include "VmRunner.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace magpie {

namespace {
// Bump when the VM's device set (QemuCommand) or the template procedure changes.
constexpr int kLayoutVersion = 4; // 2: RAM in its own file, mapped copy-on-write; 3: placeholder stays bound; 4: q35
constexpr qint64 kRetryAfterFailureMs = 5 * 60 * 1000;
} // namespace

SnapshotStore::SnapshotStore(QString dir, QString runDir, QObject *parent)
    : QObject(parent), m_dir(std::move(dir)), m_runDir(std::move(runDir))
{
}

SnapshotStore::~SnapshotStore()
{
    shutdown();
}

QString SnapshotStore::defaultDir()
{
    const QString env = qEnvironmentVariable("MAGPIE_SNAPSHOT_DIR");
    if (!env.isEmpty())
        return env;
    QString base = qEnvironmentVariable("XDG_CACHE_HOME");
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.cache");
    return base + QStringLiteral("/magpie-desktop/snapshots");
}

bool SnapshotStore::enabledByEnvironment()
{
    return qEnvironmentVariable("MAGPIE_SNAPSHOTS") != QLatin1String("0");
}

QString SnapshotStore::key(const VmShape &s) const
{
    if (m_qemuVersion.isEmpty()) {
        // Which QEMU build this is, without running it (the key is computed on the main thread):
        // its resolved path, size and modification time.
        const QFileInfo fi(findTool(qemuSystemBinary()).isEmpty() ? qemuSystemBinary() : findTool(qemuSystemBinary()));
        const_cast<SnapshotStore *>(this)->m_qemuVersion =
            QStringLiteral("%1:%2:%3").arg(fi.canonicalFilePath()).arg(fi.size()).arg(fi.lastModified().toMSecsSinceEpoch());
    }
    const QString text = QStringList{s.image.identity, QemuCommand::kernelArguments(s.accel), accelName(s.accel), QString::number(s.vcpus),
                                     QString::number(s.memoryMb), m_qemuVersion, QString::number(kLayoutVersion),
                                     QLatin1String(guest::kProtocolVersion)}
                             .join(QLatin1Char('\n'));
    return QString::fromLatin1(QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Sha256).toHex().left(24));
}

std::shared_ptr<const VmSnapshot> SnapshotStore::find(const VmShape &shape)
{
    const QString k = key(shape);
    if (auto it = m_ready.constFind(k); it != m_ready.constEnd()) {
        if (QFileInfo::exists((*it)->statePath()) && QFileInfo::exists((*it)->rootPath()) && QFileInfo::exists((*it)->ramPath()))
            return *it;
        m_ready.remove(k);
    }
    // Made earlier, maybe by another process.
    const QString d = m_dir + QLatin1Char('/') + k;
    QFile meta(d + QStringLiteral("/meta.json"));
    if (!meta.open(QIODevice::ReadOnly))
        return nullptr;
    const QJsonObject o = QJsonDocument::fromJson(meta.readAll()).object();
    auto snap = std::make_shared<VmSnapshot>();
    snap->key = k;
    snap->dir = d;
    snap->stateBytes = QFileInfo(snap->statePath()).size();
    snap->buildMs = qint64(o.value(QStringLiteral("build_ms")).toDouble());
    if (o.value(QStringLiteral("key")).toString() != k || snap->stateBytes <= 0 || !QFileInfo::exists(snap->rootPath()) ||
        !QFileInfo::exists(snap->ramPath()))
        return nullptr;
    m_ready.insert(k, snap);
    return snap;
}

int SnapshotStore::readyCount() const
{
    return int(m_ready.size());
}

void SnapshotStore::build(const VmShape &shape)
{
    if (m_shutDown || !shape.image.isValid())
        return;
    const QString k = key(shape);
    if (m_building.contains(k) || find(shape))
        return;
    if (QDateTime::currentMSecsSinceEpoch() - m_failedAt.value(k, 0) < kRetryAfterFailureMs)
        return;
    if (!QDir().mkpath(m_dir)) {
        m_failedAt.insert(k, QDateTime::currentMSecsSinceEpoch());
        return;
    }
    QFile::setPermissions(m_dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    const QString lockPath = m_dir + QLatin1Char('/') + k + QStringLiteral(".lock");
    const int fd = ::open(QFile::encodeName(lockPath).constData(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd); // another process is making it
        return;
    }
    m_lockFds.insert(k, fd);
    const QString tmp = m_dir + QLatin1Char('/') + k + QStringLiteral(".tmp");
    QDir(tmp).removeRecursively();
    QDir().mkpath(tmp);

    VmConfig cfg;
    cfg.name = QStringLiteral("snapshot-%1").arg(k.left(8));
    cfg.runDir = m_runDir + QStringLiteral("/snapshot-") + k.left(12);
    cfg.vmLogPath = tmp + QStringLiteral("/build.log");
    cfg.image = shape.image;
    cfg.accel = shape.accel;
    cfg.vcpus = shape.vcpus;
    cfg.memoryMb = shape.memoryMb;
    cfg.saveTo = tmp;
    auto *vm = new VmRunner(cfg, this);
    m_building.insert(k, vm);
    connect(vm, &VmRunner::finished, this, [this, vm, k, tmp](const VmResult &r) {
        m_building.remove(k);
        vm->deleteLater();
        if (const int lfd = m_lockFds.take(k); lfd >= 0)
            ::close(lfd);
        if (m_shutDown)
            return;
        const QString dest = m_dir + QLatin1Char('/') + k;
        if (r.outcome != VmResult::Exited || r.exitCode != 0 || !QFileInfo::exists(tmp + QStringLiteral("/state")) ||
            !QFileInfo::exists(tmp + QStringLiteral("/ram"))) {
            m_failedAt.insert(k, QDateTime::currentMSecsSinceEpoch());
            qWarning("magpie: could not make a VM snapshot (%s); jobs boot their VMs instead", qPrintable(r.error));
            emit buildFailed(k, r.error);
            return;
        }
        QFile meta(tmp + QStringLiteral("/meta.json"));
        if (meta.open(QIODevice::WriteOnly))
            meta.write(QJsonDocument(QJsonObject{{QStringLiteral("key"), k},
                                                 {QStringLiteral("build_ms"), double(r.wallMs)},
                                                 {QStringLiteral("created_at"), isoNow()}})
                           .toJson());
        meta.close();
        QDir(dest).removeRecursively();
        if (!QDir().rename(tmp, dest)) {
            m_failedAt.insert(k, QDateTime::currentMSecsSinceEpoch());
            emit buildFailed(k, QStringLiteral("cannot move the snapshot into place"));
            return;
        }
        emit built(k);
    });
    vm->start();
}

void SnapshotStore::discard(const QString &k, const QString &why)
{
    qWarning("magpie: discarding VM snapshot %s: %s", qPrintable(k), qPrintable(why));
    m_ready.remove(k);
    QDir(m_dir + QLatin1Char('/') + k).removeRecursively();
}

void SnapshotStore::shutdown()
{
    if (m_shutDown)
        return;
    m_shutDown = true;
    const auto building = m_building;
    m_building.clear();
    for (VmRunner *vm : building) {
        vm->disconnect(this);
        delete vm;
    }
    for (int fd : std::as_const(m_lockFds))
        ::close(fd);
    m_lockFds.clear();
}

} // namespace magpie
