#include "AnsiParser.h"

#include <algorithm>

namespace magpie::ui {

namespace {
constexpr uchar kEsc = 0x1B;
constexpr uchar kCan = 0x18;
constexpr uchar kSub = 0x1A;
constexpr uchar kBel = 0x07;
constexpr QChar kReplacement(0xFFFD);

bool isPrintableAscii(uchar b)
{
    return b >= 0x20 && b < 0x7F;
}
} // namespace

AnsiParser::AnsiParser(StyleTable &styles, Sink &sink)
    : m_table(styles), m_sink(sink)
{
}

void AnsiParser::reset()
{
    m_state = State::Ground;
    m_lineOpen = false;
    m_line.clear();
    m_styles.clear();
    m_col = 0;
    m_dropped = 0;
    ++m_revision;
    m_style = TextStyle();
    m_styleId = 0;
    m_cp = 0;
    m_need = 0;
    m_lo = 0x80;
    m_hi = 0xBF;
    m_params.clear();
    m_cur = -1;
    m_stringBytes = 0;
}

void AnsiParser::feed(const char *data, qsizetype size)
{
    const uchar *p = reinterpret_cast<const uchar *>(data);
    const uchar *end = p + size;
    while (p < end) {
        if (!m_lineOpen) {
            m_lineOpen = true;
            m_sink.lineStarted();
        }
        const uchar b = *p;
        switch (m_state) {
        case State::Ground:
            if (m_need == 0 && isPrintableAscii(b)) { // the common case: a run of plain text
                const uchar *q = p + 1;
                while (q < end && isPrintableAscii(*q))
                    ++q;
                putAscii(p, q - p);
                p = q;
                continue;
            }
            if (b >= 0x80) {
                decodeUtf8(b);
            } else {
                if (m_need) { // a sequence cut short by a control character or ASCII
                    utf8Error();
                    continue;
                }
                control(b);
            }
            ++p;
            continue;
        case State::Escape:
        case State::EscIntermediate:
            escape(b, p);
            continue;
        case State::Csi:
            csi(b, p);
            continue;
        case State::String:
            ++p;
            if (b == kBel || b == kCan || b == kSub) {
                m_state = State::Ground;
            } else if (b == kEsc) {
                m_state = State::StringEscape;
            } else if (b == '\n') {
                m_state = State::Ground;
                control(b);
            } else if (++m_stringBytes > kMaxStringBytes) {
                m_state = State::Ground; // the rest shows as text
            }
            continue;
        case State::StringEscape:
            if (b == '\\') {
                m_state = State::Ground; // ST
                ++p;
            } else {
                m_state = State::Escape; // the string ended with an ESC that starts something new
            }
            continue;
        }
    }
}

bool AnsiParser::c0InSequence(uchar b)
{
    if (b >= 0x20)
        return false;
    if (b == kEsc) {
        m_state = State::Escape;
    } else if (b == kCan || b == kSub) {
        m_state = State::Ground;
    } else {
        control(b); // executed in the middle of a sequence, as a terminal does
    }
    return true;
}

void AnsiParser::escape(uchar b, const uchar *&p)
{
    if (b >= 0x80) { // not an escape sequence after all: back to text, this byte included
        m_state = State::Ground;
        return;
    }
    ++p;
    if (c0InSequence(b))
        return;
    if (m_state == State::Escape) {
        if (b == '[') {
            m_state = State::Csi;
            m_params.clear();
            m_cur = -1;
            m_nextColon = false;
            m_csiIgnore = false;
            return;
        }
        if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') {
            m_state = State::String;
            m_stringBytes = 0;
            return;
        }
    }
    if (b >= 0x20 && b <= 0x2F) {
        m_state = State::EscIntermediate; // e.g. ESC ( B: character sets
        return;
    }
    if (m_state == State::Escape && b == 'c') { // full reset: the style goes back to default
        m_style = TextStyle();
        m_styleId = 0;
    }
    m_state = State::Ground; // two-byte sequences (ESC 7, ESC =, …) are dropped
}

void AnsiParser::csi(uchar b, const uchar *&p)
{
    if (b >= 0x80) {
        m_state = State::Ground;
        return;
    }
    ++p;
    if (c0InSequence(b))
        return;
    if (b >= '0' && b <= '9') {
        m_cur = std::min((m_cur < 0 ? 0 : m_cur) * 10 + (b - '0'), 65535);
    } else if (b == ';' || b == ':') {
        if (m_params.size() < 32)
            m_params.append({m_cur, m_nextColon});
        else
            m_csiIgnore = true;
        m_cur = -1;
        m_nextColon = b == ':';
    } else if (b >= 0x3C && b <= 0x3F) {
        m_csiIgnore = true; // private modes (ESC[?25l …)
    } else if (b >= 0x20 && b <= 0x2F) {
        m_csiIgnore = true; // intermediates
    } else if (b >= 0x40 && b <= 0x7E) {
        if (m_params.size() < 32)
            m_params.append({m_cur, m_nextColon});
        m_state = State::Ground;
        if (!m_csiIgnore)
            csiDispatch(b);
    }
}

int AnsiParser::param(int i, int def) const
{
    return i < m_params.size() && m_params[i].value >= 0 ? m_params[i].value : def;
}

void AnsiParser::csiDispatch(uchar final)
{
    switch (final) {
    case 'm':
        sgr();
        break;
    case 'K':
        eraseInLine(param(0, 0));
        break;
    case 'G':
    case '`':
        moveTo(qint64(std::max(1, param(0, 1))) - 1);
        break;
    case 'C':
    case 'a':
        moveTo(qint64(m_col) + std::max(1, param(0, 1)));
        break;
    case 'D':
        moveTo(qint64(m_col) - std::max(1, param(0, 1)));
        break;
    default:
        break; // cursor up/down/position, erase display, scroll regions…: dropped
    }
}

void AnsiParser::moveTo(qint64 col)
{
    const qint64 limit = qMin<qint64>(kMaxLineChars, qMax<qint64>(m_line.size(), 0) + kMaxColumnPastText);
    m_col = int(qBound<qint64>(0, col, limit));
}

void AnsiParser::eraseInLine(int mode)
{
    ++m_revision;
    const int len = int(m_line.size());
    if (mode == 0) {
        if (m_col < len) {
            m_line.truncate(m_col);
            m_styles.resize(m_col);
        }
    } else if (mode == 1) {
        const int to = std::min(m_col + 1, len);
        for (int i = 0; i < to; ++i) {
            m_line[i] = QLatin1Char(' ');
            m_styles[i] = 0;
        }
    } else if (mode == 2) {
        m_line.clear();
        m_styles.clear();
    }
}

quint32 AnsiParser::sgrColour(int &i)
{
    // i is at 38/48: 5;n or 2;r;g;b, or with colons 5:n, 2:r:g:b, 2:cs:r:g:b.
    const bool colon = i + 1 < m_params.size() && m_params[i + 1].colon;
    const int kind = param(i + 1, -1);
    if (colon) {
        int n = 1;
        while (i + 1 + n < m_params.size() && m_params[i + 1 + n].colon)
            ++n;
        const int first = i + 2;
        quint32 c = 0;
        if (kind == 5 && n >= 2)
            c = TextStyle::kIndexed | quint32(qBound(0, param(first, 0), 255));
        else if (kind == 2 && n >= 4) {
            const int o = n >= 5 ? first + 1 : first; // skip the colour space id
            c = TextStyle::kRgb | (quint32(qBound(0, param(o, 0), 255)) << 16) | (quint32(qBound(0, param(o + 1, 0), 255)) << 8)
                | quint32(qBound(0, param(o + 2, 0), 255));
        }
        i += n;
        return c;
    }
    if (kind == 5) {
        const quint32 c = TextStyle::kIndexed | quint32(qBound(0, param(i + 2, 0), 255));
        i += 2;
        return c;
    }
    if (kind == 2) {
        const quint32 c = TextStyle::kRgb | (quint32(qBound(0, param(i + 2, 0), 255)) << 16)
                          | (quint32(qBound(0, param(i + 3, 0), 255)) << 8) | quint32(qBound(0, param(i + 4, 0), 255));
        i += 4;
        return c;
    }
    i += 1;
    return 0;
}

void AnsiParser::sgr()
{
    TextStyle &s = m_style;
    for (int i = 0; i < m_params.size(); ++i) {
        const int p = m_params[i].value < 0 ? 0 : m_params[i].value;
        if (m_params[i].colon && i > 0)
            continue; // a sub-parameter we do not use (e.g. the 3 of 4:3, curly underline)
        switch (p) {
        case 0: s = TextStyle(); break;
        case 1: s.flags |= TextStyle::Bold; break;
        case 2: s.flags |= TextStyle::Dim; break;
        case 3: s.flags |= TextStyle::Italic; break;
        case 4:
            if (i + 1 < m_params.size() && m_params[i + 1].colon && param(i + 1, 1) == 0)
                s.flags &= ~TextStyle::Underline; // 4:0
            else
                s.flags |= TextStyle::Underline;
            break;
        case 7: s.flags |= TextStyle::Inverse; break;
        case 9: s.flags |= TextStyle::Strike; break;
        case 21: s.flags |= TextStyle::Underline; break;
        case 22: s.flags &= ~(TextStyle::Bold | TextStyle::Dim); break;
        case 23: s.flags &= ~TextStyle::Italic; break;
        case 24: s.flags &= ~TextStyle::Underline; break;
        case 27: s.flags &= ~TextStyle::Inverse; break;
        case 29: s.flags &= ~TextStyle::Strike; break;
        case 38: s.fg = sgrColour(i); break;
        case 39: s.fg = 0; break;
        case 48: s.bg = sgrColour(i); break;
        case 49: s.bg = 0; break;
        case 58: sgrColour(i); break; // underline colour: not shown
        default:
            if (p >= 30 && p <= 37)
                s.fg = TextStyle::kIndexed | quint32(p - 30);
            else if (p >= 40 && p <= 47)
                s.bg = TextStyle::kIndexed | quint32(p - 40);
            else if (p >= 90 && p <= 97)
                s.fg = TextStyle::kIndexed | quint32(p - 90 + 8);
            else if (p >= 100 && p <= 107)
                s.bg = TextStyle::kIndexed | quint32(p - 100 + 8);
            break; // blink, conceal, fonts, overline…: ignored
        }
    }
    m_styleId = m_table.intern(s);
}

void AnsiParser::control(uchar b)
{
    switch (b) {
    case '\n':
        finishLine(true);
        break;
    case '\r':
        m_col = 0;
        break;
    case '\b':
        if (m_col > 0) {
            --m_col;
            if (m_col > 0 && m_col < m_line.size() && m_line[m_col].isLowSurrogate() && m_line[m_col - 1].isHighSurrogate())
                --m_col;
        }
        break;
    case '\t':
        moveTo((qint64(m_col) / 8 + 1) * 8);
        break;
    case kEsc:
        m_state = State::Escape;
        break;
    default:
        break; // BEL, NUL, VT, FF, SO/SI, DEL…: not shown
    }
}

void AnsiParser::decodeUtf8(uchar b)
{
    if (m_need == 0) {
        if (b >= 0xC2 && b <= 0xDF) {
            m_need = 1;
            m_cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            if (b == 0xE0)
                m_lo = 0xA0;
            if (b == 0xED)
                m_hi = 0x9F;
            m_need = 2;
            m_cp = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            if (b == 0xF0)
                m_lo = 0x90;
            if (b == 0xF4)
                m_hi = 0x8F;
            m_need = 3;
            m_cp = b & 0x07;
        } else {
            print(0xFFFD); // a stray continuation byte, C0/C1 overlong lead, or F5..FF
        }
        return;
    }
    if (b < m_lo || b > m_hi) {
        utf8Error();      // the sequence so far is one U+FFFD…
        decodeUtf8(b);    // …and this byte starts anew
        return;
    }
    m_lo = 0x80;
    m_hi = 0xBF;
    m_cp = (m_cp << 6) | (b & 0x3F);
    if (--m_need == 0) {
        print(m_cp);
        m_cp = 0;
    }
}

void AnsiParser::utf8Error()
{
    m_need = 0;
    m_cp = 0;
    m_lo = 0x80;
    m_hi = 0xBF;
    print(0xFFFD);
}

void AnsiParser::print(char32_t cp)
{
    if (cp >= 0x80 && cp <= 0x9F)
        return; // C1 controls
    if (cp > 0xFFFF) {
        putUnit(QChar::highSurrogate(cp), false);
        putUnit(QChar::lowSurrogate(cp), true);
    } else {
        putUnit(QChar(char16_t(cp)), false);
    }
}

void AnsiParser::padTo(int col)
{
    if (col > m_line.size()) {
        const qsizetype n = col - m_line.size();
        m_line.append(QString(n, QLatin1Char(' ')));
        m_styles.insert(m_styles.size(), n, 0);
    }
}

void AnsiParser::putAscii(const uchar *s, qsizetype n)
{
    ++m_revision;
    if (m_col >= m_line.size()) {
        const qsizetype room = kMaxLineChars - qMax<qsizetype>(m_line.size(), m_col);
        if (room <= 0) {
            m_dropped += n;
            return;
        }
        if (n > room) {
            m_dropped += n - room;
            n = room;
        }
        padTo(m_col);
        m_line.append(QLatin1String(reinterpret_cast<const char *>(s), n));
        m_styles.insert(m_styles.size(), n, m_styleId);
        m_col += int(n);
        return;
    }
    for (qsizetype i = 0; i < n; ++i)
        putUnit(QLatin1Char(char(s[i])), false);
}

void AnsiParser::putUnit(QChar c, bool secondOfPair)
{
    ++m_revision;
    const int len = int(m_line.size());
    if (m_col >= len) {
        if (m_col >= kMaxLineChars) {
            ++m_dropped;
            return;
        }
        padTo(m_col);
        m_line.append(c);
        m_styles.append(m_styleId);
        ++m_col;
        return;
    }
    // Overwriting half of a surrogate pair blanks the other half (a wide cell is gone).
    const QChar old = m_line[m_col];
    if (old.isHighSurrogate() && m_col + 1 < len && m_line[m_col + 1].isLowSurrogate())
        m_line[m_col + 1] = QLatin1Char(' ');
    else if (!secondOfPair && old.isLowSurrogate() && m_col > 0 && m_line[m_col - 1].isHighSurrogate())
        m_line[m_col - 1] = QLatin1Char(' ');
    m_line[m_col] = c;
    m_styles[m_col] = m_styleId;
    ++m_col;
}

void AnsiParser::finishLine(bool terminated)
{
    if (m_dropped > 0) {
        const QString note = QStringLiteral(" … [%1 more characters on this line]").arg(m_dropped);
        m_line.append(note);
        m_styles.insert(m_styles.size(), note.size(), 0);
    }
    m_sink.lineFinished(m_line, m_styles.constData(), terminated);
    m_lineOpen = false;
    m_col = 0;
    m_dropped = 0;
    ++m_revision;
    if (m_line.capacity() > 65536) {
        m_line = QString();
        m_styles = QList<quint32>();
    } else {
        m_line.resize(0); // keeps the capacity for the next line
        m_styles.resize(0);
    }
}

void AnsiParser::finish()
{
    if (m_need)
        utf8Error();
    m_state = State::Ground;
    if (m_lineOpen)
        finishLine(false);
}

} // namespace magpie::ui
