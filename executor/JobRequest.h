// JobRequest.h — what a caller asks for (from HTTP or from the GUI), and its validation.
// Both front ends build a JobRequest and pass it to Executor::submit(); the rules live here once.
#pragma once

#include "JobRecord.h"

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <optional>

namespace magpie {

struct JobLimits {
    static constexpr qint64 kMaxScriptBytes = 1024 * 1024;   // 1 MiB (HTTP: 413 above it)
    static constexpr int kMaxNameLength = 200;
    static constexpr int kMaxDescriptionLength = 4096;
    static constexpr int kMaxEnvEntries = 256;
    static constexpr qint64 kMaxEnvBytes = 64 * 1024;
    static constexpr int kMinVcpus = 1, kMaxVcpus = 16, kDefaultVcpus = 1;
    static constexpr int kMinMemoryMb = 128, kMaxMemoryMb = 16384, kDefaultMemoryMb = 512;
    static constexpr int kMinTimeout = 1, kMaxTimeout = 7 * 24 * 3600, kDefaultTimeout = 3600;
};

// A validation failure: an HTTP status (422, or 413 for a script over the limit), a machine
// code and a sentence.
struct RequestError {
    int httpStatus = 422;
    QString code;     // "invalid_request", "invalid_workspace_id", "payload_too_large", "not_supported"
    QString message;
    QString field;    // the offending field, when there is one
};

struct JobRequest {
    QString name;
    QString script;
    bool stateful = false;
    QString workspaceId;                 // empty: the job's request_id when stateful
    std::optional<int> workspaceSizeGb;  // only used when the workspace is new (default 10)
    QList<QPair<QString, QString>> env;
    std::optional<int> vcpus;
    std::optional<int> memoryMb;
    std::optional<int> timeoutSec;
    bool network = true;
    QString source = QStringLiteral("api"); // "api" or "gui"
    QString description;
    ScriptType scriptType = ScriptType::Bash;
    QString image;                       // guest image profile; empty: base (checked by the Executor)

    // Checks every field; nullopt when the request is acceptable.
    std::optional<RequestError> validate() const;
    // Parses a JSON object as sent to POST /api/v1/jobs, then validates. Magpie Cloud's fields
    // are understood too: `environment` (= env; both given and different is an error), `type`
    // or `script_type` ("inline"/"bash" or "python"), `description`; `persist`/`ip_lease`
    // true, `docker_image` and `proxy_port` are refused (not_supported), false/absent accepted.
    static std::optional<JobRequest> fromJson(const QJsonObject &o, RequestError *err);
};

bool isValidEnvName(const QString &name);

} // namespace magpie
