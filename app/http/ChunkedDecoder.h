// ChunkedDecoder.h — incremental decoder of a chunked request body (RFC 9112 §7.1): fed
// whatever bytes have arrived, it hands out the payload and keeps only a partial size line
// between calls, so memory does not depend on the chunk sizes the client announces.
// Chunk extensions are ignored; trailer fields are read and dropped. Size lines and the
// trailer section are bounded (kMaxLine, kMaxTrailer), a hex size over 2^60 is an error.
#pragma once

#include <QByteArray>
#include <QString>

namespace magpie::http {

class ChunkedDecoder
{
public:
    static constexpr int kMaxLine = 4096;
    static constexpr int kMaxTrailer = 16 * 1024;

    // Consumes bytes from the front of `in` and appends the payload to *out. Stops after the
    // last chunk's trailer (done()); what follows in `in` is left there (a pipelined request).
    // False on a syntax error (error() says what); the body is then unusable.
    bool feed(QByteArray &in, QByteArray *out);
    bool done() const { return m_state == State::Done; }
    QString error() const { return m_error; }
    qint64 decoded() const { return m_decoded; }
    void reset() { *this = ChunkedDecoder(); }

private:
    enum class State { Size, Data, DataEnd, Trailer, Done, Failed };
    bool fail(const QString &why);
    State m_state = State::Size;
    qint64 m_left = 0;        // bytes left in the current chunk
    qint64 m_decoded = 0;
    int m_trailerBytes = 0;
    QString m_error;
};

} // namespace magpie::http
