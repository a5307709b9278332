// NewJobDialog.h — the form for a new job: name, script (bash highlighting, line numbers,
// templates from the stateful-jobs guide), stateful toggle with a workspace picker (existing
// ids or a new one, validated as typed; the size only for a new workspace), environment,
// vCPUs, memory, timeout and network. The rules are JobRequest::validate()'s; problems are
// shown next to their field and Run stays disabled, with the reason, while any remain.
// Ctrl+Enter runs.
#pragma once

#include "Executor.h"
#include "ImageSetup.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QToolButton;

namespace magpie::ui {

class BashHighlighter;
class CodeEditor;
class EnvTable;
struct JobTemplate;

class NewJobDialog : public QDialog
{
    Q_OBJECT
public:
    explicit NewJobDialog(Executor &executor, QWidget *parent = nullptr);

    // Prefills the form from an earlier job ("re-run edited").
    void loadFromJob(const JobRecord &job);
    void applyTemplate(const JobTemplate &t);
    // Ticks "stateful" and picks this workspace.
    void setWorkspace(const QString &workspaceId);
    void setScript(const QString &script);

    // The request the form describes now (source "gui").
    JobRequest request() const;
    // Why the job cannot run now ("" when it can).
    QString problem() const { return m_problem; }
    bool isRunnable() const { return m_problem.isEmpty(); }
    // Validates and submits. True when the job was queued (the dialog then closes).
    bool run();

    QLineEdit *nameEdit() const { return m_name; }
    CodeEditor *scriptEdit() const { return m_script; }
    QGroupBox *statefulBox() const { return m_stateful; }
    QComboBox *workspaceEdit() const { return m_workspace; }
    QLabel *workspaceMessage() const { return m_wsMessage; }
    QSpinBox *sizeSpin() const { return m_size; }
    QSpinBox *vcpusSpin() const { return m_vcpus; }
    QSpinBox *memorySpin() const { return m_memory; }
    QSpinBox *timeoutSpin() const { return m_timeout; }
    QCheckBox *networkCheck() const { return m_network; }
    EnvTable *envTable() const { return m_env; }
    QPushButton *runButton() const { return m_run; }
    QComboBox *imageCombo() const { return m_image; }
    QToolButton *buildImageButton() const { return m_buildImage; }
    // How this installation builds images: enables "Build…" beside the image picker.
    void setImageSetup(const ImageSetup &setup);
    QLabel *problemLabel() const { return m_problemLabel; }
    QToolButton *templateButton() const { return m_templates; }

signals:
    void submitted(const QString &requestId);

private:
    void revalidate();
    void refreshWorkspaceChoices();
    void refreshImageChoices();
    static void showMessage(QLabel *label, const QString &text, bool error);

    Executor &m_ex;
    QLineEdit *m_name;
    QLabel *m_nameMessage;
    QToolButton *m_templates;
    CodeEditor *m_script;
    BashHighlighter *m_highlighter;
    QLabel *m_scriptMessage;
    QGroupBox *m_stateful;
    QComboBox *m_workspace;
    QLabel *m_wsMessage;
    QSpinBox *m_size;
    QLabel *m_sizeNote;
    QSpinBox *m_vcpus, *m_memory, *m_timeout;
    QCheckBox *m_network;
    QComboBox *m_image;
    QToolButton *m_buildImage;
    ImageSetup m_imageSetup;
    QLabel *m_resourcesMessage;
    EnvTable *m_env;
    QLabel *m_envMessage;
    QLabel *m_problemLabel;
    QPushButton *m_run;
    QString m_problem;
    bool m_newWorkspace = true;
};

} // namespace magpie::ui
