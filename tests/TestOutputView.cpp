// TestOutputView — job output as people read it, through the real pipeline: real VM jobs (TCG)
// print SGR colours, cursor movements, '\r' progress bars, invalid UTF-8, a stderr line between
// two stdout lines and a ~10 MiB body; the real Executor stores them (lines.idx included); the
// real JobDetail (offscreen) shows them. The tests assert the rendered text, the colour runs,
// the collapsed progress line, the timestamps' order, the search results — and drive the pane
// as a person does: Ctrl+F, typing, Enter/F3/Shift+F3, the mouse wheel for follow, a mouse drag
// and Ctrl+C to copy, clicks on Follow, Wrap, Line numbers, the time column and Save output…
// (typing a file name into the file dialog).
#include "FindBar.h"
#include "JobDetail.h"
#include "JobOutput.h"
#include "LogIndex.h"
#include "LogView.h"
#include "OutputPane.h"
#include "Tools.h"
#include "UiTestSupport.h"

#include <QAbstractItemView>
#include <QClipboard>
#include <QCompleter>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QPushButton>
#include <QFileDialog>
#include <QLabel>
#include <QPointer>
#include <QLineEdit>
#include <QScrollBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QToolButton>
#include <QWheelEvent>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

namespace {
constexpr int kBodyLines = 80000; // ~122 bytes each: ~9.3 MiB, under the 10 MiB cap; 112 columns wide

const char *kColourScript = R"SH(
printf '\033[31mred\033[0m \033[1;32mbold green\033[0m \033[38;5;208morange\033[0m \033[38;2;10;200;30mtruecolour\033[0m \033[4munderlined\033[24m plain\n'
printf 'moves:\033[2A\033[5C\033[Hhere\033[?25l\033]0;a title\007 done\033[2J\n'
for p in 0 1 2 3 4; do
  bar=$(printf '%*s' $p '' | tr ' ' '#')
  printf '\rprogress [%-4s] %3d%%' "$bar" $((p * 25))
  sleep 0.2
done
printf '\n'
printf 'bad utf8: \377\376 ok \342\202 end\n'
echo "first stdout"
sleep 1
echo "an error line" >&2
sleep 1
echo "after the error"
python3 -c '
import sys
w = sys.stdout.buffer
for i in range(BODY):
    w.write(b"\x1b[32mline %06d\x1b[0m %s\n" % (i, b"needle here" if i % 1000 == 0 else b"x" * 100))
'
echo "the end"
)SH";

const char *kTickerScript = "for i in $(seq 1 100); do echo \"tick $i\"; sleep 0.25; done";

void wheel(QWidget *viewport, int notches)
{
    const QPoint at(viewport->width() / 2, viewport->height() / 2);
    QWheelEvent ev(at, viewport->mapToGlobal(at), QPoint(), QPoint(0, 120 * notches), Qt::NoButton, Qt::NoModifier,
                   Qt::NoScrollPhase, false);
    QApplication::sendEvent(viewport, &ev);
}

// Types `path` into the next file dialog, picks the filter with `filterIndex` and clicks Save.
// Answers that one dialog only (not one opened after it), once it has been on screen for a
// moment; clicks again a second later if it is still there; rejects it after ~10 s.
void answerNextFileDialog(const QString &path, int filterIndex)
{
    struct State {
        QPointer<QFileDialog> dlg;
        int ticks = 0;
    };
    auto *timer = new QTimer(qApp);
    timer->setInterval(50);
    auto st = std::make_shared<State>();
    QObject::connect(timer, &QTimer::timeout, timer, [timer, st, path, filterIndex] {
        if (!st->dlg) {
            if (st->ticks > 0) { // answered and gone
                timer->stop();
                timer->deleteLater();
                return;
            }
            st->dlg = qobject_cast<QFileDialog *>(QApplication::activeModalWidget());
            if (!st->dlg)
                return;
        }
        QFileDialog *dlg = st->dlg;
        if (st->ticks > 0 && !dlg->isVisible()) {
            timer->stop();
            timer->deleteLater();
            return;
        }
        const int tick = ++st->ticks;
        if (tick > 200) {
            qWarning("the file dialog did not accept %s", qPrintable(path));
            dlg->reject();
            return;
        }
        if (tick % 20 != 3)
            return;
        auto *combo = dlg->findChild<QComboBox *>(QStringLiteral("fileTypeCombo"));
        auto *edit = dlg->findChild<QLineEdit *>(QStringLiteral("fileNameEdit"));
        auto *box = dlg->findChild<QDialogButtonBox *>(QStringLiteral("buttonBox"));
        if (!combo || !edit || !box)
            return;
        combo->setFocus();
        for (int i = combo->currentIndex(); i < filterIndex; ++i)
            QTest::keyClick(combo, Qt::Key_Down);
        edit->setCompleter(nullptr); // its list of file names would pop up and swallow the click
        edit->setFocus();
        edit->selectAll();
        QTest::keyClicks(edit, path);
        if (QWidget *popup = QApplication::activePopupWidget())
            popup->close();
        for (QAbstractButton *b : box->buttons())
            if (box->buttonRole(b) == QDialogButtonBox::AcceptRole && b->isEnabled())
                QTest::mouseClick(b, Qt::LeftButton);
    });
    timer->start();
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
} // namespace

class TestOutputView : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<Executor> m_ex;
    QString m_colours, m_ticker;
    std::unique_ptr<JobDetail> m_live;   // shown from submission on, fed live
    std::unique_ptr<JobDetail> m_opened; // opened after the job had finished

    QString submit(const QString &name, const QString &script)
    {
        JobRequest r;
        r.name = name;
        r.script = script;
        r.network = false;
        r.source = QStringLiteral("gui");
        ExecError e;
        const auto j = m_ex->submit(r, &e);
        if (!j)
            qFatal("submit failed: %s", qPrintable(e.message));
        return j->requestId;
    }

    static std::unique_ptr<JobDetail> show(Executor &ex, const QString &id, QSize size)
    {
        auto d = std::make_unique<JobDetail>(ex);
        d->resize(size);
        d->show();
        if (!QTest::qWaitForWindowExposed(d.get()))
            qWarning("window not exposed");
        d->setJob(id);
        return d;
    }

    // The colours job, finished, opened in a fresh JobDetail (made once; each slot may run alone).
    JobDetail *opened()
    {
        if (!test::waitFinished(*m_ex, m_colours, 600000))
            return nullptr;
        if (!m_opened)
            m_opened = show(*m_ex, m_colours, QSize(1000, 700));
        m_opened->resize(1000, 700);
        return m_opened.get();
    }

    static int rowOf(OutputView *v, const QString &text)
    {
        for (int r = 0; r < v->rowCount(); ++r)
            if (v->rowText(r) == text)
                return r;
        return -1;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
        QVERIFY2(GuestImage::locate().isValid(), qPrintable(GuestImage::locate().error));
        m_ex = test::openExecutor(m_tmp.path() + QStringLiteral("/data"));
        m_colours = submit(QStringLiteral("colours"), QString::fromLatin1(kColourScript).replace(QStringLiteral("BODY"), QString::number(kBodyLines)));
        m_ticker = submit(QStringLiteral("ticker"), QString::fromLatin1(kTickerScript));
        m_live = show(*m_ex, m_colours, QSize(1000, 700));
    }

    void cleanupTestCase()
    {
        m_live.reset();
        m_opened.reset();
        m_ex.reset();
    }

    // Follow while the ticker runs: the wheel up stops it, new lines do not move the view, the
    // wheel back down to the end resumes it, and the Follow button jumps back to the end.
    void followStopsOnWheelUpAndResumesAtTheEnd()
    {
        auto d = show(*m_ex, m_ticker, QSize(700, 300));
        LogView *v = d->stdoutView();
        d->tabs()->setCurrentIndex(JobDetail::TabOutput);
        QToolButton *follow = d->output()->pane(1)->followButton();
        QTRY_VERIFY_WITH_TIMEOUT(v->rowCount() >= 25, 240000);
        QVERIFY(m_ex->job(m_ticker)->status == JobStatus::Running);
        QScrollBar *sb = v->verticalScrollBar();
        QVERIFY(sb->maximum() > 0);
        QVERIFY(v->isFollowing());
        QVERIFY(follow->isChecked());
        QTRY_COMPARE(sb->value(), sb->maximum());

        wheel(v->viewport(), +2); // up
        QVERIFY(!v->isFollowing());
        QVERIFY(!follow->isChecked());
        const int held = sb->value();
        QVERIFY(held < sb->maximum());
        const int rows = v->rowCount();
        QTRY_VERIFY_WITH_TIMEOUT(v->rowCount() >= rows + 4, 60000);
        QCOMPARE(sb->value(), held); // new output did not move it
        QVERIFY(sb->maximum() > held);

        for (int i = 0; i < 50 && sb->value() < sb->maximum(); ++i)
            wheel(v->viewport(), -1); // back down to the end
        QVERIFY(v->isFollowing());
        QVERIFY(follow->isChecked());
        const int rows2 = v->rowCount();
        QTRY_VERIFY_WITH_TIMEOUT(v->rowCount() >= rows2 + 3, 60000);
        QCOMPARE(sb->value(), sb->maximum()); // sticks to the end again

        wheel(v->viewport(), +3);
        QVERIFY(!follow->isChecked());
        QTest::mouseClick(follow, Qt::LeftButton);
        QVERIFY(v->isFollowing());
        QCOMPARE(sb->value(), sb->maximum());
        QVERIFY(test::waitFinished(*m_ex, m_ticker));
        QTRY_COMPARE(v->rowText(v->rowCount() - 1), QStringLiteral("tick 100"));
        QCOMPARE(sb->value(), sb->maximum());
    }

    void coloursProgressAndInvalidUtf8AreRendered()
    {
        QVERIFY(test::waitFinished(*m_ex, m_colours, 600000));
        QCOMPARE(m_ex->job(m_colours)->status, JobStatus::Completed);
        LogView *v = m_live->combinedView();
        QTRY_COMPARE_WITH_TIMEOUT(v->rowText(v->rowCount() - 1), QStringLiteral("the end"), 60000);
        QCOMPARE(v->rowText(0), QStringLiteral("red bold green orange truecolour underlined plain"));
        // The colour runs: what the escape codes said, and painted in readable colours.
        const QList<OutputView::ColourRun> runs = v->colourRuns(0);
        auto runAt = [&](int start) {
            for (const auto &r : runs)
                if (r.start == start)
                    return r;
            return OutputView::ColourRun{-1, 0, {}, {}, {}};
        };
        const auto red = runAt(0), green = runAt(4), orange = runAt(15), tc = runAt(22), under = runAt(33), plain = runAt(43);
        QCOMPARE(red.length, 3);
        QCOMPARE(red.style.fg, TextStyle::kIndexed | 1);
        QVERIFY(red.fg.red() > 2 * red.fg.green());
        QCOMPARE(green.length, 10);
        QCOMPARE(green.style.fg, TextStyle::kIndexed | 2);
        QVERIFY(green.style.has(TextStyle::Bold));
        QCOMPARE(orange.length, 6);
        QCOMPARE(orange.style.fg, TextStyle::kIndexed | 208);
        QCOMPARE(tc.length, 10);
        QCOMPARE(tc.style.fg, TextStyle::kRgb | 0x0ac81e);
        QCOMPARE(under.length, 10);
        QVERIFY(under.style.has(TextStyle::Underline));
        QCOMPARE(under.style.fg, 0u);
        QVERIFY(plain.style.isDefault());
        QCOMPARE(plain.fg, v->palette().color(QPalette::Text));
        QVERIFY(AnsiPalette::contrast(green.fg, v->palette().color(QPalette::Base)) >= AnsiPalette::kMinContrast - 0.01);
        // Cursor movements, modes, the title and the screen clear are gone; the move right stays.
        QCOMPARE(v->rowText(1), QStringLiteral("moves:     here done"));
        // Five progress states written with '\r' across several chunks: one line, the last state.
        QCOMPARE(v->rowText(2), QStringLiteral("progress [####] 100%"));
        QCOMPARE(v->toPlainText().count(QStringLiteral("progress [")), 1);
        const QChar r(0xFFFD);
        QCOMPARE(v->rowText(3), QStringLiteral("bad utf8: %1%1 ok %1 end").arg(r));
        QVERIFY(!v->toPlainText().contains(QChar(0x1b)));
    }

    void combinedViewInterleavesByArrivalTime()
    {
        QVERIFY(test::waitFinished(*m_ex, m_colours, 600000));
        LogView *all = m_live->combinedView();
        QTRY_COMPARE_WITH_TIMEOUT(all->rowText(all->rowCount() - 1), QStringLiteral("the end"), 60000);
        const int first = rowOf(all, QStringLiteral("first stdout"));
        QVERIFY(first > 0);
        QCOMPARE(all->rowText(first + 1), QStringLiteral("an error line"));
        QCOMPARE(all->rowStream(first + 1), 2);
        QCOMPARE(all->rowText(first + 2), QStringLiteral("after the error"));
        QCOMPARE(all->rowStream(first + 2), 1);
        // Each line carries the time it reached the host, in arrival order.
        qint64 prev = 0;
        for (int row = 0; row < all->rowCount(); ++row) {
            const qint64 t = all->rowTime(row);
            QVERIFY2(t >= prev, qPrintable(QStringLiteral("row %1: %2 < %3").arg(row).arg(t).arg(prev)));
            prev = t;
        }
        QVERIFY(all->rowTime(first + 2) > all->rowTime(first)); // two seconds of sleep between them
        QVERIFY(all->rowTime(first) >= parseIso(m_ex->job(m_colours)->startedAt).toMSecsSinceEpoch() - 1000);
        // The per-stream tabs hold one stream each.
        QCOMPARE(m_live->stderrView()->rowCount(), 1);
        QCOMPARE(m_live->stderrView()->rowText(0), QStringLiteral("an error line"));
        QCOMPARE(rowOf(m_live->stdoutView(), QStringLiteral("an error line")), -1);
        // The same order from the reader behind the API's JSON logs form.
        LogLinesQuery q;
        q.first = first;
        q.maxEntries = 3;
        const LogLines l = LogIndex::readLines(m_ex->dataDir() + QStringLiteral("/logs/") + m_colours, q);
        QCOMPARE(l.entries.size(), 3);
        QCOMPARE(l.total, qint64(all->rowCount()));
        QCOMPARE(l.entries[1].stream, 2);
        QCOMPARE(l.entries[1].text, QByteArray("an error line"));
        QCOMPARE(l.entries[1].timestampMs, all->rowTime(first + 1));
        // stderr rows are tinted in the combined view.
        all->scrollToEnd();
        all->verticalScrollBar()->setValue(first);
        const QImage img = all->viewport()->grab().toImage();
        const QRect er = all->rowRect(first + 1), or_ = all->rowRect(first);
        QVERIFY(!er.isEmpty() && !or_.isEmpty());
        const int x = all->viewport()->width() - 20; // past the text
        QVERIFY(img.pixelColor(x, er.center().y()) != img.pixelColor(x, or_.center().y()));
        QCOMPARE(img.pixelColor(x, or_.center().y()), all->palette().color(QPalette::Base));
    }

    void tenMiBBodyOpensWhole()
    {
        QVERIFY(test::waitFinished(*m_ex, m_colours, 600000));
        const auto job = m_ex->job(m_colours);
        QVERIFY(job->stdoutBytes > 9 * 1024 * 1024);
        QVERIFY(job->stdoutBytes < JobStore::logCapBytes()); // whole, not truncated
        QVERIFY(opened());
        LogView *out = m_opened->stdoutView();
        QCOMPARE(out->rowCount(), 4 + 2 + kBodyLines + 1);
        QCOMPARE(out->rowText(6), QStringLiteral("line 000000 needle here"));
        QCOMPARE(out->rowText(6 + 500), QStringLiteral("line 000500 ") + QString(100, QLatin1Char('x')));
        QCOMPARE(out->colourRuns(6 + 500).first().style.fg, TextStyle::kIndexed | 2);
        // Opened later, it shows exactly what was shown live.
        QCOMPARE(m_opened->combinedView()->toPlainText(), m_live->combinedView()->toPlainText());
        QCOMPARE(m_opened->combinedView()->rowTime(100), m_live->combinedView()->rowTime(100));
        // Opened at the end (following), and the last line is on screen.
        QVERIFY(m_opened->combinedView()->isFollowing());
        QVERIFY(!m_opened->combinedView()->rowRect(m_opened->combinedView()->rowCount() - 1).isEmpty());
    }

    void searchWithTheKeyboard()
    {
        QVERIFY(opened());
        m_opened->tabs()->setCurrentIndex(JobDetail::TabAll);
        LogView *v = m_opened->combinedView();
        OutputPane *pane = m_opened->output()->pane(0);
        FindBar *bar = pane->findBar();
        QVERIFY(bar->isHidden());
        v->verticalScrollBar()->setValue(0); // read from the top
        QVERIFY(!v->isFollowing());
        v->setFocus();
        QTest::keyClick(v, Qt::Key_F, Qt::ControlModifier);
        QVERIFY(bar->isVisible());
        QTRY_VERIFY(bar->edit()->hasFocus());
        QTest::keyClicks(bar->edit(), QStringLiteral("NEEDLE"));
        const int expected = kBodyLines / 1000;
        QCOMPARE(v->search().count(), expected);
        const QString total = QString::number(expected);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("1 of %1").arg(total));
        // Escape closes the bar; Ctrl+F again brings the same search back.
        QTest::keyClick(bar->edit(), Qt::Key_Escape);
        QVERIFY(bar->isHidden());
        QCOMPARE(v->search().count(), 0);
        QTest::keyClick(v, Qt::Key_F, Qt::ControlModifier);
        QVERIFY(bar->isVisible());
        QCOMPARE(bar->edit()->text(), QStringLiteral("NEEDLE"));
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("1 of %1").arg(total));
        const OutputSearch::Match m0 = v->search().match(0);
        QCOMPARE(v->rowText(m0.row), QStringLiteral("line 000000 needle here"));
        QCOMPARE(m0.col, 12);
        QTest::keyClick(bar->edit(), Qt::Key_Return);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("2 of %1").arg(total));
        QTest::keyClick(bar->edit(), Qt::Key_F3);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("3 of %1").arg(total));
        const OutputSearch::Match m2 = v->search().match(2);
        QCOMPARE(v->rowText(m2.row), QStringLiteral("line 002000 needle here"));
        QVERIFY(!v->rowRect(m2.row).isEmpty()); // scrolled to it
        QVERIFY(!v->isFollowing());
        QTest::keyClick(bar->edit(), Qt::Key_F3, Qt::ShiftModifier);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("2 of %1").arg(total));
        QTest::keyClick(bar->edit(), Qt::Key_Return, Qt::ShiftModifier);
        QTest::keyClick(bar->edit(), Qt::Key_Return, Qt::ShiftModifier);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("%1 of %1").arg(total)); // wrapped to the last
        QTest::mouseClick(bar->nextButton(), Qt::LeftButton);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("1 of %1").arg(total));
        // F3 in the view itself goes on too.
        v->setFocus();
        QTest::keyClick(v, Qt::Key_F3);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("2 of %1").arg(total));
        // A progress line matches only its last state; escape codes never match.
        bar->edit()->setFocus();
        bar->edit()->selectAll();
        QTest::keyClicks(bar->edit(), QStringLiteral("progress [#"));
        QCOMPARE(v->search().count(), 1);
        bar->edit()->selectAll();
        QTest::keyClicks(bar->edit(), QStringLiteral("[32m"));
        QCOMPARE(v->search().count(), 0);
        QCOMPARE(bar->countLabel()->text(), QStringLiteral("No matches"));
        QTest::mouseClick(bar->closeButton(), Qt::LeftButton);
        QVERIFY(bar->isHidden());
        QCOMPARE(v->search().count(), 0);
    }

    void copyASelectionWithTheMouse()
    {
        QVERIFY(opened());
        LogView *v = m_opened->combinedView();
        v->verticalScrollBar()->setValue(0);
        const QString row0 = v->rowText(0);
        // Drag from the start of "bold" on row 0 to after "here" on row 1.
        QTest::mousePress(v->viewport(), Qt::LeftButton, Qt::NoModifier, v->pointAt(0, 4) - QPoint(int(v->fontMetrics().horizontalAdvance('M') / 2), 0));
        QTest::mouseMove(v->viewport(), v->pointAt(1, 8));
        QTest::mouseRelease(v->viewport(), Qt::LeftButton, Qt::NoModifier, v->pointAt(1, 15) - QPoint(int(v->fontMetrics().horizontalAdvance('M') / 2), 0));
        QVERIFY(v->hasSelection());
        QTest::keyClick(v, Qt::Key_C, Qt::ControlModifier);
        QCOMPARE(QGuiApplication::clipboard()->text(), row0.mid(4) + QStringLiteral("\nmoves:     here"));
        // Double-click selects a word; Ctrl+A everything, as plain text without escape codes.
        QTest::mouseDClick(v->viewport(), Qt::LeftButton, Qt::NoModifier, v->pointAt(0, 16));
        QCOMPARE(v->selectedText(), QStringLiteral("orange"));
        QTest::keyClick(v, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClick(v, Qt::Key_C, Qt::ControlModifier);
        const QString all = QGuiApplication::clipboard()->text();
        QVERIFY(all.startsWith(QStringLiteral("red bold green")));
        QVERIFY(all.endsWith(QStringLiteral("the end")));
        QVERIFY(!all.contains(QChar(0x1b)));
        QCOMPARE(all.count(QLatin1Char('\n')), v->rowCount() - 1);
    }

    void saveOutputAsPlainTextAndRaw()
    {
        QVERIFY(opened());
        OutputPane *pane = m_opened->output()->pane(1); // stdout
        m_opened->tabs()->setCurrentIndex(JobDetail::TabOutput);
        QSignalSpy saved(pane, &OutputPane::saved);
        const QString plain = m_tmp.filePath(QStringLiteral("saved-plain.txt"));
        answerNextFileDialog(plain, 0);
        QTest::mouseClick(pane->saveButton(), Qt::LeftButton);
        QCOMPARE(saved.count(), 1);
        const QByteArray text = readFile(plain);
        QVERIFY(text.startsWith("red bold green orange truecolour underlined plain\nmoves:     here done\nprogress [####] 100%\n"));
        QVERIFY(!text.contains('\x1b'));
        QVERIFY(text.endsWith("the end\n"));

        const QString raw = m_tmp.filePath(QStringLiteral("saved-raw.log"));
        answerNextFileDialog(raw, 1);
        QTest::mouseClick(pane->saveButton(), Qt::LeftButton);
        QCOMPARE(saved.count(), 2);
        QCOMPARE(readFile(raw), readFile(m_ex->dataDir() + QStringLiteral("/logs/") + m_colours + QStringLiteral("/stdout.log")));

        // The combined raw form: both streams' lines byte for byte, in arrival order.
        OutputPane *all = m_opened->output()->pane(0);
        const QString both = m_tmp.filePath(QStringLiteral("saved-both.log"));
        QString error;
        QVERIFY2(all->saveTo(both, OutputPane::SaveFormat::Raw, &error), qPrintable(error));
        const QByteArray b = readFile(both);
        QVERIFY(b.contains("first stdout\nan error line\nafter the error\n"));
        QVERIFY(b.contains("\x1b[31mred\x1b[0m"));
        QCOMPARE(b.size(), readFile(m_ex->dataDir() + "/logs/" + m_colours + "/stdout.log").size() + qsizetype(strlen("an error line\n")));
        // A folder that cannot be written gets a clear error and no file.
        QVERIFY(!pane->saveTo(m_tmp.filePath(QStringLiteral("no/such/folder/x.txt")), OutputPane::SaveFormat::Plain, &error));
        QVERIFY(!error.isEmpty());
    }

    void toolbarButtonsChangeTheView()
    {
        QVERIFY(opened());
        m_opened->tabs()->setCurrentIndex(JobDetail::TabAll);
        OutputPane *pane = m_opened->output()->pane(0);
        LogView *v = m_opened->combinedView();
        LogView *out = m_opened->stdoutView();
        v->verticalScrollBar()->setValue(0);
        // Wrap: a narrow view puts a long line on several screen lines; the setting holds in every tab.
        // As narrow as the window goes: the 112-column body lines no longer fit. (A shown
        // window's resize reaches it asynchronously: the X server answers.)
        const int narrow = m_opened->minimumSizeHint().width();
        m_opened->resize(narrow, 600);
        QTRY_VERIFY2(v->viewport()->width() < narrow, qPrintable(QStringLiteral("viewport %1 px, window %2 px")
                                                                     .arg(v->viewport()->width()).arg(m_opened->width())));
        QVERIFY(!v->wrap());
        const int visual = v->visualRowCount();
        QCOMPARE(visual, v->rowCount());
        QTest::mouseClick(pane->wrapButton(), Qt::LeftButton);
        QVERIFY(v->wrap());
        QVERIFY(out->wrap());
        QTRY_VERIFY2(v->visualRowCount() > visual, qPrintable(QStringLiteral("%1 screen lines for %2 rows at %3 px")
                                                                  .arg(v->visualRowCount()).arg(visual).arg(v->viewport()->width())));
        QCOMPARE(v->horizontalScrollBar()->maximum(), 0);
        QTest::mouseClick(pane->wrapButton(), Qt::LeftButton);
        QVERIFY(!v->wrap());
        QCOMPARE(v->visualRowCount(), visual);
        m_opened->resize(1000, 700);
        QTRY_VERIFY(v->viewport()->width() > 600);
        // Line numbers off: the text starts further left.
        const int x = v->pointAt(0, 0).x();
        QTest::mouseClick(pane->lineNumbersButton(), Qt::LeftButton);
        QVERIFY(!v->lineNumbers());
        QVERIFY(v->pointAt(0, 0).x() < x);
        QTest::mouseClick(pane->lineNumbersButton(), Qt::LeftButton);
        QVERIFY(v->lineNumbers());
        // The time column: clock time, then time since the job started.
        QComboBox *times = pane->timeCombo();
        QCOMPARE(v->timeText(0), QString());
        times->setFocus();
        QTest::keyClick(times, Qt::Key_Down);
        QCOMPARE(v->timeMode(), OutputView::TimeMode::Clock);
        QCOMPARE(v->timeText(0), QDateTime::fromMSecsSinceEpoch(v->rowTime(0)).toString(QStringLiteral("HH:mm:ss.zzz")));
        QTest::keyClick(times, Qt::Key_Down);
        QCOMPARE(out->timeMode(), OutputView::TimeMode::SinceStart);
        const QString rel = v->timeText(rowOf(v, QStringLiteral("after the error")));
        QVERIFY2(QRegularExpression(QStringLiteral("^\\+\\d\\d:\\d\\d\\.\\d\\d\\d$")).match(rel).hasMatch(), qPrintable(rel));
        QVERIFY(v->pointAt(0, 0).x() > x); // the column takes room
        // Find opens from its button too.
        QTest::mouseClick(pane->findButton(), Qt::LeftButton);
        QVERIFY(pane->findBar()->isVisible());
    }
};

QTEST_MAIN(TestOutputView)
#include "TestOutputView.moc"
