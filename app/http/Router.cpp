#include "Router.h"

namespace magpie::http {

void Router::add(const QByteArray &method, const QString &pattern, HttpHandler handler, RouteOptions options)
{
    Route r;
    r.method = method;
    r.pattern = pattern;
    r.options = std::move(options);
    r.handler = std::move(handler);
    const QStringList parts = pattern.split(QLatin1Char('/'));
    for (int i = 1; i < parts.size(); ++i) { // parts[0] is the empty text before the leading '/'
        const QString &p = parts.at(i);
        const bool cap = p.startsWith(QLatin1Char('{')) && p.endsWith(QLatin1Char('}'));
        r.segments.append(cap ? QString() : p);
        r.capture.append(cap);
    }
    m_routes.append(std::move(r));
}

Router::Match Router::match(const QByteArray &method, const QByteArray &encodedPath) const
{
    Match m;
    if (!encodedPath.startsWith('/'))
        return m;
    const QList<QByteArray> raw = encodedPath.mid(1).split('/');
    QStringList segs;
    segs.reserve(raw.size());
    for (const QByteArray &s : raw)
        segs.append(QString::fromUtf8(QByteArray::fromPercentEncoding(s)));

    const Route *headFallback = nullptr;
    QStringList headArgs;
    for (const Route &r : m_routes) {
        if (r.segments.size() != segs.size())
            continue;
        QStringList args;
        bool ok = true;
        for (int i = 0; i < segs.size() && ok; ++i) {
            if (r.capture.at(i)) {
                ok = !raw.at(i).isEmpty();
                args.append(segs.at(i));
            } else {
                ok = segs.at(i) == r.segments.at(i);
            }
        }
        if (!ok)
            continue;
        m.pathKnown = true;
        if (r.method == method) {
            m.route = &r;
            m.args = args;
            return m;
        }
        if (method == "HEAD" && r.method == "GET" && !headFallback) {
            headFallback = &r;
            headArgs = args;
        }
    }
    if (headFallback) {
        m.route = headFallback;
        m.args = headArgs;
    }
    return m;
}

} // namespace magpie::http
