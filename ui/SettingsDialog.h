// SettingsDialog.h — data folder, parallel VMs, default vCPUs and memory, accelerator (with
// what auto chose), theme, tray, the HTTP endpoint (on/off, port) and its key (show, copy,
// regenerate). OK applies to the running executor and endpoint and saves (Settings).
#pragma once

#include "Executor.h"
#include "Settings.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QToolButton;

namespace magpie::ui {

class ApiEndpoint;

class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    // `endpoint` may be null (no HTTP section then). `activeDataDir` is the folder in use now.
    SettingsDialog(Executor &executor, ApiEndpoint *endpoint, const Settings &current, const QString &activeDataDir,
                   QWidget *parent = nullptr);

    // The values in the form.
    Settings settings() const;
    // Applies the form to the executor and the endpoint and saves it. False (with the reason
    // shown next to the field) when something could not be applied.
    bool apply();

    QLineEdit *dataDirEdit() const { return m_dataDir; }
    QSpinBox *maxParallelSpin() const { return m_maxParallel; }
    QSpinBox *vcpusSpin() const { return m_vcpus; }
    QSpinBox *memorySpin() const { return m_memory; }
    QComboBox *accelCombo() const { return m_accel; }
    QCheckBox *httpCheck() const { return m_http; }
    QSpinBox *portSpin() const { return m_port; }
    QLineEdit *keyEdit() const { return m_key; }
    QToolButton *showKeyButton() const { return m_showKey; }
    QPushButton *copyKeyButton() const { return m_copyKey; }
    QPushButton *regenerateKeyButton() const { return m_regenerate; }
    QPushButton *okButton() const { return m_ok; }

    void accept() override;
    // Makes a new key without asking (the button asks first).
    bool regenerateKey();

signals:
    void applied(const magpie::Settings &settings);

private:
    void revalidate();
    void refreshEndpoint();
    void refreshAccel();

    Executor &m_ex;
    ApiEndpoint *m_endpoint;
    Settings m_current;
    QString m_activeDataDir;
    QLineEdit *m_dataDir;
    QLabel *m_dataDirMessage;
    QSpinBox *m_maxParallel, *m_vcpus, *m_memory;
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
    QPushButton *m_ok;
};

} // namespace magpie::ui
