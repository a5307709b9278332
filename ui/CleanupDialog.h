// CleanupDialog.h — the largest files and folders of a workspace (Executor::diskUsage), to
// pick some and delete them. The deletion runs as an ordinary job in the workspace's queue
// ("Clean up: <path>", an `rm -rf -- '<path>'` script), so it never races a running job.
#pragma once

#include "Executor.h"

#include <QDialog>

class QLabel;
class QPushButton;
class QStandardItemModel;
class QTableView;

namespace magpie::ui {

class CleanupDialog : public QDialog
{
    Q_OBJECT
public:
    static constexpr int kLimit = 100;

    CleanupDialog(Executor &executor, QString workspaceId, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    QStandardItemModel *model() const { return m_model; }
    QLabel *statusLabel() const { return m_status; }
    QString cleanupJobId() const { return m_jobId; }
    void reload();
    // Builds the clean-up request for workspace-relative paths (nullopt with *why when a path
    // is not acceptable, e.g. the workspace root or one with "..").
    static std::optional<JobRequest> cleanupRequest(const QString &workspaceId, const QStringList &paths, QString *why);
    // Submits the deletion of these paths without asking (the button asks first).
    bool deletePaths(const QStringList &paths);

signals:
    void loaded();
    void jobSubmitted(const QString &requestId);

private:
    void deleteSelected();
    void updateSummary();
    void updateButtons();

    Executor &m_ex;
    QString m_id;
    QLabel *m_summary, *m_status;
    QStandardItemModel *m_model;
    QTableView *m_table;
    QPushButton *m_delete, *m_refresh;
    QString m_jobId;
    bool m_loading = false;
};

} // namespace magpie::ui
