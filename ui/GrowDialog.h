// GrowDialog.h — asks for a workspace's new disk size: it must be larger than the current one
// (a smaller or equal size keeps OK disabled and says why); accept() grows it through the
// workspace's queue (Executor::growWorkspace) and closes when that is done.
#pragma once

#include "Executor.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QSpinBox;

namespace magpie::ui {

class GrowDialog : public QDialog
{
    Q_OBJECT
public:
    GrowDialog(Executor &executor, QString workspaceId, int currentGb, QWidget *parent = nullptr);

    QSpinBox *sizeBox() const { return m_size; }
    QLabel *noteLabel() const { return m_note; }
    QPushButton *okButton() const;
    void accept() override;

signals:
    void grown(const QString &workspaceId, int sizeGb);

private:
    void validate();

    Executor &m_ex;
    QString m_id;
    int m_current;
    QSpinBox *m_size;
    QLabel *m_note;
    QDialogButtonBox *m_buttons;
    bool m_busy = false;
};

} // namespace magpie::ui
