#include "OutputSearch.h"

#include <algorithm>

namespace magpie::ui {

void OutputSearch::clear()
{
    m_needle.clear();
    m_matches.clear();
    m_current = -1;
    m_capped = false;
}

void OutputSearch::run(const OutputDocument &doc, OutputDocument::View view)
{
    m_matches.clear();
    m_capped = false;
    if (m_needle.isEmpty()) {
        m_current = -1;
        return;
    }
    const QStringView needle(m_needle);
    const int rows = doc.rowCount(view);
    for (int r = 0; r < rows && !m_capped; ++r) {
        const OutputDocument::Row rw = doc.row(view, r);
        const QStringView text = doc.lines(rw.stream).text(rw.line);
        for (qsizetype at = text.indexOf(needle, 0, Qt::CaseInsensitive); at >= 0;
             at = text.indexOf(needle, at + needle.size(), Qt::CaseInsensitive)) {
            if (m_matches.size() >= kMaxMatches) {
                m_capped = true;
                break;
            }
            m_matches.append({r, int(at), int(needle.size())});
        }
    }
    if (m_current >= m_matches.size())
        m_current = m_matches.isEmpty() ? -1 : int(m_matches.size()) - 1;
}

int OutputSearch::firstAtOrAfter(int row, int col) const
{
    const auto it = std::lower_bound(m_matches.begin(), m_matches.end(), Match{row, col, 0}, [](const Match &a, const Match &b) {
        return a.row < b.row || (a.row == b.row && a.col < b.col);
    });
    return int(it - m_matches.begin());
}

QList<OutputSearch::Match> OutputSearch::inRows(int first, int last) const
{
    QList<Match> out;
    for (int i = firstAtOrAfter(first, 0); i < m_matches.size() && m_matches[i].row <= last; ++i)
        out.append(m_matches[i]);
    return out;
}

} // namespace magpie::ui
