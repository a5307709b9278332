// ImageBanner.h — the bar at the top of the window while the guest image is missing or stale:
// what is wrong, the exact command that builds it (selectable, with Copy; with sudo when the
// app does not run as root), and "Build now", which runs the builder (ImageBuilder) with a
// progress bar and its log. When the build ends well the executor looks for the image again
// (Executor::reloadImage), the jobs that waited for it start, and the banner goes away.
#pragma once

#include "Executor.h"
#include "ImageSetup.h"

#include <QFrame>
#include <memory>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace magpie::ui {

class ImageBuilder;

class ImageBanner : public QFrame
{
    Q_OBJECT
public:
    ImageBanner(Executor &executor, ImageSetup setup, QWidget *parent = nullptr);
    ~ImageBanner() override;

    // Checks the image again and shows or hides the banner.
    void refresh();
    ImageStatus status() const { return m_status; }
    const ImageSetup &setup() const { return m_setup; }
    void setSetup(const ImageSetup &setup);

    QLabel *messageLabel() const { return m_message; }
    QLineEdit *commandEdit() const { return m_command; }
    QPushButton *buildButton() const { return m_build; }
    QProgressBar *progressBar() const { return m_progress; }
    QPlainTextEdit *logView() const { return m_log; }
    ImageBuilder *builder() const { return m_builder.get(); }

    // What "Build now" does (the button is enabled when the setup can build).
    bool build();

signals:
    void buildFinished(bool ok, const QString &message);

private:
    void updateMessage();

    Executor &m_ex;
    ImageSetup m_setup;
    ImageStatus m_status;
    QLabel *m_message, *m_note;
    QLineEdit *m_command;
    QPushButton *m_copy, *m_build, *m_showLog;
    QProgressBar *m_progress;
    QPlainTextEdit *m_log;
    std::unique_ptr<ImageBuilder> m_builder;
};

} // namespace magpie::ui
