// util.cpp — small helpers of the guest agent: time, strings, files, the console.
#include "agent.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace agent {


// ---------------------------------------------------------------------------------------------
// small helpers

int64_t nowMs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// "[s.mmm] ", formatted by hand: printf's machinery is code a restored VM translates afresh
// (TCG) for its first log line.
std::string uptimeStr()
{
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    const long ms = ts.tv_nsec / 1000000;
    std::string out = "[" + std::to_string(long(ts.tv_sec)) + ".";
    out += char('0' + ms / 100);
    out += char('0' + ms / 10 % 10);
    out += char('0' + ms % 10);
    out += "] ";
    return out;
}

std::string errStr(int e) { return std::strerror(e); }

void sleepMs(int ms)
{
    timespec ts{ms / 1000, long(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
        s.pop_back();
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
        ++i;
    return s.substr(i);
}

// Collapses command output into one line for a FAIL sentence, keeping its end.
std::string oneLine(const std::string &text, size_t max)
{
    std::string out;
    for (char c : text) {
        if (c == '\n' || c == '\r' || c == '\t') {
            if (!out.empty() && out.back() != ' ' && out.back() != '|')
                out += " | ";
        } else {
            out += c;
        }
    }
    out = trim(out);
    while (out.size() >= 2 && out.compare(out.size() - 2, 2, " |") == 0)
        out = trim(out.substr(0, out.size() - 2));
    if (out.size() > max)
        out = "..." + out.substr(out.size() - max);
    return out;
}

bool readFile(const std::string &path, std::string &out)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    out.clear();
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buf, size_t(n));
    }
    close(fd);
    return true;
}

bool writeFd(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= size_t(n);
    }
    return true;
}

bool writeFile(const std::string &path, const std::string &data, mode_t mode)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return false;
    bool ok = writeFd(fd, data.data(), data.size());
    if (fchmod(fd, mode) < 0)
        ok = false;
    if (close(fd) < 0)
        ok = false;
    return ok;
}

bool exists(const char *path)
{
    struct stat st{};
    return stat(path, &st) == 0;
}

// ---------------------------------------------------------------------------------------------
// the control port

void console(const std::string &line)
{
    if (gConsole < 0)
        return;
    std::string s = "magpie-agent: " + line + "\n";
    writeFd(gConsole, s.data(), s.size());
}

} // namespace agent
