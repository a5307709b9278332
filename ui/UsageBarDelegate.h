// UsageBarDelegate.h — paints a workspace's used space as a bar with "used of total" on it;
// the bar turns orange above 80 % and red above 95 %.
#pragma once

#include <QStyledItemDelegate>

namespace magpie::ui {

class UsageBarDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace magpie::ui
