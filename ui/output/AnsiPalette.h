// AnsiPalette.h — the colours of styled output on a widget palette. The 16 ANSI colours come in
// a light-background and a dark-background variant (picked from the palette's base colour), the
// xterm 256-colour cube and grey ramp and 24-bit colours are taken as they are; then every
// foreground is nudged in lightness until it reads on its background (contrast ratio at least
// kMinContrast; WCAG's AA figure for large text), so "white" text stays visible in a light
// theme and "black" in a dark one. Inverse swaps the two; dim mixes the text toward the background.
#pragma once

#include "StyleTable.h"

#include <QColor>
#include <QPalette>

namespace magpie::ui {

class AnsiPalette
{
public:
    static constexpr double kMinContrast = 3.0;

    explicit AnsiPalette(const QPalette &palette = QPalette());

    bool isDark() const { return m_dark; }
    QColor text() const { return m_text; }
    QColor base() const { return m_base; }
    // What to paint: the text colour, and the cell background (invalid: the row's own shows).
    QColor foreground(const TextStyle &style) const;
    QColor background(const TextStyle &style) const;
    // A colour index 0..255 as this palette shows it (before any contrast nudge).
    QColor indexed(int n) const;

    static double luminance(const QColor &c);
    static double contrast(const QColor &a, const QColor &b);
    // `fg` made lighter or darker until its contrast with `bg` is at least `min`.
    static QColor readable(const QColor &fg, const QColor &bg, double min = kMinContrast);

private:
    QColor colour(quint32 spec) const;

    QColor m_text;
    QColor m_base;
    bool m_dark = false;
};

} // namespace magpie::ui
