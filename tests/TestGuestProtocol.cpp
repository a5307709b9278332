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
