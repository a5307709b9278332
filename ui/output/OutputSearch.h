// OutputSearch.h — the matches of a search string in one view of an OutputDocument, found in
// the rendered text (no escape codes; a collapsed progress line matches only its last state),
// case-insensitive, never across lines. At most kMaxMatches are kept (the count then reads
// "100000+"), so a one-letter search in 10 MiB stays cheap.
#pragma once

#include "OutputDocument.h"

#include <QList>
#include <QString>

namespace magpie::ui {

class OutputSearch
{
public:
    struct Match {
        int row;
        int col;
        int length;
    };
    static constexpr int kMaxMatches = 100000;

    void setNeedle(const QString &needle) { m_needle = needle; }
    const QString &needle() const { return m_needle; }
    bool active() const { return !m_needle.isEmpty(); }
    void run(const OutputDocument &doc, OutputDocument::View view);
    void clear();

    int count() const { return int(m_matches.size()); }
    bool capped() const { return m_capped; }
    const Match &match(int i) const { return m_matches.at(i); }
    int current() const { return m_current; }
    void setCurrent(int i) { m_current = m_matches.isEmpty() ? -1 : qBound(0, i, int(m_matches.size()) - 1); }
    // The first match at or after (row, col); count() when there is none.
    int firstAtOrAfter(int row, int col) const;
    // The matches on rows first..last.
    QList<Match> inRows(int first, int last) const;

private:
    QString m_needle;
    QList<Match> m_matches;
    int m_current = -1;
    bool m_capped = false;
};

} // namespace magpie::ui
