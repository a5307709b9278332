// TestLogIndex — per-line arrival times beside the raw streams (lines.idx), written through the
// real JobStore::appendOutput over a real SQLite file and read back with LogIndex::readLines:
// records sit at line starts in arrival order, the raw files stay byte-exact, the index is
// capped, and the reader's bounds (entries, bytes, tail, paging, streams) hold.
#include "Database.h"
#include "JobStore.h"
#include "LogIndex.h"
#include "Tools.h"

#include <QDateTime>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

class TestLogIndex : public QObject
{
    Q_OBJECT
    QTemporaryDir m_tmp;
    Database m_db;
    std::unique_ptr<JobStore> m_store;

    JobRecord newJob(const QString &id)
    {
        JobRecord j;
        j.requestId = id;
        j.name = id;
        j.script = QStringLiteral("true");
        j.createdAt = isoNow();
        if (!m_store->insert(j).isEmpty())
            qFatal("insert failed");
        m_store->prepareLogs(id);
        return j;
    }

    static QStringList texts(const LogLines &l)
    {
        QStringList out;
        for (const LogLine &e : l.entries)
            out << QStringLiteral("%1:%2").arg(e.stream).arg(QString::fromUtf8(e.text));
        return out;
    }

    static QByteArray fileBytes(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QVERIFY(m_db.open(m_tmp.filePath(QStringLiteral("m.db"))));
        m_store = std::make_unique<JobStore>(m_db, m_tmp.filePath(QStringLiteral("logs")));
    }

    void recordsAtLineStartsInArrivalOrder()
    {
        JobRecord j = newJob(QStringLiteral("order"));
        const qint64 before = QDateTime::currentMSecsSinceEpoch();
        QCOMPARE(m_store->appendOutput(j, 1, "a\nb"), 3);
        QCOMPARE(m_store->appendOutput(j, 2, "e1\ne2\n"), 6);
        QCOMPARE(m_store->appendOutput(j, 1, "c\n"), 2);
        QCOMPARE(m_store->appendOutput(j, 1, "\nd\n"), 3);
        QCOMPARE(m_store->appendOutput(j, 2, "tail without newline"), 20);
        const qint64 after = QDateTime::currentMSecsSinceEpoch();
        const QString dir = m_store->logDir(j.requestId);

        // The raw streams are exactly what was appended.
        QCOMPARE(fileBytes(m_store->logPath(j.requestId, 1)), QByteArray("a\nbc\n\nd\n"));
        QCOMPARE(fileBytes(m_store->logPath(j.requestId, 2)), QByteArray("e1\ne2\ntail without newline"));

        const QList<LogIndexRecord> recs = LogIndex::readRecords(dir);
        QCOMPARE(recs.size(), 7);
        QCOMPARE(QFile(LogIndex::indexPath(dir)).size(), qint64(7 * LogIndex::kRecordSize));
        const QList<QPair<int, qint64>> expected = {{1, 0}, {1, 2}, {2, 0}, {2, 3}, {1, 5}, {1, 6}, {2, 6}};
        qint64 prevTime = 0;
        for (int i = 0; i < recs.size(); ++i) {
            QCOMPARE(recs[i].stream, expected[i].first);
            QCOMPARE(recs[i].offset, expected[i].second);
            QVERIFY(recs[i].timeMs >= before && recs[i].timeMs <= after);
            QVERIFY(recs[i].timeMs >= prevTime);
            prevTime = recs[i].timeMs;
        }
        QCOMPARE(LogIndex::readRecords(dir, 5).size(), 2);
        QCOMPARE(LogIndex::recordCount(dir), 7);

        const LogLines all = LogIndex::readLines(dir, {});
        QVERIFY(all.ok);
        QCOMPARE(all.total, 7);
        QCOMPARE(all.first, 0);
        QCOMPARE(texts(all), QStringList({"1:a", "1:bc", "2:e1", "2:e2", "1:", "1:d", "2:tail without newline"}));
        for (const LogLine &e : all.entries)
            QVERIFY(e.exactTime);
        QCOMPARE(all.entries[6].length, 20);
    }

    void truncationMarkerLinesAreIndexed()
    {
        qputenv("MAGPIE_LOG_CAP_BYTES", "10");
        JobRecord j = newJob(QStringLiteral("capped"));
        m_store->appendOutput(j, 1, "1234\n5678");
        m_store->appendOutput(j, 1, "9\nmore\nstill more\n");
        m_store->appendOutput(j, 1, "ignored\n");
        qunsetenv("MAGPIE_LOG_CAP_BYTES");
        const QString dir = m_store->logDir(j.requestId);
        QCOMPARE(fileBytes(m_store->logPath(j.requestId, 1)), QByteArray("1234\n56789") + JobStore::truncationMarker(10));
        const LogLines l = LogIndex::readLines(dir, {});
        QCOMPARE(texts(l), QStringList({"1:1234", "1:56789", "1:[magpie: output truncated: this stream exceeded 10 bytes]"}));
        QCOMPARE(LogIndex::recordCount(dir), 3);
    }

    void floodOfOneByteLinesIsCapped()
    {
        JobRecord j = newJob(QStringLiteral("flood"));
        const qint64 lines = 600000; // 60 chunks of 10 000 lines
        QVERIFY(lines > LogIndex::kMaxRecords);
        QByteArray chunk;
        for (int i = 0; i < 10000; ++i)
            chunk += "x\n";
        for (qint64 written = 0; written < lines; written += 10000)
            m_store->appendOutput(j, 1, chunk);
        m_store->appendOutput(j, 2, "late stderr\n");
        const QString dir = m_store->logDir(j.requestId);
        // The index stops at its cap; the stream keeps every byte.
        QCOMPARE(QFile(LogIndex::indexPath(dir)).size(), LogIndex::kMaxRecords * LogIndex::kRecordSize);
        QCOMPARE(QFile(m_store->logPath(j.requestId, 1)).size(), lines * 2);
        // The reader still returns every line: recorded ones first, then stdout's rest, then stderr's.
        LogLinesQuery q;
        q.fromTail = true;
        q.maxEntries = 3;
        const LogLines tail = LogIndex::readLines(dir, q);
        QCOMPARE(tail.total, lines + 1);
        QCOMPARE(tail.first, lines - 2);
        QCOMPARE(texts(tail), QStringList({"1:x", "1:x", "2:late stderr"}));
        const qint64 lastRecorded = LogIndex::readRecords(dir, LogIndex::kMaxRecords - 1).value(0).timeMs;
        for (const LogLine &e : tail.entries) {
            QVERIFY(!e.exactTime);
            QCOMPARE(e.timestampMs, lastRecorded);
        }
        q = {};
        q.first = LogIndex::kMaxRecords - 1;
        q.maxEntries = 2;
        const LogLines edge = LogIndex::readLines(dir, q);
        QCOMPARE(edge.entries.size(), 2);
        QVERIFY(edge.entries[0].exactTime);
        QVERIFY(!edge.entries[1].exactTime);
    }

    void boundsAndPaging()
    {
        const QString dir = m_tmp.filePath(QStringLiteral("paging"));
        QVERIFY(QDir().mkpath(dir));
        QByteArray out, err;
        QFile fo(dir + "/stdout.log"), fe(dir + "/stderr.log");
        QVERIFY(fo.open(QIODevice::WriteOnly) && fe.open(QIODevice::WriteOnly));
        // 40 lines each, alternating, with times 1000, 1001, …
        for (int i = 0; i < 40; ++i) {
            const QByteArray o = "out " + QByteArray::number(i) + "\n";
            const QByteArray e = "err " + QByteArray::number(i) + "\n";
            fo.write(o);
            fo.flush();
            QVERIFY(LogIndex::recordLines(dir, 1, out.size(), o, 1000 + 2 * i));
            out += o;
            fe.write(e);
            fe.flush();
            QVERIFY(LogIndex::recordLines(dir, 2, err.size(), e, 1001 + 2 * i));
            err += e;
        }
        LogLinesQuery q;
        q.maxEntries = 7;
        QStringList seen;
        qint64 prev = -1;
        for (;;) {
            const LogLines page = LogIndex::readLines(dir, q);
            QVERIFY(page.ok);
            QCOMPARE(page.total, 80);
            QCOMPARE(page.first, q.first);
            QVERIFY(page.entries.size() <= 7);
            if (page.entries.isEmpty())
                break;
            for (const LogLine &e : page.entries) {
                QVERIFY(e.timestampMs > prev);
                prev = e.timestampMs;
            }
            seen += texts(page);
            q.first = page.first + page.entries.size();
        }
        QCOMPARE(seen.size(), 80);
        QCOMPARE(seen.first(), QStringLiteral("1:out 0"));
        QCOMPARE(seen.at(1), QStringLiteral("2:err 0"));
        QCOMPARE(seen.last(), QStringLiteral("2:err 39"));

        // Bytes: "out 0".."out 9" are 5 bytes each; 12 bytes hold two lines.
        q = {};
        q.maxBytes = 12;
        q.streams = 1;
        LogLines b = LogIndex::readLines(dir, q);
        QCOMPARE(b.total, 40);
        QCOMPARE(texts(b), QStringList({"1:out 0", "1:out 1"}));
        q.fromTail = true;
        q.streams = 2;
        b = LogIndex::readLines(dir, q);
        QCOMPARE(b.first, 38);
        QCOMPARE(texts(b), QStringList({"2:err 38", "2:err 39"}));
        // A line longer than maxBytes still comes back (cut), so paging moves on.
        q = {};
        q.maxBytes = 3;
        b = LogIndex::readLines(dir, q);
        QCOMPARE(b.entries.size(), 1);
        QCOMPARE(b.entries[0].text, QByteArray("out"));
        QCOMPARE(b.entries[0].length, 5);
        // Past the end: nothing, and the total.
        q = {};
        q.first = 500;
        b = LogIndex::readLines(dir, q);
        QVERIFY(b.ok);
        QCOMPARE(b.entries.size(), 0);
        QCOMPARE(b.first, 80);
        // Bad queries change nothing and say why.
        for (auto bad : {LogLinesQuery{0, 0, false, 10, 10}, LogLinesQuery{3, -1, false, 10, 10},
                         LogLinesQuery{3, 0, false, 0, 10}, LogLinesQuery{3, 0, false, LogIndex::kMaxQueryEntries + 1, 10},
                         LogLinesQuery{3, 0, false, 10, 0}}) {
            b = LogIndex::readLines(dir, bad);
            QVERIFY(!b.ok);
            QVERIFY(b.error.contains(QStringLiteral("bad query")));
        }
    }

    void folderWithoutIndexReadsInStreamOrder()
    {
        const QString dir = m_tmp.filePath(QStringLiteral("old-job"));
        QVERIFY(QDir().mkpath(dir));
        QFile fo(dir + "/stdout.log"), fe(dir + "/stderr.log");
        QVERIFY(fo.open(QIODevice::WriteOnly) && fe.open(QIODevice::WriteOnly));
        fo.write("one\ntwo\n");
        fe.write("warn\n");
        fo.close();
        fe.close();
        const LogLines l = LogIndex::readLines(dir, {});
        QCOMPARE(texts(l), QStringList({"1:one", "1:two", "2:warn"}));
        for (const LogLine &e : l.entries) {
            QVERIFY(!e.exactTime);
            QVERIFY(e.timestampMs > 0);
        }
    }

    void tornRecordIsDroppedAndTheRestStaysAligned()
    {
        JobRecord j = newJob(QStringLiteral("torn"));
        m_store->appendOutput(j, 1, "first\n");
        const QString dir = m_store->logDir(j.requestId);
        {
            QFile f(LogIndex::indexPath(dir));
            QVERIFY(f.open(QIODevice::Append));
            f.write("garbage"); // a crash in the middle of a record
        }
        QCOMPARE(LogIndex::readRecords(dir).size(), 1);
        m_store->appendOutput(j, 1, "second\n");
        QCOMPARE(QFile(LogIndex::indexPath(dir)).size(), qint64(2 * LogIndex::kRecordSize));
        QCOMPARE(texts(LogIndex::readLines(dir, {})), QStringList({"1:first", "1:second"}));
    }
};

QTEST_GUILESS_MAIN(TestLogIndex)
#include "TestLogIndex.moc"
