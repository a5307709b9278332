#include "WorkspaceDisk.h"

#include "Tools.h"
#include "WorkspaceLifecycle.h"
#include "WorkspaceStore.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QtEndian>

#include <algorithm>
#include <sys/stat.h>
#include <unordered_set>

namespace magpie::WorkspaceDisk {

namespace {
QString qemuImg(const QStringList &args, int timeoutMs = 120000, QByteArray *out = nullptr)
{
    const ToolResult r = runTool(qemuImgBinary(), args, timeoutMs);
    if (out)
        *out = r.output;
    return r.exitCode == 0 ? QString() : r.describe(QStringLiteral("qemu-img"));
}

QString tempBeside(const QString &path)
{
    return path + QStringLiteral(".tmp-%1").arg(QRandomGenerator::global()->generate(), 8, 16, QLatin1Char('0'));
}

quint64 be64(const QByteArray &b, int at) { return qFromBigEndian<quint64>(b.constData() + at); }
quint32 be32(const QByteArray &b, int at) { return qFromBigEndian<quint32>(b.constData() + at); }
quint16 be16(const QByteArray &b, int at) { return qFromBigEndian<quint16>(b.constData() + at); }

constexpr quint64 kOffsetMask = 0x00fffffffffffe00ULL;
constexpr quint64 kCompressed = 1ULL << 62;

// The data clusters an L1 table references (host offsets).
bool collectClusters(QFile &f, quint64 l1Offset, quint32 l1Size, int clusterBits, int l2EntryBytes, std::unordered_set<quint64> *out)
{
    if (l1Size > (1u << 24) || !f.seek(qint64(l1Offset)))
        return false;
    const QByteArray l1 = f.read(qint64(l1Size) * 8);
    if (l1.size() != qint64(l1Size) * 8)
        return false;
    const qint64 clusterSize = qint64(1) << clusterBits;
    for (quint32 i = 0; i < l1Size; ++i) {
        const quint64 l2Offset = be64(l1, int(i) * 8) & kOffsetMask;
        if (!l2Offset)
            continue;
        if (!f.seek(qint64(l2Offset)))
            return false;
        const QByteArray l2 = f.read(clusterSize);
        if (l2.size() != clusterSize)
            return false;
        for (int at = 0; at + 8 <= l2.size(); at += l2EntryBytes) {
            const quint64 e = be64(l2, at);
            if (e & kCompressed)
                continue; // workspace disks are never compressed
            if (const quint64 off = e & kOffsetMask)
                out->insert(off);
        }
    }
    return true;
}
} // namespace

QString createSnapshot(const QString &disk, const QString &name)
{
    return qemuImg({QStringLiteral("snapshot"), QStringLiteral("-q"), QStringLiteral("-c"), name, disk});
}

QString applySnapshot(const QString &disk, const QString &name)
{
    return qemuImg({QStringLiteral("snapshot"), QStringLiteral("-q"), QStringLiteral("-a"), name, disk}, 600000);
}

QString deleteSnapshot(const QString &disk, const QString &name)
{
    return qemuImg({QStringLiteral("snapshot"), QStringLiteral("-q"), QStringLiteral("-d"), name, disk}, 600000);
}

std::optional<QList<DiskSnapshot>> listSnapshots(const QString &disk, QString *error)
{
    QByteArray out;
    const QString err = qemuImg({QStringLiteral("info"), QStringLiteral("--output=json"), disk}, 60000, &out);
    if (!err.isEmpty()) {
        if (error)
            *error = err;
        return std::nullopt;
    }
    QList<DiskSnapshot> list;
    for (const QJsonValue &v : QJsonDocument::fromJson(out).object().value(QStringLiteral("snapshots")).toArray()) {
        const QJsonObject o = v.toObject();
        DiskSnapshot s;
        s.name = o.value(QStringLiteral("name")).toString();
        s.date = QDateTime::fromSecsSinceEpoch(qint64(o.value(QStringLiteral("date-sec")).toDouble()), Qt::UTC)
                     .addMSecs(qint64(o.value(QStringLiteral("date-nsec")).toDouble()) / 1000000);
        list.append(s);
    }
    std::stable_sort(list.begin(), list.end(), [](const DiskSnapshot &a, const DiskSnapshot &b) { return a.date < b.date; });
    return list;
}

namespace {
struct SnapshotEntry {
    QString name;
    QDateTime date;
    quint64 l1Offset = 0;
    quint32 l1Size = 0;
};

// The entries of a qcow2 snapshot table (header `h`, at least 72 bytes), in file order. An entry
// that cannot be read ends the walk; `complete` says whether all of them were read.
QList<SnapshotEntry> readSnapshotEntries(QFile &f, const QByteArray &h, bool *complete)
{
    // Each entry: l1 offset 8, l1 size 4, id size 2, name size 2, date sec 4, date nsec 4, vm
    // clock 8, vm state size 4, extra data size 4; then extra data, id, name; padded to 8 bytes.
    const quint32 nbSnapshots = be32(h, 60);
    quint64 at = be64(h, 64);
    QList<SnapshotEntry> list;
    *complete = false;
    for (quint32 i = 0; i < nbSnapshots && i < 65536; ++i) {
        if (!f.seek(qint64(at)))
            return list;
        const QByteArray e = f.read(40);
        if (e.size() != 40)
            return list;
        const quint16 idSize = be16(e, 12), nameSize = be16(e, 14);
        const quint32 extra = be32(e, 36);
        if (extra > 1024 || !f.seek(qint64(at + 40 + extra + idSize)))
            return list;
        const QByteArray name = f.read(nameSize);
        if (name.size() != nameSize)
            return list;
        SnapshotEntry s;
        s.name = QString::fromUtf8(name);
        s.date = QDateTime::fromSecsSinceEpoch(qint64(be32(e, 16)), Qt::UTC).addMSecs(be32(e, 20) / 1000000);
        s.l1Offset = be64(e, 0);
        s.l1Size = be32(e, 8);
        list.append(s);
        at += (40 + extra + idSize + nameSize + 7) & ~quint64(7);
    }
    *complete = nbSnapshots <= 65536;
    return list;
}
} // namespace

QHash<QString, qint64> snapshotUniqueBytes(const QString &disk)
{
    QHash<QString, qint64> result;
    QFile f(disk);
    if (!f.open(QIODevice::ReadOnly))
        return result;
    const QByteArray h = f.read(104);
    if (h.size() < 72 || be32(h, 0) != 0x514649fb) // "QFI\xfb"
        return result;
    const quint32 version = be32(h, 4);
    const int clusterBits = int(be32(h, 20));
    if (clusterBits < 9 || clusterBits > 21)
        return result;
    const quint64 incompatible = version >= 3 && h.size() >= 80 ? be64(h, 72) : 0;
    const int l2EntryBytes = (incompatible & (1ULL << 4)) ? 16 : 8; // extended L2 entries
    const quint32 l1Size = be32(h, 36);
    const quint64 l1Offset = be64(h, 40);
    std::unordered_set<quint64> live;
    if (!collectClusters(f, l1Offset, l1Size, clusterBits, l2EntryBytes, &live))
        return result;
    bool complete = false;
    for (const SnapshotEntry &s : readSnapshotEntries(f, h, &complete)) {
        std::unordered_set<quint64> mine;
        if (!collectClusters(f, s.l1Offset, s.l1Size, clusterBits, l2EntryBytes, &mine))
            continue;
        qint64 unique = 0;
        for (quint64 off : mine)
            if (!live.count(off))
                ++unique;
        result.insert(s.name, unique << clusterBits);
    }
    return result;
}

QString copyDisk(const QString &source, const QString &target)
{
    const QString tmp = tempBeside(target);
    const QString err = qemuImg({QStringLiteral("convert"), QStringLiteral("-q"), QStringLiteral("-f"), QStringLiteral("qcow2"),
                                 QStringLiteral("-O"), QStringLiteral("qcow2"), source, tmp},
                                3600000);
    if (!err.isEmpty()) {
        QFile::remove(tmp);
        return err;
    }
    if (::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(target).constData()) != 0) {
        QFile::remove(tmp);
        return QStringLiteral("cannot move the copy into place at %1").arg(target);
    }
    return QString();
}

QString resizeDisk(const QString &disk, int sizeGb)
{
    return qemuImg({QStringLiteral("resize"), QStringLiteral("-q"), disk, QStringLiteral("%1G").arg(sizeGb)});
}

QString createOverlay(const QString &base, const QString &overlay)
{
    return qemuImg({QStringLiteral("create"), QStringLiteral("-q"), QStringLiteral("-f"), QStringLiteral("qcow2"), QStringLiteral("-F"),
                    QStringLiteral("qcow2"), QStringLiteral("-b"), QFileInfo(base).absoluteFilePath(), overlay});
}

qint64 virtualSize(const QString &disk)
{
    QByteArray out;
    if (!qemuImg({QStringLiteral("info"), QStringLiteral("--output=json"), disk}, 60000, &out).isEmpty())
        return -1;
    return qint64(QJsonDocument::fromJson(out).object().value(QStringLiteral("virtual-size")).toDouble(-1));
}

qint64 headerVirtualSize(const QString &disk)
{
    QFile f(disk);
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray h = f.read(32);
    if (h.size() < 32 || be32(h, 0) != 0x514649fb) // "QFI\xfb"
        return -1;
    return qint64(be64(h, 24));
}

qint64 allocatedBytes(const QString &disk)
{
    struct stat st {};
    if (::stat(QFile::encodeName(disk).constData(), &st) != 0)
        return 0;
    return qint64(st.st_blocks) * 512;
}

// ---------------------------------------------------------------- DiskOp tasks

namespace {
DiskOpResult ok(const QJsonObject &o = {})
{
    return DiskOpResult{0, QJsonDocument(o).toJson(QJsonDocument::Compact), {}};
}

DiskOpResult failed(int code, const QString &why)
{
    return DiskOpResult{code, {}, why.toUtf8()};
}

bool hasSnapshot(const QList<DiskSnapshot> &list, const QString &name)
{
    return std::any_of(list.begin(), list.end(), [&](const DiskSnapshot &s) { return s.name == name; });
}

QJsonArray snapshotArray(const QString &disk, const QList<DiskSnapshot> &list)
{
    const QHash<QString, qint64> unique = snapshotUniqueBytes(disk);
    QJsonArray a;
    for (const DiskSnapshot &s : list)
        a.append(QJsonObject{{QStringLiteral("name"), s.name},
                             {QStringLiteral("date"), s.date.toMSecsSinceEpoch() / 1000.0},
                             {QStringLiteral("size_bytes"), double(unique.value(s.name, 0))}});
    return a;
}

// Drops the oldest "before-*" snapshots beyond `keep`.
QStringList prune(const QString &disk, const QList<DiskSnapshot> &list, int keep, QString *error)
{
    QStringList dropped;
    for (const QString &name : checkpointsBeyond(list, keep)) {
        const QString err = deleteSnapshot(disk, name);
        if (!err.isEmpty()) {
            *error = err;
            break;
        }
        dropped << name;
    }
    return dropped;
}
} // namespace

QStringList checkpointsBeyond(const QList<DiskSnapshot> &list, int keep)
{
    QStringList checkpoints;
    for (const DiskSnapshot &s : list)
        if (s.name.startsWith(QLatin1String("before-")))
            checkpoints << s.name;
    return checkpoints.mid(0, qMax(0, int(checkpoints.size()) - qMax(0, keep)));
}

std::optional<QList<DiskSnapshot>> readSnapshotTable(const QString &disk)
{
    QFile f(disk);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray h = f.read(72);
    if (h.size() < 72 || be32(h, 0) != 0x514649fb) // "QFI\xfb"
        return std::nullopt;
    bool complete = false;
    QList<DiskSnapshot> list;
    for (const SnapshotEntry &e : readSnapshotEntries(f, h, &complete))
        list.append(DiskSnapshot{e.name, e.date, 0});
    if (!complete)
        return std::nullopt;
    std::stable_sort(list.begin(), list.end(), [](const DiskSnapshot &a, const DiskSnapshot &b) { return a.date < b.date; });
    return list;
}

DiskOpResult run(const QString &op, const QJsonObject &args, const QString &disk)
{
    const QString name = args.value(QStringLiteral("name")).toString();
    const bool exists = QFileInfo::exists(disk);
    if (op == QLatin1String("create")) {
        if (exists)
            return failed(9, QStringLiteral("the disk exists already"));
        const QString err = WorkspaceStore::createDisk(disk, args.value(QStringLiteral("size_gb")).toInt());
        return err.isEmpty() ? ok() : failed(1, err);
    }
    if (op == QLatin1String("clone")) {
        const QString target = args.value(QStringLiteral("target")).toString();
        if (QFileInfo::exists(target))
            return failed(9, QStringLiteral("the target disk exists already"));
        const QString err = exists ? copyDisk(disk, target) : WorkspaceStore::createDisk(target, args.value(QStringLiteral("size_gb")).toInt());
        return err.isEmpty() ? ok() : failed(1, err);
    }
    if (!exists) {
        if (op == QLatin1String("snapshot-list"))
            return ok(QJsonObject{{QStringLiteral("snapshots"), QJsonArray()}});
        if (op == QLatin1String("prune-checkpoints"))
            return ok();
        if (op == QLatin1String("resize")) // nothing written yet: the record alone holds the size
            return ok(QJsonObject{{QStringLiteral("disk"), false}});
        return failed(op == QLatin1String("snapshot-create") ? 8 : 4, QStringLiteral("the workspace has no disk yet (its first job has not run)"));
    }
    QString err;
    const auto list = listSnapshots(disk, &err);
    if (!list)
        return failed(1, err);
    if (op == QLatin1String("snapshot-list"))
        return ok(QJsonObject{{QStringLiteral("snapshots"), snapshotArray(disk, *list)}});
    if (op == QLatin1String("snapshot-create")) {
        if (hasSnapshot(*list, name))
            return failed(9, QStringLiteral("a snapshot named '%1' exists already").arg(name));
        err = createSnapshot(disk, name);
        return err.isEmpty() ? ok(QJsonObject{{QStringLiteral("name"), name}}) : failed(1, err);
    }
    if (op == QLatin1String("snapshot-restore")) {
        if (!hasSnapshot(*list, name))
            return failed(4, QStringLiteral("no snapshot named '%1'").arg(name));
        const QString safety = args.value(QStringLiteral("safety")).toString();
        if (!safety.isEmpty()) {
            if (hasSnapshot(*list, safety))
                return failed(9, QStringLiteral("a snapshot named '%1' exists already").arg(safety));
            err = createSnapshot(disk, safety);
            if (!err.isEmpty())
                return failed(1, err);
        }
        err = applySnapshot(disk, name);
        if (!err.isEmpty())
            return failed(1, err);
        return ok(QJsonObject{{QStringLiteral("restored"), name},
                              {QStringLiteral("safety_snapshot"), safety.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(safety)},
                              {QStringLiteral("size_gb"), double(virtualSize(disk) >> 30)}});
    }
    if (op == QLatin1String("snapshot-delete")) {
        if (!hasSnapshot(*list, name))
            return failed(4, QStringLiteral("no snapshot named '%1'").arg(name));
        err = deleteSnapshot(disk, name);
        return err.isEmpty() ? ok(QJsonObject{{QStringLiteral("deleted"), name}}) : failed(1, err);
    }
    if (op == QLatin1String("prune-checkpoints")) {
        const QStringList dropped = prune(disk, *list, qMax(0, args.value(QStringLiteral("keep")).toInt()), &err);
        if (!err.isEmpty())
            return failed(1, err);
        return ok(QJsonObject{{QStringLiteral("pruned"), QJsonArray::fromStringList(dropped)}});
    }
    if (op == QLatin1String("resize")) {
        const qint64 want = qint64(args.value(QStringLiteral("size_gb")).toInt()) << 30;
        const qint64 have = virtualSize(disk);
        if (have < 0)
            return failed(1, QStringLiteral("cannot read the disk's size"));
        if (want < have)
            return failed(7, QStringLiteral("the disk is %1 bytes; it can only grow").arg(have));
        if (want > have) {
            err = resizeDisk(disk, args.value(QStringLiteral("size_gb")).toInt());
            if (!err.isEmpty())
                return failed(1, err);
        }
        return ok(QJsonObject{{QStringLiteral("disk"), true}});
    }
    return failed(1, QStringLiteral("unknown disk operation '%1'").arg(op));
}

} // namespace magpie::WorkspaceDisk
