#include "AnsiPalette.h"

#include <cmath>

namespace magpie::ui {

namespace {
// VS Code's terminal colours, which were tuned for exactly these two cases.
const QRgb kLight[16] = {0x000000, 0xcd3131, 0x107c10, 0x949800, 0x0451a5, 0xbc05bc, 0x0598bc, 0x555555,
                         0x666666, 0xcd3131, 0x14ce14, 0xb5ba00, 0x0451a5, 0xbc05bc, 0x0598bc, 0xa5a5a5};
const QRgb kDark[16] = {0x000000, 0xcd3131, 0x0dbc79, 0xe5e510, 0x2472c8, 0xbc3fbc, 0x11a8cd, 0xe5e5e5,
                        0x666666, 0xf14c4c, 0x23d18b, 0xf5f543, 0x3b8eea, 0xd670d6, 0x29b8db, 0xe5e5e5};

QColor mix(const QColor &a, const QColor &b, double t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t), float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}
} // namespace

AnsiPalette::AnsiPalette(const QPalette &palette)
    : m_text(palette.color(QPalette::Text)), m_base(palette.color(QPalette::Base))
{
    m_dark = luminance(m_base) < luminance(m_text);
}

double AnsiPalette::luminance(const QColor &c)
{
    auto lin = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
}

double AnsiPalette::contrast(const QColor &a, const QColor &b)
{
    const double la = luminance(a), lb = luminance(b);
    return (qMax(la, lb) + 0.05) / (qMin(la, lb) + 0.05);
}

QColor AnsiPalette::readable(const QColor &fg, const QColor &bg, double min)
{
    if (contrast(fg, bg) >= min)
        return fg;
    // Toward black on a light background, toward white on a dark one, in small steps.
    const QColor target = luminance(bg) > 0.18 ? QColor(Qt::black) : QColor(Qt::white);
    QColor c = fg;
    for (int i = 1; i <= 20 && contrast(c, bg) < min; ++i)
        c = mix(fg, target, i / 20.0);
    return c;
}

QColor AnsiPalette::indexed(int n) const
{
    if (n < 16) {
        const QRgb *table = m_dark ? kDark : kLight; // (not `(a ? b : c)[i]`: GCC 12 miscompiles that here)
        const int i = n < 0 ? 0 : n;
        return QColor::fromRgb(table[i]);
    }
    if (n < 232) {
        static const int level[6] = {0, 95, 135, 175, 215, 255};
        const int i = n - 16;
        return QColor(level[i / 36], level[(i / 6) % 6], level[i % 6]);
    }
    const int g = 8 + 10 * (qMin(n, 255) - 232);
    return QColor(g, g, g);
}

QColor AnsiPalette::colour(quint32 spec) const
{
    if (spec & TextStyle::kRgb)
        return QColor::fromRgb(spec & 0xFFFFFF);
    if (spec & TextStyle::kIndexed)
        return indexed(int(spec & 0xFF));
    return QColor();
}

QColor AnsiPalette::background(const TextStyle &s) const
{
    if (s.has(TextStyle::Inverse)) {
        const QColor fg = colour(s.fg);
        return fg.isValid() ? fg : m_text;
    }
    return colour(s.bg);
}

QColor AnsiPalette::foreground(const TextStyle &s) const
{
    QColor fg = colour(s.fg);
    QColor bg = colour(s.bg);
    if (s.has(TextStyle::Inverse)) {
        std::swap(fg, bg);
        if (!fg.isValid())
            fg = m_base;
        if (!bg.isValid())
            bg = m_text;
    }
    const QColor back = bg.isValid() ? bg : m_base;
    if (!fg.isValid())
        fg = bg.isValid() ? readable(m_text, back) : m_text;
    else
        fg = readable(fg, back);
    if (s.has(TextStyle::Dim))
        fg = mix(fg, back, 0.4);
    return fg;
}

} // namespace magpie::ui
