#include "Query.h"

#include <QList>
#include <QRegularExpression>

namespace magpie {

Query::Query(const QByteArray &q)
{
    for (const QByteArray &part : q.split('&')) {
        if (part.isEmpty())
            continue;
        const qsizetype eq = part.indexOf('=');
        QByteArray name = eq < 0 ? part : part.left(eq);
        QByteArray value = eq < 0 ? QByteArray() : part.mid(eq + 1);
        name.replace('+', ' ');
        value.replace('+', ' ');
        const QString n = QString::fromUtf8(QByteArray::fromPercentEncoding(name));
        if (!m_items.contains(n))
            m_items.insert(n, QString::fromUtf8(QByteArray::fromPercentEncoding(value)));
    }
}

std::optional<qint64> Query::integer(const QString &name, qint64 min, qint64 max, qint64 def, QString *err) const
{
    if (!has(name))
        return def;
    const QString v = value(name);
    static const QRegularExpression re(QStringLiteral("^[+-]?[0-9]{1,15}$"));
    bool ok = re.match(v).hasMatch();
    const qint64 n = ok ? v.toLongLong(&ok) : 0;
    if (!ok || n < min || n > max) {
        const QString range = max >= (qint64(1) << 52) ? QStringLiteral("%1 or more").arg(min)
                                                         : QStringLiteral("from %1 to %2").arg(min).arg(max);
        *err = QStringLiteral("%1 must be a whole number %2 (got '%3')").arg(name, range, v.left(64));
        return std::nullopt;
    }
    return n;
}

} // namespace magpie
