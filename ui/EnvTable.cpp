#include "EnvTable.h"

#include "JobRequest.h"
#include "UiFormat.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QSet>
#include <QStyle>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace magpie::ui {

EnvTable::EnvTable(QWidget *parent)
    : QWidget(parent)
{
    auto *h = new QHBoxLayout(this);
    h->setContentsMargins(0, 0, 0, 0);
    m_table = new QTableWidget(0, 2, this);
    m_table->setObjectName(QStringLiteral("envTable"));
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Value")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->resizeSection(0, 160);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setMinimumHeight(m_table->fontMetrics().height() * 5);
    h->addWidget(m_table, 1);
    auto *buttons = new QVBoxLayout;
    m_add = new QToolButton(this);
    m_add->setObjectName(QStringLiteral("envAdd"));
    m_add->setText(QStringLiteral("+"));
    m_add->setToolTip(tr("Add a variable"));
    m_remove = new QToolButton(this);
    m_remove->setObjectName(QStringLiteral("envRemove"));
    m_remove->setText(QStringLiteral("−"));
    m_remove->setToolTip(tr("Remove the selected variable"));
    buttons->addWidget(m_add);
    buttons->addWidget(m_remove);
    buttons->addStretch(1);
    h->addLayout(buttons);
    connect(m_add, &QToolButton::clicked, this, [this] {
        addRow();
        m_table->setCurrentCell(m_table->rowCount() - 1, 0);
        m_table->editItem(m_table->item(m_table->rowCount() - 1, 0));
    });
    connect(m_remove, &QToolButton::clicked, this, [this] {
        const int row = m_table->currentRow();
        if (row >= 0)
            m_table->removeRow(row);
        revalidate();
    });
    connect(m_table, &QTableWidget::itemChanged, this, &EnvTable::revalidate);
}

void EnvTable::addRow(const QString &name, const QString &value)
{
    QSignalBlocker block(m_table);
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    m_table->setItem(row, 0, new QTableWidgetItem(name));
    m_table->setItem(row, 1, new QTableWidgetItem(value));
    block.unblock();
    revalidate();
}

void EnvTable::setEnv(const QList<QPair<QString, QString>> &env)
{
    {
        const QSignalBlocker block(m_table);
        m_table->setRowCount(0);
    }
    for (const auto &kv : env)
        addRow(kv.first, kv.second);
    revalidate();
}

QList<QPair<QString, QString>> EnvTable::env() const
{
    QList<QPair<QString, QString>> out;
    for (int r = 0; r < m_table->rowCount(); ++r) {
        const QString name = m_table->item(r, 0) ? m_table->item(r, 0)->text().trimmed() : QString();
        const QString value = m_table->item(r, 1) ? m_table->item(r, 1)->text() : QString();
        if (name.isEmpty() && value.isEmpty())
            continue;
        out.append({name, value});
    }
    return out;
}

QString EnvTable::problem() const
{
    return m_problem;
}

void EnvTable::revalidate()
{
    const QSignalBlocker block(m_table);
    m_problem.clear();
    QSet<QString> seen;
    const QColor bad = statusColor(JobStatus::Failed, palette());
    for (int r = 0; r < m_table->rowCount(); ++r) {
        QTableWidgetItem *n = m_table->item(r, 0);
        QTableWidgetItem *v = m_table->item(r, 1);
        if (!n || !v)
            continue;
        const QString name = n->text().trimmed();
        QString why;
        if (name.isEmpty() && !v->text().isEmpty())
            why = tr("variable on row %1 has a value but no name").arg(r + 1);
        else if (!name.isEmpty() && !isValidEnvName(name))
            why = tr("“%1” is not a valid name: use letters, digits and underscores, not starting with a digit").arg(name.left(40));
        else if (!name.isEmpty() && seen.contains(name))
            why = tr("“%1” is set twice").arg(name);
        seen.insert(name);
        n->setData(Qt::ForegroundRole, why.isEmpty() ? QVariant() : QVariant(bad));
        n->setToolTip(why);
        if (!why.isEmpty() && m_problem.isEmpty())
            m_problem = why;
    }
    m_remove->setEnabled(m_table->rowCount() > 0);
    emit changed();
}

} // namespace magpie::ui
