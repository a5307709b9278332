// ResultFile.h — result.json, the outcome of one task that the node-side runner leaves on the
// shared storage (written atomically: a reader sees the whole file or none). Slurm without
// slurmdbd forgets a job MinJobAge seconds after it ends; this file is what the app trusts.
#pragma once

#include "VmResult.h"

#include <QJsonObject>
#include <QString>
#include <optional>

namespace magpie::resultfile {

QJsonObject toJson(const VmResult &r, const QString &node);
VmResult fromJson(const QJsonObject &o);
// Writes <path> through a temporary file and a rename. Returns an error sentence or "".
QString write(const QString &path, const VmResult &r, const QString &node);
// The result, when the file exists and parses; *node gets where it ran.
std::optional<VmResult> read(const QString &path, QString *node = nullptr);

} // namespace magpie::resultfile
