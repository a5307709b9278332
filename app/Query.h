// Query.h — the query string of a request as name -> value, each value percent-decoded exactly
// once ('+' stands for a space, as in HTML forms; send %2B for a plus sign). The first
// occurrence of a name wins; parameters nobody asks for are ignored.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>
#include <optional>

namespace magpie {

class Query
{
public:
    explicit Query(const QByteArray &encodedQuery);

    bool has(const QString &name) const { return m_items.contains(name); }
    QString value(const QString &name) const { return m_items.value(name); }

    // An integer parameter within [min, max]; `def` when absent. nullopt with *error otherwise.
    std::optional<qint64> integer(const QString &name, qint64 min, qint64 max, qint64 def, QString *error) const;

private:
    QHash<QString, QString> m_items;
};

} // namespace magpie
