// OutputView.h — a lazily painted view of one view of an OutputDocument (both streams
// interleaved, stdout, or stderr). Only the rows on screen are drawn, straight from the
// document's packed lines, so 10 MiB opens at once and scrolls as fast as ten lines do; there is
// no QTextDocument behind it. The text sits on a monospace grid: one character per column
// (wide characters are drawn, but counted as one column).
// At the left, optional columns: line numbers and each line's arrival time (clock time, or time
// since the job started); in the combined view stderr rows are tinted and marked.
// Follow: while it follows, new rows keep the end in view; scrolling up (wheel, scroll bar, keys)
// stops it, scrolling back to the end resumes it.
// Mouse selection (drag, shift-click, double-click for a word), Ctrl+A, Ctrl+C copy plain text
// without escape codes. Search: setSearch() highlights every match, findNext/Previous move
// through them. Ctrl+F, F3 and Shift+F3 on the view ask for the find bar (signals), taking
// precedence over window shortcuts while the view has focus.
#pragma once

#include "AnsiPalette.h"
#include "OutputDocument.h"
#include "OutputSearch.h"

#include <QAbstractScrollArea>
#include <QFont>
#include <QPointer>
#include <QTimer>

namespace magpie::ui {

class OutputView : public QAbstractScrollArea
{
    Q_OBJECT
public:
    enum class TimeMode { Off, Clock, SinceStart };
    struct Pos {
        int row = 0;
        int col = 0;
        bool operator<(const Pos &o) const { return row < o.row || (row == o.row && col < o.col); }
        bool operator==(const Pos &o) const { return row == o.row && col == o.col; }
    };
    struct ColourRun {
        int start;
        int length;
        TextStyle style;
        QColor fg;  // as painted
        QColor bg;  // invalid: the row's background
    };

    // `document` may be shared between views; it is not owned.
    OutputView(OutputDocument *document, OutputDocument::View view, QWidget *parent = nullptr);

    OutputDocument *document() const { return m_doc; }
    OutputDocument::View viewKind() const { return m_view; }

    void setWrap(bool on);
    bool wrap() const { return m_wrap; }
    void setLineNumbers(bool on);
    bool lineNumbers() const { return m_lineNumbers; }
    void setTimeMode(TimeMode mode);
    TimeMode timeMode() const { return m_timeMode; }
    void setTimeBase(qint64 msSinceEpoch); // the job's start, for TimeMode::SinceStart

    bool isFollowing() const { return m_follow; }
    void setFollowing(bool on);
    void scrollToEnd() { setFollowing(true); }

    int rowCount() const;
    QString rowText(int row) const;
    int rowStream(int row) const;
    qint64 rowTime(int row) const;
    QString timeText(int row) const; // as the time column shows it ("" when unknown)
    QList<ColourRun> colourRuns(int row) const;
    QString toPlainText() const;

    bool hasSelection() const { return !(m_anchor == m_cursor); }
    QString selectedText() const;
    void selectAll();
    void clearSelection();
    void copy() const;

    // Search (case-insensitive): returns the number of matches and makes the first one at or
    // after the top of the view current. An empty needle clears it.
    int setSearch(const QString &needle);
    QString searchText() const { return m_search.needle(); }
    const OutputSearch &search() const { return m_search; }
    void findNext();
    void findPrevious();

    // Geometry, for tests and tools: the viewport rectangle of a row's first screen line (empty
    // when it is not on screen) and the viewport point in the middle of a character cell.
    int firstVisibleRow() const;
    int lastVisibleRow() const;
    QRect rowRect(int row) const;
    QPoint pointAt(int row, int col) const;
    Pos posAt(const QPoint &viewportPoint) const;
    int visualRowCount() const;

signals:
    void followingChanged(bool following);
    void matchesChanged(int count, int current); // current: -1 when there is none
    void selectionChanged();
    void findRequested();
    void findAgainRequested(bool backward);

protected:
    bool event(QEvent *e) override;
    void paintEvent(QPaintEvent *e) override;
    void resizeEvent(QResizeEvent *e) override;
    void changeEvent(QEvent *e) override;
    void keyPressEvent(QKeyEvent *e) override;
    void mousePressEvent(QMouseEvent *e) override;
    void mouseMoveEvent(QMouseEvent *e) override;
    void mouseReleaseEvent(QMouseEvent *e) override;
    void mouseDoubleClickEvent(QMouseEvent *e) override;
    void contextMenuEvent(QContextMenuEvent *e) override;
    void scrollContentsBy(int dx, int dy) override;

private:
    struct Resolved {
        QColor fg, bg;
        int font;
    };
    void onDocumentChanged();
    void updateLayout();
    void updateMetrics();
    void onScrolled();
    void setFollowInternal(bool on);
    const Resolved &resolved(quint32 style) const;
    int gutterWidth() const;
    int textLeft() const { return gutterWidth() + 4; }
    int pageRows() const;
    int visualOf(int row) const;
    int rowOfVisual(int visual, int *sub) const;
    void ensureVisible(int row, int col, int length);
    void paintRow(QPainter &p, int row, int sub, int y, const QList<OutputSearch::Match> &matches);
    void autoScroll();
    void selectWordAt(const Pos &pos);
    void rerunSearch();

    QPointer<OutputDocument> m_doc;
    OutputDocument::View m_view;
    bool m_wrap = false;
    bool m_lineNumbers = true;
    TimeMode m_timeMode = TimeMode::Off;
    qint64 m_timeBase = 0;
    bool m_follow = true;
    int m_programmatic = 0;

    QFont m_fonts[16];
    qreal m_charW = 8;
    int m_lineH = 16;
    int m_ascent = 12;
    int m_cols = 80;              // wrap width in columns
    QList<int> m_visualStart;     // wrap: first screen line of each row, and the total at the end
    AnsiPalette m_palette;
    mutable QList<Resolved> m_resolved;
    mutable int m_resolvedGeneration = -1;

    Pos m_anchor, m_cursor;
    bool m_selecting = false;
    QPoint m_lastMouse;
    QTimer m_autoScroll;

    OutputSearch m_search;
    QTimer m_searchTimer;         // re-runs the search as output arrives
};

} // namespace magpie::ui
