#include "JobOutput.h"

#include "LogIndex.h"
#include "LogView.h"
#include "OutputOptions.h"
#include "OutputPane.h"
#include "Tools.h"
#include "UiFormat.h"

#include <QIODevice>
#include <QRegularExpression>
#include <QTabWidget>

namespace magpie::ui {

namespace {
constexpr qint64 kReadChunk = 1024 * 1024;
}

JobOutput::JobOutput(Executor &executor, QTabWidget *tabs, int firstTab)
    : QObject(tabs), m_ex(executor), m_tabs(tabs), m_firstTab(firstTab)
{
    m_doc = new OutputDocument(this);
    m_options = new OutputOptions(this);
    const OutputDocument::View kinds[3] = {OutputDocument::View::Combined, OutputDocument::View::Stdout,
                                           OutputDocument::View::Stderr};
    const char *names[3] = {"combinedView", "stdoutView", "stderrView"};
    const QString titles[3] = {tr("All output"), tr("Output"), tr("Errors")};
    for (int i = 0; i < 3; ++i) {
        m_views[i] = new LogView(m_doc, kinds[i]);
        m_views[i]->setObjectName(QLatin1String(names[i]));
        m_panes[i] = new OutputPane(m_views[i], m_options, tabs);
        m_panes[i]->setObjectName(QLatin1String(names[i]) + QStringLiteral("Pane"));
        tabs->insertTab(firstTab + i, m_panes[i], titles[i]);
    }
    m_panes[0]->setRawWriter([this](QIODevice &out, QString *error) { return writeCombinedRaw(out, error); });
    m_panes[1]->setRawWriter([this](QIODevice &out, QString *error) { return writeRaw(1, out, error); });
    m_panes[2]->setRawWriter([this](QIODevice &out, QString *error) { return writeRaw(2, out, error); });
    m_pullTimer.setSingleShot(true);
    m_pullTimer.setInterval(60);
    connect(&m_pullTimer, &QTimer::timeout, this, &JobOutput::pull);
    connect(&m_ex, &Executor::jobOutput, this, &JobOutput::onJobOutput);
}

QString JobOutput::logDir() const
{
    return QStringLiteral("%1/logs/%2").arg(m_ex.dataDir(), m_id);
}

void JobOutput::setJob(const std::optional<JobRecord> &job)
{
    m_pullTimer.stop();
    m_id = job ? job->requestId : QString();
    m_finished = false;
    for (qint64 &o : m_offset)
        o = 0;
    m_records = 0;
    m_doc->clear();
    for (LogView *v : m_views)
        v->setFollowing(true);
    if (!job) {
        updateTitles();
        return;
    }
    const QString base = job->name.isEmpty() ? job->requestId : job->name;
    QString safe = base;
    safe.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("-"));
    m_panes[0]->setSuggestedFileName(safe + QStringLiteral("-output"));
    m_panes[1]->setSuggestedFileName(safe + QStringLiteral("-stdout"));
    m_panes[2]->setSuggestedFileName(safe + QStringLiteral("-stderr"));
    const QDateTime start = parseIso(job->startedAt.isEmpty() ? job->createdAt : job->startedAt);
    for (LogView *v : m_views)
        v->setTimeBase(start.isValid() ? start.toMSecsSinceEpoch() : 0);
    update(*job);
}

void JobOutput::update(const JobRecord &job)
{
    if (job.requestId != m_id)
        return;
    if (!job.startedAt.isEmpty()) {
        const QDateTime start = parseIso(job.startedAt);
        for (LogView *v : m_views)
            v->setTimeBase(start.toMSecsSinceEpoch());
    }
    pull();
    if (isFinished(job.status) && !m_finished) {
        m_finished = true;
        m_doc->finish();
    }
}

void JobOutput::onJobOutput(const QString &id, int, const QByteArray &)
{
    if (id == m_id && !m_pullTimer.isActive())
        m_pullTimer.start();
}

void JobOutput::pull()
{
    if (m_id.isEmpty())
        return;
    // The bytes first, then the records: JobStore writes a chunk's bytes before its records, on
    // this thread, so every record read here has its line parsed.
    bool any = false;
    for (int s : {1, 2}) {
        for (;;) {
            const LogChunk c = m_ex.readLog(m_id, s, m_offset[s], kReadChunk);
            if (c.data.isEmpty())
                break;
            m_offset[s] = c.offset + c.data.size();
            m_doc->appendBytes(s, c.data);
            any = true;
        }
    }
    const QString dir = logDir();
    const qint64 n = LogIndex::recordCount(dir);
    if (n > m_records) {
        m_doc->addRecords(LogIndex::readRecords(dir, m_records, n - m_records));
        m_records = n;
        any = true;
    }
    if (any)
        m_doc->endBatch();
    updateTitles();
}

void JobOutput::updateTitles()
{
    auto title = [](const QString &base, qint64 bytes) {
        return bytes > 0 ? QStringLiteral("%1 (%2)").arg(base, formatBytes(bytes)) : base;
    };
    m_tabs->setTabText(m_firstTab + 1, title(tr("Output"), m_offset[1]));
    m_tabs->setTabText(m_firstTab + 2, title(tr("Errors"), m_offset[2]));
}

bool JobOutput::writeRaw(int stream, QIODevice &out, QString *error) const
{
    qint64 offset = 0;
    for (;;) {
        const LogChunk c = m_ex.readLog(m_id, stream, offset, kReadChunk);
        if (c.data.isEmpty())
            return true;
        if (out.write(c.data) != c.data.size()) {
            *error = out.errorString();
            return false;
        }
        offset = c.offset + c.data.size();
    }
}

bool JobOutput::writeCombinedRaw(QIODevice &out, QString *error) const
{
    // Each line as it is in its stream file, '\n' included except after a last line that has none.
    const QString dir = logDir();
    qint64 lines[3] = {0, 0, 0}, seen[3] = {0, 0, 0};
    bool newlineAtEnd[3] = {true, true, true};
    for (int s : {1, 2}) {
        LogLinesQuery one;
        one.streams = s;
        one.fromTail = true;
        one.maxEntries = 1;
        lines[s] = LogIndex::readLines(dir, one).total;
        const LogChunk last = m_ex.readLog(m_id, s, m_ex.readLog(m_id, s, 0, 0).size - 1, 1);
        newlineAtEnd[s] = last.data.isEmpty() || last.data.endsWith('\n');
    }
    LogLinesQuery q;
    q.maxEntries = LogIndex::kMaxQueryEntries;
    q.maxBytes = JobStore::logCapBytes() + 4096; // never cuts a line
    for (;;) {
        const LogLines page = LogIndex::readLines(dir, q);
        if (!page.ok) {
            *error = page.error;
            return false;
        }
        for (const LogLine &l : page.entries) {
            const bool newline = ++seen[l.stream] < lines[l.stream] || newlineAtEnd[l.stream];
            if (out.write(l.text) != l.text.size() || (newline && out.write("\n", 1) != 1)) {
                *error = out.errorString();
                return false;
            }
        }
        if (page.entries.isEmpty() || page.first + page.entries.size() >= page.total)
            return true;
        q.first = page.first + page.entries.size();
    }
}

} // namespace magpie::ui
