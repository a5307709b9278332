// HeadParser.h — parses an HTTP/1.x request head (request line and header fields) from the
// front of a buffer, and works out how the body is framed. Strict where leniency lets two
// parsers disagree about where a request ends (request smuggling): Content-Length with
// Transfer-Encoding, differing Content-Lengths, obsolete line folding, a transfer coding other
// than chunked, control characters — each is an error with the status to answer.
#pragma once

#include "HttpLimits.h"
#include "HttpRequest.h"

#include <QByteArray>
#include <QString>

namespace magpie::http {

struct HeadResult {
    enum Outcome { Incomplete, Complete, Error };
    Outcome outcome = Incomplete;
    int consumed = 0;             // bytes of the buffer the head took (Complete)
    int status = 0;               // Error: 400, 431, 501 or 505
    QString message;              // Error: what was wrong
    qint64 contentLength = -1;    // -1: no Content-Length
    bool chunked = false;
    bool expectContinue = false;  // "Expect: 100-continue"
    bool badExpect = false;       // another Expect value (417)
};

class HeadParser
{
public:
    // Incomplete while no empty line has arrived and the buffer is within the head limit.
    static HeadResult parse(const QByteArray &buffer, const HttpLimits &limits, HttpRequest *out);
    // Whether a method is one the server knows (GET HEAD POST PUT DELETE PATCH OPTIONS).
    static bool knownMethod(const QByteArray &method);
};

} // namespace magpie::http
