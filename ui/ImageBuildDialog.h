// ImageBuildDialog.h — builds a guest image profile from the window (ImageRegistry recipe →
// packaging/guest/build-image.sh --recipe) with a progress bar and the builder's log. A profile
// other than base is built into a staging folder and swapped in only when the build succeeded
// (ImageRegistry::installStaged), so a failing recipe leaves the existing image untouched.
#pragma once

#include "ImageSetup.h"

#include <QDialog>
#include <memory>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace magpie::ui {

class ImageBuilder;

class ImageBuildDialog : public QDialog
{
    Q_OBJECT
public:
    ImageBuildDialog(ImageSetup setup, QString dataDir, const QString &profile, QWidget *parent = nullptr);
    ~ImageBuildDialog() override;

    QComboBox *profileCombo() const { return m_profile; }
    QProgressBar *progressBar() const { return m_progress; }
    QPushButton *buildButton() const { return m_build; }
    QLabel *statusLabel() const { return m_status; }
    QPlainTextEdit *logView() const { return m_log; }
    bool isBuilding() const;

signals:
    void imageBuilt(const QString &profile);

private:
    void startBuild();
    void onFinished(bool ok, const QString &message);

    ImageSetup m_setup;
    QString m_dataDir;
    QString m_building;      // profile being built
    QString m_finalDir;      // where it goes ("" for base: the builder writes it in place)
    QString m_stagingDir;
    QComboBox *m_profile;
    QProgressBar *m_progress;
    QLabel *m_status;
    QPlainTextEdit *m_log;
    QPushButton *m_build;
    QPushButton *m_close;
    std::unique_ptr<ImageBuilder> m_builder;
};

} // namespace magpie::ui
