// TestWorkspaceStore — workspace disks (real qcow2/ext4 files) and their SQLite records.
#include "Database.h"
#include "Tools.h"
#include "WorkspaceStore.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

using namespace magpie;

class TestWorkspaceStore : public QObject
{
    Q_OBJECT
private slots:
    void idRules_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<bool>("valid");
        QTest::newRow("simple") << "my-project-workspace" << true;
        QTest::newRow("digits") << "0123" << true;
        QTest::newRow("uuid") << "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f" << true;
        QTest::newRow("one char") << "a" << true;
        QTest::newRow("63 chars") << QString(63, QLatin1Char('a')) << true;
        QTest::newRow("64 chars") << QString(64, QLatin1Char('a')) << false;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("upper") << "Workspace" << false;
        QTest::newRow("underscore") << "my_ws" << false;
        QTest::newRow("leading hyphen") << "-ws" << false;
        QTest::newRow("dot") << "ws.1" << false;
        QTest::newRow("dotdot") << ".." << false;
        QTest::newRow("slash") << "a/b" << false;
        QTest::newRow("space") << "a b" << false;
        QTest::newRow("unicode") << QStringLiteral("caf\u00e9") << false;
    }
    void idRules()
    {
        QFETCH(QString, id);
        QFETCH(bool, valid);
        QString why;
        QCOMPARE(WorkspaceStore::isValidId(id, &why), valid);
        QCOMPARE(why.isEmpty(), valid);
    }

    void invalidIdsAndSizesCreateNothing()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        WorkspaceStore store(db, tmp.filePath("ws"));
        for (const QString &id : {QStringLiteral("Bad"), QStringLiteral("../escape"), QStringLiteral("-x"), QString(64, QLatin1Char('z'))}) {
            const QString err = store.create(id, 1);
            QVERIFY2(err.contains(QStringLiteral("workspace_id")), qPrintable(err));
        }
        QVERIFY(!store.create(QStringLiteral("good"), 0).isEmpty());
        QVERIFY(!store.create(QStringLiteral("good"), WorkspaceStore::kMaxSizeGb + 1).isEmpty());
        QCOMPARE(QDir(tmp.filePath("ws")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
        QCOMPARE(QDir(tmp.path()).entryList({QStringLiteral("*escape*")}), QStringList());
        QVERIFY(store.list().isEmpty());
    }

    void tenGigabyteWorkspaceIsSparse()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        WorkspaceStore store(db, tmp.filePath("ws"));
        QCOMPARE(store.create(QStringLiteral("big"), 10), QString());
        const auto info = store.get(QStringLiteral("big"));
        QVERIFY(info);
        QCOMPARE(info->sizeGb, 10);
        qInfo("10 GiB workspace occupies %lld bytes on the host", info->diskBytes);
        QVERIFY(info->diskBytes > 0);
        QVERIFY(info->diskBytes < 20LL * 1024 * 1024);
        // the qcow2 header says 10 GiB
        const ToolResult r = runTool(qemuImgBinary(), {QStringLiteral("info"), QStringLiteral("--output=json"), store.diskPath(QStringLiteral("big"))});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.output.contains("\"virtual-size\": 10737418240"), r.output.constData());
        QVERIFY(r.output.contains("\"format\": \"qcow2\""));
        // no temporary files remain
        QCOMPARE(QDir(tmp.filePath("ws")).entryList(QDir::Files), QStringList{QStringLiteral("big.qcow2")});
    }

    void listRecordAndRemove()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        WorkspaceStore store(db, tmp.filePath("ws"));
        QCOMPARE(store.create(QStringLiteral("one"), 1), QString());
        QCOMPARE(store.create(QStringLiteral("two"), 2), QString());
        QVERIFY(store.create(QStringLiteral("two"), 2).contains(QStringLiteral("already exists")));
        QCOMPARE(store.recordUse(QStringLiteral("one"), 12345, 1000000, isoNow()), QString());
        const auto list = store.list();
        QCOMPARE(list.size(), 2);
        const auto one = store.get(QStringLiteral("one"));
        QCOMPARE(one->usedBytes, 12345);
        QCOMPARE(one->totalBytes, 1000000);
        QVERIFY(!one->lastUsedAt.isEmpty());
        QCOMPARE(store.get(QStringLiteral("two"))->usedBytes, -1);
        QCOMPARE(store.remove(QStringLiteral("one")), QString());
        QVERIFY(!store.exists(QStringLiteral("one")));
        QVERIFY(!QFileInfo::exists(store.diskPath(QStringLiteral("one"))));
        QVERIFY(!store.remove(QStringLiteral("one")).isEmpty());
        QCOMPARE(store.list().size(), 1);
    }

    void failedBuildLeavesNothing()
    {
        QTemporaryDir tmp;
        Database db;
        QVERIFY(db.open(tmp.filePath("m.db")));
        WorkspaceStore store(db, tmp.filePath("ws"));
        qputenv("MAGPIE_QEMU_IMG", "/bin/false");
        const QString err = store.create(QStringLiteral("broken"), 1);
        qunsetenv("MAGPIE_QEMU_IMG");
        QVERIFY2(err.contains(QStringLiteral("converting")), qPrintable(err));
        QVERIFY(!store.exists(QStringLiteral("broken")));
        QCOMPARE(QDir(tmp.filePath("ws")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
    }
};

QTEST_GUILESS_MAIN(TestWorkspaceStore)
#include "TestWorkspaceStore.moc"
