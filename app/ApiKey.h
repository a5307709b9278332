// ApiKey.h — the key every HTTP API call (except /api/v1/health) must present as
// `Authorization: Bearer <KEY>`.
//
// Where it comes from: MAGPIE_API_KEY when that is set and not empty; otherwise
// <data-dir>/api-key, generated on first use (32 random bytes, base64url, 43 characters) and
// written with mode 0600 (an existing file that others may read is tightened to 0600; one that
// others could have written is refused).
#pragma once

#include <QByteArray>
#include <QString>
#include <optional>

namespace magpie {

class ApiKey
{
public:
    static constexpr const char *kEnvVar = "MAGPIE_API_KEY";
    static constexpr const char *kFileName = "api-key";

    // Loads (or creates) the key for a data folder. nullopt with *error on failure; *unsafe is
    // set when the folder or the key file could have been written by someone else (the
    // folder not private, the file a symlink, not ours, or writable by group/others): such a
    // key is never accepted.
    static std::optional<ApiKey> load(const QString &dataDir, QString *error, bool *unsafe = nullptr);
    // 32 bytes from the system's secure random source, base64url without padding.
    static QByteArray generate();
    // Compares two keys in time that does not depend on where they differ, nor on their length.
    static bool equals(const QByteArray &a, const QByteArray &b);
    // Printable ASCII without spaces (what fits in an HTTP header), 1..4096 bytes.
    static bool isUsable(const QByteArray &key, QString *why = nullptr);

    QByteArray key() const { return m_key; }
    // The file holding the key, or empty when it came from MAGPIE_API_KEY.
    QString file() const { return m_file; }
    bool fromEnvironment() const { return m_file.isEmpty(); }
    // Whether a presented key is this one (constant time).
    bool matches(const QByteArray &presented) const { return equals(m_key, presented); }

private:
    QByteArray m_key;
    QString m_file;
};

} // namespace magpie
