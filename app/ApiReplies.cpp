#include "ApiReplies.h"

#include "Executor.h"
#include "WorkspaceStore.h"

namespace magpie::api {

HttpResponse json(int status, const QJsonObject &object)
{
    return HttpResponse::json(status, object);
}

HttpResponse error(int status, const QString &code, const QString &message, const QString &field)
{
    return HttpResponse::error(status, code, message, field);
}

HttpResponse error(const ExecError &e, const QString &field)
{
    // The executor still says 400 for a bad value (its ExecError predates 422): a validation
    // error is 422 on the wire.
    const int status = e.httpStatus == 400 ? kInvalidStatus : e.httpStatus;
    return HttpResponse::error(status, e.code.isEmpty() ? QStringLiteral("internal") : e.code, e.message, field);
}

HttpResponse invalid(const QString &message, const QString &field)
{
    return HttpResponse::error(kInvalidStatus, QStringLiteral("invalid_request"), message, field);
}

HttpResponse badBody(const QString &message)
{
    return HttpResponse::error(400, QStringLiteral("invalid_request"), message);
}

HttpResponse notFound(const QString &message)
{
    return HttpResponse::error(404, QStringLiteral("not_found"), message);
}

HttpResponse jobNotFound(const QString &requestId)
{
    return notFound(QStringLiteral("no job with request_id '%1'").arg(requestId.left(80)));
}

HttpResponse notSupported(const QString &what)
{
    return HttpResponse::error(501, QStringLiteral("not_supported"),
                               QStringLiteral("%1 is a Magpie Cloud feature; Magpie Desktop runs one-shot VMs").arg(what));
}

std::optional<HttpResponse> checkWorkspaceId(const QString &id)
{
    QString why;
    if (WorkspaceStore::isValidId(id, &why))
        return std::nullopt;
    return HttpResponse::error(kInvalidStatus, QStringLiteral("invalid_workspace_id"),
                               why.isEmpty() ? QStringLiteral("'%1' is not a valid workspace id").arg(id.left(80)) : why,
                               QStringLiteral("workspace_id"));
}

} // namespace magpie::api
