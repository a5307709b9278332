// port.cpp — the virtio-serial control port: finding and opening it, framed reads and writes,
// waiting for the JOB, and letting the host read everything before the power-off.
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

bool send(g::Msg type, const std::string &payload)
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

uint8_t waitForHost(std::string &payload)
{
    for (;;) {
        uint8_t tag;
        while (nextFrame(tag, payload)) {
            if (tag == uint8_t(g::Msg::Job) || tag == uint8_t(g::Msg::Prepare))
                return tag;
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
                sleepMs(20);
        } else {
            sleepMs(20); // host end not connected (yet): a restored VM's host reconnects
        }
    }
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

} // namespace agent
