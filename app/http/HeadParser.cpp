#include "HeadParser.h"

namespace magpie::http {

namespace {
HeadResult error(int status, const QString &message)
{
    HeadResult r;
    r.outcome = HeadResult::Error;
    r.status = status;
    r.message = message;
    return r;
}

bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(const QByteArray &s)
{
    if (s.isEmpty())
        return false;
    for (char c : s)
        if (!isTokenChar(c))
            return false;
    return true;
}

// Splits the target into path and query. Origin form ("/p?q"), absolute form
// ("http://host/p?q") and "*" are accepted.
bool splitTarget(const QByteArray &target, QByteArray *path, QByteArray *query)
{
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return false;
    QByteArray t = target;
    const qsizetype hash = t.indexOf('#');
    if (hash >= 0)
        t.truncate(hash);
    if (t == "*") {
        *path = t;
        return true;
    }
    const QByteArray lower = t.left(8).toLower();
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
        const qsizetype authority = t.indexOf("//") + 2;
        const qsizetype slash = t.indexOf('/', authority);
        const qsizetype qmark = t.indexOf('?', authority);
        if (slash < 0 || (qmark >= 0 && qmark < slash))
            t = "/" + (qmark >= 0 ? t.mid(qmark) : QByteArray());
        else
            t = t.mid(slash);
    }
    if (!t.startsWith('/'))
        return false;
    const qsizetype q = t.indexOf('?');
    *path = q < 0 ? t : t.left(q);
    *query = q < 0 ? QByteArray() : t.mid(q + 1);
    return true;
}
} // namespace

bool HeadParser::knownMethod(const QByteArray &m)
{
    return m == "GET" || m == "HEAD" || m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH" || m == "OPTIONS";
}

HeadResult HeadParser::parse(const QByteArray &buf, const HttpLimits &limits, HttpRequest *out)
{
    // Empty lines before the request line are skipped (RFC 9112 §2.2).
    qsizetype start = 0;
    while (start < buf.size() && (buf.at(start) == '\r' || buf.at(start) == '\n'))
        ++start;
    // The head ends at the first empty line: "\r\n\r\n" or a bare "\n\n".
    qsizetype end = -1, endLen = 0;
    for (qsizetype i = start; i < buf.size(); ++i) {
        if (buf.at(i) != '\n')
            continue;
        if (i + 1 < buf.size() && buf.at(i + 1) == '\n') {
            end = i + 1;
            endLen = 1;
            break;
        }
        if (i + 2 < buf.size() && buf.at(i + 1) == '\r' && buf.at(i + 2) == '\n') {
            end = i + 1;
            endLen = 2;
            break;
        }
        if (i - start > limits.maxHeadBytes)
            break;
    }
    if (end < 0 || end - start > limits.maxHeadBytes) {
        if (buf.size() - start > limits.maxHeadBytes || (end >= 0 && end - start > limits.maxHeadBytes))
            return error(431, QStringLiteral("the request head is larger than %1 bytes").arg(limits.maxHeadBytes));
        return HeadResult();
    }
    const QByteArray head = buf.mid(start, end - start);
    for (char c : head)
        if (c == '\0')
            return error(400, QStringLiteral("the request head contains a NUL byte"));
    QList<QByteArray> lines = head.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    for (QByteArray &l : lines) {
        if (l.endsWith('\r'))
            l.chop(1);
        if (l.contains('\r'))
            return error(400, QStringLiteral("a bare CR in the request head"));
    }
    if (lines.isEmpty())
        return error(400, QStringLiteral("no request line"));

    // Request line: METHOD SP target SP HTTP/1.x
    const QList<QByteArray> parts = lines.first().split(' ');
    if (parts.size() != 3)
        return error(400, QStringLiteral("the request line must be 'METHOD /path HTTP/1.1'"));
    HttpRequest &r = *out;
    r.method = parts.at(0);
    r.target = parts.at(1);
    const QByteArray &version = parts.at(2);
    if (!isToken(r.method))
        return error(400, QStringLiteral("the method is not a valid token"));
    if (!version.startsWith("HTTP/") || version.size() != 8 || version.at(6) != '.' || version.at(5) < '0' || version.at(5) > '9'
        || version.at(7) < '0' || version.at(7) > '9')
        return error(400, QStringLiteral("'%1' is not an HTTP version").arg(QString::fromLatin1(version.left(20))));
    if (version.at(5) != '1')
        return error(505, QStringLiteral("only HTTP/1.0 and HTTP/1.1 are served"));
    r.minorVersion = version.at(7) - '0';
    if (r.target.isEmpty() || !splitTarget(r.target, &r.path, &r.query))
        return error(400, QStringLiteral("the request target must be a path such as /api/v1/health"));

    HeadResult res;
    if (lines.size() - 1 > limits.maxHeaderCount)
        return error(431, QStringLiteral("more than %1 header fields").arg(limits.maxHeaderCount));
    r.headers.clear();
    bool sawLength = false, sawEncoding = false;
    QByteArray encodings;
    for (int i = 1; i < lines.size(); ++i) {
        const QByteArray &l = lines.at(i);
        if (l.startsWith(' ') || l.startsWith('\t'))
            return error(400, QStringLiteral("obsolete line folding in the header fields"));
        const qsizetype colon = l.indexOf(':');
        if (colon <= 0)
            return error(400, QStringLiteral("a header line without a name and a colon"));
        const QByteArray name = l.left(colon).toLower();
        if (!isToken(name))
            return error(400, QStringLiteral("the header name '%1' is not a valid token").arg(QString::fromLatin1(name.left(40))));
        const QByteArray value = l.mid(colon + 1).trimmed();
        for (char c : value)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                return error(400, QStringLiteral("a control character in the value of %1").arg(QString::fromLatin1(name)));
        r.headers.append({name, value});
        if (name == "content-length") {
            // "5, 5" and repeated equal headers are one length; anything else is an error.
            for (const QByteArray &v : value.split(',')) {
                const QByteArray t = v.trimmed();
                bool digits = !t.isEmpty() && t.size() <= 18;
                for (char c : t)
                    digits = digits && c >= '0' && c <= '9';
                if (!digits)
                    return error(400, QStringLiteral("Content-Length must be a whole number of bytes"));
                const qint64 n = t.toLongLong();
                if (sawLength && n != res.contentLength)
                    return error(400, QStringLiteral("two different Content-Length values"));
                res.contentLength = n;
                sawLength = true;
            }
        } else if (name == "transfer-encoding") {
            sawEncoding = true;
            encodings += (encodings.isEmpty() ? "" : ",") + value.toLower();
        } else if (name == "expect") {
            if (value.compare("100-continue", Qt::CaseInsensitive) == 0)
                res.expectContinue = true;
            else
                res.badExpect = true;
        }
    }
    if (sawEncoding) {
        if (sawLength)
            return error(400, QStringLiteral("both Content-Length and Transfer-Encoding were sent"));
        QList<QByteArray> codings;
        for (const QByteArray &c : encodings.split(','))
            if (!c.trimmed().isEmpty())
                codings.append(c.trimmed());
        if (codings.size() != 1 || codings.first() != "chunked")
            return error(501, QStringLiteral("only the chunked transfer coding is supported (got '%1')")
                                  .arg(QString::fromLatin1(encodings.left(60))));
        if (r.minorVersion == 0)
            return error(400, QStringLiteral("Transfer-Encoding in an HTTP/1.0 request"));
        res.chunked = true;
    }
    if (r.minorVersion == 0)
        res.expectContinue = false;
    res.outcome = HeadResult::Complete;
    res.consumed = int(end + endLen);
    return res;
}

} // namespace magpie::http
