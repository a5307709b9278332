// ExecutorLifecycleSupport.h — what ExecutorLifecycle.cpp and ExecutorTransfer.cpp share: error
// helpers and the meaning of the guest ops' exit codes (resources/guest/ops/*.sh). Internal.
#pragma once

#include "ExecError.h"
#include "VmResult.h"
#include "WorkspaceStore.h"

#include <QByteArray>
#include <QRegularExpression>
#include <optional>

namespace magpie {
namespace lifecycle {
inline ExecError err(int status, const QString &code, const QString &message, const QString &field = QString())
{
    return execError(status, code, message, field);
}

inline const ExecError kNoError{200, QString(), QString(), QString()};

inline bool isUuid(const QString &s)
{
    static const QRegularExpression re(QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"));
    return re.match(s).hasMatch();
}

inline std::optional<ExecError> badName(const QString &name, const QString &field)
{
    QString why;
    if (WorkspaceStore::isValidId(name, &why))
        return std::nullopt;
    why.replace(QStringLiteral("workspace_id"), field);
    return err(400, QStringLiteral("invalid_name"), why, field);
}

// A guest op's exit code as an error (see resources/guest/ops/*.sh).
inline ExecError guestOpError(const VmResult &r, const QByteArray &stderrText, const QString &path)
{
    if (r.outcome == VmResult::Exited) {
        switch (r.exitCode) {
        case 3: return err(400, QStringLiteral("invalid_path"), QStringLiteral("path '%1' leads outside the workspace").arg(path), QStringLiteral("path"));
        case 4: return err(404, QStringLiteral("not_found"), QStringLiteral("no such file or folder in the workspace: '%1'").arg(path));
        case 5: return err(409, QStringLiteral("conflict"), QStringLiteral("'%1' is in the way: a folder (or a file where a folder should be)").arg(path));
        case 6: return err(400, QStringLiteral("invalid_archive"), QStringLiteral("the archive could not be extracted: %1").arg(QString::fromUtf8(stderrText).trimmed().right(400)));
        case 7: return err(507, QStringLiteral("insufficient_storage"), QStringLiteral("no space left in the workspace for '%1'").arg(path));
        default: break;
        }
    }
    const QString why = r.error.isEmpty() ? QString::fromUtf8(stderrText).trimmed().right(500) : r.error;
    return err(500, QStringLiteral("internal"), QStringLiteral("the workspace operation failed: %1").arg(why));
}

inline bool succeeded(const VmResult &r) { return r.outcome == VmResult::Exited && r.exitCode == 0; }
} // namespace lifecycle

} // namespace magpie
