#include "ChunkedDecoder.h"

namespace magpie::http {

bool ChunkedDecoder::fail(const QString &why)
{
    m_state = State::Failed;
    m_error = why;
    return false;
}

bool ChunkedDecoder::feed(QByteArray &in, QByteArray *out)
{
    qsizetype pos = 0;
    auto consumed = [&] { in.remove(0, pos); };
    while (pos < in.size()) {
        switch (m_state) {
        case State::Size: {
            const qsizetype nl = in.indexOf('\n', pos);
            if (nl < 0) {
                if (in.size() - pos > kMaxLine)
                    return fail(QStringLiteral("a chunk size line is longer than %1 bytes").arg(kMaxLine));
                consumed();
                return true;
            }
            if (nl - pos > kMaxLine)
                return fail(QStringLiteral("a chunk size line is longer than %1 bytes").arg(kMaxLine));
            QByteArray line = in.mid(pos, nl - pos);
            pos = nl + 1;
            if (line.endsWith('\r'))
                line.chop(1);
            const qsizetype semi = line.indexOf(';');
            const QByteArray hex = (semi >= 0 ? line.left(semi) : line).trimmed();
            if (hex.isEmpty() || hex.size() > 15)
                return fail(QStringLiteral("bad chunk size '%1'").arg(QString::fromLatin1(hex.left(20))));
            qint64 size = 0;
            for (char c : hex) {
                int v;
                if (c >= '0' && c <= '9') v = c - '0';
                else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
                else return fail(QStringLiteral("bad chunk size '%1'").arg(QString::fromLatin1(hex.left(20))));
                size = size * 16 + v;
            }
            m_left = size;
            m_state = size == 0 ? State::Trailer : State::Data;
            break;
        }
        case State::Data: {
            const qint64 take = qMin<qint64>(m_left, in.size() - pos);
            out->append(in.constData() + pos, take);
            pos += take;
            m_left -= take;
            m_decoded += take;
            if (m_left == 0)
                m_state = State::DataEnd;
            break;
        }
        case State::DataEnd: {
            // CRLF (or a bare LF) after the chunk's data.
            if (in.at(pos) == '\r') {
                if (pos + 1 >= in.size()) {
                    consumed();
                    return true;
                }
                if (in.at(pos + 1) != '\n')
                    return fail(QStringLiteral("a chunk's data is not followed by CRLF"));
                pos += 2;
            } else if (in.at(pos) == '\n') {
                pos += 1;
            } else {
                return fail(QStringLiteral("a chunk's data is longer than its size says"));
            }
            m_state = State::Size;
            break;
        }
        case State::Trailer: {
            const qsizetype nl = in.indexOf('\n', pos);
            if (nl < 0) {
                if (m_trailerBytes + (in.size() - pos) > kMaxTrailer)
                    return fail(QStringLiteral("the chunked trailer is larger than %1 bytes").arg(kMaxTrailer));
                consumed();
                return true;
            }
            m_trailerBytes += int(nl + 1 - pos);
            if (m_trailerBytes > kMaxTrailer)
                return fail(QStringLiteral("the chunked trailer is larger than %1 bytes").arg(kMaxTrailer));
            const bool empty = nl == pos || (nl == pos + 1 && in.at(pos) == '\r');
            pos = nl + 1;
            if (empty) {
                m_state = State::Done;
                consumed();
                return true;
            }
            break; // a trailer field: dropped
        }
        case State::Done:
            consumed();
            return true;
        case State::Failed:
            return false;
        }
    }
    consumed();
    return m_state != State::Failed;
}

} // namespace magpie::http
