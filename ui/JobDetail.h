// JobDetail.h — the selected job: its output (JobOutput: both streams interleaved, stdout,
// stderr; colours, timestamps, search, following live while it runs), its script (read-only,
// highlighted), its details (ids, times, resources, error) and its changes (JobChangesView:
// what it changed in its workspace; roll back to before it).
#pragma once

#include "CodeSnippets.h"
#include "Executor.h"

#include <QTimer>
#include <QWidget>
#include <functional>

class QLabel;
class QStackedWidget;
class QTabWidget;
class QTextBrowser;
class QToolButton;
class QAction;

namespace magpie::ui {

class CodeEditor;
class JobChangesView;
class JobOutput;
class LogView;
class BashHighlighter;

class JobDetail : public QWidget
{
    Q_OBJECT
public:
    enum Tab { TabAll, TabOutput, TabErrors, TabScript, TabDetails, TabChanges };

    explicit JobDetail(Executor &executor, QWidget *parent = nullptr);

    // Shows a job ("" shows the placeholder).
    void setJob(const QString &requestId);
    QString jobId() const { return m_id; }
    // Buttons in the header for these actions (cancel, re-run, …).
    void setActions(const QList<QAction *> &actions);
    // Where the code snippets point (the running endpoint); asked at each copy.
    void setSnippetContext(std::function<SnippetContext()> context) { m_snippetContext = std::move(context); }
    // "Copy as Python" / "Copy as curl": the code that reproduces the shown job, to the clipboard.
    QString copyAsPython();
    QString copyAsCurl();
    QToolButton *copyPythonButton() const { return m_copyPython; }
    QToolButton *copyCurlButton() const { return m_copyCurl; }

    LogView *combinedView() const;
    LogView *stdoutView() const;
    LogView *stderrView() const;
    JobOutput *output() const { return m_output; }
    CodeEditor *scriptView() const { return m_script; }
    QTextBrowser *detailsView() const { return m_details; }
    QTabWidget *tabs() const { return m_tabs; }
    JobChangesView *changesView() const { return m_changes; }
    // The stream of the visible output tab: 2 when the stderr tab is shown, else 1.
    int currentStream() const;
    // The whole kept log of a stream (up to the log cap).
    QByteArray fullLog(int stream) const;

signals:
    void snippetCopied(const QString &what);

private:
    QString copySnippet(bool python);
    void onJobChanged(const QString &id);
    void refreshHeader(const JobRecord &j);
    void refreshDetails(const JobRecord &j);

    Executor &m_ex;
    QString m_id;
    QStackedWidget *m_stack;
    QLabel *m_title, *m_status, *m_summary, *m_notice;
    QWidget *m_buttons;
    QTabWidget *m_tabs;
    JobOutput *m_output;
    CodeEditor *m_script;
    BashHighlighter *m_highlighter;
    QTextBrowser *m_details;
    JobChangesView *m_changes;
    QTimer m_tick; // the duration in the header ticks while the job runs
    QToolButton *m_copyPython, *m_copyCurl;
    std::function<SnippetContext()> m_snippetContext;
};

} // namespace magpie::ui
