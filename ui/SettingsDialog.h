// SettingsDialog.h — data folder, parallel VMs, default vCPUs and memory, accelerator (with
// what auto chose), where jobs run (BackendSettingsBox; read at the next start), theme, tray,
// the HTTP endpoint (on/off, port) and its key (show, copy, regenerate), and ready-to-paste
// snippets that connect our SDK and the official Magpie Cloud SDK to this app (CodeSnippets).
// OK applies to the running executor and endpoint and saves; nothing while a field is refused.
#pragma once

#include "Executor.h"
#include "WindowSettings.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QToolButton;

namespace magpie::ui {

class BackendSettingsBox;
class EndpointControl;

class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    // `endpoint` may be null (no HTTP section then). `activeDataDir` is the folder in use now.
    SettingsDialog(Executor &executor, EndpointControl *endpoint, SettingsStore &store, const WindowSettings &current,
                   const QString &activeDataDir, QWidget *parent = nullptr);

    // The values in the form.
    WindowSettings settings() const;
    // Applies the form to the executor and the endpoint and saves it. False (with the reason
    // shown next to the field) when something could not be applied.
    bool apply();

    QLineEdit *dataDirEdit() const { return m_dataDir; }
    QSpinBox *maxParallelSpin() const { return m_maxParallel; }
    QSpinBox *vcpusSpin() const { return m_vcpus; }
    QSpinBox *memorySpin() const { return m_memory; }
    QSpinBox *keepJobsSpin() const { return m_keepJobs; }
    QSpinBox *keepDaysSpin() const { return m_keepDays; }
    QCheckBox *checkpointsCheck() const { return m_checkpoints; }
    QSpinBox *keepCheckpointsSpin() const { return m_keepCheckpoints; }
    QComboBox *accelCombo() const { return m_accel; }
    QCheckBox *httpCheck() const { return m_http; }
    QSpinBox *portSpin() const { return m_port; }
    QLineEdit *keyEdit() const { return m_key; }
    QToolButton *showKeyButton() const { return m_showKey; }
    QPushButton *copyKeyButton() const { return m_copyKey; }
    QPushButton *regenerateKeyButton() const { return m_regenerate; }
    QPushButton *okButton() const { return m_ok; }
    QLineEdit *urlEdit() const { return m_url; }
    QLabel *keyLocationLabel() const { return m_keyWhere; }
    QPlainTextEdit *ourSdkSnippet() const { return m_ourSdk; }
    QPlainTextEdit *cloudSdkSnippet() const { return m_cloudSdk; }
    BackendSettingsBox *backendBox() const { return m_backend; }

    void accept() override;
    // Makes a new key without asking (the button asks first).
    bool regenerateKey();

signals:
    void applied(const magpie::ui::WindowSettings &settings);

private:
    void revalidate();
    void refreshEndpoint();
    void refreshAccel();

    Executor &m_ex;
    EndpointControl *m_endpoint;
    SettingsStore &m_store;
    WindowSettings m_current;
    QString m_activeDataDir;
    QLineEdit *m_dataDir;
    QLabel *m_dataDirMessage;
    QSpinBox *m_maxParallel, *m_vcpus, *m_memory, *m_keepJobs, *m_keepDays, *m_keepCheckpoints;
    QCheckBox *m_checkpoints;
    QComboBox *m_accel;
    QLabel *m_accelInfo;
    QComboBox *m_theme;
    QCheckBox *m_tray;
    QCheckBox *m_http;
    QSpinBox *m_port;
    QLabel *m_endpointInfo;
    QLineEdit *m_key;
    QToolButton *m_showKey;
    QPushButton *m_copyKey, *m_regenerate;
    QLabel *m_keyInfo;
    QLineEdit *m_url;
    QLabel *m_keyWhere;
    QPlainTextEdit *m_ourSdk, *m_cloudSdk;
    QPushButton *m_ok;
    BackendSettingsBox *m_backend;
};

} // namespace magpie::ui
