#include "SnapshotsDialog.h"

#include "DialogPlacement.h"
#include "MessageBox.h"
#include "UiFormat.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QStyle>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace magpie::ui {

SnapshotsDialog::SnapshotsDialog(Executor &executor, QString workspaceId, QWidget *parent)
    : QDialog(parent), m_ex(executor), m_id(std::move(workspaceId))
{
    setObjectName(QStringLiteral("snapshotsDialog"));
    setWindowTitle(tr("Snapshots of %1").arg(m_id));
    resize(640, 400);
    auto *v = new QVBoxLayout(this);
    v->addWidget(new QLabel(tr("<b>%1</b> — saved states of its /workspace. A checkpoint named <tt>before-&lt;job&gt;</tt> is kept before each stateful job.")
                                .arg(m_id.toHtmlEscaped()), this));
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("snapshotsList"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({tr("Name"), tr("Created"), tr("Job"), tr("Size")});
    m_list->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    v->addWidget(m_list, 1);
    auto *takeRow = new QHBoxLayout;
    m_name = new QLineEdit(this);
    m_name->setObjectName(QStringLiteral("snapshotName"));
    m_name->setPlaceholderText(tr("name, e.g. before-upgrade"));
    m_name->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[A-Za-z0-9._-]{0,64}")), m_name));
    m_take = new QPushButton(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("&Take snapshot"), this);
    m_take->setObjectName(QStringLiteral("takeSnapshotButton"));
    takeRow->addWidget(m_name, 1);
    takeRow->addWidget(m_take);
    v->addLayout(takeRow);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("snapshotsStatus"));
    m_status->setWordWrap(true);
    v->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(this);
    m_restore = buttons->addButton(tr("&Restore…"), QDialogButtonBox::ActionRole);
    m_restore->setObjectName(QStringLiteral("restoreSnapshotButton"));
    m_delete = buttons->addButton(tr("&Delete…"), QDialogButtonBox::ActionRole);
    m_delete->setObjectName(QStringLiteral("deleteSnapshotButton"));
    m_refresh = buttons->addButton(tr("Re&fresh"), QDialogButtonBox::ActionRole);
    buttons->addButton(QDialogButtonBox::Close);
    v->addWidget(buttons);

    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    connect(m_take, &QPushButton::clicked, this, [this] { take(m_name->text().trimmed()); });
    // Enter in the name field takes the snapshot, whichever button had the focus last: no
    // button of this dialog is a default one.
    for (QPushButton *b : findChildren<QPushButton *>())
        b->setAutoDefault(false);
    connect(m_name, &QLineEdit::returnPressed, this, [this] { take(m_name->text().trimmed()); });
    connect(m_name, &QLineEdit::textChanged, this, &SnapshotsDialog::updateButtons);
    connect(m_restore, &QPushButton::clicked, this, &SnapshotsDialog::restoreSelected);
    connect(m_delete, &QPushButton::clicked, this, &SnapshotsDialog::deleteSelected);
    connect(m_refresh, &QPushButton::clicked, this, &SnapshotsDialog::reload);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, &SnapshotsDialog::updateButtons);
    centreOnParentWindow(this);
    reload();
}

QString SnapshotsDialog::selectedName() const
{
    const auto sel = m_list->selectedItems();
    return sel.isEmpty() ? QString() : sel.first()->data(0, NameRole).toString();
}

void SnapshotsDialog::setBusy(bool busy, const QString &text)
{
    m_busy = busy;
    if (!text.isEmpty())
        m_status->setText(text);
    busy ? setCursor(Qt::BusyCursor) : unsetCursor();
    updateButtons();
}

void SnapshotsDialog::updateButtons()
{
    const bool sel = !selectedName().isEmpty();
    m_take->setEnabled(!m_busy && !m_name->text().trimmed().isEmpty());
    m_restore->setEnabled(!m_busy && sel);
    m_delete->setEnabled(!m_busy && sel);
    m_refresh->setEnabled(!m_busy);
}

void SnapshotsDialog::reload()
{
    setBusy(true, tr("Reading the snapshots (waits for the workspace's queued jobs)…"));
    QPointer<SnapshotsDialog> self(this);
    m_ex.snapshots(m_id, [self](std::optional<QList<SnapshotInfo>> snaps, const ExecError &e) {
        if (!self)
            return;
        const QString keep = self->selectedName();
        self->m_list->clear();
        self->setBusy(false, snaps ? tr("%1.").arg(counted(snaps->size(), tr("snapshot"), tr("snapshots")))
                                   : tr("Could not read the snapshots: %1").arg(e.message));
        if (snaps) {
            for (const SnapshotInfo &s : *snaps) {
                auto *it = new QTreeWidgetItem(self->m_list, {s.name, formatLocalTime(s.createdAt.toString(Qt::ISODate)),
                                                              s.jobId.isEmpty() ? QStringLiteral("—") : s.jobId, formatBytes(s.sizeBytes)});
                it->setData(0, NameRole, s.name);
                it->setTextAlignment(3, Qt::AlignRight | Qt::AlignVCenter);
                if (s.name == keep)
                    it->setSelected(true);
            }
            for (int c = 1; c < 4; ++c)
                self->m_list->resizeColumnToContents(c);
        }
        self->updateButtons();
        emit self->loaded();
    });
}

void SnapshotsDialog::finish(const QString &what, bool ok, const ExecError &e, const QString &okText)
{
    setBusy(false, ok ? okText : tr("%1 failed: %2").arg(what, e.message));
    if (!ok)
        MessageBox::warning(this, tr("%1 failed").arg(what), tr("Nothing was changed."), e.message);
    emit done(what, ok);
    reload();
}

void SnapshotsDialog::take(const QString &name)
{
    if (name.isEmpty() || m_busy)
        return;
    setBusy(true, tr("Taking snapshot %1…").arg(name));
    QPointer<SnapshotsDialog> self(this);
    m_ex.takeSnapshot(m_id, name, [self, name](bool ok, const ExecError &e, const QJsonObject &) {
        if (!self)
            return;
        if (ok)
            self->m_name->clear();
        self->finish(tr("Take snapshot"), ok, e, tr("Took snapshot %1.").arg(name));
    });
}

void SnapshotsDialog::restoreSelected()
{
    const QString name = selectedName();
    if (name.isEmpty() || m_busy)
        return;
    if (MessageBox::confirm(this, QStringLiteral("confirmRestoreSnapshot"), tr("Restore snapshot"),
                            tr("Put workspace “%1” back as it was at snapshot “%2”?").arg(m_id, name),
                            tr("Every change made to its files since that snapshot will be lost from the workspace "
                               "(the state now is kept first as a snapshot named before-restore-<time>)."),
                            tr("Restore “%1”").arg(name)) != MessageBox::Action)
        return;
    setBusy(true, tr("Restoring %1 (waits for the workspace's queued jobs)…").arg(name));
    QPointer<SnapshotsDialog> self(this);
    m_ex.restoreSnapshot(m_id, name, [self, name](bool ok, const ExecError &e, const QJsonObject &info) {
        if (!self)
            return;
        const QString safety = info.value(QStringLiteral("safety_snapshot")).toString();
        self->finish(tr("Restore"), ok, e, safety.isEmpty() ? tr("Restored %1.").arg(name)
                                                             : tr("Restored %1; the state before is snapshot %2.").arg(name, safety));
    });
}

void SnapshotsDialog::deleteSelected()
{
    const QString name = selectedName();
    if (name.isEmpty() || m_busy)
        return;
    if (MessageBox::confirm(this, QStringLiteral("confirmDeleteSnapshot"), tr("Delete snapshot"),
                            tr("Delete snapshot “%1” of workspace “%2”?").arg(name, m_id),
                            name.startsWith(QLatin1String("before-"))
                                ? tr("The workspace's files stay as they are; the state this checkpoint kept is lost, so its job can no longer be rolled back.")
                                : tr("The workspace's files stay as they are; the state this snapshot kept is lost for good."),
                            tr("Delete “%1”").arg(name)) != MessageBox::Action)
        return;
    setBusy(true, tr("Deleting snapshot %1…").arg(name));
    QPointer<SnapshotsDialog> self(this);
    m_ex.deleteSnapshot(m_id, name, [self, name](bool ok, const ExecError &e, const QJsonObject &) {
        if (self)
            self->finish(tr("Delete snapshot"), ok, e, tr("Deleted snapshot %1.").arg(name));
    });
}

} // namespace magpie::ui
