// TestUiHelpers — the desktop window's small parts without VMs: formatting, the settings file,
// the clean-up request (quoting, refused paths), the bash highlighter, the log view's
// follow-the-end behaviour, the new-job templates.
#include "BashHighlighter.h"
#include "CleanupDialog.h"
#include "CodeEditor.h"
#include "CodeSnippets.h"
#include "ImageSetup.h"
#include "JobTemplates.h"
#include "LogView.h"
#include "Settings.h"
#include "UiFormat.h"
#include "UiTestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QScrollBar>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextDocument>
#include <QJsonObject>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

class TestUiHelpers : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        test::isolateSettings(m_tmp);
    }

    void formatting()
    {
        QCOMPARE(formatBytes(0), QStringLiteral("0 B"));
        QCOMPARE(formatBytes(1023), QStringLiteral("1023 B"));
        QCOMPARE(formatBytes(1536), QStringLiteral("1.5 KiB"));
        QCOMPARE(formatBytes(10LL * 1024 * 1024 * 1024), QStringLiteral("10 GiB"));
        QCOMPARE(formatBytes(-1), QStringLiteral("–"));
        QCOMPARE(formatDuration(850), QStringLiteral("850 ms"));
        QCOMPARE(formatDuration(12400), QStringLiteral("12.4 s"));
        QCOMPARE(formatDuration(185000), QStringLiteral("3 min 05 s"));
        QCOMPARE(formatDuration(7380000), QStringLiteral("2 h 03 min"));
        // phases in the order they happen, unknown ones after
        QCOMPARE(formatTimings(QJsonObject{{QStringLiteral("script"), 40}, {QStringLiteral("zz"), 1}, {QStringLiteral("vm_start"), 310},
                                           {QStringLiteral("queued"), 2}}),
                 QStringLiteral("queued 2 ms · vm_start 310 ms · script 40 ms · zz 1 ms"));
        // the checkpoint (taken while the VM starts) and its size, which is bytes, not a time
        QCOMPARE(formatTimings(QJsonObject{{QStringLiteral("vm_start"), 96}, {QStringLiteral("checkpoint_bytes"), 4096},
                                           {QStringLiteral("checkpoint"), 19}, {QStringLiteral("queued"), 1}}),
                 QStringLiteral("queued 1 ms · checkpoint 19 ms · checkpoint_bytes 4.0 KiB · vm_start 96 ms"));
        QCOMPARE(counted(1, QStringLiteral("job"), QStringLiteral("jobs")), QStringLiteral("1 job"));
        QCOMPARE(counted(3, QStringLiteral("job"), QStringLiteral("jobs")), QStringLiteral("3 jobs"));
        QVERIFY(formatLocalTime(QString()).isEmpty());
        QVERIFY(!formatLocalTime(QStringLiteral("2026-12-01T07:46:24.123Z")).isEmpty());
        QCOMPARE(statusLabel(JobStatus::TimedOut), QStringLiteral("Timed out"));
        for (JobStatus s : {JobStatus::Queued, JobStatus::Running, JobStatus::Completed, JobStatus::Failed, JobStatus::Cancelled, JobStatus::TimedOut}) {
            QVERIFY(!statusIcon(s, QGuiApplication::palette()).isNull());
            QVERIFY(statusColor(s, QGuiApplication::palette()).isValid());
        }
        QVERIFY(!appIcon().isNull());
        QVERIFY(!appIcon().pixmap(64, 64).isNull());
    }

    void runningJobsTick()
    {
        JobRecord j;
        j.status = JobStatus::Running;
        j.startedAt = QDateTime::currentDateTimeUtc().addSecs(-5).toString(Qt::ISODateWithMs);
        const auto ms = jobElapsedMs(j);
        QVERIFY(ms && *ms >= 4900 && *ms < 60000);
        j.status = JobStatus::Completed;
        j.durationMs = 1234;
        QCOMPARE(*jobElapsedMs(j), qint64(1234));
        JobRecord q;
        QVERIFY(!jobElapsedMs(q));
    }

    void shellQuoting()
    {
        QCOMPARE(shellQuote(QStringLiteral("abc")), QStringLiteral("'abc'"));
        QCOMPARE(shellQuote(QStringLiteral("a'b c")), QStringLiteral("'a'\\''b c'"));
        // What bash makes of it is the original string.
        const QString nasty = QStringLiteral("x'; rm -rf / #$(date) `id` \"q\"");
        QProcess p;
        p.start(QStringLiteral("bash"), {QStringLiteral("-c"), QStringLiteral("printf %s ") + shellQuote(nasty)});
        QVERIFY(p.waitForFinished());
        QCOMPARE(QString::fromUtf8(p.readAllStandardOutput()), nasty);
    }

    void cleanupRequest()
    {
        QString why;
        auto r = CleanupDialog::cleanupRequest(QStringLiteral("ws-1"), {QStringLiteral("cache/big file's.bin")}, &why);
        QVERIFY2(r, qPrintable(why));
        QCOMPARE(r->name, QStringLiteral("Clean up: cache/big file's.bin"));
        QVERIFY(r->stateful);
        QCOMPARE(r->workspaceId, QStringLiteral("ws-1"));
        QCOMPARE(r->source, QStringLiteral("gui"));
        QVERIFY(r->script.contains(QStringLiteral("rm -rf -- '/workspace/cache/big file'\\''s.bin'")));
        QVERIFY(!r->validate());

        r = CleanupDialog::cleanupRequest(QStringLiteral("ws-1"), {QStringLiteral("a"), QStringLiteral("b/c"), QStringLiteral("a")}, &why);
        QVERIFY(r);
        QCOMPARE(r->name, QStringLiteral("Clean up: a and 1 more"));
        QCOMPARE(r->script.count(QStringLiteral("rm -rf --")), 2);

        // Never the root, never outside.
        for (const QString &bad : {QString(), QStringLiteral("/"), QStringLiteral("."), QStringLiteral("../etc"), QStringLiteral("a/../../x"),
                                   QStringLiteral("/etc/passwd"), QStringLiteral("%2e%2e/x")}) {
            why.clear();
            QVERIFY2(!CleanupDialog::cleanupRequest(QStringLiteral("ws-1"), {bad}, &why), qPrintable(bad));
            QVERIFY(!why.isEmpty());
        }
        QVERIFY(!CleanupDialog::cleanupRequest(QStringLiteral("ws-1"), {}, &why));
    }

    void settingsRoundTrip()
    {
        QVERIFY(Settings::filePath().startsWith(m_tmp.path()));
        Settings d = Settings::load();
        QCOMPARE(d.maxParallel, 0);
        QCOMPARE(d.httpEnabled, true);
        QCOMPARE(d.accel, AccelMode::Auto);
        Settings s;
        s.dataDir = m_tmp.path() + QStringLiteral("/data");
        s.maxParallel = 3;
        s.defaultVcpus = 2;
        s.defaultMemoryMb = 1024;
        s.accel = AccelMode::Tcg;
        s.httpEnabled = false;
        s.httpPort = 8765;
        s.closeToTray = false;
        s.theme = QStringLiteral("dark");
        QVERIFY(s.save());
        const Settings l = Settings::load();
        QCOMPARE(l.dataDir, s.dataDir);
        QCOMPARE(l.maxParallel, 3);
        QCOMPARE(l.defaultVcpus, 2);
        QCOMPARE(l.defaultMemoryMb, 1024);
        QCOMPARE(l.accel, AccelMode::Tcg);
        QCOMPARE(l.httpEnabled, false);
        QCOMPARE(l.httpPort, 8765);
        QCOMPARE(l.closeToTray, false);
        QCOMPARE(l.theme, QStringLiteral("dark"));
        // Garbage in the file falls back to the defaults.
        {
            auto st = Settings::store();
            st->setValue(QStringLiteral("maxParallel"), QStringLiteral("lots"));
            st->setValue(QStringLiteral("defaultMemoryMb"), 5);
            st->setValue(QStringLiteral("accelerator"), QStringLiteral("warp"));
            st->setValue(QStringLiteral("http/port"), 70000);
            st->setValue(QStringLiteral("theme"), QStringLiteral("neon"));
        }
        const Settings g = Settings::load();
        QCOMPARE(g.maxParallel, 0);
        QCOMPARE(g.defaultMemoryMb, JobLimits::kDefaultMemoryMb);
        QCOMPARE(g.accel, AccelMode::Auto);
        QCOMPARE(g.httpPort, Settings::kDefaultHttpPort);
        QCOMPARE(g.theme, QStringLiteral("system"));
        QFile::remove(Settings::filePath());
    }

    void highlighter()
    {
        QTextDocument doc;
        BashHighlighter h(&doc);
        doc.setPlainText(QStringLiteral("# comment\nif [ -f x ]; then echo \"$HOME and\nmore\" 'q'; fi\ncat <<'EOF'\nbody $X\nEOF\necho done"));
        h.rehighlight(); // the first pass is otherwise queued for the event loop
        auto formatAt = [&](int block, int pos) {
            const QTextBlock b = doc.findBlockByNumber(block);
            for (const QTextLayout::FormatRange &r : b.layout()->formats())
                if (pos >= r.start && pos < r.start + r.length)
                    return r.format;
            return QTextCharFormat();
        };
        QVERIFY(formatAt(0, 2).fontItalic());                       // comment
        QCOMPARE(formatAt(1, 0).fontWeight(), int(QFont::Bold));     // if
        QVERIFY(formatAt(1, 0).foreground() != formatAt(1, 31).foreground()); // keyword vs string
        QCOMPARE(doc.findBlockByNumber(1).userState(), 1);           // a double-quoted string goes on
        QVERIFY(formatAt(2, 1).foreground() == formatAt(1, 31).foreground()); // still the string colour
        QVERIFY(doc.findBlockByNumber(3).userState() >= 3);          // here-document starts
        QVERIFY(doc.findBlockByNumber(4).userState() >= 3);          // its body
        QCOMPARE(doc.findBlockByNumber(5).userState(), 0);           // the terminator ends it
        QCOMPARE(doc.findBlockByNumber(6).userState(), 0);
    }

    void logViewFollowsUntilScrolledUp()
    {
        LogView v;
        v.resize(400, 200);
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        QString lots;
        for (int i = 0; i < 500; ++i)
            lots += QStringLiteral("line %1\n").arg(i);
        v.appendText(lots);
        QVERIFY(v.verticalScrollBar()->maximum() > 0);
        QCOMPARE(v.verticalScrollBar()->value(), v.verticalScrollBar()->maximum());
        QVERIFY(v.isFollowing());
        // The user scrolls up: new output no longer moves the view.
        v.verticalScrollBar()->setValue(10);
        v.appendText(QStringLiteral("more\nand more\n"));
        QCOMPARE(v.verticalScrollBar()->value(), 10);
        QVERIFY(!v.isFollowing());
        // Back at the bottom: following again.
        v.scrollToEnd();
        v.appendText(lots);
        QCOMPARE(v.verticalScrollBar()->value(), v.verticalScrollBar()->maximum());
        QVERIFY(v.toPlainText().endsWith(QStringLiteral("line 499\n")));
        // Text is appended as is (no extra newlines between chunks).
        LogView w;
        w.appendText(QStringLiteral("abc"));
        w.appendText(QStringLiteral("def\n"));
        QCOMPARE(w.toPlainText(), QStringLiteral("abcdef\n"));
    }

    void codeEditorLineNumbers()
    {
        CodeEditor e;
        e.setPlainText(QStringLiteral("a\nb\nc"));
        const int small = e.lineNumberAreaWidth();
        QString many;
        for (int i = 0; i < 1200; ++i)
            many += QStringLiteral("x\n");
        e.setPlainText(many);
        QVERIFY(e.lineNumberAreaWidth() > small);
        QSignalSpy run(&e, &CodeEditor::runRequested);
        e.show();
        QVERIFY(QTest::qWaitForWindowExposed(&e));
        QTest::keyClick(&e, Qt::Key_Return, Qt::ControlModifier);
        QCOMPARE(run.count(), 1);
        const QString before = e.toPlainText();
        QTest::keyClick(&e, Qt::Key_Return);
        QCOMPARE(run.count(), 1);
        QVERIFY(e.toPlainText().size() > before.size());
    }

    void pythonStringsReadBackExactly()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("python3")).isEmpty())
            QSKIP("python3 is not installed");
        const QStringList samples{QStringLiteral("plain"), QStringLiteral("a \"quoted\" word"), QStringLiteral("multi\nline\n"),
                                  QStringLiteral("printf 'a\\n' \\\nnext"), QStringLiteral("ends with a backslash \\"),
                                  QStringLiteral("has \"\"\" triple\nquotes"), QStringLiteral("tab\there, ünïcödé ✓"),
                                  QStringLiteral("ends with a quote\n\""), QStringLiteral("cr\r\nlf")};
        QString program = QStringLiteral("import json\nprint(json.dumps([");
        for (const QString &t : samples)
            program += CodeSnippets::pythonString(t) + QStringLiteral(",\n");
        program += QStringLiteral("]))\n");
        QProcess p;
        p.start(QStringLiteral("python3"), {QStringLiteral("-c"), program});
        QVERIFY(p.waitForFinished(20000));
        const QJsonArray back = QJsonDocument::fromJson(p.readAllStandardOutput()).array();
        QCOMPARE(back.size(), samples.size());
        for (int i = 0; i < samples.size(); ++i)
            QCOMPARE(back.at(i).toString(), samples.at(i));
    }

    void imageBuildCommandIsQuoted()
    {
        ImageSetup s;
        s.builder = QStringLiteral("/src/packaging/guest/build-image.sh");
        s.agent = QStringLiteral("/my build/magpie-agent");
        s.outDir = QStringLiteral("/tmp/guest");
        QVERIFY(s.canBuild());
        QCOMPARE(s.commandLine(false), QStringLiteral("bash /src/packaging/guest/build-image.sh --agent '/my build/magpie-agent' --out /tmp/guest"));
        QVERIFY(s.commandLine(true).startsWith(QStringLiteral("sudo bash ")));
        QVERIFY(!ImageSetup().canBuild());
        // A missing image is Missing whatever the setup says.
        const ImageStatus st = ImageStatus::of(GuestImage::fromDir(m_tmp.path() + QStringLiteral("/nothing")), s);
        QCOMPARE(st.state, ImageStatus::Missing);
        QVERIFY(st.reason.contains(QStringLiteral("lacks")));
    }

    void templatesAreValid()
    {
        const auto all = JobTemplate::all();
        QVERIFY(all.size() >= 8);
        QStringList titles;
        for (const JobTemplate &t : all) {
            titles << t.title;
            JobRequest r;
            r.name = t.name;
            r.script = t.script;
            r.stateful = t.stateful;
            r.workspaceId = t.workspaceId;
            r.workspaceSizeGb = t.workspaceSizeGb;
            const auto e = r.validate();
            QVERIFY2(!e, qPrintable(t.title + QStringLiteral(": ") + (e ? e->message : QString())));
        }
        for (const char *need : {"Initialize a workspace", "Read the workspace", "1. Download data", "2. Process data", "3. Upload results", "Counter", "Initial build", "Rebuild"})
            QVERIFY2(titles.contains(QLatin1String(need)), need);
    }
};

QTEST_MAIN(TestUiHelpers)
#include "TestUiHelpers.moc"
