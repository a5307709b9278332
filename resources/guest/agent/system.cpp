// system.cpp — the guest system: pseudo file systems at boot, the network for user-mode NAT,
// and the power-off.
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

#include <linux/random.h>
#include <sys/random.h>

namespace agent {


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

namespace {
constexpr const char *kIdentityDir = "/run/magpie-identity";
constexpr const char *kHostsFile = "/run/magpie-identity/hosts";
constexpr const char *kMachineIdFile = "/run/magpie-identity/machine-id";

// /etc/hosts and /etc/machine-id become links into a tmpfs, so that a VM's identity is written
// there at its job's start: a first write to the root's ext4 costs ~30 ms of a restored VM's
// start under TCG (its kernel paths are translated afresh), a write to the tmpfs a fraction.
// Scripts still read, append to or replace (sed -i) them as usual.
void linkIdentityFiles()
{
    if (mkdir(kIdentityDir, 0755) < 0 && errno != EEXIST) {
        warn(std::string("cannot create ") + kIdentityDir + ": " + errStr(errno));
        return;
    }
    const char *files[][2] = {{"/etc/hosts", kHostsFile}, {"/etc/machine-id", kMachineIdFile}};
    for (auto &f : files) {
        std::string content;
        readFile(f[0], content); // the image's own, until the job writes its identity
        if (!writeFile(f[1], content, 0644))
            continue;
        char target[256];
        const ssize_t n = readlink(f[0], target, sizeof target - 1);
        if (n > 0 && std::string(target, size_t(n)) == f[1])
            continue;
        if ((unlink(f[0]) < 0 && errno != ENOENT) || symlink(f[1], f[0]) < 0)
            warn(std::string("cannot link ") + f[0] + " to " + f[1] + ": " + errStr(errno));
    }
}
} // namespace

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
    linkIdentityFiles();

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

void applyIdentity(const Job &job)
{
    if (!job.clock.empty()) {
        timespec ts{};
        const size_t dot = job.clock.find('.');
        ts.tv_sec = time_t(std::strtoll(job.clock.substr(0, dot).c_str(), nullptr, 10));
        ts.tv_nsec = dot == std::string::npos ? 0 : std::strtol(job.clock.substr(dot + 1).c_str(), nullptr, 10);
        if (ts.tv_sec > 0 && clock_settime(CLOCK_REALTIME, &ts) < 0)
            warn("cannot set the wall clock: " + errStr(errno));
    }
    if (!job.seed.empty()) {
        // Mix the host's bytes into the input pool (credited), then make the CRNG reseed now: a
        // VM restored from a snapshot would otherwise go on from the saved CRNG state, the same in
        // every copy, until its next scheduled reseed.
        int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            warn("cannot open /dev/urandom: " + errStr(errno));
        } else {
            std::vector<char> buf(sizeof(rand_pool_info) + job.seed.size());
            auto *info = reinterpret_cast<rand_pool_info *>(buf.data());
            info->entropy_count = int(job.seed.size() * 8);
            info->buf_size = int(job.seed.size());
            std::memcpy(info->buf, job.seed.data(), job.seed.size());
            if (ioctl(fd, RNDADDENTROPY, info) < 0)
                warn("RNDADDENTROPY: " + errStr(errno));
            if (ioctl(fd, RNDRESEEDCRNG) < 0)
                warn("RNDRESEEDCRNG: " + errStr(errno));
            close(fd);
        }
    }
    const std::string host = job.hostname.empty() ? std::string("magpie") : job.hostname;
    if (sethostname(host.data(), host.size()) < 0)
        warn("sethostname: " + errStr(errno));
    writeFile(kHostsFile, "127.0.0.1\tlocalhost\n127.0.1.1\t" + host + "\n::1\tlocalhost ip6-localhost ip6-loopback\n", 0644);
    unsigned char id[16];
    if (getrandom(id, sizeof id, GRND_NONBLOCK) == ssize_t(sizeof id)) {
        static const char *hex = "0123456789abcdef";
        std::string text;
        for (unsigned char c : id) {
            text += hex[c >> 4];
            text += hex[c & 15];
        }
        writeFile(kMachineIdFile, text + "\n", 0444);
    }
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
    logLine("network on: eth0 10.0.2.15/24 via 10.0.2.2, dns 10.0.2.3");
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

} // namespace agent
