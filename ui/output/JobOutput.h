// JobOutput.h — a job's output in the job details. One OutputDocument is fed from the job's log
// files (Executor::readLog) and its lines.idx (LogIndex::readRecords), first in full when the job
// is shown — up to the 10 MiB cap of each stream — then live while it runs (Executor::jobOutput,
// read back from the files so the view shows exactly what is kept). Three panes over it go into
// the details' tab widget: "All output" (both streams in arrival order, stderr tinted), "Output"
// (stdout) and "Errors" (stderr), sharing one set of options. "Save output…" as raw writes the
// log file (or, for "All output", both streams' lines in arrival order).
#pragma once

#include "Executor.h"
#include "OutputDocument.h"

#include <QObject>
#include <QTimer>
#include <optional>

class QTabWidget;

namespace magpie::ui {

class LogView;
class OutputOptions;
class OutputPane;

class JobOutput : public QObject
{
    Q_OBJECT
public:
    // Inserts the three panes as tabs `firstTab`, +1, +2 of `tabs`.
    JobOutput(Executor &executor, QTabWidget *tabs, int firstTab);

    // Shows a job's output from the start (nullopt: none).
    void setJob(const std::optional<JobRecord> &job);
    // Reads what is new; once the job has finished, ends both streams.
    void update(const JobRecord &job);

    OutputDocument *document() const { return m_doc; }
    LogView *combinedView() const { return m_views[0]; }
    LogView *stdoutView() const { return m_views[1]; }
    LogView *stderrView() const { return m_views[2]; }
    OutputPane *pane(int i) const { return m_panes[i]; } // 0 all, 1 stdout, 2 stderr
    qint64 bytesShown(int stream) const { return m_offset[stream]; }

private:
    void onJobOutput(const QString &id, int stream, const QByteArray &data);
    void pull();
    void updateTitles();
    bool writeRaw(int stream, QIODevice &out, QString *error) const;
    bool writeCombinedRaw(QIODevice &out, QString *error) const;
    QString logDir() const;

    Executor &m_ex;
    QTabWidget *m_tabs;
    int m_firstTab;
    OutputDocument *m_doc;
    OutputOptions *m_options;
    LogView *m_views[3];
    OutputPane *m_panes[3];
    QString m_id;
    bool m_finished = false;
    qint64 m_offset[3] = {0, 0, 0};
    qint64 m_records = 0;
    QTimer m_pullTimer;
};

} // namespace magpie::ui
