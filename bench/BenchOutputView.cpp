// BenchOutputView — opening and scrolling 10 MiB of job output in the job details, against a
// baseline measured in the same run: QPlainTextEdit::setPlainText of the same bytes (what the
// output pane did before, minus its colours). The job's logs are written through the real
// JobStore (so lines.idx is there too), the Executor is opened on that data folder without
// booting anything, and the real JobDetail shows the job; times are to the first paint done.
// Scrolling: a repaint after each of 400 page-sized steps through the whole text.
//   QT_QPA_PLATFORM=offscreen build/bench/BenchOutputView [MiB=10] [--snapshot file.png] [--dark]
#include "Database.h"
#include "Executor.h"
#include "JobDetail.h"
#include "JobStore.h"
#include "LogView.h"
#include "Tools.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QStyleFactory>
#include <QTabWidget>
#include <QTemporaryDir>
#include <algorithm>
#include <cstdio>

using namespace magpie;
using namespace magpie::ui;

namespace {

// Output like a test run: coloured PASS/FAIL lines, 256-colour and bold bits, progress bars
// redrawn with '\r', now and then a warning on stderr.
void writeJob(const QString &dataDir, const QString &id, qint64 bytes, QByteArray *stdoutAll, QByteArray *stderrAll)
{
    Database db;
    if (!db.open(dataDir + QStringLiteral("/magpie.db")))
        qFatal("cannot open the database: %s", qPrintable(db.error()));
    JobStore store(db, dataDir + QStringLiteral("/logs"));
    JobRecord j;
    j.requestId = id;
    j.name = QStringLiteral("big output");
    j.script = QStringLiteral("python3 run_tests.py");
    j.createdAt = isoNow();
    j.startedAt = j.createdAt;
    j.finishedAt = isoNow();
    j.status = JobStatus::Completed;
    j.exitCode = 0;
    if (!store.insert(j).isEmpty() || !store.update(j).isEmpty())
        qFatal("cannot insert the job");
    store.prepareLogs(id);
    QByteArray chunk;
    int n = 0;
    while (stdoutAll->size() < bytes) {
        chunk.clear();
        for (int i = 0; i < 200; ++i, ++n) {
            if (n % 97 == 0) {
                for (int p = 0; p <= 100; p += 25)
                    chunk += "\rDownloading artifact " + QByteArray::number(n) + " [" + QByteArray(p / 10, '#') + QByteArray(10 - p / 10, ' ') + "] "
                             + QByteArray::number(p) + "%";
                chunk += "\n";
            } else if (n % 13 == 0) {
                chunk += "\x1b[31;1mFAILED\x1b[0m tests/test_module_" + QByteArray::number(n % 400) + ".py::test_case_" + QByteArray::number(n)
                         + " - AssertionError: \x1b[38;5;208mexpected\x1b[0m 42, got \x1b[38;2;90;160;255m41\x1b[0m\n";
            } else {
                chunk += "\x1b[32mPASSED\x1b[0m tests/test_module_" + QByteArray::number(n % 400) + ".py::test_case_" + QByteArray::number(n)
                         + " \x1b[2m[" + QByteArray::number(n % 100).rightJustified(3, ' ') + "%]\x1b[0m\n";
            }
        }
        store.appendOutput(j, 1, chunk);
        *stdoutAll += chunk;
        if (n % 1000 < 200) {
            const QByteArray w = "warning: test_module_" + QByteArray::number(n % 400) + " is slow (\x1b[33m" + QByteArray::number(n % 7)
                                 + ".2 s\x1b[0m)\n";
            store.appendOutput(j, 2, w);
            *stderrAll += w;
        }
    }
    if (!store.update(j).isEmpty())
        qFatal("cannot update the job");
}

double median(QList<double> v)
{
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v[v.size() / 2];
}

double msSince(const QElapsedTimer &t)
{
    return t.nsecsElapsed() / 1e6;
}

// Page steps over the whole range, a synchronous repaint after each: ms per frame.
double scrollFrames(QAbstractScrollArea *area, int frames)
{
    QScrollBar *sb = area->verticalScrollBar();
    QElapsedTimer t;
    t.start();
    for (int i = 1; i <= frames; ++i) {
        sb->setValue(int(qint64(sb->maximum()) * i / frames));
        area->viewport()->repaint();
    }
    return msSince(t) / frames;
}

qint64 rssKb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    double mib = 10;
    QString snapshot;
    bool dark = false;
    const QStringList args = app.arguments();
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--snapshot") && i + 1 < args.size())
            snapshot = args[++i];
        else if (args[i] == QLatin1String("--dark"))
            dark = true;
        else
            mib = args[i].toDouble();
    }
    if (dark) {
        QPalette p;
        p.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
        p.setColor(QPalette::WindowText, QColor(0xe0, 0xe0, 0xe0));
        p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
        p.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
        p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
        p.setColor(QPalette::ButtonText, QColor(0xe0, 0xe0, 0xe0));
        QApplication::setPalette(p);
    }
    QTemporaryDir tmp;
    const QString id = QStringLiteral("bench-output");
    QByteArray out, err;
    writeJob(tmp.path(), id, qint64(mib * 1024 * 1024) - 64 * 1024, &out, &err);
    std::printf("output: %.2f MiB stdout + %.2f MiB stderr, %lld + %lld lines\n", out.size() / 1048576.0, err.size() / 1048576.0,
                qlonglong(out.count('\n')), qlonglong(err.count('\n')));

    ExecutorConfig cfg;
    cfg.dataDir = tmp.path();
    cfg.accel = AccelMode::Tcg;
    Executor ex(cfg);
    QString error;
    if (!ex.open(&error))
        qFatal("cannot open the executor: %s", qPrintable(error));

    const int runs = 5;
    const int frames = 400;
    QList<double> ours, base, oursScroll, baseScroll;
    qint64 oursRss = 0, baseRss = 0;
    const QString all = QString::fromUtf8(out + err);
    for (int r = 0; r < runs; ++r) {
        {
            const qint64 before = rssKb();
            JobDetail detail(ex);
            detail.resize(1200, 800);
            detail.show();
            QApplication::processEvents();
            QElapsedTimer t;
            t.start();
            detail.setJob(id);
            detail.combinedView()->viewport()->repaint();
            ours << msSince(t);
            oursRss = qMax(oursRss, rssKb() - before);
            if (r == 0 && detail.combinedView()->rowCount() != out.count('\n') + err.count('\n'))
                qFatal("the view shows %d rows", detail.combinedView()->rowCount());
            oursScroll << scrollFrames(detail.combinedView(), frames);
            if (r == 0 && !snapshot.isEmpty()) {
                detail.combinedView()->verticalScrollBar()->setValue(0);
                detail.grab().save(snapshot);
            }
        }
        {
            const qint64 before = rssKb();
            QPlainTextEdit edit;
            edit.setReadOnly(true);
            edit.setLineWrapMode(QPlainTextEdit::NoWrap);
            edit.resize(1200, 800);
            edit.show();
            QApplication::processEvents();
            QElapsedTimer t;
            t.start();
            edit.setPlainText(all);
            edit.viewport()->repaint();
            base << msSince(t);
            baseRss = qMax(baseRss, rssKb() - before);
            baseScroll << scrollFrames(&edit, frames);
        }
    }
    const double o = median(ours), b = median(base), os = median(oursScroll), bs = median(baseScroll);
    std::printf("open to first paint (median of %d): JobDetail output pane %.1f ms, QPlainTextEdit::setPlainText %.1f ms; ratio %.2fx (%s)\n",
                runs, o, b, b / o, b >= o ? "baseline slower" : "baseline faster");
    std::printf("scrolling, one repaint per step, %d steps over the whole text: %.2f ms/frame vs %.2f ms/frame; ratio %.2fx\n",
                frames, os, bs, bs / os);
    std::printf("memory growth while open (RSS): output pane %lld KiB, QPlainTextEdit %lld KiB\n", oursRss, baseRss);
    std::printf("(the baseline shows no colours: escape codes as text, every progress state on one line)\n");
    return 0;
}
