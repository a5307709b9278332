// ExecError.h — an error for a caller of the Executor: a kind (what went wrong, which the HTTP
// layer maps to a status), a machine code and a human sentence.
#pragma once

#include <QString>

namespace magpie {

struct ExecError {
    int httpStatus = 400;   // 400 invalid, 404 not found, 409 conflict, 413 too large, 422, 500, 503
    QString code;
    QString message;
    QString field;          // the offending field, when there is one
};

inline ExecError execError(int status, const QString &code, const QString &message, const QString &field = QString())
{
    return ExecError{status, code, message, field};
}

} // namespace magpie
