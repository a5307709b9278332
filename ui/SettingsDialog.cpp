#include "SettingsDialog.h"

#include "BackendSettingsBox.h"
#include "CodeSnippets.h"
#include "EndpointControl.h"
#include "FormNotes.h"
#include "MessageBox.h"
#include "UiFormat.h"

#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QStyle>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

namespace magpie::ui {


SettingsDialog::SettingsDialog(Executor &executor, EndpointControl *endpoint, SettingsStore &store, const WindowSettings &current,
                               const QString &activeDataDir, QWidget *parent)
    : QDialog(parent), m_ex(executor), m_endpoint(endpoint), m_store(store), m_current(current), m_activeDataDir(activeDataDir)
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    setMinimumWidth(900); // two columns: the settings, and where jobs run (with the snippets when there is an API)
    auto *outer = new QVBoxLayout(this);
    auto *columns = new QHBoxLayout;
    auto *v = new QVBoxLayout; // the settings; where jobs run and the snippets go in a second column
    auto *side = new QVBoxLayout;
    columns->addLayout(v, 3);
    columns->addLayout(side, 2);
    outer->addLayout(columns, 1);

    // ---- jobs and VMs
    auto *vmBox = new QGroupBox(tr("Jobs and VMs"), this);
    auto *vf = new QFormLayout(vmBox);
    auto *dirRow = new QHBoxLayout;
    m_dataDir = new QLineEdit(current.dataDir, vmBox);
    m_dataDir->setObjectName(QStringLiteral("dataDirEdit"));
    m_dataDir->setPlaceholderText(m_store.defaultDataDir());
    auto *browse = new QPushButton(tr("Choose…"), vmBox);
    dirRow->addWidget(m_dataDir, 1);
    dirRow->addWidget(browse);
    auto *dirLabel = new QLabel(tr("&Data folder:"), vmBox);
    dirLabel->setBuddy(m_dataDir);
    vf->addRow(dirLabel, dirRow);
    m_dataDirMessage = formNote(vmBox, QString(), "dataDirMessage");
    m_dataDirMessage->hide();
    vf->addRow(m_dataDirMessage);
    vf->addRow(formNote(vmBox, tr("Jobs, logs, workspaces and the API key live here. In use now: %1. "
                              "A change takes effect the next time Magpie Desktop starts.")
                               .arg(activeDataDir)));
    m_maxParallel = new QSpinBox(vmBox);
    m_maxParallel->setObjectName(QStringLiteral("maxParallelSpin"));
    m_maxParallel->setRange(0, 64);
    m_maxParallel->setSpecialValueText(tr("Auto (%1, the number of cores)").arg(qMax(1, QThread::idealThreadCount())));
    m_maxParallel->setValue(current.maxParallel);
    m_maxParallel->setToolTip(tr("How many VMs may run at the same time; jobs on one workspace always run one after another"));
    vf->addRow(tr("VMs at &once:"), m_maxParallel);
    m_vcpus = new QSpinBox(vmBox);
    m_vcpus->setObjectName(QStringLiteral("defaultVcpusSpin"));
    m_vcpus->setRange(JobLimits::kMinVcpus, JobLimits::kMaxVcpus);
    m_vcpus->setValue(current.defaultVcpus);
    vf->addRow(tr("Default v&CPUs:"), m_vcpus);
    m_memory = new QSpinBox(vmBox);
    m_memory->setObjectName(QStringLiteral("defaultMemorySpin"));
    m_memory->setRange(JobLimits::kMinMemoryMb, JobLimits::kMaxMemoryMb);
    m_memory->setSingleStep(128);
    m_memory->setSuffix(tr(" MB"));
    m_memory->setValue(current.defaultMemoryMb);
    vf->addRow(tr("Default &memory:"), m_memory);
    m_accel = new QComboBox(vmBox);
    m_accel->setObjectName(QStringLiteral("accelCombo"));
    m_accel->addItem(tr("Auto (KVM when it works, else TCG)"), int(AccelMode::Auto));
    m_accel->addItem(tr("KVM (hardware virtualisation)"), int(AccelMode::Kvm));
    m_accel->addItem(tr("TCG (emulation, slower, works everywhere)"), int(AccelMode::Tcg));
    m_accel->setCurrentIndex(m_accel->findData(int(current.accel)));
    vf->addRow(tr("&Accelerator:"), m_accel);
    m_accelInfo = formNote(vmBox, QString(), "accelInfo");
    vf->addRow(m_accelInfo);
    v->addWidget(vmBox);

    // ---- history
    auto *histBox = new QGroupBox(tr("Job history"), this);
    auto *hf = new QFormLayout(histBox);
    m_keepJobs = new QSpinBox(histBox);
    m_keepJobs->setObjectName(QStringLiteral("keepJobsSpin"));
    m_keepJobs->setRange(0, 10000000);
    m_keepJobs->setSingleStep(100);
    m_keepJobs->setSpecialValueText(tr("All"));
    m_keepJobs->setValue(current.keepJobs);
    hf->addRow(tr("&Keep the last:"), m_keepJobs);
    m_keepDays = new QSpinBox(histBox);
    m_keepDays->setObjectName(QStringLiteral("keepDaysSpin"));
    m_keepDays->setRange(0, 36500);
    m_keepDays->setSuffix(tr(" days"));
    m_keepDays->setSpecialValueText(tr("Forever"));
    m_keepDays->setValue(current.keepDays);
    hf->addRow(tr("Keep &for:"), m_keepDays);
    hf->addRow(formNote(histBox, tr("Older finished jobs lose their record and logs. Queued and running jobs, and workspaces, are never removed."),
                    "keepInfo"));
    // Checkpoints before stateful jobs (a rollback point each; the newest N per workspace kept).
    m_checkpoints = new QCheckBox(tr("&Checkpoint each workspace before a stateful job, keeping the last"), histBox);
    m_checkpoints->setObjectName(QStringLiteral("checkpointsCheck"));
    m_checkpoints->setChecked(current.checkpoints);
    m_checkpoints->setToolTip(tr("A checkpoint lets you roll a job back (its details, Changes tab). It costs little until blocks change; older ones are pruned."));
    m_keepCheckpoints = new QSpinBox(histBox);
    m_keepCheckpoints->setObjectName(QStringLiteral("keepCheckpointsSpin"));
    m_keepCheckpoints->setRange(1, 1000);
    m_keepCheckpoints->setValue(qMax(1, current.keepCheckpoints));
    m_keepCheckpoints->setEnabled(current.checkpoints);
    connect(m_checkpoints, &QCheckBox::toggled, m_keepCheckpoints, &QWidget::setEnabled);
    hf->addRow(m_checkpoints, m_keepCheckpoints);
    v->addWidget(histBox);


    // ---- window
    auto *winBox = new QGroupBox(tr("Window"), this);
    auto *wf = new QFormLayout(winBox);
    m_theme = new QComboBox(winBox);
    m_theme->setObjectName(QStringLiteral("themeCombo"));
    m_theme->addItem(tr("System"), QStringLiteral("system"));
    m_theme->addItem(tr("Light"), QStringLiteral("light"));
    m_theme->addItem(tr("Dark"), QStringLiteral("dark"));
    m_theme->setCurrentIndex(qMax(0, m_theme->findData(current.theme)));
    wf->addRow(tr("&Theme:"), m_theme);
    m_tray = new QCheckBox(tr("Closing the window keeps Magpie running in the tray (jobs go on)"), winBox);
    m_tray->setObjectName(QStringLiteral("trayCheck"));
    m_tray->setChecked(current.closeToTray);
    wf->addRow(QString(), m_tray);
    v->addWidget(winBox);

    // ---- HTTP API
    auto *apiBox = new QGroupBox(tr("Local HTTP API (for the Python SDK and scripts)"), this);
    auto *af = new QFormLayout(apiBox);
    m_http = new QCheckBox(tr("Serve the API on 127.0.0.1"), apiBox);
    m_http->setObjectName(QStringLiteral("httpCheck"));
    m_http->setChecked(current.httpEnabled);
    af->addRow(QString(), m_http);
    m_port = new QSpinBox(apiBox);
    m_port->setObjectName(QStringLiteral("portSpin"));
    m_port->setRange(0, 65535);
    m_port->setSpecialValueText(tr("Any free port"));
    m_port->setValue(current.httpPort);
    af->addRow(tr("&Port:"), m_port);
    m_endpointInfo = formNote(apiBox, QString(), "endpointInfo");
    af->addRow(m_endpointInfo);
    auto *keyRow = new QHBoxLayout;
    m_key = new QLineEdit(apiBox);
    m_key->setObjectName(QStringLiteral("apiKeyEdit"));
    m_key->setReadOnly(true);
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_showKey = new QToolButton(apiBox);
    m_showKey->setObjectName(QStringLiteral("showKeyButton"));
    m_showKey->setText(tr("Show"));
    m_showKey->setCheckable(true);
    m_copyKey = new QPushButton(tr("&Copy"), apiBox);
    m_copyKey->setObjectName(QStringLiteral("copyKeyButton"));
    m_regenerate = new QPushButton(tr("&Regenerate…"), apiBox);
    m_regenerate->setObjectName(QStringLiteral("regenerateKeyButton"));
    keyRow->addWidget(m_key, 1);
    keyRow->addWidget(m_showKey);
    keyRow->addWidget(m_copyKey);
    keyRow->addWidget(m_regenerate);
    auto *keyLabel = new QLabel(tr("&Key:"), apiBox);
    keyLabel->setBuddy(m_key);
    af->addRow(keyLabel, keyRow);
    m_keyInfo = formNote(apiBox, QString(), "keyInfo");
    af->addRow(m_keyInfo);
    v->addWidget(apiBox);
    apiBox->setVisible(m_endpoint != nullptr);

    // ---- from scripts
    auto *codeBox = new QGroupBox(tr("Use it from a script"), this);
    codeBox->setObjectName(QStringLiteral("snippetsBox"));
    auto *cf = new QFormLayout(codeBox);
    auto *urlRow = new QHBoxLayout;
    m_url = new QLineEdit(codeBox);
    m_url->setObjectName(QStringLiteral("apiUrlEdit"));
    m_url->setReadOnly(true);
    m_url->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto *copyUrl = new QPushButton(tr("Copy"), codeBox);
    copyUrl->setObjectName(QStringLiteral("copyUrlButton"));
    urlRow->addWidget(m_url, 1);
    urlRow->addWidget(copyUrl);
    cf->addRow(tr("Base URL:"), urlRow);
    m_keyWhere = formNote(codeBox, QString(), "keyLocation");
    cf->addRow(tr("Key:"), m_keyWhere);
    auto *tabs = new QTabWidget(codeBox);
    tabs->setObjectName(QStringLiteral("snippetTabs"));
    auto snippetTab = [&](const QString &title, const char *name, QPlainTextEdit **edit) {
        auto *page = new QWidget(tabs);
        auto *pv = new QVBoxLayout(page);
        pv->setContentsMargins(4, 4, 4, 4);
        *edit = new QPlainTextEdit(page);
        (*edit)->setObjectName(QLatin1String(name));
        (*edit)->setReadOnly(true);
        (*edit)->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        (*edit)->setLineWrapMode(QPlainTextEdit::NoWrap);
        (*edit)->setMinimumHeight(260);
        auto *copy = new QPushButton(tr("Copy snippet"), page);
        copy->setObjectName(QStringLiteral("%1Copy").arg(QLatin1String(name)));
        QPlainTextEdit *e = *edit;
        connect(copy, &QPushButton::clicked, this, [e] { QGuiApplication::clipboard()->setText(e->toPlainText()); });
        pv->addWidget(*edit, 1);
        pv->addWidget(copy, 0, Qt::AlignRight);
        tabs->addTab(page, title);
    };
    snippetTab(tr("Magpie Desktop SDK"), "ourSdkSnippet", &m_ourSdk);
    snippetTab(tr("Magpie Cloud SDK"), "cloudSdkSnippet", &m_cloudSdk);
    cf->addRow(tabs);
    connect(copyUrl, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(m_url->text()); });
    // ---- where jobs run (read at start), above the snippets
    m_backend = new BackendSettingsBox(m_ex, current, this);
    side->addWidget(m_backend);
    side->addWidget(codeBox, 1);
    codeBox->setVisible(m_endpoint != nullptr);
    if (!m_endpoint)
        side->addStretch(1);
    if (m_endpoint)
        setMinimumWidth(1100);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    v->addStretch(1);
    outer->addWidget(buttons);

    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Data folder"), m_dataDir->text().isEmpty() ? m_activeDataDir : m_dataDir->text());
        if (!d.isEmpty())
            m_dataDir->setText(d);
    });
    connect(m_dataDir, &QLineEdit::textChanged, this, &SettingsDialog::revalidate);
    connect(m_http, &QCheckBox::toggled, this, &SettingsDialog::revalidate);
    connect(m_backend, &BackendSettingsBox::changed, this, &SettingsDialog::revalidate);
    connect(m_showKey, &QToolButton::toggled, this, [this](bool on) {
        m_key->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password);
        m_showKey->setText(on ? tr("Hide") : tr("Show"));
    });
    connect(m_copyKey, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(QString::fromLatin1(m_endpoint ? m_endpoint->key() : QByteArray()));
        m_keyInfo->setText(tr("Copied the key to the clipboard."));
    });
    connect(m_regenerate, &QPushButton::clicked, this, [this] {
        const auto r = MessageBox::question(this, tr("Regenerate the API key"),
                                            tr("Make a new API key? Scripts and SDK clients that use the current key get "
                                               "“401 unauthorized” until they read the new one (the SDK reads it from the data folder)."));
        if (r == MessageBox::Yes)
            regenerateKey();
    });
    connect(m_accel, &QComboBox::currentIndexChanged, this, &SettingsDialog::refreshAccel);
    connect(&m_ex, &Executor::poolChanged, this, &SettingsDialog::refreshAccel);
    if (m_endpoint)
        connect(m_endpoint, &EndpointControl::changed, this, &SettingsDialog::refreshEndpoint);
    refreshAccel();
    refreshEndpoint();
    revalidate();
    // Its minimum width, and the height the wrapped notes need at that width: the size it is
    // placed by (centreOnParentWindow), not a wider size hint that show() would cut down anyway.
    const int w = minimumWidth();
    resize(w, qMax(layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(w) : 0, sizeHint().height()));
}

void SettingsDialog::refreshAccel()
{
    const PoolStatus p = m_ex.pool();
    QString text;
    if (!p.accelerator.isEmpty())
        text = tr("In use: %1 — %2").arg(p.accelerator.toUpper(), p.acceleratorReason);
    else
        text = tr("Not decided yet — %1").arg(p.acceleratorReason);
    if (qEnvironmentVariableIsSet("MAGPIE_ACCEL"))
        text += tr("\nMAGPIE_ACCEL=%1 is set in the environment and overrides this setting.").arg(qEnvironmentVariable("MAGPIE_ACCEL"));
    m_accelInfo->setText(text);
}

void SettingsDialog::refreshEndpoint()
{
    if (!m_endpoint)
        return;
    if (m_endpoint->isListening())
        m_endpointInfo->setText(tr("Listening on %1 (written to %2/endpoint.json for the SDK).").arg(m_endpoint->url(), m_activeDataDir));
    else if (!m_endpoint->lastError().isEmpty())
        m_endpointInfo->setText(tr("Not listening: %1").arg(m_endpoint->lastError()));
    else
        m_endpointInfo->setText(tr("Not listening (switched off)."));
    m_key->setText(QString::fromLatin1(m_endpoint->key()));
    const bool env = m_endpoint->keyFromEnvironment();
    m_regenerate->setEnabled(!env);
    m_regenerate->setToolTip(env ? tr("The key comes from MAGPIE_API_KEY; change it there") : tr("Make a new key; the old one stops working at once"));
    m_keyInfo->setText(env ? tr("From the MAGPIE_API_KEY environment variable.")
                           : tr("Stored in %1 (readable only by you). Send it as “Authorization: Bearer <key>”.").arg(m_endpoint->keyFile()));
    SnippetContext c;
    c.url = m_endpoint->url();
    c.keyFile = m_endpoint->keyFile();
    c.dataDir = m_activeDataDir;
    m_url->setText(c.url.isEmpty() ? tr("(the API is off)") : c.url);
    m_keyWhere->setText(env ? tr("the MAGPIE_API_KEY environment variable") : m_endpoint->keyFile());
    m_ourSdk->setPlainText(CodeSnippets::ourSdk(c));
    m_cloudSdk->setPlainText(CodeSnippets::cloudSdk(c));
}

void SettingsDialog::revalidate()
{
    QString err;
    const QString d = m_dataDir->text().trimmed();
    if (!d.isEmpty() && !QDir::isAbsolutePath(QDir::fromNativeSeparators(d)) && !d.startsWith(QLatin1Char('~')))
        err = tr("Give the data folder as an absolute path, e.g. %1").arg(m_store.defaultDataDir());
    showFormError(m_dataDirMessage, err);
    m_port->setEnabled(m_http->isChecked());
    const QString backendErr = m_backend->error(); // shown in the box, under its fields
    if (!backendErr.isEmpty())
        err = err.isEmpty() ? backendErr : err + QLatin1Char('\n') + backendErr;
    m_ok->setEnabled(err.isEmpty());
    m_ok->setToolTip(err);
}

WindowSettings SettingsDialog::settings() const
{
    WindowSettings s = m_current;
    QString d = m_dataDir->text().trimmed();
    if (d.startsWith(QLatin1Char('~')))
        d = QDir::homePath() + d.mid(1);
    s.dataDir = d;
    s.maxParallel = m_maxParallel->value();
    s.defaultVcpus = m_vcpus->value();
    s.defaultMemoryMb = m_memory->value();
    s.keepJobs = m_keepJobs->value();
    s.keepDays = m_keepDays->value();
    s.checkpoints = m_checkpoints->isChecked();
    s.keepCheckpoints = m_keepCheckpoints->value();
    s.accel = AccelMode(m_accel->currentData().toInt());
    s.theme = m_theme->currentData().toString();
    s.closeToTray = m_tray->isChecked();
    s.httpEnabled = m_http->isChecked();
    s.httpPort = m_port->value();
    m_backend->fill(s);
    return s;
}

bool SettingsDialog::regenerateKey()
{
    if (!m_endpoint)
        return false;
    QString err;
    if (!m_endpoint->regenerateKey(&err)) {
        m_keyInfo->setText(tr("Could not make a new key: %1").arg(err));
        return false;
    }
    m_keyInfo->setText(tr("A new key is in use; the old one no longer works. Stored in %1.").arg(m_endpoint->keyFile()));
    return true;
}

bool SettingsDialog::apply()
{
    if (!m_ok->isEnabled())
        return false; // a reason is shown next to its field; nothing is applied or saved
    const WindowSettings s = settings();
    m_ex.setMaxParallel(s.maxParallel);
    m_ex.setDefaults(s.defaultVcpus, s.defaultMemoryMb);
    m_ex.setRetention(s.keepJobs, s.keepDays);
    m_ex.setCheckpoints(s.checkpoints, s.keepCheckpoints);
    if (s.accel != m_ex.accelMode())
        m_ex.setAccelMode(s.accel);
    bool ok = true;
    if (m_endpoint) {
        const bool portChanged = s.httpPort != 0 && s.httpPort != m_endpoint->port();
        const bool portAnyChanged = s.httpPort == 0 && m_current.httpPort != 0;
        if (!s.httpEnabled && m_endpoint->isListening()) {
            m_endpoint->stop();
        } else if (s.httpEnabled && (!m_endpoint->isListening() || portChanged || portAnyChanged)) {
            QString err;
            if (!m_endpoint->start(m_endpoint->address(), quint16(s.httpPort), &err)) {
                showFormError(m_endpointInfo, tr("Could not start the API: %1").arg(err));
                ok = false;
            }
        }
    }
    QString err;
    if (!m_store.save(s, &err)) {
        MessageBox::warning(this, tr("Settings not saved"), err);
        ok = false;
    }
    m_current = s;
    emit applied(s);
    return ok;
}

void SettingsDialog::accept()
{
    if (apply())
        QDialog::accept();
}

} // namespace magpie::ui
