#include "JobDetail.h"

#include "BashHighlighter.h"
#include "CodeEditor.h"
#include "JobStore.h"
#include "LogView.h"
#include "UiFormat.h"
#include "output/JobOutput.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

namespace magpie::ui {

JobDetail::JobDetail(Executor &executor, QWidget *parent)
    : QWidget(parent), m_ex(executor)
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_stack = new QStackedWidget(this);
    outer->addWidget(m_stack);

    auto *placeholder = new QLabel(tr("Select a job to see its output, script and details."), m_stack);
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setEnabled(false);
    m_stack->addWidget(placeholder);

    auto *page = new QWidget(m_stack);
    auto *v = new QVBoxLayout(page);
    v->setContentsMargins(4, 4, 4, 0);
    auto *head = new QHBoxLayout;
    m_status = new QLabel(page);
    m_status->setObjectName(QStringLiteral("detailStatus"));
    m_title = new QLabel(page);
    m_title->setObjectName(QStringLiteral("detailTitle"));
    QFont tf = m_title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.2);
    tf.setBold(true);
    m_title->setFont(tf);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary = new QLabel(page);
    m_summary->setObjectName(QStringLiteral("detailSummary"));
    m_buttons = new QWidget(page);
    auto *bl = new QHBoxLayout(m_buttons);
    bl->setContentsMargins(0, 0, 0, 0);
    head->addWidget(m_status);
    head->addWidget(m_title);
    head->addSpacing(12);
    head->addWidget(m_summary, 1);
    head->addWidget(m_buttons);
    m_copyPython = new QToolButton(page);
    m_copyPython->setObjectName(QStringLiteral("copyPythonButton"));
    m_copyPython->setText(tr("Copy as Python"));
    m_copyPython->setToolTip(tr("Copy the client.jobs.run_and_wait(...) call that runs this job again from a script"));
    m_copyPython->setAutoRaise(true);
    m_copyCurl = new QToolButton(page);
    m_copyCurl->setObjectName(QStringLiteral("copyCurlButton"));
    m_copyCurl->setText(tr("Copy as curl"));
    m_copyCurl->setToolTip(tr("Copy the curl request that submits this job again over the local HTTP API"));
    m_copyCurl->setAutoRaise(true);
    head->addWidget(m_copyPython);
    head->addWidget(m_copyCurl);
    connect(m_copyPython, &QToolButton::clicked, this, &JobDetail::copyAsPython);
    connect(m_copyCurl, &QToolButton::clicked, this, &JobDetail::copyAsCurl);
    v->addLayout(head);
    m_notice = new QLabel(page);
    m_notice->setObjectName(QStringLiteral("detailNotice"));
    m_notice->setWordWrap(true);
    m_notice->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_notice->hide();
    v->addWidget(m_notice);

    m_tabs = new QTabWidget(page);
    m_tabs->setDocumentMode(true);
    m_output = new JobOutput(m_ex, m_tabs, TabAll); // tabs All output, Output, Errors
    m_script = new CodeEditor(m_tabs);
    m_script->setObjectName(QStringLiteral("scriptView"));
    m_script->setReadOnly(true);
    m_highlighter = new BashHighlighter(m_script->document());
    m_details = new QTextBrowser(m_tabs);
    m_details->setObjectName(QStringLiteral("detailsView"));
    m_details->setOpenLinks(false);
    m_tabs->addTab(m_script, tr("Script"));
    m_tabs->addTab(m_details, tr("Details"));
    v->addWidget(m_tabs, 1);
    m_stack->addWidget(page);

    connect(&m_ex, &Executor::jobChanged, this, &JobDetail::onJobChanged);
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, [this] {
        const auto j = m_id.isEmpty() ? std::nullopt : m_ex.job(m_id);
        if (j && j->status == JobStatus::Running)
            refreshHeader(*j);
        else
            m_tick.stop();
    });
}

void JobDetail::setActions(const QList<QAction *> &actions)
{
    for (QAction *a : actions) {
        auto *b = new QToolButton(m_buttons);
        b->setDefaultAction(a);
        b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        b->setAutoRaise(true);
        m_buttons->layout()->addWidget(b);
    }
}

QString JobDetail::copyAsPython()
{
    return copySnippet(true);
}

QString JobDetail::copyAsCurl()
{
    return copySnippet(false);
}

QString JobDetail::copySnippet(bool python)
{
    const auto j = m_id.isEmpty() ? std::nullopt : m_ex.job(m_id);
    if (!j)
        return QString();
    SnippetContext c = m_snippetContext ? m_snippetContext() : SnippetContext();
    if (c.dataDir.isEmpty())
        c.dataDir = m_ex.dataDir();
    const bool withSize = j->stateful && !m_ex.workspace(j->workspaceId); // it is made again
    const QString text = python ? CodeSnippets::python(*j, c, withSize) : CodeSnippets::curl(*j, c, withSize);
    QGuiApplication::clipboard()->setText(text);
    emit snippetCopied(python ? tr("Copied the Python SDK call that runs “%1” again.").arg(j->name)
                              : tr("Copied the curl request that submits “%1” again.").arg(j->name));
    return text;
}

LogView *JobDetail::combinedView() const
{
    return m_output->combinedView();
}

LogView *JobDetail::stdoutView() const
{
    return m_output->stdoutView();
}

LogView *JobDetail::stderrView() const
{
    return m_output->stderrView();
}

int JobDetail::currentStream() const
{
    return m_tabs->currentIndex() == TabErrors ? 2 : 1;
}

QByteArray JobDetail::fullLog(int stream) const
{
    if (m_id.isEmpty())
        return {};
    return m_ex.readLog(m_id, stream, 0, JobStore::logCapBytes() + 4096).data;
}

void JobDetail::setJob(const QString &requestId)
{
    if (requestId == m_id && !requestId.isEmpty())
        return;
    m_id = requestId;
    const auto j = requestId.isEmpty() ? std::nullopt : m_ex.job(requestId);
    m_output->setJob(j);
    if (!j) {
        m_id.clear();
        m_script->clear();
        m_details->clear();
        m_stack->setCurrentIndex(0);
        return;
    }
    m_stack->setCurrentIndex(1);
    m_script->setPlainText(j->script);
    refreshHeader(*j);
    refreshDetails(*j);
    if (m_tabs->currentIndex() == TabErrors && m_output->bytesShown(2) == 0)
        m_tabs->setCurrentIndex(TabAll);
}

void JobDetail::onJobChanged(const QString &id)
{
    if (id != m_id)
        return;
    const auto j = m_ex.job(id);
    if (!j)
        return;
    m_output->update(*j);
    refreshHeader(*j);
    refreshDetails(*j);
}

void JobDetail::refreshHeader(const JobRecord &j)
{
    if (j.status == JobStatus::Running && !m_tick.isActive())
        m_tick.start();
    const QColor c = statusColor(j.status, palette());
    m_status->setPixmap(statusIcon(j.status, palette()).pixmap(20, 20));
    m_status->setToolTip(statusLabel(j.status));
    m_title->setText(j.name);
    QStringList parts;
    parts << QStringLiteral("<b style='color:%1'>%2</b>").arg(c.name(), statusLabel(j.status).toHtmlEscaped());
    if (j.exitCode)
        parts << tr("exit code %1").arg(*j.exitCode);
    if (const auto ms = jobElapsedMs(j))
        parts << formatDuration(*ms);
    parts << (j.workspaceId.isEmpty() ? tr("no workspace") : tr("workspace <b>%1</b>").arg(j.workspaceId.toHtmlEscaped()));
    m_summary->setText(parts.join(QStringLiteral(" · ")));
    QStringList notes;
    if (!j.error.isEmpty())
        notes << QStringLiteral("<span style='color:%1'>%2</span>").arg(statusColor(JobStatus::Failed, palette()).name(), j.error.toHtmlEscaped());
    if (!j.notice.isEmpty())
        notes << j.notice.toHtmlEscaped();
    m_notice->setText(notes.join(QStringLiteral("<br>")));
    m_notice->setVisible(!notes.isEmpty());
}

void JobDetail::refreshDetails(const JobRecord &j)
{
    auto row = [](const QString &k, const QString &v) {
        return QStringLiteral("<tr><td style='padding-right:14px'><b>%1</b></td><td>%2</td></tr>").arg(k.toHtmlEscaped(), v.toHtmlEscaped());
    };
    auto orDash = [](const QString &s) { return s.isEmpty() ? QStringLiteral("—") : s; };
    QString html = QStringLiteral("<table cellspacing='2'>");
    html += row(tr("Request id"), j.requestId);
    html += row(tr("Name"), j.name);
    html += row(tr("Status"), statusLabel(j.status) + (j.exitCode ? tr(" (exit code %1)").arg(*j.exitCode) : QString()));
    if (!j.error.isEmpty())
        html += row(tr("Error"), j.error);
    if (!j.notice.isEmpty())
        html += row(tr("Notice"), j.notice);
    html += row(tr("Created"), formatLocalTime(j.createdAt));
    html += row(tr("Started"), orDash(formatLocalTime(j.startedAt)));
    html += row(tr("Finished"), orDash(formatLocalTime(j.finishedAt)));
    const auto ms = jobElapsedMs(j);
    html += row(tr("Duration"), ms ? formatDuration(*ms) : QStringLiteral("—"));
    if (j.stateful) {
        html += row(tr("Workspace"), tr("%1 (%2 GB)").arg(j.workspaceId).arg(j.workspaceSizeGb));
        if (j.workspaceUsedBytes && j.workspaceTotalBytes)
            html += row(tr("Workspace use after the job"), tr("%1 of %2").arg(formatBytes(*j.workspaceUsedBytes), formatBytes(*j.workspaceTotalBytes)));
    } else {
        html += row(tr("Workspace"), tr("none (stateless: nothing is kept)"));
    }
    html += row(tr("Image"), j.image.isEmpty() ? QStringLiteral("base") : j.image);
    html += row(tr("vCPUs"), QString::number(j.vcpus));
    html += row(tr("Memory"), tr("%1 MB").arg(j.memoryMb));
    html += row(tr("Timeout"), j.timeoutSec > 0 ? formatDuration(qint64(j.timeoutSec) * 1000) : tr("none"));
    html += row(tr("Network"), j.network ? tr("on") : tr("off"));
    QStringList env;
    for (const auto &kv : j.env)
        env << kv.first + QLatin1Char('=') + kv.second;
    html += row(tr("Environment"), env.isEmpty() ? QStringLiteral("—") : env.join(QStringLiteral(", ")));
    html += row(tr("Accelerator"), orDash(j.accelerator.toUpper()));
    html += row(tr("VM start"), j.startKind == QLatin1String("restore") ? tr("restored from a snapshot")
                                : j.startKind == QLatin1String("cold")  ? tr("booted (no snapshot yet, or the restore failed)")
                                                                       : orDash(j.startKind));
    html += row(tr("Phases"), orDash(formatTimings(j.timings)));
    html += row(tr("Submitted from"), j.source == QLatin1String("gui") ? tr("this window") : j.source == QLatin1String("api") ? tr("the HTTP API") : orDash(j.source));
    html += row(tr("Output"), tr("%1 stdout, %2 stderr").arg(formatBytes(j.stdoutBytes), formatBytes(j.stderrBytes)));
    html += row(tr("Logs"), QStringLiteral("%1/logs/%2/").arg(m_ex.dataDir(), j.requestId));
    html += QStringLiteral("</table>");
    m_details->setHtml(html);
}

} // namespace magpie::ui
