// StyleTable.h — the text attributes an ANSI SGR sequence can set (colours, bold, underline…)
// and a table that interns each distinct combination once, so a line stores small style ids
// instead of whole attribute sets. Id 0 is always the default style.
#pragma once

#include <QHash>
#include <QList>

namespace magpie::ui {

struct TextStyle {
    // A colour: 0 the default, kIndexed | n (0..255, the xterm palette), kRgb | 0xRRGGBB.
    static constexpr quint32 kIndexed = 0x01000000u;
    static constexpr quint32 kRgb = 0x02000000u;
    enum Flag : quint8 { Bold = 1, Dim = 2, Italic = 4, Underline = 8, Inverse = 16, Strike = 32 };

    quint32 fg = 0;
    quint32 bg = 0;
    quint8 flags = 0;

    bool has(Flag f) const { return flags & f; }
    bool isDefault() const { return fg == 0 && bg == 0 && flags == 0; }
    bool operator==(const TextStyle &o) const { return fg == o.fg && bg == o.bg && flags == o.flags; }
};

inline size_t qHash(const TextStyle &s, size_t seed = 0)
{
    return qHashMulti(seed, s.fg, s.bg, s.flags);
}

class StyleTable
{
public:
    StyleTable();
    // The id of a style (added when new). Past kMaxStyles distinct styles (a truecolour
    // gradient per character, say) new ones share the default id: the text stays, the colour goes.
    quint32 intern(const TextStyle &style);
    const TextStyle &style(quint32 id) const { return m_styles.at(id < quint32(m_styles.size()) ? id : 0); }
    int size() const { return int(m_styles.size()); }
    // Changes on clear(), when ids start meaning other styles.
    int generation() const { return m_generation; }
    void clear();

    static constexpr int kMaxStyles = 65536;

private:
    QList<TextStyle> m_styles;
    QHash<TextStyle, quint32> m_ids;
    int m_generation = 0;
};

} // namespace magpie::ui
