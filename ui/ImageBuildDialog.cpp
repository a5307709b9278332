#include "ImageBuildDialog.h"

#include "ImageBuilder.h"
#include "ImageRegistry.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QTextCursor>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace magpie::ui {

ImageBuildDialog::ImageBuildDialog(ImageSetup setup, QString dataDir, const QString &profile, QWidget *parent)
    : QDialog(parent), m_setup(std::move(setup)), m_dataDir(std::move(dataDir))
{
    setWindowTitle(tr("Build a guest image"));
    setObjectName(QStringLiteral("imageBuildDialog"));
    auto *v = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    m_profile = new QComboBox(this);
    m_profile->setObjectName(QStringLiteral("imageProfileCombo"));
    const ImageRegistry images(m_dataDir);
    for (const ImageProfile &p : images.profiles()) {
        m_profile->addItem(images.isBuilt(p.name) ? tr("%1 (built: rebuild)").arg(p.name) : p.name, p.name);
        m_profile->setItemData(m_profile->count() - 1,
                               p.description + (p.packages.isEmpty() ? QString() : QStringLiteral("\n") + p.packages.join(QLatin1Char(' '))),
                               Qt::ToolTipRole);
    }
    if (const int i = m_profile->findData(profile); i >= 0)
        m_profile->setCurrentIndex(i);
    form->addRow(tr("&Profile:"), m_profile);
    v->addLayout(form);
    auto *hint = new QLabel(tr("Your own profiles are recipes in %1 (name=, description=, packages=, setup=).")
                                .arg(QDir::toNativeSeparators(images.userRecipeDir())), this);
    hint->setWordWrap(true);
    v->addWidget(hint);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("imageBuildProgress"));
    m_progress->setRange(0, ImageBuilder::kSteps);
    m_progress->setValue(0);
    v->addWidget(m_progress);
    m_status = new QLabel(m_setup.canBuild() ? tr("Ready to build.") : tr("This installation has no guest image builder."), this);
    m_status->setObjectName(QStringLiteral("imageBuildStatus"));
    m_status->setWordWrap(true);
    v->addWidget(m_status);
    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("imageBuildLog"));
    m_log->setReadOnly(true);
    m_log->setMinimumSize(560, 200);
    v->addWidget(m_log, 1);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    m_build = new QPushButton(tr("&Build"), this);
    m_build->setObjectName(QStringLiteral("imageBuildButton"));
    m_build->setEnabled(m_setup.canBuild());
    m_close = new QPushButton(tr("&Close"), this);
    buttons->addWidget(m_build);
    buttons->addWidget(m_close);
    v->addLayout(buttons);
    connect(m_build, &QPushButton::clicked, this, &ImageBuildDialog::startBuild);
    connect(m_close, &QPushButton::clicked, this, &QDialog::reject);
}

ImageBuildDialog::~ImageBuildDialog()
{
    if (m_builder)
        m_builder->cancel();
    if (!m_stagingDir.isEmpty() && QFileInfo::exists(m_stagingDir) && !isBuilding())
        QDir(m_stagingDir).removeRecursively();
}

bool ImageBuildDialog::isBuilding() const
{
    return m_builder && m_builder->isRunning();
}

void ImageBuildDialog::startBuild()
{
    if (isBuilding())
        return;
    const ImageRegistry images(m_dataDir);
    m_building = m_profile->currentData().toString();
    const auto profile = images.profile(m_building);
    if (!profile) {
        m_status->setText(tr("Unknown profile “%1”.").arg(m_building));
        return;
    }
    ImageSetup s = m_setup;
    m_finalDir.clear();
    m_stagingDir.clear();
    if (m_building != ImageRegistry::defaultName()) {
        m_finalDir = images.userImageDir(m_building);
        m_stagingDir = ImageRegistry::stagingDir(m_finalDir);
        QDir(m_stagingDir).removeRecursively();
        s.outDir = m_stagingDir;
        s.recipe = profile->recipePath;
    }
    m_builder = std::make_unique<ImageBuilder>(s);
    connect(m_builder.get(), &ImageBuilder::output, this, [this](const QString &t) {
        m_log->moveCursor(QTextCursor::End);
        m_log->insertPlainText(t);
    });
    connect(m_builder.get(), &ImageBuilder::progress, this, [this](int step, const QString &what) {
        m_progress->setValue(step);
        if (!what.isEmpty())
            m_status->setText(what);
    });
    connect(m_builder.get(), &ImageBuilder::finished, this, &ImageBuildDialog::onFinished);
    m_log->clear();
    m_log->appendPlainText(QStringLiteral("$ ") + m_builder->commandLine().join(QLatin1Char(' ')));
    m_progress->setValue(0);
    m_build->setEnabled(false);
    m_profile->setEnabled(false);
    QString err;
    if (!m_builder->start(&err))
        onFinished(false, tr("Could not start the builder: %1").arg(err));
}

void ImageBuildDialog::onFinished(bool ok, const QString &message)
{
    QString text = message;
    if (ok && !m_finalDir.isEmpty()) {
        QString err;
        if (ImageRegistry::installStaged(m_stagingDir, m_finalDir, &err))
            text = tr("Image “%1” is ready in %2.").arg(m_building, m_finalDir);
        else
            ok = false, text = err;
    } else if (!ok && !m_stagingDir.isEmpty()) {
        QDir(m_stagingDir).removeRecursively(); // the existing image was never touched
        text += tr(" The existing image (if any) is unchanged.");
    }
    m_status->setText(text);
    m_status->setProperty("error", !ok);
    m_build->setEnabled(true);
    m_profile->setEnabled(true);
    if (ok)
        emit imageBuilt(m_building);
}

} // namespace magpie::ui
