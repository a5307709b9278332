// ApiReplies.h — the answers every route of the local API shares: JSON, the error shape
// {"error": {"code", "message", "field"?}}, and the status chosen for an executor error.
// Statuses: 400 a body that is not JSON (or not an object); 422 a well-formed request with a
// bad value (a field, a query parameter, an id or path in the URL); 404, 409, 413, 501, 503 as
// docs/api.md says.
#pragma once

#include "http/HttpResponse.h"

#include <QJsonObject>
#include <QString>
#include <optional>

namespace magpie {

struct ExecError;

namespace api {

using http::HttpResponse;

inline constexpr int kInvalidStatus = 422;

HttpResponse json(int status, const QJsonObject &object);
HttpResponse error(int status, const QString &code, const QString &message, const QString &field = QString());
HttpResponse error(const ExecError &e, const QString &field = QString());
// 422 invalid_request: a value out of range, of the wrong type, missing...
HttpResponse invalid(const QString &message, const QString &field = QString());
// 400 invalid_request: the body is not what the route reads (not JSON, not an object).
HttpResponse badBody(const QString &message);
HttpResponse notFound(const QString &message);
HttpResponse jobNotFound(const QString &requestId);
// 501 not_supported for a Magpie Cloud feature that has no local meaning.
HttpResponse notSupported(const QString &what);
// 422 invalid_workspace_id when `id` breaks the workspace id rule, else nullopt.
std::optional<HttpResponse> checkWorkspaceId(const QString &id);

} // namespace api
} // namespace magpie
