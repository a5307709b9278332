#include "OutputView.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QDateTime>
#include <QFontDatabase>
#include <QMenu>
#include <QPainter>
#include <QScrollBar>
#include <algorithm>

namespace magpie::ui {

namespace {
constexpr int kFontBold = 1, kFontItalic = 2, kFontUnderline = 4, kFontStrike = 8;

QColor blend(const QColor &a, const QColor &b, double t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t), float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('-') || c == QLatin1Char('.') || c == QLatin1Char('/');
}
} // namespace

OutputView::OutputView(OutputDocument *document, OutputDocument::View view, QWidget *parent)
    : QAbstractScrollArea(parent), m_doc(document), m_view(view)
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setFocusPolicy(Qt::StrongFocus);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
    viewport()->setCursor(Qt::IBeamCursor);
    viewport()->setBackgroundRole(QPalette::Base);
    viewport()->setAutoFillBackground(true);
    m_autoScroll.setInterval(50);
    connect(&m_autoScroll, &QTimer::timeout, this, &OutputView::autoScroll);
    m_searchTimer.setSingleShot(true);
    m_searchTimer.setInterval(250);
    connect(&m_searchTimer, &QTimer::timeout, this, &OutputView::rerunSearch);
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &OutputView::onScrolled);
    if (m_doc)
        connect(m_doc, &OutputDocument::changed, this, &OutputView::onDocumentChanged);
    updateMetrics();
    updateLayout();
}

// ---------------------------------------------------------------- options

void OutputView::setWrap(bool on)
{
    if (on == m_wrap)
        return;
    const int top = firstVisibleRow();
    m_wrap = on;
    updateLayout();
    if (!m_follow) {
        ++m_programmatic;
        verticalScrollBar()->setValue(visualOf(top));
        --m_programmatic;
    }
}

void OutputView::setLineNumbers(bool on)
{
    m_lineNumbers = on;
    updateLayout();
}

void OutputView::setTimeMode(TimeMode mode)
{
    m_timeMode = mode;
    updateLayout();
}

void OutputView::setTimeBase(qint64 msSinceEpoch)
{
    m_timeBase = msSinceEpoch;
    viewport()->update();
}

void OutputView::setFollowing(bool on)
{
    if (on) {
        ++m_programmatic;
        verticalScrollBar()->setValue(verticalScrollBar()->maximum());
        --m_programmatic;
    }
    setFollowInternal(on);
}

void OutputView::setFollowInternal(bool on)
{
    if (on == m_follow)
        return;
    m_follow = on;
    emit followingChanged(on);
}

void OutputView::onScrolled()
{
    if (!m_programmatic)
        setFollowInternal(verticalScrollBar()->value() >= verticalScrollBar()->maximum());
}

// ---------------------------------------------------------------- rows

int OutputView::rowCount() const
{
    return m_doc ? m_doc->rowCount(m_view) : 0;
}

QString OutputView::rowText(int row) const
{
    if (!m_doc || row < 0 || row >= rowCount())
        return QString();
    const auto r = m_doc->row(m_view, row);
    return m_doc->lines(r.stream).text(r.line).toString();
}

int OutputView::rowStream(int row) const
{
    return m_doc && row >= 0 && row < rowCount() ? m_doc->row(m_view, row).stream : 0;
}

qint64 OutputView::rowTime(int row) const
{
    if (!m_doc || row < 0 || row >= rowCount())
        return -1;
    const auto r = m_doc->row(m_view, row);
    return m_doc->lines(r.stream).time(r.line);
}

QString OutputView::timeText(int row) const
{
    const qint64 t = rowTime(row);
    if (t < 0 || m_timeMode == TimeMode::Off)
        return QString();
    if (m_timeMode == TimeMode::Clock)
        return QDateTime::fromMSecsSinceEpoch(t).toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
    qint64 d = t - m_timeBase;
    const QChar sign = d < 0 ? QLatin1Char('-') : QLatin1Char('+');
    d = qAbs(d);
    const qint64 h = d / 3600000, m = (d / 60000) % 60, s = (d / 1000) % 60, ms = d % 1000;
    if (h > 0)
        return QStringLiteral("%1%2:%3:%4.%5").arg(sign).arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(s, 2, 10, QLatin1Char('0')).arg(ms, 3, 10, QLatin1Char('0'));
    return QStringLiteral("%1%2:%3.%4").arg(sign).arg(m, 2, 10, QLatin1Char('0')).arg(s, 2, 10, QLatin1Char('0')).arg(ms, 3, 10, QLatin1Char('0'));
}

QString OutputView::toPlainText() const
{
    return m_doc ? m_doc->plainText(m_view) : QString();
}

const OutputView::Resolved &OutputView::resolved(quint32 style) const
{
    const StyleTable &table = m_doc->styles();
    if (m_resolvedGeneration != table.generation()) {
        m_resolved.clear();
        m_resolvedGeneration = table.generation();
    }
    while (m_resolved.size() < table.size()) {
        const TextStyle &s = table.style(quint32(m_resolved.size()));
        int font = 0;
        if (s.has(TextStyle::Bold))
            font |= kFontBold;
        if (s.has(TextStyle::Italic))
            font |= kFontItalic;
        if (s.has(TextStyle::Underline))
            font |= kFontUnderline;
        if (s.has(TextStyle::Strike))
            font |= kFontStrike;
        m_resolved.append({m_palette.foreground(s), m_palette.background(s), font});
    }
    return m_resolved.at(style < quint32(m_resolved.size()) ? style : 0);
}

QList<OutputView::ColourRun> OutputView::colourRuns(int row) const
{
    QList<ColourRun> out;
    if (!m_doc || row < 0 || row >= rowCount())
        return out;
    const auto r = m_doc->row(m_view, row);
    const OutputLines &l = m_doc->lines(r.stream);
    const int len = l.length(r.line);
    int at = 0;
    auto add = [&](int start, int n, quint32 id) {
        if (n <= 0)
            return;
        const Resolved &res = resolved(id);
        out.append({start, n, m_doc->styles().style(id), res.fg, res.bg});
    };
    for (const OutputLines::Run &run : l.runs(r.line)) {
        add(at, int(run.start) - at, 0);
        add(int(run.start), int(run.length), run.style);
        at = int(run.start + run.length);
    }
    add(at, len - at, 0);
    return out;
}

// ---------------------------------------------------------------- layout

void OutputView::updateMetrics()
{
    const QFont base = font();
    for (int i = 0; i < 16; ++i) {
        QFont f = base;
        f.setBold(i & kFontBold);
        f.setItalic(i & kFontItalic);
        f.setUnderline(i & kFontUnderline);
        f.setStrikeOut(i & kFontStrike);
        m_fonts[i] = f;
    }
    const QFontMetricsF fm(base);
    m_charW = qMax<qreal>(1.0, fm.horizontalAdvance(QLatin1Char('M')));
    m_lineH = qMax(1, int(std::ceil(fm.height())));
    m_ascent = int(std::ceil(fm.ascent()));
    m_palette = AnsiPalette(palette());
    m_resolved.clear();
}

int OutputView::gutterWidth() const
{
    int w = 0;
    if (m_lineNumbers)
        w += int(std::ceil(m_charW * qMax(3, int(QString::number(rowCount()).size())))) + 10;
    if (m_timeMode != TimeMode::Off)
        w += int(std::ceil(m_charW * 13)) + 8;
    if (m_view == OutputDocument::View::Combined)
        w += 4; // the stderr mark
    return w;
}

int OutputView::pageRows() const
{
    return qMax(1, viewport()->height() / m_lineH);
}

int OutputView::visualRowCount() const
{
    return m_wrap ? (m_visualStart.isEmpty() ? 0 : m_visualStart.last()) : rowCount();
}

int OutputView::visualOf(int row) const
{
    if (!m_wrap)
        return row;
    if (m_visualStart.isEmpty())
        return 0;
    return m_visualStart.at(qBound(0, row, int(m_visualStart.size()) - 1));
}

int OutputView::rowOfVisual(int visual, int *sub) const
{
    if (!m_wrap) {
        if (sub)
            *sub = 0;
        return visual;
    }
    const auto it = std::upper_bound(m_visualStart.begin(), m_visualStart.end(), visual);
    const int row = int(it - m_visualStart.begin()) - 1;
    if (sub)
        *sub = row >= 0 && row < m_visualStart.size() ? visual - m_visualStart.at(row) : 0;
    return row;
}

void OutputView::updateLayout()
{
    ++m_programmatic;
    const int rows = rowCount();
    const int textWidth = qMax(1, viewport()->width() - textLeft());
    if (m_wrap) {
        m_cols = qMax(8, int(textWidth / m_charW));
        m_visualStart.resize(rows + 1);
        int v = 0;
        for (int r = 0; r < rows; ++r) {
            m_visualStart[r] = v;
            const auto rw = m_doc->row(m_view, r);
            const int len = m_doc->lines(rw.stream).length(rw.line);
            v += qMax(1, (len + m_cols - 1) / m_cols);
        }
        m_visualStart[rows] = v;
    } else {
        m_visualStart.clear();
    }
    QScrollBar *vb = verticalScrollBar();
    const int page = pageRows();
    vb->setRange(0, qMax(0, visualRowCount() - page));
    vb->setPageStep(page);
    vb->setSingleStep(1);
    QScrollBar *hb = horizontalScrollBar();
    if (m_wrap || !m_doc) {
        hb->setRange(0, 0);
    } else {
        const int contentW = int(std::ceil(m_doc->maxLength(m_view) * m_charW)) + 8;
        hb->setRange(0, qMax(0, contentW - textWidth));
        hb->setPageStep(textWidth);
        hb->setSingleStep(int(m_charW * 4));
    }
    if (m_follow)
        vb->setValue(vb->maximum());
    --m_programmatic;
    viewport()->update();
}

void OutputView::onDocumentChanged()
{
    if (rowCount() == 0) {
        m_anchor = m_cursor = Pos();
        m_selecting = false;
    }
    updateLayout();
    if (m_search.active() && !m_searchTimer.isActive())
        m_searchTimer.start();
}

void OutputView::resizeEvent(QResizeEvent *e)
{
    QAbstractScrollArea::resizeEvent(e);
    updateLayout();
}

void OutputView::changeEvent(QEvent *e)
{
    QAbstractScrollArea::changeEvent(e);
    if (e->type() == QEvent::FontChange || e->type() == QEvent::PaletteChange || e->type() == QEvent::StyleChange) {
        updateMetrics();
        updateLayout();
    }
}

void OutputView::scrollContentsBy(int, int)
{
    viewport()->update();
}

int OutputView::firstVisibleRow() const
{
    return qMax(0, rowOfVisual(verticalScrollBar()->value(), nullptr));
}

int OutputView::lastVisibleRow() const
{
    const int v = qMin(visualRowCount() - 1, verticalScrollBar()->value() + pageRows() - 1);
    return v < 0 ? -1 : rowOfVisual(v, nullptr);
}

QRect OutputView::rowRect(int row) const
{
    if (row < 0 || row >= rowCount())
        return QRect();
    const int v = visualOf(row) - verticalScrollBar()->value();
    if (v < 0 || v >= pageRows())
        return QRect();
    return QRect(0, v * m_lineH, viewport()->width(), m_lineH);
}

QPoint OutputView::pointAt(int row, int col) const
{
    int v = visualOf(row);
    int c = col;
    if (m_wrap) {
        v += col / m_cols;
        c = col % m_cols;
    }
    const qreal x = textLeft() + (c + 0.5) * m_charW - (m_wrap ? 0 : horizontalScrollBar()->value());
    return QPoint(int(x), (v - verticalScrollBar()->value()) * m_lineH + m_lineH / 2);
}

OutputView::Pos OutputView::posAt(const QPoint &pt) const
{
    const int rows = rowCount();
    if (rows == 0)
        return Pos();
    const int y = pt.y() < 0 ? pt.y() - m_lineH + 1 : pt.y();
    const int v = qBound(0, verticalScrollBar()->value() + y / m_lineH, qMax(0, visualRowCount() - 1));
    int sub = 0;
    const int row = qBound(0, rowOfVisual(v, &sub), rows - 1);
    const int len = rowText(row).size();
    const qreal x = pt.x() - textLeft() + (m_wrap ? 0 : horizontalScrollBar()->value());
    int col = qMax(0, int(std::lround(x / m_charW)));
    if (m_wrap)
        col = sub * m_cols + qMin(col, m_cols);
    return Pos{row, qMin(col, len)};
}

void OutputView::ensureVisible(int row, int col, int length)
{
    QScrollBar *vb = verticalScrollBar();
    const int v = visualOf(row) + (m_wrap ? col / m_cols : 0);
    if (v < vb->value() || v >= vb->value() + pageRows()) {
        ++m_programmatic;
        vb->setValue(v - pageRows() / 2);
        --m_programmatic;
    }
    setFollowInternal(vb->value() >= vb->maximum());
    if (!m_wrap) {
        QScrollBar *hb = horizontalScrollBar();
        const int textWidth = viewport()->width() - textLeft();
        const int x0 = int(col * m_charW), x1 = int((col + length) * m_charW);
        if (x0 < hb->value() || x1 > hb->value() + textWidth)
            hb->setValue(qMax(0, x0 - textWidth / 3));
    }
    viewport()->update();
}

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
