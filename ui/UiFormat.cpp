#include "UiFormat.h"

#include "Tools.h"

#include <QDateTime>
#include <QHash>
#include <QPainter>
#include <QPixmap>
#include <QPolygonF>
#include <QLocale>

// The icons are compiled into the static library magpie-ui; a static library's resources must
// be registered explicitly (the linker would drop their initializer otherwise).
static void initUiResources()
{
    static const bool done = [] {
        Q_INIT_RESOURCE(magpie_ui);
        return true;
    }();
    Q_UNUSED(done);
}

namespace magpie::ui {

QString formatBytes(qint64 bytes)
{
    if (bytes < 0)
        return QStringLiteral("–");
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 1 : 0).arg(QLatin1String(units[u]));
}

QString formatDuration(qint64 ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(ms);
    if (ms < 60 * 1000)
        return QStringLiteral("%1 s").arg(double(ms) / 1000.0, 0, 'f', 1);
    const qint64 s = ms / 1000;
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    if (s < 86400)
        return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

QString formatTimings(const QJsonObject &timings)
{
    // The order they happen in; the checkpoint is taken while the VM starts. A `*_bytes` entry is
    // a size, not a time (the checkpoint's: how much the disk grew when it was taken).
    static const char *const order[] = {"queued", "disk_create", "disk_repair", "checkpoint", "checkpoint_bytes", "restore_failed",
                                        "vm_start", "identity", "disk_attach", "fsck", "mount", "network", "script",
                                        "teardown", "record"};
    const auto value = [](const QString &key, const QJsonValue &v) {
        return key.endsWith(QLatin1String("_bytes")) ? formatBytes(qint64(v.toDouble())) : formatDuration(qint64(v.toDouble()));
    };
    QStringList parts;
    QJsonObject rest = timings;
    for (const char *k : order) {
        const QString key = QLatin1String(k);
        if (rest.contains(key))
            parts << QStringLiteral("%1 %2").arg(key, value(key, rest.take(key)));
    }
    for (auto it = rest.constBegin(); it != rest.constEnd(); ++it)
        parts << QStringLiteral("%1 %2").arg(it.key(), value(it.key(), it.value()));
    return parts.join(QStringLiteral(" · "));
}

QString formatLocalTime(const QString &iso)
{
    if (iso.isEmpty())
        return QString();
    const QDateTime t = parseIso(iso);
    if (!t.isValid())
        return iso;
    return t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

std::optional<qint64> jobElapsedMs(const JobRecord &job)
{
    if (job.durationMs)
        return job.durationMs;
    if (job.status == JobStatus::Running && !job.startedAt.isEmpty()) {
        const QDateTime start = parseIso(job.startedAt);
        if (start.isValid())
            return qMax<qint64>(0, start.msecsTo(QDateTime::currentDateTimeUtc()));
    }
    return std::nullopt;
}

QString statusLabel(JobStatus s)
{
    switch (s) {
    case JobStatus::Queued: return QStringLiteral("Queued");
    case JobStatus::Running: return QStringLiteral("Running");
    case JobStatus::Completed: return QStringLiteral("Completed");
    case JobStatus::Failed: return QStringLiteral("Failed");
    case JobStatus::Cancelled: return QStringLiteral("Cancelled");
    case JobStatus::TimedOut: return QStringLiteral("Timed out");
    }
    return QString();
}

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}

QColor statusColor(JobStatus s, const QPalette &palette)
{
    const bool dark = isDark(palette);
    switch (s) {
    case JobStatus::Queued: return dark ? QColor(0xb0, 0xb0, 0xb8) : QColor(0x6b, 0x6b, 0x75);
    case JobStatus::Running: return dark ? QColor(0x6c, 0xb6, 0xff) : QColor(0x1a, 0x62, 0xc7);
    case JobStatus::Completed: return dark ? QColor(0x6b, 0xd6, 0x8a) : QColor(0x1e, 0x7e, 0x34);
    case JobStatus::Failed: return dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xc0, 0x1c, 0x28);
    case JobStatus::Cancelled: return dark ? QColor(0xd0, 0xa8, 0x60) : QColor(0x8a, 0x5a, 0x00);
    case JobStatus::TimedOut: return dark ? QColor(0xf0, 0x9a, 0x50) : QColor(0xb3, 0x50, 0x00);
    }
    return palette.color(QPalette::Text);
}

QIcon statusIcon(JobStatus s, const QPalette &palette)
{
    static QHash<int, QIcon> cache;
    const QColor base = statusColor(s, palette);
    const int key = int(s) * 2 + (isDark(palette) ? 1 : 0);
    if (auto it = cache.constFind(key); it != cache.constEnd())
        return *it;
    QIcon icon;
    for (int size : {16, 24, 32, 48}) {
        QPixmap pm(size, size);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        p.setRenderHint(QPainter::Antialiasing);
        p.scale(size / 16.0, size / 16.0);
        p.setPen(Qt::NoPen);
        p.setBrush(base);
        p.drawEllipse(QRectF(1, 1, 14, 14));
        QPen glyph(Qt::white, 1.8, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
        p.setPen(glyph);
        p.setBrush(Qt::NoBrush);
        switch (s) {
        case JobStatus::Completed:
            p.drawPolyline(QPolygonF({QPointF(4.6, 8.3), QPointF(7, 10.7), QPointF(11.4, 5.6)}));
            break;
        case JobStatus::Failed:
            p.drawLine(QPointF(5.3, 5.3), QPointF(10.7, 10.7));
            p.drawLine(QPointF(10.7, 5.3), QPointF(5.3, 10.7));
            break;
        case JobStatus::Running:
            p.setPen(Qt::NoPen);
            p.setBrush(Qt::white);
            p.drawPolygon(QPolygonF({QPointF(6.2, 4.6), QPointF(11.6, 8), QPointF(6.2, 11.4)}));
            break;
        case JobStatus::Queued:
            p.drawLine(QPointF(8, 4.6), QPointF(8, 8.2));
            p.drawLine(QPointF(8, 8.2), QPointF(10.6, 9.8));
            break;
        case JobStatus::Cancelled:
            p.drawLine(QPointF(4.8, 8), QPointF(11.2, 8));
            break;
        case JobStatus::TimedOut:
            p.setPen(Qt::NoPen);
            p.setBrush(Qt::white);
            p.drawPolygon(QPolygonF({QPointF(5, 4.4), QPointF(11, 4.4), QPointF(8, 8)}));
            p.drawPolygon(QPolygonF({QPointF(8, 8), QPointF(11, 11.6), QPointF(5, 11.6)}));
            break;
        }
        p.end();
        icon.addPixmap(pm);
    }
    cache.insert(key, icon);
    return icon;
}

QIcon appIcon()
{
    // PNG renderings of resources/icons/magpie-desktop.svg (Qt's SVG plugin is optional).
    initUiResources();
    QIcon icon;
    for (int size : {16, 32, 48, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/magpie-desktop-%1.png").arg(size), QSize(size, size));
    return icon;
}

QString counted(qint64 n, const QString &one, const QString &many)
{
    return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? one : many);
}

QString shellQuote(const QString &s)
{
    QString out = s;
    out.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + out + QLatin1Char('\'');
}

} // namespace magpie::ui
