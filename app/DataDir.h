// DataDir.h — the app's data folder: where it is, the one-process-per-folder lock, and the
// endpoint.json file that tells clients where the HTTP API listens.
//
//   <dir>/magpie.lock     flock(2)-held by the process using the folder (holds its pid); 0600,
//                         opened with O_NOFOLLOW
//   <dir>/api-key         see ApiKey.h
//   <dir>/endpoint.json   {"url", "pid", "api_key_file", "started_at"} while the API listens (0600)
//
// The folder must belong to this user and be writable by nobody else: otherwise another user
// could plant an api-key, a database or a symlink in it, and it is refused.
//
// The default folder is QStandardPaths::AppDataLocation for the application name
// "magpie-desktop" with no organization name: ~/.local/share/magpie-desktop (or
// $XDG_DATA_HOME/magpie-desktop).
#pragma once

#include <QString>

namespace magpie {

class DataDir
{
public:
    static constexpr const char *kAppName = "magpie-desktop";

    explicit DataDir(QString path);
    ~DataDir(); // removes endpoint.json if this object wrote it, releases the lock
    DataDir(const DataDir &) = delete;
    DataDir &operator=(const DataDir &) = delete;

    // The default data folder (see above); does not depend on QCoreApplication's names.
    static QString defaultPath();
    // `given` made absolute and clean, or defaultPath() when `given` is empty.
    static QString resolve(const QString &given);

    QString path() const { return m_path; }
    QString lockPath() const;
    QString endpointPath() const;
    QString apiKeyPath() const;

    // Creates the folder (mode 0700 when new). False with *error on failure; *unsafe is set
    // when the folder exists but is not safe to use: not owned by this user, writable by
    // group or others, or not a folder (the process should exit 2 then).
    bool prepare(QString *error, bool *unsafe = nullptr);
    // Whether `path` is a folder owned by this user that nobody else can write. False with
    // *why otherwise (or when it cannot be read).
    static bool isPrivateFolder(const QString &path, QString *why);
    // Takes the folder's lock without waiting. False with *error (naming the pid of the
    // process that holds it) when another process uses the folder. The lock is released when
    // this object is destroyed or the process ends, however it ends (the kernel drops it).
    bool lock(QString *error);
    bool isLocked() const { return m_lockFd >= 0; }
    void unlock();

    // Writes endpoint.json atomically. apiKeyFile may be empty (key from the environment).
    bool writeEndpoint(const QString &url, const QString &apiKeyFile, QString *error);
    void removeEndpoint();

private:
    QString m_path;
    int m_lockFd = -1;
    bool m_wroteEndpoint = false;
};

} // namespace magpie
