// magpie-agent — the guest agent of Magpie Desktop. It runs as PID 1 inside the job VM
// (the initramfs switch_roots into the Debian root and execs /sbin/magpie-agent).
//
// What it does, in order:
//   1. mounts the pseudo file systems that are not mounted yet, sets the hostname, brings lo up,
//      and reaps every zombie (SIGCHLD through a signalfd) as PID 1 must;
//   2. finds the virtio-serial control port (guest::kPortName), sends HELLO and waits for a JOB;
//   3. mounts the workspace (the virtio-blk disk with serial guest::kWorkspaceSerial, checked with
//      e2fsck -p first) or an empty tmpfs at /workspace, configures eth0 for QEMU user-mode NAT when
//      asked, writes the script to /run/magpie/script and starts it in its own session, then STARTED;
//   4. forwards stdout and stderr as STDOUT / STDERR frames as they come, and handles KILL;
//   5. after the script's main process exits: drains the pipes (300 ms at most while background
//      children hold them), kills every remaining process, syncs, measures and unmounts
//      /workspace, and sends EXIT;
//   6. powers the VM off. It never returns from main: PID 1 exiting panics the kernel.
//
// Static C++17, libc and libstdc++ only. The wire format is executor/GuestProtocol.h.

#include "../../../executor/GuestProtocol.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

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

namespace {

namespace g = magpie::guest;

constexpr const char *kWorkspaceDir = "/workspace";
constexpr const char *kRunDir = "/run/magpie";
constexpr const char *kScriptPath = "/run/magpie/script";
constexpr int kPortWaitMs = 10000;       // the control port must show up within this
constexpr int kWorkspaceWaitMs = 30000;  // the workspace disk (at boot or hot-plugged)
constexpr int kDrainAfterExitMs = 300;   // pipes held open by background children
constexpr int kReapTimeoutMs = 3000;     // after kill(-1, SIGKILL)
constexpr int kFinalDrainMs = 2000;      // pipes after everything is dead
constexpr int kHostGoneMs = 10000;       // host side disconnected this long while writing: drop
constexpr size_t kChunk = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// state

int gPort = -1;          // the control port, O_RDWR | O_NONBLOCK
std::string gPortPath;   // /dev/vportNpM
int gConsole = -1;       // /dev/console, only for problems (console output is slow under TCG)
int gSigFd = -1;         // signalfd for SIGCHLD
bool gPortGone = false;  // the host went away for good: output is dropped
// Bytes written to the port in the current and the previous one-second window.
int64_t gWindowStart = 0;
uint64_t gWindowBytes = 0, gPrevWindowBytes = 0;
std::string gIn;         // bytes read from the port and not decoded yet
bool gWorkspaceMounted = false;
bool gKillRequested = false; // a KILL frame arrived
std::vector<std::string> gPending; // LOG lines from before the port was open

pid_t gScriptPid = -1;
bool gScriptExited = false;
int gScriptStatus = 0;

[[noreturn]] void fatal(const std::string &why);

// ---------------------------------------------------------------------------------------------
// small helpers

int64_t nowMs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string uptimeStr()
{
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    char buf[32];
    snprintf(buf, sizeof buf, "[%ld.%03ld] ", long(ts.tv_sec), long(ts.tv_nsec / 1000000));
    return buf;
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
std::string oneLine(const std::string &text, size_t max = 600)
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

// Writes every byte of data to the port, waiting out EAGAIN (the virtqueue is full or the
// driver takes at most 32 KiB per write). Gives up only when the host side stays disconnected.
bool portWrite(const std::string &data)
{
    if (gPort < 0 || gPortGone)
        return false;
    size_t off = 0;
    int64_t lastProgress = nowMs();
    while (off < data.size()) {
        ssize_t n = write(gPort, data.data() + off, data.size() - off);
        if (n > 0) {
            off += size_t(n);
            lastProgress = nowMs();
            if (lastProgress - gWindowStart >= 1000) {
                gPrevWindowBytes = lastProgress - gWindowStart >= 2000 ? 0 : gWindowBytes;
                gWindowBytes = 0;
                gWindowStart = lastProgress;
            }
            gWindowBytes += uint64_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN) {
            console("write to the control port failed: " + errStr(errno) + "; output is dropped from now on");
            gPortGone = true;
            return false;
        }
        pollfd p{gPort, POLLOUT, 0};
        int r = poll(&p, 1, 1000);
        if (r > 0 && (p.revents & POLLHUP) && !(p.revents & POLLOUT)) {
            // The host end is not connected. Wait a while; it may be a transient state.
            if (nowMs() - lastProgress > kHostGoneMs) {
                console("the host end of the control port is gone; output is dropped from now on");
                gPortGone = true;
                return false;
            }
            sleepMs(20);
        }
    }
    return true;
}

bool send(g::Msg type, const std::string &payload = std::string())
{
    return portWrite(g::encode(static_cast<uint8_t>(type), payload));
}

void logLine(const std::string &line)
{
    std::string l = uptimeStr() + line;
    if (gPort < 0)
        gPending.push_back(l);
    else
        send(g::Msg::Log, l);
}

// A problem: to the host log and to the console.
void warn(const std::string &line)
{
    console(line);
    logLine(line);
}

enum class ReadResult { Data, Nothing, Hup };

ReadResult portRead()
{
    char buf[65536];
    ssize_t n = read(gPort, buf, sizeof buf);
    if (n > 0) {
        gIn.append(buf, size_t(n));
        return ReadResult::Data;
    }
    if (n == 0)
        return ReadResult::Hup; // no host connected
    if (errno == EAGAIN || errno == EINTR)
        return ReadResult::Nothing;
    return ReadResult::Hup;
}

// Takes one complete frame off the input buffer.
bool nextFrame(uint8_t &tag, std::string &payload)
{
    long used = g::decode(gIn.data(), gIn.size(), tag, payload);
    if (used < 0) {
        gIn.clear();
        fatal("protocol error: the host sent a frame larger than the maximum frame size");
    }
    if (used == 0)
        return false;
    gIn.erase(0, size_t(used));
    return true;
}

// Reads what the port has right now and notes a KILL (used while a job is being prepared).
void pumpPortForKill()
{
    if (gPort < 0)
        return;
    for (int i = 0; i < 16 && portRead() == ReadResult::Data; ++i) {
    }
    uint8_t tag;
    std::string payload;
    while (nextFrame(tag, payload)) {
        if (tag == uint8_t(g::Msg::Kill)) {
            if (!gKillRequested)
                logLine("KILL received before the script started");
            gKillRequested = true;
        } else {
            logLine("ignoring an unexpected frame of type " + std::to_string(int(tag)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// processes

std::vector<std::string> baseEnv()
{
    return {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "USER=root",
        "LOGNAME=root",
        "SHELL=/bin/bash",
        "LANG=C.UTF-8",
        "TERM=dumb",
        "PWD=/workspace",
    };
}

struct Cmd {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    int in = -1;  // -1: /dev/null
    int out = -1; // -1: /dev/null
    int err = -1; // -1: /dev/null
    std::string cwd;
    bool newSession = false;
};

pid_t spawn(const Cmd &c)
{
    std::vector<char *> av, ev;
    for (const auto &a : c.argv)
        av.push_back(const_cast<char *>(a.c_str()));
    av.push_back(nullptr);
    for (const auto &e : c.env)
        ev.push_back(const_cast<char *>(e.c_str()));
    ev.push_back(nullptr);

    pid_t pid = fork();
    if (pid != 0)
        return pid;

    // child: a clean signal state (the agent blocks SIGCHLD and ignores SIGPIPE)
    for (int s = 1; s < NSIG; ++s) {
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (c.newSession)
        setsid();
    int devnull = open("/dev/null", O_RDWR);
    int in = c.in >= 0 ? c.in : devnull;
    int out = c.out >= 0 ? c.out : devnull;
    int err = c.err >= 0 ? c.err : devnull;
    // 0..2 are always open in the agent, so in/out/err are all >= 3 and cannot clobber each other.
    if (in >= 0)
        dup2(in, 0);
    if (out >= 0)
        dup2(out, 1);
    if (err >= 0)
        dup2(err, 2);
    if (devnull > 2)
        close(devnull);
    umask(022);
    if (!c.cwd.empty() && chdir(c.cwd.c_str()) < 0) {
        std::string m = "magpie-agent: cannot change to " + c.cwd + ": " + errStr(errno) + "\n";
        writeFd(2, m.data(), m.size());
        _exit(126);
    }
    execve(av[0], av.data(), ev.data());
    int e = errno;
    std::string m = "magpie-agent: cannot execute " + c.argv[0] + ": " + errStr(e) + "\n";
    writeFd(2, m.data(), m.size());
    _exit(e == ENOENT ? 127 : 126);
}

int statusToCode(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 255;
}

// Runs a helper command to completion; output gets stdout and stderr together.
// Returns the exit code (128+N for signal N), or -1 when it could not be started.
int runCapture(const std::vector<std::string> &argv, std::string &output)
{
    output.clear();
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        output = "pipe: " + errStr(errno);
        return -1;
    }
    Cmd c;
    c.argv = argv;
    c.env = baseEnv();
    c.out = p[1];
    c.err = p[1];
    pid_t pid = spawn(c);
    close(p[1]);
    if (pid < 0) {
        output = "fork: " + errStr(errno);
        close(p[0]);
        return -1;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        output.append(buf, size_t(n));
        if (output.size() > 16384)
            output.erase(0, output.size() - 8192);
    }
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return statusToCode(st);
}

// Reaps every zombie; remembers the script's status when it is among them.
void reapAll()
{
    for (;;) {
        int st = 0;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p <= 0)
            break;
        if (p == gScriptPid && !gScriptExited) {
            gScriptExited = true;
            gScriptStatus = st;
        }
    }
}

void drainSignalFd()
{
    signalfd_siginfo si[8];
    while (read(gSigFd, si, sizeof si) > 0) {
    }
}

// Kills everything but PID 1 and waits (bounded) until all of it is reaped.
void killEverything()
{
    kill(-1, SIGKILL);
    int64_t deadline = nowMs() + kReapTimeoutMs;
    for (;;) {
        int st = 0;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p > 0) {
            if (p == gScriptPid && !gScriptExited) {
                gScriptExited = true;
                gScriptStatus = st;
            }
            continue;
        }
        if (p < 0 && errno == ECHILD)
            return;
        if (p < 0 && errno == EINTR)
            continue;
        int64_t left = deadline - nowMs();
        if (left <= 0) {
            warn("some processes did not die within " + std::to_string(kReapTimeoutMs) + " ms of SIGKILL");
            return;
        }
        pollfd pf{gSigFd, POLLIN, 0};
        poll(&pf, 1, int(std::min<int64_t>(left, 50)));
        drainSignalFd();
    }
}

// ---------------------------------------------------------------------------------------------
// boot

bool isMountpoint(const std::string &path)
{
    struct stat a{}, b{};
    if (stat(path.c_str(), &a) < 0)
        return false;
    if (stat((path + "/..").c_str(), &b) < 0)
        return false;
    return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

void ensureMount(const char *source, const char *target, const char *type, unsigned long flags,
                 const char *data, mode_t mode)
{
    if (mkdir(target, mode) < 0 && errno != EEXIST) {
        warn(std::string("cannot create ") + target + ": " + errStr(errno));
        return;
    }
    if (isMountpoint(target))
        return;
    if (mount(source, target, type, flags, data) < 0)
        warn(std::string("cannot mount ") + type + " at " + target + ": " + errStr(errno));
}

void ensureStdFds()
{
    for (int fd = 0; fd <= 2; ++fd) {
        if (fcntl(fd, F_GETFD) < 0) {
            int n = open("/dev/null", O_RDWR);
            if (n < 0)
                n = open("/", O_RDONLY); // anything, just to occupy the slot
            if (n >= 0 && n != fd) {
                dup2(n, fd);
                close(n);
            }
        }
    }
}

void setInterfaceUp(int sock, const char *name)
{
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
        throw std::runtime_error(std::string("SIOCGIFFLAGS ") + name + ": " + errStr(errno));
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
        throw std::runtime_error(std::string("SIOCSIFFLAGS ") + name + ": " + errStr(errno));
}

void bootSetup()
{
    umask(022);
    if (chdir("/") < 0) {
    }
    ensureStdFds();

    ensureMount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0555);
    ensureMount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, 0555);
    ensureMount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755);
    ensureStdFds();
    gConsole = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    ensureMount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666", 0755);
    ensureMount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777);
    ensureMount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777);
    ensureMount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755);

    // What udev or systemd would normally provide in /dev.
    const char *links[][2] = {
        {"/proc/self/fd", "/dev/fd"},
        {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"},
        {"/proc/self/fd/2", "/dev/stderr"},
    };
    for (auto &l : links) {
        if (symlink(l[0], l[1]) < 0 && errno != EEXIST)
            logLine(std::string("cannot create ") + l[1] + ": " + errStr(errno));
    }

    if (sethostname("magpie", 6) < 0)
        warn("sethostname: " + errStr(errno));

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        warn("socket: " + errStr(errno));
    } else {
        try {
            setInterfaceUp(s, "lo");
        } catch (const std::exception &e) {
            warn(std::string("cannot bring lo up: ") + e.what());
        }
        close(s);
    }

    // PID 1 reaps. SIGCHLD is blocked and read through a signalfd in the event loop.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    gSigFd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (gSigFd < 0)
        warn("signalfd: " + errStr(errno));
    signal(SIGPIPE, SIG_IGN);
}

// Finds /dev/<vportNpM> for the port named kPortName.
std::string findPort()
{
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d)
        return std::string();
    std::string found;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        std::string name;
        if (readFile(std::string("/sys/class/virtio-ports/") + e->d_name + "/name", name) &&
            trim(name) == g::kPortName) {
            found = e->d_name;
            break;
        }
    }
    closedir(d);
    return found;
}

// Creates /dev/<name> from /sys/.../dev when devtmpfs has not (yet).
bool ensureDevNode(const std::string &devPath, const std::string &sysDevFile, mode_t type)
{
    struct stat st{};
    if (stat(devPath.c_str(), &st) == 0)
        return true;
    std::string mm;
    if (!readFile(sysDevFile, mm))
        return false;
    unsigned maj = 0, min = 0;
    if (sscanf(mm.c_str(), "%u:%u", &maj, &min) != 2)
        return false;
    if (mknod(devPath.c_str(), type | 0600, makedev(maj, min)) < 0 && errno != EEXIST)
        return false;
    return true;
}

void openPort()
{
    int64_t deadline = nowMs() + kPortWaitMs;
    std::string entry;
    for (;;) {
        entry = findPort();
        if (!entry.empty())
            break;
        if (nowMs() > deadline) {
            console(std::string("the control port ") + g::kPortName + " did not appear within 10 s; powering off");
            return;
        }
        sleepMs(10);
    }
    std::string dev = "/dev/" + entry;
    gPortPath = dev;
    if (!ensureDevNode(dev, "/sys/class/virtio-ports/" + entry + "/dev", S_IFCHR))
        console("cannot create " + dev + ": " + errStr(errno));
    for (int i = 0; i < 100 && gPort < 0; ++i) {
        gPort = open(dev.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (gPort < 0)
            sleepMs(10);
    }
    if (gPort < 0)
        console("cannot open " + dev + ": " + errStr(errno));
}

// True when the host has sent something that is not read yet.
bool portHasInput(int timeoutMs)
{
    pollfd p{gPort, POLLIN, 0};
    return poll(&p, 1, timeoutMs) > 0 && (p.revents & POLLIN);
}

// While no job is there yet, reads the programs every job needs into the page cache: the first
// exec of a dynamic binary from the cold root disk costs ~250 ms under TCG. The reading is done
// in 256 KiB steps and stops as soon as the host sends something, so a job that comes at once
// is not delayed (the single vCPU does the I/O work either way); a VM booted ahead of time
// starts its job faster.
void warmPageCache()
{
    static const char *const files[] = {
        "/etc/ld.so.cache",
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/bin/bash",
        "/lib/x86_64-linux-gnu/libtinfo.so.6",
        "/sbin/e2fsck",
        "/lib/x86_64-linux-gnu/libext2fs.so.2",
        "/lib/x86_64-linux-gnu/libcom_err.so.2",
        "/lib/x86_64-linux-gnu/libblkid.so.1",
        "/lib/x86_64-linux-gnu/libuuid.so.1",
        "/lib/x86_64-linux-gnu/libe2p.so.2",
    };
    constexpr off_t kStep = 256 * 1024;
    if (portHasInput(20))
        return;
    int64_t start = nowMs();
    off_t total = 0;
    for (const char *f : files) {
        int fd = open(f, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st{};
        if (fstat(fd, &st) == 0) {
            for (off_t off = 0; off < st.st_size; off += kStep) {
                if (portHasInput(0)) {
                    close(fd);
                    logLine("page cache warm-up interrupted by the host after " + std::to_string(total / 1024) + " KiB");
                    return;
                }
                readahead(fd, off, size_t(kStep));
                total += std::min<off_t>(kStep, st.st_size - off);
            }
        }
        close(fd);
    }
    logLine("page cache warmed: " + std::to_string(total / 1024) + " KiB in " + std::to_string(nowMs() - start) + " ms");
}

// ---------------------------------------------------------------------------------------------
// the job

struct Job {
    std::string script;
    std::vector<std::string> env;
    bool workspace = false;
    bool network = false;
    std::string interpreter; // empty: bash, or the script's own "#!" line
};

Job parseJob(const std::string &payload)
{
    Job job;
    bool haveScript = false;
    size_t off = 0;
    while (off < payload.size()) {
        uint8_t key;
        std::string value;
        long used = g::decode(payload.data() + off, payload.size() - off, key, value);
        if (used <= 0)
            fatal("protocol error: the JOB frame holds a malformed record");
        off += size_t(used);
        switch (static_cast<g::JobKey>(key)) {
        case g::JobKey::Script:
            job.script = value;
            haveScript = true;
            break;
        case g::JobKey::Env:
            if (value.find('=') == std::string::npos || value.front() == '=')
                logLine("ignoring a malformed environment record (no NAME=)");
            else
                job.env.push_back(value);
            break;
        case g::JobKey::Workspace:
            job.workspace = value == "1";
            break;
        case g::JobKey::Network:
            job.network = value == "1";
            break;
        case g::JobKey::Interpreter:
            if (value.empty() || value.front() != '/')
                logLine("ignoring an interpreter that is not an absolute path");
            else
                job.interpreter = value;
            break;
        default:
            logLine("ignoring an unknown JOB record of type " + std::to_string(int(key)));
            break;
        }
    }
    if (!haveScript)
        fatal("protocol error: the JOB frame has no script");
    return job;
}

// Waits for the JOB frame; blocks as long as it takes (the VM may be booted ahead of time).
std::string waitForJob()
{
    for (;;) {
        uint8_t tag;
        std::string payload;
        while (nextFrame(tag, payload)) {
            if (tag == uint8_t(g::Msg::Job))
                return payload;
            if (tag == uint8_t(g::Msg::Kill))
                logLine("KILL received while no job runs; ignored");
            else
                logLine("ignoring an unexpected frame of type " + std::to_string(int(tag)) + " before the job");
        }
        pollfd p{gPort, POLLIN, 0};
        int r = poll(&p, 1, -1);
        if (r < 0 && errno != EINTR)
            fatal("poll on the control port failed: " + errStr(errno));
        if (r <= 0)
            continue;
        if ((p.revents & POLLIN) || !(p.revents & POLLHUP)) {
            if (portRead() == ReadResult::Hup)
                sleepMs(100);
        } else {
            sleepMs(100); // host end not connected (yet)
        }
    }
}

std::string lastKernelLines(const std::string &needle, size_t count)
{
    int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, nullptr, 0);
    if (size <= 0)
        size = 1 << 17;
    std::string buf(size_t(size), '\0');
    int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, &buf[0], size);
    if (n <= 0)
        return std::string();
    buf.resize(size_t(n));
    std::vector<std::string> hits;
    size_t pos = 0;
    while (pos < buf.size()) {
        size_t nl = buf.find('\n', pos);
        if (nl == std::string::npos)
            nl = buf.size();
        std::string line = buf.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.find(needle) != std::string::npos) {
            if (line.size() > 3 && line[0] == '<') { // strip "<N>"
                size_t gt = line.find('>');
                if (gt != std::string::npos)
                    line = line.substr(gt + 1);
            }
            hits.push_back(trim(line));
        }
    }
    std::string out;
    size_t start = hits.size() > count ? hits.size() - count : 0;
    for (size_t i = start; i < hits.size(); ++i)
        out += (out.empty() ? "" : " | ") + hits[i];
    return out;
}

std::string findWorkspaceDisk()
{
    DIR *d = opendir("/sys/block");
    if (!d)
        return std::string();
    std::string found;
    while (dirent *e = readdir(d)) {
        if (std::strncmp(e->d_name, "vd", 2) != 0)
            continue;
        std::string serial;
        if (readFile(std::string("/sys/block/") + e->d_name + "/serial", serial) &&
            trim(serial) == g::kWorkspaceSerial) {
            found = e->d_name;
            break;
        }
    }
    closedir(d);
    return found;
}

void mountWorkspace(const Job &job)
{
    if (mkdir(kWorkspaceDir, 0755) < 0 && errno != EEXIST)
        fatal(std::string("cannot create ") + kWorkspaceDir + ": " + errStr(errno));

    if (!job.workspace) {
        if (mount("tmpfs", kWorkspaceDir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
            fatal("cannot mount a tmpfs at /workspace: " + errStr(errno));
        gWorkspaceMounted = true;
        logLine("no workspace disk: empty tmpfs at /workspace");
        return;
    }

    int64_t start = nowMs();
    int64_t deadline = start + kWorkspaceWaitMs;
    std::string disk;
    for (;;) {
        disk = findWorkspaceDisk();
        if (!disk.empty())
            break;
        pumpPortForKill();
        if (gKillRequested)
            fatal("cancelled by the host before the script started (while waiting for the workspace disk)");
        if (nowMs() > deadline)
            fatal(std::string("the workspace disk (virtio-blk serial ") + g::kWorkspaceSerial +
                  ") did not appear within " + std::to_string(kWorkspaceWaitMs / 1000) + " s");
        sleepMs(20);
    }
    int64_t waited = nowMs() - start;
    std::string dev = "/dev/" + disk;
    if (!ensureDevNode(dev, "/sys/block/" + disk + "/dev", S_IFBLK))
        fatal("cannot create the device node " + dev + " for the workspace disk: " + errStr(errno));

    std::string out;
    int64_t fsckStart = nowMs();
    int rc = runCapture({"/sbin/e2fsck", "-p", dev}, out);
    int fsck = rc;
    if (rc < 0)
        fatal("cannot run /sbin/e2fsck on the workspace disk " + dev + ": " + oneLine(out));
    if (rc >= 4) {
        warn("e2fsck -p " + dev + " exited " + std::to_string(rc) + " (" + oneLine(out, 300) +
             "); running e2fsck -fy");
        std::string out2;
        int rc2 = runCapture({"/sbin/e2fsck", "-fy", dev}, out2);
        if (rc2 < 0 || rc2 >= 4)
            fatal("the workspace file system on " + dev + " is damaged and e2fsck -fy could not repair it (exit " +
                  std::to_string(rc2) + "): " + oneLine(out2));
        warn("e2fsck -fy " + dev + " repaired the workspace (exit " + std::to_string(rc2) + ")");
        fsck = rc2;
    } else if (rc != 0) {
        logLine("e2fsck -p " + dev + " exited " + std::to_string(rc) + ": " + oneLine(out, 300));
    }

    int64_t mountStart = nowMs();
    if (mount(dev.c_str(), kWorkspaceDir, "ext4", MS_NOATIME, "noinit_itable,discard") < 0) {
        int e = errno;
        std::string k = lastKernelLines(disk, 3);
        fatal("cannot mount the workspace disk " + dev + " (ext4) at /workspace: " + errStr(e) +
              (k.empty() ? std::string() : " (kernel: " + k + ")"));
    }
    gWorkspaceMounted = true;
    int64_t end = nowMs();
    logLine("workspace " + dev + " mounted (fsck " + std::to_string(fsck) + "; disk found after " +
            std::to_string(waited) + " ms, fsck " + std::to_string(mountStart - fsckStart) + " ms, mount " +
            std::to_string(end - mountStart) + " ms)");
}

void addDefaultRoute(int sock, const char *gateway)
{
    rtentry rt{};
    auto *dst = reinterpret_cast<sockaddr_in *>(&rt.rt_dst);
    auto *gw = reinterpret_cast<sockaddr_in *>(&rt.rt_gateway);
    auto *mask = reinterpret_cast<sockaddr_in *>(&rt.rt_genmask);
    dst->sin_family = AF_INET;
    mask->sin_family = AF_INET;
    gw->sin_family = AF_INET;
    inet_pton(AF_INET, gateway, &gw->sin_addr);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST)
        throw std::runtime_error(std::string("SIOCADDRT default via ") + gateway + ": " + errStr(errno));
}

void setAddress(int sock, const char *ifname, const char *addr, const char *netmask)
{
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    auto *sin = reinterpret_cast<sockaddr_in *>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
        throw std::runtime_error(std::string("SIOCSIFADDR ") + addr + ": " + errStr(errno));
    inet_pton(AF_INET, netmask, &sin->sin_addr);
    if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
        throw std::runtime_error(std::string("SIOCSIFNETMASK ") + netmask + ": " + errStr(errno));
}

void writeResolvConf()
{
    const std::string text = "nameserver 10.0.2.3\n";
    if (writeFile("/etc/resolv.conf", text, 0644))
        return;
    int e = errno;
    // A read-only root: bind a file from /run over it.
    std::string alt = std::string(kRunDir) + "/resolv.conf";
    if (writeFile(alt, text, 0644)) {
        if (!exists("/etc/resolv.conf")) {
            int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd >= 0)
                close(fd);
        }
        if (mount(alt.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) == 0)
            return;
    }
    warn("cannot write /etc/resolv.conf: " + errStr(e));
}

void setupNetwork(const Job &job)
{
    if (!job.network) {
        logLine("network off: only lo");
        return;
    }
    if (!exists("/sys/class/net/eth0")) {
        warn("network requested but there is no eth0 in the guest; the script runs without network");
        return;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    std::string error;
    try {
        if (s < 0)
            throw std::runtime_error("socket: " + errStr(errno));
        setAddress(s, "eth0", "10.0.2.15", "255.255.255.0");
        setInterfaceUp(s, "eth0");
        addDefaultRoute(s, "10.0.2.2");
    } catch (const std::exception &e) {
        error = e.what();
    }
    if (s >= 0)
        close(s);
    if (!error.empty()) {
        // Fall back to iproute2.
        warn("configuring eth0 by ioctl failed (" + error + "); trying ip");
        std::string out;
        int a = runCapture({"/sbin/ip", "link", "set", "eth0", "up"}, out);
        int b = runCapture({"/sbin/ip", "addr", "replace", "10.0.2.15/24", "dev", "eth0"}, out);
        int c = runCapture({"/sbin/ip", "route", "replace", "default", "via", "10.0.2.2"}, out);
        if (a != 0 || b != 0 || c != 0)
            warn("ip could not configure eth0 either: " + oneLine(out));
    }
    writeResolvConf();
    if (!exists("/etc/hosts"))
        writeFile("/etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tmagpie\n::1\tlocalhost ip6-localhost ip6-loopback\n", 0644);
    logLine("network on: eth0 10.0.2.15/24 via 10.0.2.2, dns 10.0.2.3");
}

std::vector<std::string> jobEnv(const Job &job)
{
    std::vector<std::string> env = baseEnv();
    for (const auto &kv : job.env) {
        std::string name = kv.substr(0, kv.find('=') + 1); // "NAME="
        auto it = std::find_if(env.begin(), env.end(),
                               [&](const std::string &e) { return e.compare(0, name.size(), name) == 0; });
        if (it != env.end())
            *it = kv;
        else
            env.push_back(kv);
    }
    return env;
}

void unmountWorkspace()
{
    if (!gWorkspaceMounted)
        return;
    for (int i = 0; i < 20; ++i) {
        if (umount2(kWorkspaceDir, 0) == 0) {
            gWorkspaceMounted = false;
            return;
        }
        if (errno != EBUSY)
            break;
        sleepMs(50);
    }
    int e = errno;
    if (umount2(kWorkspaceDir, MNT_DETACH) == 0)
        warn("could not unmount /workspace (" + errStr(e) + "); detached it lazily after sync");
    else
        warn("could not unmount /workspace: " + errStr(e) + "; only synced");
    sync();
    gWorkspaceMounted = false;
}

// Called after the last frame (EXIT or FAIL), before the power-off.
//
// A write to the port returns as soon as the bytes are in the virtqueue (up to 128 buffers of
// up to 32 KiB each). QEMU passes them to the host socket at once unless that socket is full; then
// it holds them in the queue until the host reads, and a power-off loses them. Measured: a host
// that did not read for 3 s while a script wrote 2 MB lost most of it and the EXIT frame. The
// guest cannot see when QEMU has passed everything on, so it waits:
//   - until the host closes its end of the socket (POLLHUP on the port): then everything was
//     read, and the agent powers off at once. A host that closes the connection after EXIT/FAIL
//     makes this immediate;
//   - otherwise 50 ms, plus 1 ms per 16 KiB written in the last 1-2 s (a host that reads at
//     16 MB/s or more catches up; a local Qt host reads much faster), at most 1 s in all.
void letHostCatchUp()
{
    if (gPort < 0 || gPortGone)
        return;
    const int64_t now = nowMs();
    uint64_t recent = 0;
    if (now - gWindowStart < 2000)
        recent = gWindowBytes + (now - gWindowStart < 1000 ? gPrevWindowBytes : 0);
    const int64_t wait = 50 + int64_t(std::min<uint64_t>(recent / 16384, 950));
    const int64_t deadline = now + wait;
    for (;;) {
        const int64_t left = deadline - nowMs();
        if (left <= 0)
            return;
        pollfd p{gPort, POLLIN, 0};
        int r = poll(&p, 1, int(left));
        if (r < 0 && errno != EINTR)
            return;
        if (r <= 0)
            continue;
        if (p.revents & POLLIN) {
            if (portRead() == ReadResult::Hup)
                break;
            gIn.clear(); // nothing more is expected from the host
            continue;
        }
        if (p.revents & (POLLHUP | POLLERR))
            break;
    }
    // The host hung up: it has read all there was.
}

[[noreturn]] void powerOff()
{
    sync();
    reboot(RB_POWER_OFF);
    // Still here: nothing sensible is left to do, and PID 1 must not exit.
    console("reboot(RB_POWER_OFF) failed: " + errStr(errno));
    for (;;)
        pause();
}

bool gInFatal = false;

[[noreturn]] void fatal(const std::string &why)
{
    if (gInFatal) // a failure while failing: just stop
        powerOff();
    gInFatal = true;
    console(why);
    killEverything();
    sync();
    unmountWorkspace();
    send(g::Msg::Fail, why);
    letHostCatchUp();
    powerOff();
}

struct Stream {
    int fd = -1;
    g::Msg type;
};

// One read of up to 64 KiB, forwarded at once. Returns false at EOF (the fd is then closed).
bool forward(Stream &s)
{
    static std::string buf(kChunk, '\0');
    for (;;) {
        ssize_t n = read(s.fd, &buf[0], kChunk);
        if (n > 0) {
            send(s.type, buf.substr(0, size_t(n)));
            return true;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return true;
        close(s.fd);
        s.fd = -1;
        return false;
    }
}

void runJob(const Job &job)
{
    mountWorkspace(job);
    setupNetwork(job);

    if (mkdir(kRunDir, 0700) < 0 && errno != EEXIST)
        fatal(std::string("cannot create ") + kRunDir + ": " + errStr(errno));
    if (!writeFile(kScriptPath, job.script, 0700))
        fatal(std::string("cannot write the script to ") + kScriptPath + ": " + errStr(errno));

    pumpPortForKill();
    if (gKillRequested)
        fatal("cancelled by the host before the script started");

    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        fatal("cannot create pipes for the script: " + errStr(errno));
    fcntl(outp[0], F_SETFL, O_NONBLOCK);
    fcntl(errp[0], F_SETFL, O_NONBLOCK);

    Cmd c;
    if (!job.interpreter.empty())
        c.argv = {job.interpreter, kScriptPath};
    else if (job.script.compare(0, 2, "#!") == 0)
        c.argv = {kScriptPath};
    else
        c.argv = {"/bin/bash", kScriptPath};
    c.env = jobEnv(job);
    c.out = outp[1];
    c.err = errp[1];
    c.cwd = kWorkspaceDir;
    c.newSession = true;
    gScriptPid = spawn(c);
    close(outp[1]);
    close(errp[1]);
    if (gScriptPid < 0)
        fatal("cannot start the script: fork: " + errStr(errno));

    send(g::Msg::Started);
    logLine("script started (pid " + std::to_string(gScriptPid) + ")");

    Stream out{outp[0], g::Msg::Stdout};
    Stream err{errp[0], g::Msg::Stderr};
    bool killed = false;
    int64_t exitedAt = 0;
    int64_t portQuietUntil = 0; // host end disconnected: do not spin on POLLHUP

    for (;;) {
        if (gScriptExited) {
            if (exitedAt == 0)
                exitedAt = nowMs();
            if (out.fd < 0 && err.fd < 0)
                break;
            if (nowMs() - exitedAt >= kDrainAfterExitMs)
                break;
        }
        pollfd pf[4];
        int n = 0;
        int iSig = -1, iPort = -1, iOut = -1, iErr = -1;
        pf[n] = {gSigFd, POLLIN, 0};
        iSig = n++;
        bool portPolled = gPort >= 0 && nowMs() >= portQuietUntil;
        if (portPolled) {
            pf[n] = {gPort, POLLIN, 0};
            iPort = n++;
        }
        if (out.fd >= 0) {
            pf[n] = {out.fd, POLLIN, 0};
            iOut = n++;
        }
        if (err.fd >= 0) {
            pf[n] = {err.fd, POLLIN, 0};
            iErr = n++;
        }
        int timeout = gSigFd < 0 ? 100 : -1; // without a signalfd: reap by polling
        if (gScriptExited) {
            int t = int(std::max<int64_t>(0, kDrainAfterExitMs - (nowMs() - exitedAt)));
            timeout = timeout < 0 ? t : std::min(timeout, t);
        }
        if (gPort >= 0 && !portPolled) {
            int t = int(std::max<int64_t>(0, portQuietUntil - nowMs()));
            timeout = timeout < 0 ? t : std::min(timeout, t);
        }
        int r = poll(pf, nfds_t(n), timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fatal("poll failed: " + errStr(errno));
        }
        if (iOut >= 0 && (pf[iOut].revents & (POLLIN | POLLHUP | POLLERR)))
            forward(out);
        if (iErr >= 0 && (pf[iErr].revents & (POLLIN | POLLHUP | POLLERR)))
            forward(err);
        if (iPort >= 0 && pf[iPort].revents) {
            ReadResult rr = ReadResult::Nothing;
            if (pf[iPort].revents & POLLIN)
                rr = portRead();
            if (rr == ReadResult::Hup || (!(pf[iPort].revents & POLLIN) && (pf[iPort].revents & POLLHUP)))
                portQuietUntil = nowMs() + 200;
            uint8_t tag;
            std::string payload;
            while (nextFrame(tag, payload)) {
                if (tag == uint8_t(g::Msg::Kill)) {
                    if (!gScriptExited && !killed) {
                        killed = true;
                        kill(-gScriptPid, SIGKILL);
                        kill(gScriptPid, SIGKILL);
                        logLine("KILL from the host: killed the script's process group");
                    }
                } else {
                    logLine("ignoring an unexpected frame of type " + std::to_string(int(tag)) + " while the script runs");
                }
            }
        }
        if (gSigFd < 0 || (pf[iSig].revents & POLLIN)) {
            if (gSigFd >= 0)
                drainSignalFd();
            reapAll();
        }
    }

    if (out.fd >= 0 || err.fd >= 0)
        logLine("the script exited but background processes hold its output open; killing them");
    killEverything();

    // Everything is dead: the pipes reach EOF after what is left in them.
    int64_t deadline = nowMs() + kFinalDrainMs;
    while ((out.fd >= 0 || err.fd >= 0) && nowMs() < deadline) {
        pollfd pf[2];
        Stream *which[2];
        int n = 0;
        if (out.fd >= 0) {
            pf[n] = {out.fd, POLLIN, 0};
            which[n++] = &out;
        }
        if (err.fd >= 0) {
            pf[n] = {err.fd, POLLIN, 0};
            which[n++] = &err;
        }
        int r = poll(pf, nfds_t(n), int(std::max<int64_t>(1, deadline - nowMs())));
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; ++i) {
            if (pf[i].revents)
                forward(*which[i]);
        }
    }
    if (out.fd >= 0 || err.fd >= 0)
        warn("the script's output pipes did not reach EOF; the rest of its output is lost");

    int st = gScriptStatus;
    int code = statusToCode(st);
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

    sync();
    unsigned long long used = 0, total = 0;
    struct statvfs vfs{};
    if (statvfs(kWorkspaceDir, &vfs) == 0) {
        used = (unsigned long long)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
        total = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
    } else {
        warn("statvfs /workspace: " + errStr(errno));
    }
    unmountWorkspace();

    std::string rec;
    rec += g::encode(uint8_t(g::ExitKey::Code), std::to_string(code));
    rec += g::encode(uint8_t(g::ExitKey::Signal), std::to_string(sig));
    rec += g::encode(uint8_t(g::ExitKey::UsedBytes), std::to_string(used));
    rec += g::encode(uint8_t(g::ExitKey::TotalBytes), std::to_string(total));
    rec += g::encode(uint8_t(g::ExitKey::Killed), killed ? "1" : "0");
    logLine("script ended: code " + std::to_string(code) + ", signal " + std::to_string(sig) +
            (killed ? ", killed by the host" : ""));
    send(g::Msg::Exit, rec);
}

void agentMain()
{
    logLine("agent started as PID " + std::to_string(getpid()));
    bootSetup();
    openPort();
    if (gPort < 0)
        powerOff();

    // Wait until the host end is connected (poll without POLLHUP), then say hello.
    for (int64_t warnAt = nowMs() + 10000;;) {
        pollfd p{gPort, POLLOUT, 0};
        int r = poll(&p, 1, 100);
        if (r > 0 && !(p.revents & POLLHUP))
            break;
        if (r > 0)
            sleepMs(20);
        if (warnAt && nowMs() > warnAt) {
            console("waiting for the host to connect to the control port");
            warnAt = 0;
        }
    }
    send(g::Msg::Hello, g::kProtocolVersion);
    for (const auto &l : gPending)
        send(g::Msg::Log, l);
    gPending.clear();
    logLine("HELLO sent on " + gPortPath);
    warmPageCache();
    logLine("agent ready, waiting for a job");

    Job job = parseJob(waitForJob());
    logLine("job received");
    runJob(job);
    letHostCatchUp();
    powerOff();
}

} // namespace

int main()
{
    if (getpid() != 1) {
        // Everything it does (kill(-1, SIGKILL), mounts, power-off) is only sane as the VM's init.
        std::fprintf(stderr, "magpie-agent: must run as PID 1 inside the Magpie guest VM; refusing to start\n");
        return 2;
    }
    std::set_terminate([] {
        console("terminate called; powering off");
        powerOff();
    });
    try {
        agentMain();
    } catch (const std::exception &e) {
        fatal(std::string("internal error in the agent: ") + e.what());
    } catch (...) {
        fatal("internal error in the agent");
    }
    powerOff();
}
