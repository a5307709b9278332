#include "UsageBarDelegate.h"

#include "WorkspacesModel.h"

#include <QApplication>
#include <QPainter>

namespace magpie::ui {

void UsageBarDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const qint64 used = index.data(WorkspacesModel::UsedBytesRole).toLongLong();
    const qint64 total = index.data(WorkspacesModel::TotalBytesRole).toLongLong();
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    if (used < 0 || total <= 0) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    // The cell's background (selection, alternate rows) first, without text.
    opt.text.clear();
    const QWidget *w = option.widget;
    QStyle *style = w ? w->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, w);

    const double frac = qBound(0.0, double(used) / double(total), 1.0);
    const QRect r = option.rect.adjusted(4, 4, -4, -4);
    const QPalette &pal = option.palette;
    const bool dark = pal.color(QPalette::Window).lightness() < 128;
    QColor fill = frac > 0.95 ? QColor(0xd0, 0x3a, 0x3a) : frac > 0.8 ? QColor(0xe0, 0x8a, 0x20) : pal.color(QPalette::Highlight);
    QColor trough = pal.color(QPalette::Base);
    trough = dark ? trough.lighter(160) : trough.darker(110);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(QPen(pal.color(QPalette::Mid), 1));
    painter->setBrush(trough);
    painter->drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
    QRectF fr(r);
    fr.setWidth(frac > 0 ? qMax(3.0, fr.width() * frac) : 0.0);
    if (frac > 0) {
        painter->setPen(Qt::NoPen);
        painter->setBrush(fill);
        painter->drawRoundedRect(fr.adjusted(1, 1, -1, -1), 2.5, 2.5);
    }
    const QString pct = used > 0 && frac < 0.001 ? QStringLiteral("<0.1 %")
                        : QStringLiteral("%1 %").arg(frac * 100.0, 0, 'f', frac < 0.1 ? 1 : 0);
    const QString text = QStringLiteral("%1  (%2)").arg(index.data(Qt::DisplayRole).toString(), pct);
    // The text in two colours, so it reads over both the fill and the trough.
    painter->setFont(option.font);
    const QRect tr = r.adjusted(6, 0, -6, 0);
    painter->setClipRect(fr);
    painter->setPen(frac > 0.8 ? QColor(Qt::white) : pal.color(QPalette::HighlightedText));
    painter->drawText(tr, Qt::AlignVCenter | Qt::AlignLeft, text);
    painter->setClipRect(QRectF(fr.right(), r.top(), r.right() - fr.right() + 1, r.height()));
    painter->setPen(pal.color(QPalette::Text));
    painter->drawText(tr, Qt::AlignVCenter | Qt::AlignLeft, text);
    painter->restore();
}

QSize UsageBarDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    s.setWidth(qMax(s.width() + 60, 220));
    return s;
}

} // namespace magpie::ui
