// TestGuestProtocol — framing shared by the host and the guest agent.
#include "GuestProtocol.h"

#include <QtTest>

using namespace magpie::guest;

class TestGuestProtocol : public QObject
{
    Q_OBJECT
private slots:
    void roundTrip()
    {
        const std::string payload("a\0b\xff", 4);
        const std::string f = encode(static_cast<uint8_t>(Msg::Stdout), payload);
        QCOMPARE(f.size(), size_t(9));
        uint8_t tag = 0;
        std::string out;
        QCOMPARE(decode(f.data(), f.size(), tag, out), 9L);
        QCOMPARE(tag, static_cast<uint8_t>(Msg::Stdout));
        QVERIFY(out == payload);
    }
    void partialFramesNeedMore()
    {
        const std::string f = encode('X', "hello");
        uint8_t tag = 0;
        std::string out;
        for (size_t n = 0; n < f.size(); ++n)
            QCOMPARE(decode(f.data(), n, tag, out), 0L);
    }
    void recordsInOrderUntilOneIsCut()
    {
        const std::string whole = encode(1, "one") + encode(2, "") + encode(3, "three");
        std::vector<std::pair<int, std::string>> seen;
        const auto collect = [&seen](uint8_t tag, const std::string &v) { seen.emplace_back(tag, v); };
        QVERIFY(forEachRecord(whole, collect));
        QCOMPARE(seen.size(), size_t(3));
        QVERIFY(seen[0] == std::make_pair(1, std::string("one")) && seen[1] == std::make_pair(2, std::string()));
        QVERIFY(seen[2] == std::make_pair(3, std::string("three")));
        seen.clear();
        QVERIFY(!forEachRecord(whole.substr(0, whole.size() - 1), collect)); // the last record is cut short
        QCOMPARE(seen.size(), size_t(2));
        seen.clear();
        QVERIFY(forEachRecord(std::string(), collect));
        QVERIFY(seen.empty());
    }
    void oversizedFrameIsAnError()
    {
        std::string f(1, 'O');
        appendU32(f, kMaxFrame + 1);
        uint8_t tag = 0;
        std::string out;
        QCOMPARE(decode(f.data(), f.size(), tag, out), -1L);
    }
    void littleEndianLength()
    {
        const std::string f = encode('O', std::string(0x0102, 'x'));
        QCOMPARE(static_cast<unsigned char>(f[1]), 0x02);
        QCOMPARE(static_cast<unsigned char>(f[2]), 0x01);
    }
};

QTEST_GUILESS_MAIN(TestGuestProtocol)
#include "TestGuestProtocol.moc"
