// HttpLimits.h — the bounds the HTTP front enforces on every connection, before any handler
// runs. A job's script with network on reaches the host's loopback, so each bound assumes a
// hostile peer (docs/api.md, "Limits and failure behaviour").
#pragma once

#include <QtGlobal>

namespace magpie::http {

struct HttpLimits {
    int maxHeadBytes = 16 * 1024;        // request line + headers (431 above it, then closed)
    int maxHeaderCount = 100;            // 431 above it
    int headTimeoutMs = 10000;           // a request head must be complete this long after the
                                         // connection (or the previous answer) is ready for it
    // The body must keep coming: in every window of bodyWindowMs at least minBodyBytesPerWindow
    // bytes (or the rest of the body) arrive, else 408 and closed. This also bounds idle bodies.
    int bodyWindowMs = 10000;
    qint64 minBodyBytesPerWindow = 16 * 1024;
    int writeStallMs = 60000;            // an answer the client stops reading for this long: dropped
    int maxConnections = 64;             // more at once are answered 503 and closed
    qint64 socketReadBuffer = 64 * 1024; // what Qt buffers per socket before it stops reading
    // After an answer that closes the connection, unread input is drained (discarded) for at
    // most this long / this much, so the client sees the answer instead of a reset.
    int lingerMs = 2000;
    qint64 lingerBytes = 2 * 1024 * 1024 + 64 * 1024; // a JSON body up to the 2 MiB limit is drained whole
    qint64 streamLowWater = 256 * 1024;  // a streamed answer asks for more below this many queued bytes
};

} // namespace magpie::http
