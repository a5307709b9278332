// changes.cpp — what a script changed in /workspace: a manifest (path, type, size, mtime, ctime,
// inode; lstat, never following symlinks, bounded at kMaxManifestEntries) before the script and
// after, compared into added / modified / deleted records (the CHANGES frame). A folder counts as
// added or deleted, never as modified (its entries are listed themselves).
#include "agent.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace agent {

namespace {
char typeOf(mode_t m)
{
    if (S_ISREG(m))
        return 'f';
    if (S_ISDIR(m))
        return 'd';
    if (S_ISLNK(m))
        return 'l';
    return 'o';
}

void walk(int dirFd, const std::string &prefix, Manifest &m, int depth)
{
    DIR *d = fdopendir(dirFd);
    if (!d) {
        close(dirFd);
        return;
    }
    while (dirent *e = readdir(d)) {
        if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, ".."))
            continue;
        if (prefix.empty() && !std::strcmp(e->d_name, "lost+found"))
            continue;
        if (m.entries.size() >= g::kMaxManifestEntries) {
            m.truncated = true;
            break;
        }
        struct stat st{};
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        const std::string path = prefix.empty() ? std::string(e->d_name) : prefix + "/" + e->d_name;
        ManifestEntry me;
        me.type = typeOf(st.st_mode);
        me.size = S_ISDIR(st.st_mode) ? 0 : int64_t(st.st_size);
        me.mtimeNs = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        me.ctimeNs = int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
        me.inode = uint64_t(st.st_ino);
        m.entries.emplace(path, me);
        if (S_ISDIR(st.st_mode) && depth < 256) {
            int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0)
                walk(fd, path, m, depth + 1);
        }
    }
    closedir(d);
}

std::string record(g::ChangeKey key, const ManifestEntry &e, const std::string &path)
{
    return g::encode(uint8_t(key), std::string(1, e.type) + " " + std::to_string(e.size) + " " + path);
}
} // namespace

Manifest takeManifest()
{
    Manifest m;
    int fd = open(kWorkspaceDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        walk(fd, std::string(), m, 0);
    return m;
}

std::string compareManifests(const Manifest &before, const Manifest &after)
{
    std::string out;
    size_t added = 0, modified = 0, deleted = 0;
    for (const auto &[path, a] : after.entries) {
        auto it = before.entries.find(path);
        if (it == before.entries.end() || it->second.type != a.type) {
            if (it != before.entries.end()) {
                out += record(g::ChangeKey::Deleted, it->second, path);
                ++deleted;
            }
            out += record(g::ChangeKey::Added, a, path);
            ++added;
            continue;
        }
        const ManifestEntry &b = it->second;
        if (a.type != 'd' && (a.size != b.size || a.mtimeNs != b.mtimeNs || a.ctimeNs != b.ctimeNs || a.inode != b.inode)) {
            out += record(g::ChangeKey::Modified, a, path);
            ++modified;
        }
    }
    for (const auto &[path, b] : before.entries) {
        if (!after.entries.count(path)) {
            out += record(g::ChangeKey::Deleted, b, path);
            ++deleted;
        }
    }
    if (before.truncated || after.truncated)
        out += g::encode(uint8_t(g::ChangeKey::Truncated), "1");
    logLine("changes: " + std::to_string(added) + " added, " + std::to_string(modified) + " modified, " +
            std::to_string(deleted) + " deleted (" + std::to_string(after.entries.size()) + " entries)");
    return out;
}

} // namespace agent
