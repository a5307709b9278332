#include "FindBar.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QStyle>
#include <QToolButton>

namespace magpie::ui {

FindBar::FindBar(QWidget *parent)
    : QWidget(parent)
{
    auto *h = new QHBoxLayout(this);
    h->setContentsMargins(4, 2, 4, 2);
    m_edit = new QLineEdit(this);
    m_edit->setObjectName(QStringLiteral("findEdit"));
    m_edit->setPlaceholderText(tr("Find in output"));
    m_edit->setClearButtonEnabled(true);
    m_edit->installEventFilter(this);
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("findCount"));
    m_count->setMinimumWidth(m_count->fontMetrics().horizontalAdvance(QStringLiteral("100000+ of 100000+")));
    auto button = [this](const QString &name, QStyle::StandardPixmap icon, const QString &tip) {
        auto *b = new QToolButton(this);
        b->setObjectName(name);
        b->setIcon(style()->standardIcon(icon));
        b->setToolTip(tip);
        b->setAutoRaise(true);
        return b;
    };
    m_prev = button(QStringLiteral("findPrevious"), QStyle::SP_ArrowUp, tr("Previous match (Shift+F3)"));
    m_next = button(QStringLiteral("findNext"), QStyle::SP_ArrowDown, tr("Next match (Enter, F3)"));
    m_close = button(QStringLiteral("findClose"), QStyle::SP_DialogCloseButton, tr("Close (Escape)"));
    h->addWidget(m_edit, 1);
    h->addWidget(m_count);
    h->addWidget(m_prev);
    h->addWidget(m_next);
    h->addWidget(m_close);
    connect(m_edit, &QLineEdit::textChanged, this, &FindBar::textChanged);
    connect(m_next, &QToolButton::clicked, this, &FindBar::next);
    connect(m_prev, &QToolButton::clicked, this, &FindBar::previous);
    connect(m_close, &QToolButton::clicked, this, [this] {
        hide();
        emit closed();
    });
    setCount(0, -1, false);
}

void FindBar::open()
{
    show();
    m_edit->setFocus(Qt::ShortcutFocusReason);
    m_edit->selectAll();
}

void FindBar::setCount(int count, int current, bool capped)
{
    if (m_edit->text().isEmpty())
        m_count->clear();
    else if (count == 0)
        m_count->setText(tr("No matches"));
    else
        m_count->setText(tr("%1 of %2%3").arg(current + 1).arg(count).arg(capped ? QStringLiteral("+") : QString()));
    m_prev->setEnabled(count > 0);
    m_next->setEnabled(count > 0);
}

bool FindBar::eventFilter(QObject *watched, QEvent *e)
{
    if (watched == m_edit && (e->type() == QEvent::KeyPress || e->type() == QEvent::ShortcutOverride)) {
        auto *k = static_cast<QKeyEvent *>(e);
        const bool shift = k->modifiers() & Qt::ShiftModifier;
        const bool ours = k->key() == Qt::Key_Return || k->key() == Qt::Key_Enter || k->key() == Qt::Key_F3
                          || k->key() == Qt::Key_Escape || k->matches(QKeySequence::Find);
        if (!ours)
            return false;
        if (e->type() == QEvent::ShortcutOverride) {
            e->accept();
            return true;
        }
        if (k->key() == Qt::Key_Escape) {
            hide();
            emit closed();
        } else if (k->matches(QKeySequence::Find)) {
            m_edit->selectAll();
        } else if (shift) {
            emit previous();
        } else {
            emit next();
        }
        return true;
    }
    return QWidget::eventFilter(watched, e);
}

} // namespace magpie::ui
