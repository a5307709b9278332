#include "GrowDialog.h"

#include "DialogPlacement.h"
#include "MessageBox.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace magpie::ui {

GrowDialog::GrowDialog(Executor &executor, QString workspaceId, int currentGb, QWidget *parent)
    : QDialog(parent), m_ex(executor), m_id(std::move(workspaceId)), m_current(currentGb)
{
    setObjectName(QStringLiteral("growDialog"));
    setWindowTitle(tr("Grow workspace %1").arg(m_id));
    auto *v = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    form->addRow(tr("Current size:"), new QLabel(tr("%1 GB").arg(m_current), this));
    m_size = new QSpinBox(this);
    m_size->setObjectName(QStringLiteral("growSize"));
    m_size->setRange(1, 2048);
    m_size->setSuffix(tr(" GB"));
    m_size->setValue(m_current + 1);
    form->addRow(tr("&New size:"), m_size);
    v->addLayout(form);
    m_note = new QLabel(this);
    m_note->setObjectName(QStringLiteral("growNote"));
    m_note->setWordWrap(true);
    v->addWidget(m_note);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Grow"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("growOk"));
    v->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &GrowDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_size, &QSpinBox::valueChanged, this, &GrowDialog::validate);
    validate();
    centreOnParentWindow(this);
}

QPushButton *GrowDialog::okButton() const
{
    return m_buttons->button(QDialogButtonBox::Ok);
}

void GrowDialog::validate()
{
    const bool larger = m_size->value() > m_current;
    okButton()->setEnabled(larger && !m_busy);
    m_note->setText(larger ? tr("The disk and its filesystem grow to %1 GB; the files stay. (Disks cannot shrink.)").arg(m_size->value())
                           : tr("The new size must be larger than %1 GB: a workspace's disk cannot shrink.").arg(m_current));
}

void GrowDialog::accept()
{
    const int size = m_size->value();
    if (size <= m_current || m_busy) {
        validate();
        return;
    }
    m_busy = true;
    validate();
    m_note->setText(tr("Growing to %1 GB (waits for the workspace's queued jobs)…").arg(size));
    QPointer<GrowDialog> self(this);
    m_ex.growWorkspace(m_id, size, [self, size](bool ok, const ExecError &e, const QJsonObject &) {
        if (!self)
            return;
        self->m_busy = false;
        if (!ok) {
            self->validate();
            MessageBox::warning(self, tr("Cannot grow the workspace"), tr("Nothing was changed."), e.message);
            return;
        }
        emit self->grown(self->m_id, size);
        self->QDialog::accept();
    });
}

} // namespace magpie::ui
