#include "NewJobDialog.h"

#include "MessageBox.h"

#include "BashHighlighter.h"
#include "CodeEditor.h"
#include "EnvTable.h"
#include "ImageBuildDialog.h"
#include "ImageRegistry.h"
#include "JobTemplates.h"
#include "UiFormat.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace magpie::ui {

namespace {
QLabel *messageLabel(QWidget *parent, const char *name)
{
    auto *l = new QLabel(parent);
    l->setObjectName(QLatin1String(name));
    l->setWordWrap(true);
    l->setTextFormat(Qt::PlainText);
    l->hide();
    return l;
}
} // namespace

NewJobDialog::NewJobDialog(Executor &executor, QWidget *parent)
    : QDialog(parent), m_ex(executor)
{
    setObjectName(QStringLiteral("newJobDialog"));
    setWindowTitle(tr("New job"));
    resize(1060, 700);
    auto *outer = new QVBoxLayout(this);
    auto *split = new QSplitter(Qt::Horizontal, this);
    outer->addWidget(split, 1);

    // ---- left: name, template menu, script
    auto *left = new QWidget(split);
    auto *lv = new QVBoxLayout(left);
    lv->setContentsMargins(0, 0, 6, 0);
    auto *nameRow = new QHBoxLayout;
    nameRow->addWidget(new QLabel(tr("&Name:"), left));
    m_name = new QLineEdit(left);
    m_name->setObjectName(QStringLiteral("nameEdit"));
    m_name->setPlaceholderText(tr("optional, e.g. Nightly build"));
    m_name->setMaxLength(JobLimits::kMaxNameLength + 50); // longer names are refused with a message
    qobject_cast<QLabel *>(nameRow->itemAt(0)->widget())->setBuddy(m_name);
    nameRow->addWidget(m_name, 1);
    m_templates = new QToolButton(left);
    m_templates->setObjectName(QStringLiteral("templateButton"));
    m_templates->setText(tr("&Templates"));
    m_templates->setToolTip(tr("Start from one of the use cases of the stateful-jobs guide"));
    m_templates->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(m_templates);
    QString group;
    for (const JobTemplate &t : JobTemplate::all()) {
        if (t.group != group) {
            menu->addSection(t.group);
            group = t.group;
        }
        QAction *a = menu->addAction(t.title);
        a->setObjectName(QStringLiteral("template:") + t.title);
        connect(a, &QAction::triggered, this, [this, t] { applyTemplate(t); });
    }
    m_templates->setMenu(menu);
    nameRow->addWidget(m_templates);
    lv->addLayout(nameRow);
    m_nameMessage = messageLabel(left, "nameMessage");
    lv->addWidget(m_nameMessage);
    auto *scriptLabel = new QLabel(tr("&Script (bash; runs as root in a fresh VM, /workspace is the persistent disk):"), left);
    lv->addWidget(scriptLabel);
    m_script = new CodeEditor(left);
    m_script->setObjectName(QStringLiteral("scriptEdit"));
    m_script->setPlaceholderText(tr("echo 'hello' > /workspace/greeting.txt"));
    scriptLabel->setBuddy(m_script);
    m_highlighter = new BashHighlighter(m_script->document());
    lv->addWidget(m_script, 1);
    m_scriptMessage = messageLabel(left, "scriptMessage");
    lv->addWidget(m_scriptMessage);
    split->addWidget(left);

    // ---- right: workspace, resources, environment
    auto *right = new QWidget(split);
    auto *rv = new QVBoxLayout(right);
    rv->setContentsMargins(6, 0, 0, 0);
    m_stateful = new QGroupBox(tr("S&tateful: keep /workspace between jobs"), right);
    m_stateful->setObjectName(QStringLiteral("statefulBox"));
    m_stateful->setCheckable(true);
    m_stateful->setChecked(false);
    auto *wf = new QFormLayout(m_stateful);
    m_workspace = new QComboBox(m_stateful);
    m_workspace->setObjectName(QStringLiteral("workspaceEdit"));
    m_workspace->setEditable(true);
    m_workspace->setInsertPolicy(QComboBox::NoInsert);
    m_workspace->lineEdit()->setPlaceholderText(tr("new: named after the job's id"));
    m_workspace->setToolTip(tr("Pick an existing workspace or type a new id: lowercase letters, digits and hyphens, up to 63 characters"));
    wf->addRow(tr("&Workspace:"), m_workspace);
    m_wsMessage = messageLabel(m_stateful, "workspaceMessage");
    wf->addRow(m_wsMessage);
    m_size = new QSpinBox(m_stateful);
    m_size->setObjectName(QStringLiteral("sizeSpin"));
    m_size->setRange(1, WorkspaceStore::kMaxSizeGb);
    m_size->setValue(WorkspaceStore::kDefaultSizeGb);
    m_size->setSuffix(tr(" GB"));
    wf->addRow(tr("Si&ze:"), m_size);
    m_sizeNote = new QLabel(tr("The size is fixed when the workspace is created; later jobs keep it. "
                               "The disk only takes what is written to it."),
                            m_stateful);
    m_sizeNote->setObjectName(QStringLiteral("sizeNote"));
    m_sizeNote->setWordWrap(true);
    m_sizeNote->setEnabled(false);
    wf->addRow(m_sizeNote);
    rv->addWidget(m_stateful);

    auto *res = new QGroupBox(tr("Resources"), right);
    auto *rf = new QFormLayout(res);
    m_vcpus = new QSpinBox(res);
    m_vcpus->setObjectName(QStringLiteral("vcpusSpin"));
    m_vcpus->setRange(JobLimits::kMinVcpus, JobLimits::kMaxVcpus);
    m_vcpus->setValue(m_ex.config().defaultVcpus);
    rf->addRow(tr("&vCPUs:"), m_vcpus);
    m_memory = new QSpinBox(res);
    m_memory->setObjectName(QStringLiteral("memorySpin"));
    m_memory->setRange(JobLimits::kMinMemoryMb, JobLimits::kMaxMemoryMb);
    m_memory->setSingleStep(128);
    m_memory->setSuffix(tr(" MB"));
    m_memory->setValue(m_ex.config().defaultMemoryMb);
    rf->addRow(tr("&Memory:"), m_memory);
    m_timeout = new QSpinBox(res);
    m_timeout->setObjectName(QStringLiteral("timeoutSpin"));
    m_timeout->setRange(JobLimits::kMinTimeout, JobLimits::kMaxTimeout);
    m_timeout->setSingleStep(60);
    m_timeout->setSuffix(tr(" s"));
    m_timeout->setValue(m_ex.config().defaultTimeoutSec > 0 ? m_ex.config().defaultTimeoutSec : JobLimits::kDefaultTimeout);
    m_timeout->setToolTip(tr("The job is stopped (status timed out) when its script runs longer than this"));
    rf->addRow(tr("T&imeout:"), m_timeout);
    // The guest image profile (ImageRegistry): base, dev, the user's recipes; unbuilt ones say so.
    m_image = new QComboBox(res);
    m_image->setObjectName(QStringLiteral("imageCombo"));
    m_image->setToolTip(tr("What the VM runs: base (Debian with bash, python3, git) or dev (adds Node.js, npm, gcc…)"));
    m_buildImage = new QToolButton(res);
    m_buildImage->setObjectName(QStringLiteral("buildImageButton"));
    m_buildImage->setText(tr("Build…"));
    m_buildImage->setToolTip(tr("Build or rebuild a guest image profile"));
    m_buildImage->setVisible(false); // shown once the app says how to build (setImageSetup)
    auto *imageRow = new QHBoxLayout;
    imageRow->addWidget(m_image, 1);
    imageRow->addWidget(m_buildImage);
    rf->addRow(tr("Ima&ge:"), imageRow);
    refreshImageChoices();
    connect(m_buildImage, &QToolButton::clicked, this, [this] {
        auto *d = new ImageBuildDialog(m_imageSetup, m_ex.config().dataDir, m_image->currentData().toString(), this);
        d->setAttribute(Qt::WA_DeleteOnClose);
        connect(d, &ImageBuildDialog::imageBuilt, this, [this](const QString &name) {
            refreshImageChoices();
            if (const int i = m_image->findData(name); i >= 0)
                m_image->setCurrentIndex(i);
            revalidate();
        });
        d->show();
    });
    m_network = new QCheckBox(tr("Network access (user-mode NAT)"), res);
    m_network->setObjectName(QStringLiteral("networkCheck"));
    m_network->setChecked(true);
    rf->addRow(QString(), m_network);
    m_resourcesMessage = messageLabel(res, "resourcesMessage");
    rf->addRow(m_resourcesMessage);
    rv->addWidget(res);

    auto *envBox = new QGroupBox(tr("&Environment variables"), right);
    auto *ev = new QVBoxLayout(envBox);
    m_env = new EnvTable(envBox);
    ev->addWidget(m_env);
    m_envMessage = messageLabel(envBox, "envMessage");
    ev->addWidget(m_envMessage);
    rv->addWidget(envBox, 1);
    split->addWidget(right);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({620, 420});

    // ---- bottom: the reason Run is disabled, buttons
    auto *bottom = new QHBoxLayout;
    m_problemLabel = new QLabel(this);
    m_problemLabel->setObjectName(QStringLiteral("problemLabel"));
    m_problemLabel->setWordWrap(true);
    m_problemLabel->setTextFormat(Qt::PlainText);
    bottom->addWidget(m_problemLabel, 1);
    auto *buttons = new QDialogButtonBox(this);
    m_run = buttons->addButton(tr("&Run"), QDialogButtonBox::AcceptRole);
    m_run->setObjectName(QStringLiteral("runButton"));
    m_run->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_run->setAutoDefault(false);
    buttons->addButton(QDialogButtonBox::Cancel)->setAutoDefault(false);
    bottom->addWidget(buttons);
    outer->addLayout(bottom);

    connect(buttons, &QDialogButtonBox::accepted, this, [this] { run(); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    for (const QKeySequence &k : {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)}) {
        auto *sc = new QShortcut(k, this);
        connect(sc, &QShortcut::activated, this, [this] { run(); });
    }
    connect(m_script, &CodeEditor::runRequested, this, [this] { run(); });
    connect(m_name, &QLineEdit::textChanged, this, &NewJobDialog::revalidate);
    connect(m_script, &QPlainTextEdit::textChanged, this, &NewJobDialog::revalidate);
    connect(m_stateful, &QGroupBox::toggled, this, &NewJobDialog::revalidate);
    connect(m_workspace, &QComboBox::editTextChanged, this, &NewJobDialog::revalidate);
    connect(m_size, &QSpinBox::valueChanged, this, &NewJobDialog::revalidate);
    connect(m_image, &QComboBox::currentIndexChanged, this, &NewJobDialog::revalidate);
    connect(m_env, &EnvTable::changed, this, &NewJobDialog::revalidate);
    connect(&m_ex, &Executor::workspacesChanged, this, [this] {
        refreshWorkspaceChoices();
        revalidate();
    });
    refreshWorkspaceChoices();
    m_workspace->setEditText(QString());
    revalidate();
    m_script->setFocus();
}

void NewJobDialog::refreshImageChoices()
{
    const QString current = m_image->currentData().toString();
    const QSignalBlocker block(m_image);
    m_image->clear();
    const ImageRegistry images(m_ex.config().dataDir, m_ex.image());
    for (const ImageProfile &p : images.profiles()) {
        const bool built = images.isBuilt(p.name);
        m_image->addItem(built ? p.name : tr("%1 (not built)").arg(p.name), p.name);
        m_image->setItemData(m_image->count() - 1, p.description, Qt::ToolTipRole);
        m_image->setItemData(m_image->count() - 1, built, Qt::UserRole + 1);
    }
    const int i = m_image->findData(current.isEmpty() ? ImageRegistry::defaultName() : current);
    m_image->setCurrentIndex(qMax(0, i));
}

void NewJobDialog::setImageSetup(const ImageSetup &setup)
{
    m_imageSetup = setup;
    m_buildImage->setVisible(setup.canBuild());
}

void NewJobDialog::refreshWorkspaceChoices()
{
    const QString text = m_workspace->currentText();
    const QSignalBlocker block(m_workspace);
    m_workspace->clear();
    for (const WorkspaceState &w : m_ex.workspaces()) {
        m_workspace->addItem(w.info.id);
        m_workspace->setItemData(m_workspace->count() - 1,
                                 tr("%1 GB · %2 job(s) · last used %3").arg(w.info.sizeGb).arg(w.info.jobCount).arg(w.info.lastUsedAt.isEmpty() ? tr("never") : formatLocalTime(w.info.lastUsedAt)),
                                 Qt::ToolTipRole);
    }
    m_workspace->setEditText(text);
}

void NewJobDialog::showMessage(QLabel *label, const QString &text, bool error)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
    QPalette p = label->palette();
    const QPalette app = label->parentWidget() ? label->parentWidget()->palette() : label->palette();
    p.setColor(QPalette::WindowText, error ? statusColor(JobStatus::Failed, app) : app.color(QPalette::WindowText));
    label->setPalette(p);
    label->setProperty("error", error);
}

void NewJobDialog::setWorkspace(const QString &workspaceId)
{
    m_stateful->setChecked(true);
    m_workspace->setEditText(workspaceId);
    revalidate();
}

void NewJobDialog::setScript(const QString &script)
{
    m_script->setPlainText(script);
}

void NewJobDialog::applyTemplate(const JobTemplate &t)
{
    m_name->setText(t.name);
    m_script->setPlainText(t.script);
    m_stateful->setChecked(t.stateful);
    m_workspace->setEditText(t.workspaceId);
    if (t.workspaceSizeGb)
        m_size->setValue(*t.workspaceSizeGb);
    revalidate();
}

void NewJobDialog::loadFromJob(const JobRecord &job)
{
    setWindowTitle(tr("New job from “%1”").arg(job.name));
    m_name->setText(job.name);
    m_script->setPlainText(job.script);
    m_stateful->setChecked(job.stateful);
    m_workspace->setEditText(job.workspaceId);
    if (job.workspaceSizeGb > 0)
        m_size->setValue(job.workspaceSizeGb);
    m_env->setEnv(job.env);
    m_vcpus->setValue(job.vcpus);
    m_memory->setValue(job.memoryMb);
    if (job.timeoutSec > 0)
        m_timeout->setValue(job.timeoutSec);
    m_network->setChecked(job.network);
    if (const int i = m_image->findData(job.image); i >= 0)
        m_image->setCurrentIndex(i);
    revalidate();
}

JobRequest NewJobDialog::request() const
{
    JobRequest r;
    r.name = m_name->text().trimmed();
    r.script = m_script->toPlainText();
    r.stateful = m_stateful->isChecked();
    if (r.stateful) {
        r.workspaceId = m_workspace->currentText().trimmed();
        if (m_newWorkspace)
            r.workspaceSizeGb = m_size->value();
    }
    r.env = m_env->env();
    r.vcpus = m_vcpus->value();
    r.memoryMb = m_memory->value();
    r.timeoutSec = m_timeout->value();
    r.network = m_network->isChecked();
    r.image = m_image->currentData().toString();
    r.source = QStringLiteral("gui");
    return r;
}

void NewJobDialog::revalidate()
{
    QStringList problems;
    // The workspace picker, checked as the user types.
    m_newWorkspace = true;
    bool wsError = false;
    QString wsText;
    if (m_stateful->isChecked()) {
        const QString id = m_workspace->currentText().trimmed();
        QString why;
        if (id.isEmpty()) {
            wsText = tr("A new workspace will be created, named after the job's request id.");
        } else if (!WorkspaceStore::isValidId(id, &why)) {
            wsText = why;
            wsError = true;
            m_newWorkspace = false;
            problems << tr("Workspace: %1").arg(why);
        } else if (const auto w = m_ex.workspace(id)) {
            m_newWorkspace = false;
            QString state;
            if (w->running || w->queued > 0)
                state = tr(" It is busy (%1): this job waits its turn.").arg(w->running ? (w->queued ? tr("running, %1 queued").arg(w->queued) : tr("running")) : tr("%1 queued").arg(w->queued));
            wsText = tr("Existing workspace, %1 GB%2.%3")
                         .arg(w->info.sizeGb)
                         .arg(w->info.usedBytes >= 0 ? tr(", %1 used").arg(formatBytes(w->info.usedBytes)) : QString())
                         .arg(state);
        } else {
            wsText = tr("New workspace “%1” will be created.").arg(id);
        }
    }
    showMessage(m_wsMessage, wsText, wsError);
    m_size->setEnabled(m_stateful->isChecked() && m_newWorkspace);
    m_size->setToolTip(m_newWorkspace ? tr("Size of the new workspace (1 to %1 GB)").arg(WorkspaceStore::kMaxSizeGb)
                                      : tr("An existing workspace keeps the size it was created with"));

    const QString envProblem = m_env->problem();
    if (!envProblem.isEmpty())
        problems << tr("Environment: %1").arg(envProblem);

    // The shared rules (the same as for the HTTP API).
    QString nameText, scriptText, resourcesText, envText = envProblem;
    const JobRequest r = request();
    if (const auto e = r.validate()) {
        const QString f = e->field;
        if (f == QLatin1String("script"))
            scriptText = e->message;
        else if (f == QLatin1String("name"))
            nameText = e->message;
        else if (f == QLatin1String("workspace_id") || f == QLatin1String("workspace_size_gb")) {
            if (!wsError)
                showMessage(m_wsMessage, e->message, true);
        } else if (f == QLatin1String("env")) {
            if (envText.isEmpty())
                envText = e->message;
        } else {
            resourcesText = e->message;
        }
        const QString line = e->message.isEmpty() ? e->code : e->message;
        bool dup = false;
        for (const QString &p : problems)
            dup |= p.endsWith(line);
        if (!dup)
            problems << line;
    }
    showMessage(m_nameMessage, nameText, true);
    // An empty script is the normal starting point: say so quietly, not in red.
    const bool emptyScript = r.script.isEmpty();
    if (emptyScript)
        scriptText = tr("Write the script above, or start from one of the Templates.");
    showMessage(m_scriptMessage, scriptText, !emptyScript);
    if (resourcesText.isEmpty() && m_image->currentIndex() >= 0 && !m_image->currentData(Qt::UserRole + 1).toBool()) {
        resourcesText = tr("Image “%1” is not built yet: run magpie-desktop --build-image %1").arg(r.image);
        problems << resourcesText;
    }
    showMessage(m_resourcesMessage, resourcesText, true);
    showMessage(m_envMessage, envText, true);

    m_problem = problems.isEmpty() ? QString() : problems.first();
    m_run->setEnabled(m_problem.isEmpty());
    m_run->setToolTip(m_problem.isEmpty() ? tr("Run the job (Ctrl+Enter)") : tr("Cannot run yet: %1").arg(m_problem));
    if (m_problem.isEmpty()) {
        m_problemLabel->setText(tr("Ready. Ctrl+Enter runs the job."));
        m_problemLabel->setPalette(palette());
    } else {
        m_problemLabel->setText(tr("Cannot run yet: %1").arg(m_problem));
        QPalette p = palette();
        const bool onlyEmptyScript = emptyScript && problems.size() == 1;
        if (!onlyEmptyScript)
            p.setColor(QPalette::WindowText, statusColor(JobStatus::Failed, palette()));
        m_problemLabel->setPalette(p);
    }
}

bool NewJobDialog::run()
{
    revalidate();
    if (!m_problem.isEmpty()) {
        m_problemLabel->setText(tr("Cannot run yet: %1").arg(m_problem));
        return false;
    }
    ExecError e;
    const auto j = m_ex.submit(request(), &e);
    if (!j) {
        m_problemLabel->setText(tr("Could not queue the job: %1").arg(e.message));
        MessageBox::warning(this, tr("Could not queue the job"), e.message);
        return false;
    }
    emit submitted(j->requestId);
    accept();
    return true;
}

} // namespace magpie::ui
