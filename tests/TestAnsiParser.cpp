// TestAnsiParser — terminal output bytes into styled lines (ui/output): SGR colours in all three
// forms, bold/underline and their resets, other escape sequences dropped, '\r' progress lines
// collapsed, invalid UTF-8 as U+FFFD, any chunking giving the same result, random bytes never
// crashing, the bounds; the palette keeping colours readable in light and dark; the line model
// and the combined order built from lines.idx records.
#include "AnsiPalette.h"
#include "AnsiParser.h"
#include "OutputDocument.h"
#include "OutputLines.h"

#include <QRandomGenerator>
#include <QtTest>

using namespace magpie;
using namespace magpie::ui;

namespace {
struct Parsed {
    StyleTable styles;
    OutputLines lines{styles};
    QStringList texts() const
    {
        QStringList out;
        for (int i = 0; i < lines.count(); ++i)
            out << lines.text(i).toString();
        return out;
    }
    // "start+length:fg/bg/flags" for each run of a line.
    QStringList runs(int line) const
    {
        QStringList out;
        for (const OutputLines::Run &r : lines.runs(line)) {
            const TextStyle &s = styles.style(r.style);
            out << QStringLiteral("%1+%2:%3/%4/%5").arg(r.start).arg(r.length).arg(s.fg, 0, 16).arg(s.bg, 0, 16).arg(s.flags);
        }
        return out;
    }
};

std::unique_ptr<Parsed> parse(const QByteArray &bytes, int chunk = 0)
{
    auto p = std::make_unique<Parsed>();
    if (chunk <= 0) {
        p->lines.append(bytes);
    } else {
        for (qsizetype i = 0; i < bytes.size(); i += chunk)
            p->lines.append(bytes.mid(i, chunk));
    }
    return p;
}

QString idx(int n)
{
    return QString::number(TextStyle::kIndexed | quint32(n), 16);
}

QPalette lightPalette()
{
    QPalette p;
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::Text, Qt::black);
    return p;
}

QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    p.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
    return p;
}

const QByteArray kMixed = "\x1b[31mred\x1b[0m plain \x1b[1;4;38;5;208mX\x1b[22;24m y \x1b[38;2;10;20;30mT\x1b[39m\n"
                          "moves:\x1b[2A\x1b[5C\x1b[Hhere\x1b[?25l\x1b]0;title\x07 done\x1b[2J\n"
                          "progress  10%\rprogress  50%\rprogress 100%\n"
                          "bad \xff\xfe ok \xe2\x82 end \xf0\x9f\x98\x80\n"
                          "\x1b]8;;http://example.com\x1b\\link\x1b]8;;\x1b\\ \x1bPqdata\x1b\\ \x1b(B\x1b" "7tail\r\n";
} // namespace

class TestAnsiParser : public QObject
{
    Q_OBJECT
private slots:
    void sgrColoursAndAttributes()
    {
        auto p = parse("\x1b[31mred\x1b[0m plain \x1b[1;4;38;5;208mX\x1b[22;24m y \x1b[38;2;10;20;30mT\x1b[39m\n");
        QCOMPARE(p->texts(), QStringList{"red plain X y T"});
        QCOMPARE(p->runs(0), QStringList({"0+3:" + idx(1) + "/0/0", "10+1:" + idx(208) + "/0/9", "11+3:" + idx(208) + "/0/0",
                                          "14+1:20a141e/0/0"}));
        // Colon forms, bright colours, backgrounds, inverse, and the style carrying over lines.
        p = parse("\x1b[38:2::1:2:3mA\x1b[38:5:9mB\x1b[48;5;4mC\x1b[7mD\x1b[m\x1b[92;101mE\nF\x1b[0m\x1b[3;9mG\x1b[23;29m\n");
        QCOMPARE(p->texts(), QStringList({"ABCDE", "FG"}));
        QCOMPARE(p->runs(0), QStringList({"0+1:2010203/0/0", "1+1:" + idx(9) + "/0/0", "2+1:" + idx(9) + "/" + idx(4) + "/0",
                                          "3+1:" + idx(9) + "/" + idx(4) + "/16", "4+1:" + idx(10) + "/" + idx(9) + "/0"}));
        QCOMPARE(p->runs(1), QStringList({"0+1:" + idx(10) + "/" + idx(9) + "/0", "1+1:0/0/36"}));
        // 4:0 turns underline off, 21 turns it on; ESC c resets.
        p = parse("\x1b[4mu\x1b[4:0mv\x1b[21mw\x1b" "cx\n");
        QCOMPARE(p->runs(0), QStringList({"0+1:0/0/8", "2+1:0/0/8"}));
    }

    void otherEscapeSequencesAreDropped()
    {
        auto p = parse(kMixed);
        const QStringList t = p->texts();
        QCOMPARE(t.size(), 5);
        QCOMPARE(t[1], QStringLiteral("moves:     here done")); // ESC[5C moves right; up, home, modes, title, clear: gone
        QCOMPARE(t[4], QStringLiteral("link  tail"));            // hyperlink kept as text, DCS and charsets gone
        for (const QString &line : t)
            QVERIFY2(!line.contains(QChar(0x1b)), qPrintable(line));
    }

    void carriageReturnCollapsesProgress()
    {
        auto p = parse(kMixed);
        QCOMPARE(p->texts().at(2), QStringLiteral("progress 100%"));
        p = parse("downloading a long name\r\x1b[Kdone\nabcdef\rXY\nabc\b\bX\na\tb\n\x1b[5Gx\x1b[2Dy\ncrlf\r\n\r\x1b[2K\n");
        QCOMPARE(p->texts(), QStringList({"done", "XYcdef", "aXc", "a       b", "   yx", "crlf", ""}));
        // A progress line still being drawn shows its current state.
        p = parse("[####      ] 40%\r[########  ] 80%");
        QCOMPARE(p->lines.count(), 1);
        QVERIFY(p->lines.isOpen(0));
        QCOMPARE(p->lines.text(0).toString(), QStringLiteral("[########  ] 80%"));
        p->lines.append("\r[##########] 100%\n");
        QCOMPARE(p->texts(), QStringList{"[##########] 100%"});
    }

    void invalidUtf8BecomesReplacementCharacters()
    {
        auto p = parse(kMixed);
        const QChar r(0xFFFD);
        QCOMPARE(p->texts().at(3), QStringLiteral("bad %1%1 ok %1 end ").arg(r) + QString::fromUtf8("\xf0\x9f\x98\x80"));
        // The WHATWG rule: one U+FFFD per maximal invalid subpart (what Python's decoder does).
        p = parse("\xed\xa0\x80|\xc0\xaf|\xf4\x90\x80\x80|\xe2\x82\n\xe2");
        QCOMPARE(p->texts().at(0), QStringLiteral("%1%1%1|%1%1|%1%1%1%1|%1").arg(r));
        p->lines.finish(); // the cut-off sequence at the very end
        QCOMPARE(p->texts().at(1), QString(r));
    }

    void anyChunkingGivesTheSameLines()
    {
        const auto whole = parse(kMixed);
        for (int chunk : {1, 2, 3, 5, 7, 13}) {
            const auto p = parse(kMixed, chunk);
            QCOMPARE(p->texts(), whole->texts());
            for (int i = 0; i < whole->lines.count(); ++i)
                QCOMPARE(p->runs(i), whole->runs(i));
        }
    }

    void randomBytesNeverCrashAndLinesFollowNewlines()
    {
        for (quint32 seed : {1u, 2u, 3u, 42u}) {
            QRandomGenerator rng(seed);
            QByteArray bytes(200000, Qt::Uninitialized);
            const char alphabet[] = "\x1b[;:0123456789mKGCDA?]\x07\\\r\n\t\b\xe2\x82\xac\xff\xf0\x9f";
            for (char &c : bytes)
                c = rng.bounded(4) == 0 ? char(rng.bounded(256)) : alphabet[rng.bounded(int(sizeof(alphabet) - 1))];
            const auto p = parse(bytes, 1 + int(seed) * 17);
            const qsizetype newlines = bytes.count('\n');
            QCOMPARE(qsizetype(p->lines.count()), newlines + (bytes.endsWith('\n') ? 0 : 1));
            QCOMPARE(p->lines.linesSeen(), qint64(p->lines.count()));
        }
    }

    void bounds()
    {
        // A stray OSC does not swallow the lines after it.
        auto p = parse("before \x1b]0;no terminator\nafter\n");
        QCOMPARE(p->texts(), QStringList({"before ", "after"}));
        // Cursor moves stop 1000 columns past the text.
        p = parse("x\x1b[99999Cy\n");
        QCOMPARE(p->lines.length(0), 2 + AnsiParser::kMaxColumnPastText);
        // One line keeps kMaxLineChars characters and counts the rest.
        QByteArray longLine(AnsiParser::kMaxLineChars + 500, 'a');
        p = parse(longLine + "\nnext\n");
        QVERIFY(p->lines.text(0).endsWith(QStringLiteral("[500 more characters on this line]")));
        QVERIFY(p->lines.length(0) < AnsiParser::kMaxLineChars + 100);
        QCOMPARE(p->lines.text(1).toString(), QStringLiteral("next"));
        // A flood of empty lines stops being kept at kMaxLines, with a note.
        p = parse(QByteArray(OutputLines::kMaxLines + 10, '\n'));
        QVERIFY(p->lines.full());
        QCOMPARE(p->lines.count(), OutputLines::kMaxLines);
        QVERIFY(p->lines.text(p->lines.count() - 1).contains(QStringLiteral("this view keeps")));
        QCOMPARE(p->lines.linesSeen(), qint64(OutputLines::kMaxLines + 10));
    }

    void paletteStaysReadable()
    {
        for (const QPalette &pal : {lightPalette(), darkPalette()}) {
            const AnsiPalette ap(pal);
            QCOMPARE(ap.isDark(), pal.color(QPalette::Base).lightness() < 128);
            for (int n = 0; n < 256; ++n) {
                TextStyle s;
                s.fg = TextStyle::kIndexed | quint32(n);
                const QColor fg = ap.foreground(s);
                QVERIFY2(AnsiPalette::contrast(fg, pal.color(QPalette::Base)) >= AnsiPalette::kMinContrast - 0.01,
                         qPrintable(QStringLiteral("colour %1 as %2").arg(n).arg(fg.name())));
            }
            // 24-bit colour equal to the background is nudged too; an explicit background is honoured.
            TextStyle same;
            same.fg = TextStyle::kRgb | (pal.color(QPalette::Base).rgb() & 0xFFFFFF);
            QVERIFY(AnsiPalette::contrast(ap.foreground(same), pal.color(QPalette::Base)) >= AnsiPalette::kMinContrast - 0.01);
            TextStyle onRed;
            onRed.bg = TextStyle::kIndexed | 1;
            QCOMPARE(ap.background(onRed), ap.indexed(1));
            QVERIFY(AnsiPalette::contrast(ap.foreground(onRed), ap.indexed(1)) >= AnsiPalette::kMinContrast - 0.01);
            TextStyle inverse;
            inverse.flags = TextStyle::Inverse;
            QCOMPARE(ap.background(inverse), pal.color(QPalette::Text));
            QCOMPARE(ap.foreground(inverse), pal.color(QPalette::Base));
        }
        // The two variants differ where it matters: yellow is darker on white.
        TextStyle yellow;
        yellow.fg = TextStyle::kIndexed | 3;
        QVERIFY(AnsiPalette(lightPalette()).foreground(yellow).lightness() < AnsiPalette(darkPalette()).foreground(yellow).lightness());
    }

    void combinedOrderFollowsRecords()
    {
        OutputDocument doc;
        doc.appendBytes(1, "o1\no2\no3");
        doc.appendBytes(2, "e1\ne2\n");
        // Arrival: o1, e1, o2, e2, o3 (the open line).
        doc.addRecords({{100, 0, 1}, {101, 0, 2}, {102, 3, 1}, {103, 3, 2}, {104, 6, 1}});
        doc.endBatch();
        auto combined = [&] {
            QStringList out;
            for (int r = 0; r < doc.rowCount(OutputDocument::View::Combined); ++r) {
                const auto row = doc.row(OutputDocument::View::Combined, r);
                out << doc.lines(row.stream).text(row.line).toString() + "@" + QString::number(doc.lines(row.stream).time(row.line));
            }
            return out;
        };
        QCOMPARE(combined(), QStringList({"o1@100", "e1@101", "o2@102", "e2@103", "o3@104"}));
        QCOMPARE(doc.plainText(OutputDocument::View::Combined), QStringLiteral("o1\ne1\no2\ne2\no3"));
        // The open line goes on; a new stderr line comes after it.
        doc.appendBytes(1, " more\n");
        doc.appendBytes(2, "e3\n");
        doc.addRecords({{105, 6, 2}});
        doc.endBatch();
        QCOMPARE(combined(), QStringList({"o1@100", "e1@101", "o2@102", "e2@103", "o3 more@104", "e3@105"}));
        QCOMPARE(doc.rowCount(OutputDocument::View::Stdout), 3);
        QCOMPARE(doc.rowCount(OutputDocument::View::Stderr), 3);
        // Lines without records (no index, or past its cap) are placed as they come.
        doc.appendBytes(1, "late\n");
        doc.endBatch();
        QCOMPARE(combined().last(), QStringLiteral("late@-1"));
        doc.finish();
        QCOMPARE(doc.plainText(OutputDocument::View::Combined), QStringLiteral("o1\ne1\no2\ne2\no3 more\ne3\nlate\n"));
        doc.clear();
        QCOMPARE(doc.rowCount(OutputDocument::View::Combined), 0);
    }
};

QTEST_MAIN(TestAnsiParser)
#include "TestAnsiParser.moc"
