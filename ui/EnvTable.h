// EnvTable.h — the environment variables of a new job: a NAME / value table with add and
// remove buttons. Names are checked as they are typed (isValidEnvName, no duplicates); a bad
// cell is marked and problem() says why.
#pragma once

#include <QList>
#include <QPair>
#include <QWidget>

class QTableWidget;
class QToolButton;

namespace magpie::ui {

class EnvTable : public QWidget
{
    Q_OBJECT
public:
    explicit EnvTable(QWidget *parent = nullptr);

    // Rows with a name (rows left wholly empty are ignored).
    QList<QPair<QString, QString>> env() const;
    void setEnv(const QList<QPair<QString, QString>> &env);
    void addRow(const QString &name = QString(), const QString &value = QString());
    // The first problem ("" when the table is fine).
    QString problem() const;
    QTableWidget *table() const { return m_table; }

signals:
    void changed();

private:
    void revalidate();

    QTableWidget *m_table;
    QToolButton *m_add, *m_remove;
    QString m_problem;
};

} // namespace magpie::ui
