// OutputDocument.h — a job's output as the views show it: stdout and stderr each parsed into
// lines (OutputLines, one shared style table) and the order their lines arrived in across both
// streams, from lines.idx records, for the combined view.
// Feeding: per batch, appendBytes() for what is new in each stream, then addRecords() for the
// new index records, then endBatch(). A line that has no record by the end of its batch will
// never get one (JobStore writes a chunk's bytes and its records in one call, on the thread the
// views live on), so endBatch() places it in the combined order as it was parsed: the lines of
// a job from before the index, of a stream past the index's cap, or of a LogView fed by hand.
#pragma once

#include "LogIndex.h"
#include "OutputLines.h"
#include "StyleTable.h"

#include <QList>
#include <QObject>

namespace magpie::ui {

class OutputDocument : public QObject
{
    Q_OBJECT
public:
    enum class View { Combined, Stdout, Stderr };
    struct Row {
        int stream; // 1 stdout, 2 stderr
        int line;   // in lines(stream)
    };

    explicit OutputDocument(QObject *parent = nullptr);

    void appendBytes(int stream, const QByteArray &data);
    void addRecords(const QList<LogIndexRecord> &records);
    void endBatch();  // emits changed()
    void finish();    // both streams have ended; emits changed()
    void clear();     // emits changed()

    int rowCount(View view) const;
    Row row(View view, int row) const;
    OutputLines &lines(int stream) { return stream == 2 ? m_err : m_out; }
    const OutputLines &lines(int stream) const { return stream == 2 ? m_err : m_out; }
    const StyleTable &styles() const { return m_styles; }
    int maxLength(View view) const;
    // The rendered text of a view: rows joined by '\n' (no escape codes, progress collapsed).
    QString plainText(View view) const;
    quint64 revision() const { return m_out.revision() + m_err.revision() + m_orderRevision; }

signals:
    void changed();

private:
    void place(int stream, int line);

    StyleTable m_styles;
    OutputLines m_out{m_styles};
    OutputLines m_err{m_styles};
    QList<quint32> m_order;           // combined view: stream 2 has bit 31, then the line
    qint64 m_recorded[3] = {0, 0, 0}; // records seen per stream
    int m_placed[3] = {0, 0, 0};      // lines of each stream in m_order
    QList<LogIndexRecord> m_pending;  // records whose line has not been parsed yet
    quint64 m_orderRevision = 0;
};

} // namespace magpie::ui
