#include "StyleTable.h"

namespace magpie::ui {

StyleTable::StyleTable()
{
    clear();
}

void StyleTable::clear()
{
    m_styles = {TextStyle()};
    m_ids.clear();
    m_ids.insert(TextStyle(), 0);
    ++m_generation;
}

quint32 StyleTable::intern(const TextStyle &s)
{
    if (s.isDefault())
        return 0;
    const auto it = m_ids.constFind(s);
    if (it != m_ids.constEnd())
        return it.value();
    if (m_styles.size() >= kMaxStyles)
        return 0;
    const quint32 id = quint32(m_styles.size());
    m_styles.append(s);
    m_ids.insert(s, id);
    return id;
}

} // namespace magpie::ui
