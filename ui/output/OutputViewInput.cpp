// OutputView, part 3: selection, keys, mouse and search (see OutputView.h).
#include "OutputView.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QMenu>
#include <QScrollBar>
#include <algorithm>

namespace magpie::ui {

namespace {
bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('-') || c == QLatin1Char('.') || c == QLatin1Char('/');
}
} // namespace

// ---------------------------------------------------------------- selection and keys

QString OutputView::selectedText() const
{
    if (!hasSelection())
        return QString();
    const Pos a = std::min(m_anchor, m_cursor), b = std::max(m_anchor, m_cursor);
    QString out;
    for (int r = a.row; r <= b.row && r < rowCount(); ++r) {
        const auto rw = m_doc->row(m_view, r);
        const QStringView t = m_doc->lines(rw.stream).text(rw.line);
        const int s = r == a.row ? qMin(a.col, int(t.size())) : 0;
        const int e = r == b.row ? qMin(b.col, int(t.size())) : int(t.size());
        out += t.mid(s, qMax(0, e - s));
        if (r < b.row)
            out += QLatin1Char('\n');
    }
    return out;
}

void OutputView::selectAll()
{
    const int rows = rowCount();
    if (rows == 0)
        return;
    m_anchor = Pos{0, 0};
    m_cursor = Pos{rows - 1, int(rowText(rows - 1).size())};
    viewport()->update();
    emit selectionChanged();
}

void OutputView::clearSelection()
{
    m_anchor = m_cursor = Pos();
    viewport()->update();
    emit selectionChanged();
}

void OutputView::copy() const
{
    if (hasSelection())
        QGuiApplication::clipboard()->setText(selectedText());
}

void OutputView::selectWordAt(const Pos &pos)
{
    const QString t = rowText(pos.row);
    int a = qMin(pos.col, int(t.size())), b = a;
    if (a < t.size() && !isWordChar(t[a]) && a > 0)
        --a, --b;
    while (a > 0 && isWordChar(t[a - 1]))
        --a;
    while (b < t.size() && isWordChar(t[b]))
        ++b;
    m_anchor = Pos{pos.row, a};
    m_cursor = Pos{pos.row, b};
    viewport()->update();
    emit selectionChanged();
}

bool OutputView::event(QEvent *e)
{
    if (e->type() == QEvent::ShortcutOverride) {
        auto *k = static_cast<QKeyEvent *>(e);
        if (k->matches(QKeySequence::Find) || k->matches(QKeySequence::Copy) || k->matches(QKeySequence::SelectAll)
            || k->key() == Qt::Key_F3 || k->key() == Qt::Key_Home || k->key() == Qt::Key_End) {
            e->accept(); // ours while the view has focus, not the window's
            return true;
        }
    }
    return QAbstractScrollArea::event(e);
}

void OutputView::keyPressEvent(QKeyEvent *e)
{
    if (e->matches(QKeySequence::Find)) {
        emit findRequested();
    } else if (e->key() == Qt::Key_F3) {
        emit findAgainRequested(e->modifiers() & Qt::ShiftModifier);
    } else if (e->matches(QKeySequence::Copy)) {
        copy();
    } else if (e->matches(QKeySequence::SelectAll)) {
        selectAll();
    } else if (e->key() == Qt::Key_End) {
        setFollowing(true);
    } else if (e->key() == Qt::Key_Home) {
        verticalScrollBar()->setValue(0);
    } else {
        QAbstractScrollArea::keyPressEvent(e);
    }
}

void OutputView::mousePressEvent(QMouseEvent *e)
{
    if (e->button() != Qt::LeftButton) {
        QAbstractScrollArea::mousePressEvent(e);
        return;
    }
    setFocus(Qt::MouseFocusReason);
    const Pos p = posAt(e->position().toPoint());
    if (!(e->modifiers() & Qt::ShiftModifier))
        m_anchor = p;
    m_cursor = p;
    m_selecting = true;
    m_lastMouse = e->position().toPoint();
    viewport()->update();
    emit selectionChanged();
}

void OutputView::mouseMoveEvent(QMouseEvent *e)
{
    if (!m_selecting)
        return;
    m_lastMouse = e->position().toPoint();
    m_cursor = posAt(m_lastMouse);
    const bool outside = m_lastMouse.y() < 0 || m_lastMouse.y() >= viewport()->height();
    if (outside && !m_autoScroll.isActive())
        m_autoScroll.start();
    else if (!outside)
        m_autoScroll.stop();
    viewport()->update();
    emit selectionChanged();
}

void OutputView::autoScroll()
{
    if (!m_selecting) {
        m_autoScroll.stop();
        return;
    }
    QScrollBar *vb = verticalScrollBar();
    const int dy = m_lastMouse.y() < 0 ? -qMax(1, -m_lastMouse.y() / m_lineH) : qMax(1, (m_lastMouse.y() - viewport()->height()) / m_lineH);
    vb->setValue(vb->value() + dy);
    m_cursor = posAt(m_lastMouse);
    viewport()->update();
}

void OutputView::mouseReleaseEvent(QMouseEvent *e)
{
    if (e->button() == Qt::LeftButton && m_selecting) {
        m_selecting = false;
        m_cursor = posAt(e->position().toPoint());
        viewport()->update();
        emit selectionChanged();
        m_autoScroll.stop();
        if (hasSelection() && QGuiApplication::clipboard()->supportsSelection())
            QGuiApplication::clipboard()->setText(selectedText(), QClipboard::Selection);
    }
    QAbstractScrollArea::mouseReleaseEvent(e);
}

void OutputView::mouseDoubleClickEvent(QMouseEvent *e)
{
    if (e->button() == Qt::LeftButton)
        selectWordAt(posAt(e->position().toPoint()));
}

void OutputView::contextMenuEvent(QContextMenuEvent *e)
{
    QMenu menu(this);
    QAction *copyAction = menu.addAction(tr("&Copy"), this, &OutputView::copy);
    copyAction->setShortcut(QKeySequence::Copy);
    copyAction->setEnabled(hasSelection());
    menu.addAction(tr("Select &all"), this, &OutputView::selectAll)->setShortcut(QKeySequence::SelectAll);
    menu.addSeparator();
    menu.addAction(tr("&Find…"), this, &OutputView::findRequested)->setShortcut(QKeySequence::Find);
    menu.exec(e->globalPos());
}

// ---------------------------------------------------------------- search

int OutputView::setSearch(const QString &needle)
{
    m_searchTimer.stop();
    m_search.setNeedle(needle);
    if (!m_doc || needle.isEmpty()) {
        m_search.clear();
    } else {
        m_search.run(*m_doc, m_view);
        m_search.setCurrent(-1);
        if (m_search.count() > 0) {
            const int i = m_search.firstAtOrAfter(firstVisibleRow(), 0);
            m_search.setCurrent(i < m_search.count() ? i : 0);
            const OutputSearch::Match &m = m_search.match(m_search.current());
            ensureVisible(m.row, m.col, m.length);
        }
    }
    viewport()->update();
    emit matchesChanged(m_search.count(), m_search.current());
    return m_search.count();
}

void OutputView::rerunSearch()
{
    if (!m_doc || !m_search.active())
        return;
    const int cur = m_search.current();
    const OutputSearch::Match keep = cur >= 0 ? m_search.match(cur) : OutputSearch::Match{0, 0, 0};
    m_search.run(*m_doc, m_view);
    if (m_search.count() > 0) {
        const int i = m_search.firstAtOrAfter(keep.row, keep.col);
        m_search.setCurrent(cur < 0 ? 0 : qMin(i, m_search.count() - 1));
    }
    viewport()->update();
    emit matchesChanged(m_search.count(), m_search.current());
}

void OutputView::findNext()
{
    if (m_searchTimer.isActive())
        rerunSearch();
    if (m_search.count() == 0)
        return;
    m_search.setCurrent((m_search.current() + 1) % m_search.count());
    const OutputSearch::Match &m = m_search.match(m_search.current());
    ensureVisible(m.row, m.col, m.length);
    emit matchesChanged(m_search.count(), m_search.current());
}

void OutputView::findPrevious()
{
    if (m_searchTimer.isActive())
        rerunSearch();
    if (m_search.count() == 0)
        return;
    m_search.setCurrent((m_search.current() - 1 + m_search.count()) % m_search.count());
    const OutputSearch::Match &m = m_search.match(m_search.current());
    ensureVisible(m.row, m.col, m.length);
    emit matchesChanged(m_search.count(), m_search.current());
}

} // namespace magpie::ui
