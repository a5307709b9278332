#include "OutputView.h"
#include "OutputViewAccessible.h"

#include <QDateTime>
#include <QEvent>
#include <QFontDatabase>
#include <QScrollBar>
#include <algorithm>

namespace magpie::ui {

namespace {
constexpr int kFontBold = 1, kFontItalic = 2, kFontUnderline = 4, kFontStrike = 8;
} // namespace

OutputView::OutputView(OutputDocument *document, OutputDocument::View view, QWidget *parent)
    : QAbstractScrollArea(parent), m_doc(document), m_view(view)
{
    installOutputViewAccessibility();
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

} // namespace magpie::ui
