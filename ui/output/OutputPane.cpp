#include "OutputPane.h"

#include "FindBar.h"
#include "OutputOptions.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSaveFile>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace magpie::ui {

namespace {
const char *kPlainFilter = QT_TRANSLATE_NOOP("OutputPane", "Plain text, no colour codes (*.txt)");
const char *kRawFilter = QT_TRANSLATE_NOOP("OutputPane", "Raw output, as the job wrote it (*.log)");
} // namespace

OutputPane::OutputPane(OutputView *view, OutputOptions *options, QWidget *parent)
    : QWidget(parent), m_view(view), m_options(options ? options : new OutputOptions(this))
{
    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(4, 2, 4, 2);
    auto toggle = [this](const QString &name, const QString &text, const QString &tip) {
        auto *b = new QToolButton(this);
        b->setObjectName(name);
        b->setText(text);
        b->setToolTip(tip);
        b->setCheckable(true);
        b->setAutoRaise(true);
        b->setToolButtonStyle(Qt::ToolButtonTextOnly);
        return b;
    };
    m_follow = toggle(QStringLiteral("followButton"), tr("Follow"),
                      tr("Keep the end in view while output arrives (scrolling up stops it, scrolling to the end resumes it)"));
    m_wrap = toggle(QStringLiteral("wrapButton"), tr("Wrap"), tr("Wrap long lines"));
    m_lineNumbers = toggle(QStringLiteral("lineNumbersButton"), tr("Line numbers"), tr("Show line numbers"));
    m_time = new QComboBox(this);
    m_time->setObjectName(QStringLiteral("timeCombo"));
    m_time->addItem(tr("No times"), int(OutputView::TimeMode::Off));
    m_time->addItem(tr("Clock time"), int(OutputView::TimeMode::Clock));
    m_time->addItem(tr("Since start"), int(OutputView::TimeMode::SinceStart));
    m_time->setToolTip(tr("When each line arrived"));
    m_findButton = new QToolButton(this);
    m_findButton->setObjectName(QStringLiteral("findButton"));
    m_findButton->setText(tr("Find"));
    m_findButton->setToolTip(tr("Find in the output (Ctrl+F)"));
    m_findButton->setAutoRaise(true);
    m_save = new QToolButton(this);
    m_save->setObjectName(QStringLiteral("saveButton"));
    m_save->setText(tr("Save output…"));
    m_save->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
    m_save->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_save->setAutoRaise(true);
    bar->addWidget(m_follow);
    bar->addWidget(m_wrap);
    bar->addWidget(m_lineNumbers);
    bar->addWidget(m_time);
    bar->addStretch(1);
    bar->addWidget(m_findButton);
    bar->addWidget(m_save);
    v->addLayout(bar);
    m_view->setParent(this);
    v->addWidget(m_view, 1);
    m_find = new FindBar(this);
    m_find->hide();
    v->addWidget(m_find);

    m_follow->setChecked(m_view->isFollowing());
    connect(m_view, &OutputView::followingChanged, m_follow, &QToolButton::setChecked);
    connect(m_follow, &QToolButton::clicked, m_view, [this](bool on) { m_view->setFollowing(on); });
    connect(m_wrap, &QToolButton::clicked, m_options, &OutputOptions::setWrap);
    connect(m_lineNumbers, &QToolButton::clicked, m_options, &OutputOptions::setLineNumbers);
    connect(m_time, &QComboBox::activated, this, [this] {
        m_options->setTimeMode(OutputView::TimeMode(m_time->currentData().toInt()));
    });
    connect(m_options, &OutputOptions::changed, this, &OutputPane::applyOptions);
    connect(m_findButton, &QToolButton::clicked, this, &OutputPane::openFind);
    connect(m_save, &QToolButton::clicked, this, &OutputPane::saveOutput);
    connect(m_view, &OutputView::findRequested, this, &OutputPane::openFind);
    connect(m_view, &OutputView::findAgainRequested, this, [this](bool backward) {
        if (m_find->isHidden() || m_view->searchText().isEmpty()) {
            openFind();
            return;
        }
        backward ? m_view->findPrevious() : m_view->findNext();
    });
    connect(m_find, &FindBar::textChanged, this, &OutputPane::runSearch);
    connect(m_find, &FindBar::next, m_view, &OutputView::findNext);
    connect(m_find, &FindBar::previous, m_view, &OutputView::findPrevious);
    connect(m_find, &FindBar::closed, this, [this] {
        m_view->setSearch(QString());
        m_view->setFocus();
    });
    connect(m_view, &OutputView::matchesChanged, this, [this](int count, int current) {
        m_find->setCount(count, current, m_view->search().capped());
    });
    applyOptions();
}

void OutputPane::applyOptions()
{
    m_options->applyTo(m_view);
    m_wrap->setChecked(m_options->wrap());
    m_lineNumbers->setChecked(m_options->lineNumbers());
    m_time->setCurrentIndex(m_time->findData(int(m_options->timeMode())));
}

void OutputPane::openFind()
{
    m_find->open();
    if (!m_find->edit()->text().isEmpty() && m_view->searchText() != m_find->edit()->text())
        runSearch(m_find->edit()->text());
}

void OutputPane::runSearch(const QString &text)
{
    m_view->setSearch(text);
}

bool OutputPane::saveTo(const QString &path, SaveFormat format, QString *error) const
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        *error = f.errorString();
        return false;
    }
    if (format == SaveFormat::Raw) {
        if (!m_raw) {
            *error = tr("the raw output is not available here");
            return false;
        }
        if (!m_raw(f, error))
            return false;
    } else {
        const QByteArray text = m_view->toPlainText().toUtf8();
        if (f.write(text) != text.size()) {
            *error = f.errorString();
            return false;
        }
    }
    if (!f.commit()) {
        *error = f.errorString();
        return false;
    }
    return true;
}

void OutputPane::saveOutput()
{
    QFileDialog dlg(this, tr("Save output"));
    dlg.setObjectName(QStringLiteral("saveOutputDialog"));
    dlg.setAcceptMode(QFileDialog::AcceptSave);
    dlg.setOption(QFileDialog::DontUseNativeDialog); // the same dialog everywhere, filters included
    QStringList filters{tr(kPlainFilter)};
    if (m_raw)
        filters << tr(kRawFilter);
    dlg.setNameFilters(filters);
    dlg.setDirectory(QDir::homePath());
    dlg.selectFile(m_fileName + QStringLiteral(".txt"));
    connect(&dlg, &QFileDialog::filterSelected, &dlg, [&dlg, this](const QString &filter) {
        dlg.setDefaultSuffix(filter == tr(kRawFilter) ? QStringLiteral("log") : QStringLiteral("txt"));
    });
    dlg.setDefaultSuffix(QStringLiteral("txt"));
    if (dlg.exec() != QDialog::Accepted || dlg.selectedFiles().isEmpty())
        return;
    const QString path = dlg.selectedFiles().constFirst();
    const SaveFormat format = dlg.selectedNameFilter() == tr(kRawFilter) ? SaveFormat::Raw : SaveFormat::Plain;
    QString error;
    if (!saveTo(path, format, &error)) {
        QMessageBox::warning(this, tr("Cannot save the output"), tr("%1 could not be written: %2").arg(QDir::toNativeSeparators(path), error));
        return;
    }
    emit saved(path);
}

} // namespace magpie::ui
