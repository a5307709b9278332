// AnsiParser.h — turns the bytes a program writes to a terminal into styled lines, the way a
// terminal would show them, one line at a time:
//  * UTF-8, with one U+FFFD for each invalid or cut-off sequence (the WHATWG rule), whatever
//    the chunk boundaries; never a crash;
//  * SGR (ESC[…m): the 16 colours, 256 colours and 24-bit colours (';' and ':' forms), bold,
//    dim, italic, underline, inverse, strike and their resets;
//  * '\r' goes back to the line's start and later text overwrites it, so a progress bar
//    collapses to its last state; backspace, tab (stops every 8 columns), erase in line (ESC[K)
//    and moves within the line (ESC[nG, ESC[nC, ESC[nD) act as in a terminal;
//  * every other escape sequence is dropped: other CSI (cursor up/down/position, clear screen,
//    modes), OSC (window titles, hyperlinks; ended by BEL or ESC \), DCS/SOS/PM/APC strings,
//    two-byte ESC sequences; other control characters too.
// Lines end at '\n' only, so the parser's line k is line k of the raw bytes (the line that
// lines.idx stamps). The sink hears when a line's first byte arrives and when its '\n' does.
// Bounds: a CSI keeps at most 32 parameters; an OSC/DCS string ends at 64 KiB or at a newline
// (so a stray ESC ] cannot swallow the rest of a log); cursor moves reach at most column 1000
// past the text; one line keeps kMaxLineChars characters and says how many more it had.
#pragma once

#include "StyleTable.h"

#include <QList>
#include <QString>
#include <QStringView>
#include <QVarLengthArray>

namespace magpie::ui {

class AnsiParser
{
public:
    class Sink
    {
    public:
        virtual ~Sink() = default;
        // The first byte of a new line arrived (the line may still show nothing).
        virtual void lineStarted() = 0;
        // The line is complete: its characters and one style id per character. `terminated`
        // is false only for a last line without '\n' at finish().
        virtual void lineFinished(QStringView text, const quint32 *styles, bool terminated) = 0;
    };

    static constexpr int kMaxLineChars = 1 << 20;
    static constexpr int kMaxColumnPastText = 1000;
    static constexpr int kMaxStringBytes = 64 * 1024;

    AnsiParser(StyleTable &styles, Sink &sink);

    void feed(const char *data, qsizetype size);
    void feed(const QByteArray &data) { feed(data.constData(), data.size()); }
    // End of the stream: a cut-off UTF-8 sequence becomes U+FFFD and an open line is finished
    // (unterminated).
    void finish();
    // Forgets everything (style, state, the open line) without telling the sink.
    void reset();

    // The line being written (after lineStarted, before lineFinished).
    bool lineOpen() const { return m_lineOpen; }
    const QString &openText() const { return m_line; }
    const QList<quint32> &openStyles() const { return m_styles; }
    // Changes whenever the open line does.
    quint64 revision() const { return m_revision; }
    quint32 currentStyle() const { return m_styleId; }

private:
    enum class State { Ground, Escape, EscIntermediate, Csi, String, StringEscape };
    struct Param {
        int value; // -1: empty
        bool colon; // separated from the previous one by ':'
    };

    void ground(uchar b);
    void escape(uchar b, const uchar *&p);
    void csi(uchar b, const uchar *&p);
    bool c0InSequence(uchar b); // true when b was a C0 control and has been handled
    void control(uchar b);
    void decodeUtf8(uchar b);
    void utf8Error();
    void print(char32_t cp);
    void putAscii(const uchar *s, qsizetype n);
    void putUnit(QChar c, bool secondOfPair);
    void padTo(int col);
    void csiDispatch(uchar final);
    void sgr();
    quint32 sgrColour(int &i);
    void eraseInLine(int mode);
    void moveTo(qint64 col);
    void finishLine(bool terminated);
    int param(int i, int def) const;

    StyleTable &m_table;
    Sink &m_sink;
    State m_state = State::Ground;
    bool m_lineOpen = false;
    QString m_line;
    QList<quint32> m_styles;
    int m_col = 0;
    qint64 m_dropped = 0;
    quint64 m_revision = 0;
    TextStyle m_style;
    quint32 m_styleId = 0;
    // UTF-8
    char32_t m_cp = 0;
    int m_need = 0;
    uchar m_lo = 0x80, m_hi = 0xBF;
    // CSI
    QVarLengthArray<Param, 32> m_params;
    int m_cur = -1;
    bool m_nextColon = false;
    bool m_csiIgnore = false;
    int m_stringBytes = 0;
};

} // namespace magpie::ui
