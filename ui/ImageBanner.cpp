#include "ImageBanner.h"

#include "ImageBuilder.h"
#include "UiFormat.h"

#include <QClipboard>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace magpie::ui {

ImageBanner::ImageBanner(Executor &executor, ImageSetup setup, QWidget *parent)
    : QFrame(parent), m_ex(executor), m_setup(std::move(setup))
{
    setObjectName(QStringLiteral("imageBanner"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    QPalette p = palette();
    const QColor warn = statusColor(JobStatus::Queued, p);
    p.setColor(QPalette::Window, isDark(p) ? warn.darker(320) : QColor(0xff, 0xf4, 0xd6));
    setPalette(p);

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(10, 8, 10, 8);
    auto *top = new QHBoxLayout;
    auto *icon = new QLabel(this);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(28, 28));
    top->addWidget(icon, 0, Qt::AlignTop);
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("imageBannerMessage"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addWidget(m_message, 1);
    m_build = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Build now"), this);
    m_build->setObjectName(QStringLiteral("buildImageButton"));
    top->addWidget(m_build, 0, Qt::AlignTop);
    v->addLayout(top);

    auto *cmdRow = new QHBoxLayout;
    m_command = new QLineEdit(this);
    m_command->setObjectName(QStringLiteral("imageCommand"));
    m_command->setReadOnly(true);
    m_command->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_copy = new QPushButton(tr("Copy"), this);
    m_copy->setObjectName(QStringLiteral("copyImageCommandButton"));
    m_showLog = new QPushButton(tr("Show log"), this);
    m_showLog->setObjectName(QStringLiteral("showBuildLogButton"));
    m_showLog->setCheckable(true);
    m_showLog->hide();
    cmdRow->addWidget(new QLabel(tr("In a terminal:"), this));
    cmdRow->addWidget(m_command, 1);
    cmdRow->addWidget(m_copy);
    cmdRow->addWidget(m_showLog);
    v->addLayout(cmdRow);
    m_note = new QLabel(this);
    m_note->setObjectName(QStringLiteral("imageBannerNote"));
    m_note->setWordWrap(true);
    m_note->setEnabled(false);
    v->addWidget(m_note);

    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("imageBuildProgress"));
    m_progress->setRange(0, ImageBuilder::kSteps);
    m_progress->setFormat(tr("%v of %m steps"));
    m_progress->hide();
    v->addWidget(m_progress);
    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("imageBuildLog"));
    m_log->setReadOnly(true);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setMaximumBlockCount(5000);
    m_log->setFixedHeight(140);
    m_log->hide();
    v->addWidget(m_log);

    connect(m_copy, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_command->text());
        m_note->setText(tr("Copied the command to the clipboard."));
    });
    connect(m_showLog, &QPushButton::toggled, m_log, &QWidget::setVisible);
    connect(m_build, &QPushButton::clicked, this, &ImageBanner::build);
    connect(&m_ex, &Executor::jobAdded, this, &ImageBanner::updateMessage);
    connect(&m_ex, &Executor::jobChanged, this, &ImageBanner::updateMessage);
    refresh();
}

ImageBanner::~ImageBanner() = default;

void ImageBanner::setSetup(const ImageSetup &setup)
{
    m_setup = setup;
    refresh();
}

void ImageBanner::refresh()
{
    m_status = ImageStatus::of(m_ex.image(), m_setup);
    const bool root = ImageBuilder::privilege() == ImageBuilder::AsRoot;
    m_command->setText(m_setup.canBuild() ? m_setup.commandLine(!root)
                                          : QStringLiteral("cmake --build build --target guest-image"));
    m_command->setCursorPosition(0);
    const bool building = m_builder && m_builder->isRunning();
    m_build->setEnabled(m_setup.canBuild() && !building);
    if (!m_setup.canBuild())
        m_build->setToolTip(tr("This installation has no image builder; build the image from the source tree"));
    else if (ImageBuilder::privilege() == ImageBuilder::WithPkexec)
        m_build->setToolTip(tr("Runs the builder as root through pkexec (you are asked for your password)"));
    else if (ImageBuilder::privilege() == ImageBuilder::AsUser)
        m_build->setToolTip(tr("Runs the builder as you: that works when the Debian root filesystem is cached; "
                               "otherwise run the sudo command in a terminal"));
    else
        m_build->setToolTip(tr("Runs the builder (as root)"));
    if (!building)
        m_note->setText(ImageBuilder::privilege() == ImageBuilder::AsUser
                            ? tr("The first build makes a Debian root filesystem with debootstrap, which needs root: "
                                 "pkexec is not installed, so run the command above with sudo.")
                            : tr("The first build takes a few minutes (a Debian root filesystem); later builds reuse the cache "
                                 "and take seconds."));
    updateMessage();
    setVisible(m_status.state != ImageStatus::Ready || building);
}

void ImageBanner::updateMessage()
{
    const PoolStatus p = m_ex.pool();
    QString text;
    if (m_status.state == ImageStatus::Missing)
        text = tr("<b>No guest image yet.</b> Jobs run in a VM booted from it; until it is built they wait in the queue.");
    else if (m_status.state == ImageStatus::Stale)
        text = tr("<b>The guest image is out of date</b> (%1). Jobs may fail until it is built again.").arg(m_status.reason.toHtmlEscaped());
    else
        text = tr("<b>The guest image is ready.</b>");
    if (m_status.state == ImageStatus::Missing && p.queued > 0)
        text += QLatin1Char(' ') + tr("%1 waiting.").arg(counted(p.queued, tr("job is"), tr("jobs are")));
    m_message->setText(text);
    m_message->setToolTip(m_status.reason);
}

bool ImageBanner::build()
{
    if (m_builder && m_builder->isRunning())
        return true;
    m_builder = std::make_unique<ImageBuilder>(m_setup);
    m_log->clear();
    m_progress->setValue(0);
    m_progress->show();
    m_showLog->show();
    m_showLog->setChecked(true);
    connect(m_builder.get(), &ImageBuilder::output, this, [this](const QString &t) {
        m_log->moveCursor(QTextCursor::End);
        m_log->insertPlainText(t);
        m_log->ensureCursorVisible();
    });
    connect(m_builder.get(), &ImageBuilder::progress, this, [this](int step, const QString &what) {
        m_progress->setValue(step);
        if (!what.isEmpty())
            m_note->setText(what);
    });
    connect(m_builder.get(), &ImageBuilder::finished, this, [this](bool ok, const QString &message) {
        m_ex.reloadImage();
        m_progress->setVisible(!ok);
        m_note->setText(message);
        refresh();
        if (!ok)
            m_showLog->setChecked(true);
        emit buildFinished(ok, message);
    });
    m_log->insertPlainText(QStringLiteral("$ ") + m_builder->commandLine().join(QLatin1Char(' ')) + QLatin1Char('\n'));
    QString err;
    if (!m_builder->start(&err)) {
        m_note->setText(tr("Could not start the builder: %1").arg(err));
        m_progress->hide();
        return false;
    }
    refresh();
    return true;
}

} // namespace magpie::ui
