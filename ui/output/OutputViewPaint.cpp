// OutputView, part 2: painting the rows on screen (see OutputView.h).
#include "OutputView.h"

#include <QPainter>
#include <QScrollBar>
#include <algorithm>

namespace magpie::ui {

namespace {
QColor blend(const QColor &a, const QColor &b, double t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t), float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}
} // namespace

// ---------------------------------------------------------------- painting

void OutputView::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    if (!m_doc)
        return;
    const QPalette &pal = palette();
    const int gutter = gutterWidth();
    if (gutter > 0)
        p.fillRect(QRect(0, 0, gutter, viewport()->height()), blend(pal.color(QPalette::Base), pal.color(QPalette::Window), 0.6));
    const int first = verticalScrollBar()->value();
    const int total = visualRowCount();
    const int firstRow = qMax(0, rowOfVisual(first, nullptr));
    const int lastRow = lastVisibleRow();
    const QList<OutputSearch::Match> matches = m_search.inRows(firstRow, lastRow);
    for (int i = 0; i <= pageRows() && first + i < total; ++i) {
        int sub = 0;
        const int row = rowOfVisual(first + i, &sub);
        if (row < 0 || row >= rowCount())
            break;
        paintRow(p, row, sub, i * m_lineH, matches);
    }
}

void OutputView::paintRow(QPainter &p, int row, int sub, int y, const QList<OutputSearch::Match> &matches)
{
    const QPalette &pal = palette();
    const auto rw = m_doc->row(m_view, row);
    const OutputLines &lines = m_doc->lines(rw.stream);
    const QStringView text = lines.text(rw.line);
    const int len = int(text.size());
    const int width = viewport()->width();
    const int left = textLeft();
    const bool combinedErr = m_view == OutputDocument::View::Combined && rw.stream == 2;
    const QColor errColour = m_palette.isDark() ? QColor(0xf1, 0x4c, 0x4c) : QColor(0xcd, 0x31, 0x31);
    if (combinedErr) {
        p.fillRect(QRect(0, y, width, m_lineH), blend(pal.color(QPalette::Base), errColour, m_palette.isDark() ? 0.16 : 0.09));
        p.fillRect(QRect(0, y, 3, m_lineH), errColour);
    }

    // The gutter: line number and time on a row's first screen line.
    if (sub == 0) {
        p.setFont(m_fonts[0]);
        p.setPen(blend(pal.color(QPalette::Base), pal.color(QPalette::Text), 0.55));
        int x = m_view == OutputDocument::View::Combined ? 4 : 0;
        if (m_lineNumbers) {
            const int w = int(std::ceil(m_charW * qMax(3, int(QString::number(rowCount()).size()))));
            p.drawText(QRect(x, y, w + 2, m_lineH), Qt::AlignRight | Qt::AlignVCenter, QString::number(row + 1));
            x += w + 10;
        }
        if (m_timeMode != TimeMode::Off)
            p.drawText(QRect(x, y, int(m_charW * 13) + 4, m_lineH), Qt::AlignLeft | Qt::AlignVCenter, timeText(row));
    }

    // Which characters this screen line shows.
    int from, to;
    qreal x0;
    if (m_wrap) {
        from = sub * m_cols;
        to = qMin(len, from + m_cols);
        x0 = left - from * m_charW;
    } else {
        const int hs = horizontalScrollBar()->value();
        from = qMax(0, int(hs / m_charW) - 1);
        to = qMin(len, from + int((width - left) / m_charW) + 3);
        x0 = left - hs;
    }
    p.save();
    p.setClipRect(QRect(left, y, width - left, m_lineH));
    auto cellRect = [&](int a, int b) {
        return QRectF(x0 + a * m_charW, y, (b - a) * m_charW, m_lineH);
    };

    // Selection and search highlights under the text.
    if (hasSelection()) {
        const Pos a = std::min(m_anchor, m_cursor), b = std::max(m_anchor, m_cursor);
        if (row >= a.row && row <= b.row) {
            const int s = qMax(from, row == a.row ? a.col : 0);
            int e = qMin(to, row == b.row ? b.col : len);
            if (row != b.row && e == len && to == len)
                e = len + 1; // the line break is selected too
            QColor hl = pal.color(QPalette::Highlight);
            hl.setAlpha(110);
            if (e > s)
                p.fillRect(cellRect(s, e), hl);
        }
    }
    const int cur = m_search.current();
    for (const OutputSearch::Match &m : matches) {
        if (m.row != row || m.col + m.length <= from || m.col >= to)
            continue;
        const bool isCurrent = cur >= 0 && m_search.match(cur).row == row && m_search.match(cur).col == m.col;
        QColor c = isCurrent ? QColor(0xff, 0x96, 0x32) : QColor(0xf5, 0xd1, 0x42);
        c.setAlpha(isCurrent ? 200 : 130);
        p.fillRect(cellRect(qMax(m.col, from), qMin(m.col + m.length, to)), c);
    }

    // The text, run by run.
    auto drawPiece = [&](int a, int b, quint32 style) {
        a = qMax(a, from);
        b = qMin(b, to);
        if (b <= a)
            return;
        const Resolved &res = resolved(style);
        if (res.bg.isValid())
            p.fillRect(cellRect(a, b), res.bg);
        p.setFont(m_fonts[res.font]);
        p.setPen(res.fg);
        const QString piece = QString::fromRawData(text.constData() + a, b - a);
        p.drawText(QPointF(x0 + a * m_charW, y + m_ascent), piece);
    };
    int at = 0;
    if (from < to) {
        const QList<OutputLines::Run> runs = lines.runs(rw.line);
        for (const OutputLines::Run &run : runs) {
            const int rs = int(run.start), re = int(run.start + run.length);
            if (re <= from) {
                at = re;
                continue;
            }
            drawPiece(at, rs, 0);
            drawPiece(rs, re, run.style);
            at = re;
            if (at >= to)
                break;
        }
        drawPiece(at, len, 0);
    }
    p.restore();
}

} // namespace magpie::ui
