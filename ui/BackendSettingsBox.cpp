#include "BackendSettingsBox.h"

#include "FormNotes.h"
#include "UiFormat.h"

#include <QDir>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QRadioButton>
#include <QTimer>
#include <QVBoxLayout>

namespace magpie::ui {

namespace {
// At most `n` lines of `text` (the last ones for an error, whose final line says most), with
// "…" where some were left out.
QString someLines(const QString &text, int n, bool last)
{
    QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    if (lines.size() <= n)
        return lines.join(QLatin1Char('\n'));
    lines = last ? lines.mid(lines.size() - n) : lines.mid(0, n);
    if (last)
        lines.prepend(QStringLiteral("…"));
    else
        lines.append(QStringLiteral("…"));
    return lines.join(QLatin1Char('\n'));
}

bool hasSpace(const QString &s)
{
    for (const QChar c : s)
        if (c.isSpace())
            return true;
    return false;
}
} // namespace

BackendSettingsBox::BackendSettingsBox(const Executor &executor, const WindowSettings &current, QWidget *parent)
    : QGroupBox(tr("Where jobs run"), parent), m_ex(executor), m_current(current)
{
    setObjectName(QStringLiteral("backendBox"));
    auto *v = new QVBoxLayout(this);
    m_local = new QRadioButton(tr("This computer (&QEMU)"), this);
    m_local->setObjectName(QStringLiteral("backendLocalRadio"));
    m_slurm = new QRadioButton(tr("A S&lurm cluster"), this);
    m_slurm->setObjectName(QStringLiteral("backendSlurmRadio"));
    auto *radios = new QHBoxLayout;
    radios->addWidget(m_local);
    radios->addWidget(m_slurm);
    radios->addStretch(1);
    v->addLayout(radios);

    m_slurmFields = new QWidget(this);
    m_slurmFields->setObjectName(QStringLiteral("slurmFields"));
    auto *f = new QFormLayout(m_slurmFields);
    f->setContentsMargins(20, 0, 0, 0);
    m_partition = new QLineEdit(current.slurmPartition, m_slurmFields);
    m_partition->setObjectName(QStringLiteral("slurmPartitionEdit"));
    m_partition->setPlaceholderText(tr("the cluster's default"));
    f->addRow(tr("&Partition:"), m_partition);
    m_account = new QLineEdit(current.slurmAccount, m_slurmFields);
    m_account->setObjectName(QStringLiteral("slurmAccountEdit"));
    m_account->setPlaceholderText(tr("your default account"));
    f->addRow(tr("A&ccount:"), m_account);
    auto *sharedRow = new QHBoxLayout;
    m_shared = new QLineEdit(current.slurmShared, m_slurmFields);
    m_shared->setObjectName(QStringLiteral("slurmSharedEdit"));
    m_shared->setPlaceholderText(tr("/shared/magpie (the same path on every node)"));
    m_shared->setToolTip(tr("Workspaces, logs and results live here; the app and every node must see it at this path"));
    m_browse = new QPushButton(tr("&Browse…"), m_slurmFields);
    m_browse->setObjectName(QStringLiteral("slurmSharedBrowse"));
    sharedRow->addWidget(m_shared, 1);
    sharedRow->addWidget(m_browse);
    auto *sharedLabel = new QLabel(tr("S&hared data folder:"), m_slurmFields);
    sharedLabel->setBuddy(m_shared);
    f->addRow(sharedLabel, sharedRow);
    m_extra = new QLineEdit(current.slurmExtra, m_slurmFields);
    m_extra->setObjectName(QStringLiteral("slurmExtraEdit"));
    m_extra->setPlaceholderText(tr("e.g. --qos=long --constraint=kvm"));
    m_extra->setToolTip(tr("Added to every sbatch; split at spaces, \"double quotes\" keep words together"));
    f->addRow(tr("E&xtra sbatch arguments:"), m_extra);
    m_message = formNote(m_slurmFields, QString(), "backendMessage");
    m_message->hide();
    f->addRow(m_message);
    auto *checkRow = new QHBoxLayout;
    m_check = new QPushButton(tr("Check cluster"), m_slurmFields);
    m_check->setObjectName(QStringLiteral("checkClusterButton"));
    m_check->setToolTip(tr("Runs sinfo: the partitions this computer's Slurm client sees"));
    checkRow->addWidget(m_check);
    checkRow->addStretch(1);
    f->addRow(checkRow);
    m_cluster = formNote(m_slurmFields, QString(), "clusterOutput");
    m_cluster->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_cluster->hide();
    f->addRow(m_cluster);
    v->addWidget(m_slurmFields);

    m_note = formNote(this, QString(), "backendNote");
    v->addWidget(m_note);

    m_checkTimer = new QTimer(this);
    m_checkTimer->setSingleShot(true);
    m_checkTimer->setInterval(kCheckTimeoutMs);

    (current.backend == QLatin1String("slurm") ? m_slurm : m_local)->setChecked(true);
    for (QLineEdit *e : {m_partition, m_account, m_shared, m_extra})
        connect(e, &QLineEdit::textChanged, this, &BackendSettingsBox::revalidate);
    connect(m_slurm, &QRadioButton::toggled, this, &BackendSettingsBox::revalidate);
    connect(m_browse, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Shared data folder"), m_shared->text().trimmed().isEmpty() ? QDir::homePath() : sharedPath());
        if (!d.isEmpty())
            m_shared->setText(QDir::toNativeSeparators(d));
    });
    connect(m_check, &QPushButton::clicked, this, &BackendSettingsBox::checkCluster);
    connect(m_checkTimer, &QTimer::timeout, this, [this] {
        if (!m_sinfo)
            return;
        QProcess *p = m_sinfo;
        m_sinfo = nullptr; // its finished() is not an answer any more
        p->disconnect(this);
        p->kill();
        p->waitForFinished(1000);
        p->deleteLater();
        finishCheck(false, tr("sinfo did not answer within %1 s: is the cluster's controller (slurmctld) reachable from here?")
                               .arg(kCheckTimeoutMs / 1000));
    });
    revalidate();
}

BackendSettingsBox::~BackendSettingsBox()
{
    if (m_sinfo) {
        m_sinfo->disconnect(this);
        m_sinfo->kill();
        m_sinfo->waitForFinished(1000);
    }
}

bool BackendSettingsBox::splitExtraArgs(const QString &text, QStringList *args, QString *error)
{
    // The same quote rules as QProcess::splitCommand: a double quote opens or closes a quoted
    // part, three in a row are a literal quote, two are an empty quoted part.
    bool inQuote = false;
    int quotes = 0;
    bool single = false;
    for (const QChar c : text) {
        if (c == QLatin1Char('"')) {
            if (++quotes == 3)
                quotes = 0;
            continue;
        }
        if (quotes == 1)
            inQuote = !inQuote;
        quotes = 0;
        if (c == QLatin1Char('\'') && !inQuote)
            single = true;
    }
    if (quotes == 1)
        inQuote = !inQuote;
    if (inQuote) {
        if (error)
            *error = tr("The extra sbatch arguments have an unbalanced double quote (\"): close it, or drop it.");
        return false;
    }
    if (single) {
        if (error)
            *error = tr("Single quotes are not understood in the extra sbatch arguments: keep words together with double quotes (\"…\").");
        return false;
    }
    if (args)
        *args = QProcess::splitCommand(text);
    return true;
}

QString BackendSettingsBox::sharedPath() const
{
    QString d = QDir::fromNativeSeparators(m_shared->text().trimmed());
    if (d == QLatin1String("~") || d.startsWith(QLatin1String("~/")))
        d = QDir::homePath() + d.mid(1);
    return d;
}

QString BackendSettingsBox::slurmErrors() const
{
    QStringList errs;
    const QString shared = sharedPath();
    if (shared.isEmpty())
        errs << tr("Slurm needs a shared data folder: an absolute path that every node sees too, e.g. /shared/magpie.");
    else if (!QDir::isAbsolutePath(shared))
        errs << tr("Give the shared data folder as an absolute path (every node must see it at the same path), e.g. /shared/magpie.");
    if (hasSpace(m_partition->text().trimmed()))
        errs << tr("The partition is one name (or a comma-separated list) without spaces.");
    if (hasSpace(m_account->text().trimmed()))
        errs << tr("The account is one name without spaces.");
    QString extraErr;
    if (!splitExtraArgs(m_extra->text(), nullptr, &extraErr))
        errs << extraErr;
    return errs.join(QLatin1Char('\n'));
}

QString BackendSettingsBox::error() const
{
    return m_slurm->isChecked() ? slurmErrors() : QString();
}

void BackendSettingsBox::fill(WindowSettings &s) const
{
    const bool slurm = m_slurm->isChecked();
    s.backend = slurm ? QStringLiteral("slurm") : QStringLiteral("local");
    if (!slurm && !slurmErrors().isEmpty()) {
        // Not used while jobs run here; what was saved before stays rather than something refused.
        s.slurmPartition = m_current.slurmPartition;
        s.slurmAccount = m_current.slurmAccount;
        s.slurmShared = m_current.slurmShared;
        s.slurmExtra = m_current.slurmExtra;
        return;
    }
    s.slurmPartition = m_partition->text().trimmed();
    s.slurmAccount = m_account->text().trimmed();
    s.slurmShared = sharedPath();
    s.slurmExtra = m_extra->text().trimmed();
}

void BackendSettingsBox::revalidate()
{
    const bool slurm = m_slurm->isChecked();
    m_slurmFields->setEnabled(slurm);
    showFormError(m_message, error());

    // Which backend runs jobs now, and whether the form asks for another one.
    const QString inUse = m_ex.backendName();
    const SlurmConfig &now = m_ex.config().slurm;
    QString text;
    if (inUse == QLatin1String("slurm"))
        text = tr("In use now: the Slurm cluster (partition %1, shared folder %2).")
                   .arg(now.partition.isEmpty() ? tr("default") : now.partition, now.sharedDir);
    else
        text = tr("In use now: this computer (QEMU).");
    bool differs = slurm != (inUse == QLatin1String("slurm"));
    if (slurm && !differs) {
        QStringList extra;
        splitExtraArgs(m_extra->text(), &extra, nullptr);
        differs = m_partition->text().trimmed() != now.partition || m_account->text().trimmed() != now.account
                  || sharedPath() != now.sharedDir || extra != now.extraArgs;
    }
    text += QLatin1Char(' ');
    if (!differs)
        text += tr("A change takes effect when Magpie Desktop restarts.");
    else
        text += tr("The change takes effect when Magpie Desktop restarts; jobs still queued then run on the new choice.");
    if (!slurm && inUse == QLatin1String("slurm"))
        text += tr(" Jobs running on the cluster at that restart are no longer followed: they are recorded as interrupted.");
    m_note->setText(text);
    emit changed();
}

void BackendSettingsBox::checkCluster()
{
    if (m_sinfo)
        return;
    m_check->setEnabled(false);
    m_cluster->setText(tr("Asking sinfo…"));
    m_cluster->show();
    m_sinfo = new QProcess(this);
    QProcess *p = m_sinfo;
    connect(p, &QProcess::errorOccurred, this, [this, p](QProcess::ProcessError e) {
        if (p != m_sinfo || e != QProcess::FailedToStart)
            return; // a crash or kill also ends in finished()
        m_sinfo = nullptr;
        m_checkTimer->stop();
        p->deleteLater();
        finishCheck(false, tr("sinfo not found: install slurm-client (or put sinfo on PATH)."));
    });
    connect(p, &QProcess::finished, this, [this, p](int code, QProcess::ExitStatus status) {
        if (p != m_sinfo)
            return;
        m_sinfo = nullptr;
        m_checkTimer->stop();
        p->deleteLater();
        const QString out = someLines(QString::fromLocal8Bit(p->readAllStandardOutput()).trimmed(), 8, false);
        const QString err = someLines(QString::fromLocal8Bit(p->readAllStandardError()).trimmed(), 2, true);
        if (status != QProcess::NormalExit)
            finishCheck(false, tr("sinfo crashed. %1").arg(err));
        else if (code != 0)
            finishCheck(false, tr("sinfo failed (exit code %1): %2").arg(code).arg(err.isEmpty() ? tr("no message") : err));
        else if (out.isEmpty())
            finishCheck(false, tr("sinfo answered, but lists no partitions."));
        else
            finishCheck(true, tr("Partition, availability, nodes, state (* marks the default):\n%1").arg(out));
    });
    m_checkTimer->start();
    p->start(QStringLiteral("sinfo"), {QStringLiteral("-h"), QStringLiteral("-o"), QStringLiteral("%P %a %D %T")});
}

void BackendSettingsBox::finishCheck(bool ok, const QString &text)
{
    m_check->setEnabled(true);
    m_cluster->setText(text);
    m_cluster->show();
    QPalette p = m_cluster->palette();
    p.setColor(QPalette::WindowText, ok ? palette().color(QPalette::WindowText) : statusColor(JobStatus::Failed, palette()));
    m_cluster->setPalette(p);
    emit clusterChecked(ok);
}

} // namespace magpie::ui
