// BackendSettingsBox.h — the Settings dialog's "Where jobs run" box (docs/slurm.md): this
// computer (QEMU) or a Slurm cluster, with the cluster's partition and account (optional), the
// shared data folder (an absolute path, Browse…) and extra sbatch arguments (split like
// QProcess::splitCommand does, as the app does at start; an unbalanced quote is refused). The
// Slurm fields are disabled while "This computer" is chosen. What is wrong is shown under the
// fields (error(), which the dialog adds to its own checks before enabling OK). A note says which
// backend is in use now and that a change takes effect when the app restarts. "Check cluster"
// runs `sinfo` in the background (5 s at most) and shows what it said.
#pragma once

#include "Executor.h"
#include "WindowSettings.h"

#include <QGroupBox>
#include <QStringList>

class QLabel;
class QLineEdit;
class QProcess;
class QPushButton;
class QRadioButton;
class QTimer;

namespace magpie::ui {

class BackendSettingsBox : public QGroupBox
{
    Q_OBJECT
public:
    static constexpr int kCheckTimeoutMs = 5000;

    // `executor` tells which backend is in use now; `current` fills the form.
    BackendSettingsBox(const Executor &executor, const WindowSettings &current, QWidget *parent = nullptr);
    ~BackendSettingsBox() override;

    // Writes the form's backend fields into `s` (the Slurm fields as typed, '~' expanded; while
    // "This computer" is chosen, Slurm fields that would be refused keep their previous values).
    void fill(WindowSettings &s) const;
    // Why the form cannot be saved (one reason a line), or empty.
    QString error() const;

    // The extra sbatch arguments split as the app splits them (QProcess::splitCommand). False with
    // *error for text that would not split as meant: an unbalanced double quote, or single quotes
    // (which splitCommand passes through as they are, unlike a shell).
    static bool splitExtraArgs(const QString &text, QStringList *args, QString *error);

    QRadioButton *localRadio() const { return m_local; }
    QRadioButton *slurmRadio() const { return m_slurm; }
    QLineEdit *partitionEdit() const { return m_partition; }
    QLineEdit *accountEdit() const { return m_account; }
    QLineEdit *sharedEdit() const { return m_shared; }
    QLineEdit *extraEdit() const { return m_extra; }
    QPushButton *browseButton() const { return m_browse; }
    QPushButton *checkClusterButton() const { return m_check; }
    QLabel *messageLabel() const { return m_message; }   // what is wrong ("backendMessage")
    QLabel *noteLabel() const { return m_note; }         // in use now, restart ("backendNote")
    QLabel *clusterLabel() const { return m_cluster; }   // what sinfo said ("clusterOutput")

    // Runs the cluster check (the button does the same).
    void checkCluster();

signals:
    void changed();
    // The cluster check ended (its text is in clusterLabel()).
    void clusterChecked(bool ok);

private:
    QString slurmErrors() const;
    QString sharedPath() const;
    void revalidate();
    void finishCheck(bool ok, const QString &text);

    const Executor &m_ex;
    WindowSettings m_current;
    QRadioButton *m_local, *m_slurm;
    QWidget *m_slurmFields;
    QLineEdit *m_partition, *m_account, *m_shared, *m_extra;
    QPushButton *m_browse, *m_check;
    QLabel *m_message, *m_note, *m_cluster;
    QProcess *m_sinfo = nullptr;
    QTimer *m_checkTimer;
};

} // namespace magpie::ui
