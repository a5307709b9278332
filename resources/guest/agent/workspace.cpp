// workspace.cpp — /workspace: finding the workspace disk, checking and mounting it (or an
// empty tmpfs), and unmounting it after the job.
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

namespace {
// The placeholder workspace disk a snapshot was saved with (e.g. "vdb"), or empty.
std::string gPlaceholder;
int gPlaceholderFd = -1; // the placeholder's device, open since the snapshot was prepared
constexpr long long kPlaceholderSectors = 2048; // the host's 1 MiB placeholder
constexpr int kResizeWaitMs = 3000;

long long sectorsOf(const std::string &disk)
{
    std::string text;
    return readFile("/sys/block/" + disk + "/size", text) ? std::atoll(trim(text).c_str()) : -1;
}

constexpr const char *kVirtioBlkDriver = "/sys/bus/virtio/drivers/virtio_blk";

// Binds every virtio block device that has no driver (a restored VM's workspace disk, left
// unbound when its snapshot was prepared). Returns how many it bound.
int bindUnboundBlockDevices()
{
    DIR *d = opendir("/sys/bus/virtio/devices");
    if (!d)
        return 0;
    int bound = 0;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        const std::string dev = std::string("/sys/bus/virtio/devices/") + e->d_name;
        std::string id;
        if (!readFile(dev + "/device", id) || trim(id) != "0x0002") // VIRTIO_ID_BLOCK
            continue;
        struct stat st{};
        if (lstat((dev + "/driver").c_str(), &st) == 0)
            continue; // has a driver
        int fd = open((std::string(kVirtioBlkDriver) + "/bind").c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (writeFd(fd, e->d_name, std::strlen(e->d_name)))
            ++bound;
        else
            warn(std::string("cannot bind ") + e->d_name + " to virtio_blk: " + errStr(errno));
        close(fd);
    }
    closedir(d);
    return bound;
}

// True when the ext4 superblock says the file system was cleanly unmounted, has no recorded
// errors and needs no journal recovery: then e2fsck has nothing to do and is skipped.
bool superblockClean(const std::string &dev, std::string &why, int openFd = -1)
{
    int fd = openFd >= 0 ? openFd : open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        why = "cannot open: " + errStr(errno);
        return false;
    }
    unsigned char sb[1024];
    const ssize_t n = pread(fd, sb, sizeof sb, 1024);
    if (fd != openFd)
        close(fd);
    if (n != ssize_t(sizeof sb)) {
        why = "cannot read the superblock";
        return false;
    }
    auto u16 = [&](int off) { return unsigned(sb[off]) | unsigned(sb[off + 1]) << 8; };
    auto u32 = [&](int off) { return u16(off) | u16(off + 2) << 16; };
    if (u16(0x38) != 0xEF53) {
        why = "no ext4 superblock";
        return false;
    }
    const unsigned state = u16(0x3A);          // 1 = cleanly unmounted, 2 = errors
    const unsigned incompat = u32(0x60);       // 0x4 = needs journal recovery
    if (!(state & 1) || (state & 2) || (incompat & 0x4)) {
        why = "state " + std::to_string(state) + (incompat & 0x4 ? ", journal needs recovery" : "");
        return false;
    }
    return true;
}
} // namespace

void notePlaceholderDisk()
{
    gPlaceholder = findWorkspaceDisk();
    if (gPlaceholder.empty())
        return;
    // Kept open through the save: a restored VM asks it for the new size, drops its cache and
    // reads the superblock through it, without opening the device (or its sysfs files) afresh —
    // each first open costs a restored VM milliseconds of TCG translation.
    const std::string dev = "/dev/" + gPlaceholder;
    if (ensureDevNode(dev, "/sys/block/" + gPlaceholder + "/dev", S_IFBLK))
        gPlaceholderFd = open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    logLine("workspace placeholder " + gPlaceholder + " stays bound for the snapshot");
}

namespace {
// A restored VM: the placeholder's device now has the job's disk behind it. Waits for the size
// the host's resize announces, then drops the placeholder's cached blocks. False when the size
// did not change in time (the caller then re-binds the device instead).
long long placeholderSectors(const std::string &disk)
{
    uint64_t bytes = 0;
    if (gPlaceholderFd >= 0 && ioctl(gPlaceholderFd, BLKGETSIZE64, &bytes) == 0)
        return (long long)(bytes / 512);
    return sectorsOf(disk);
}

bool adoptPlaceholder(const std::string &disk)
{
    const int64_t deadline = nowMs() + kResizeWaitMs;
    while (placeholderSectors(disk) == kPlaceholderSectors) {
        if (nowMs() > deadline)
            return false;
        pumpPortForKill();
        if (gKillRequested)
            fatal("cancelled by the host before the script started (while waiting for the workspace disk)");
        sleepMs(1);
    }
    const std::string dev = "/dev/" + disk;
    int fd = gPlaceholderFd >= 0 ? gPlaceholderFd : open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (ioctl(fd, BLKFLSBUF, 0) < 0)
            warn("BLKFLSBUF " + dev + ": " + errStr(errno));
        if (fd != gPlaceholderFd)
            close(fd);
    }
    return true;
}
} // namespace

void unbindWorkspaceDisk()
{
    const std::string disk = findWorkspaceDisk();
    if (disk.empty())
        return;
    char target[512];
    const ssize_t n = readlink(("/sys/block/" + disk + "/device").c_str(), target, sizeof target - 1);
    if (n <= 0) {
        warn("cannot find the virtio device of " + disk + ": " + errStr(errno));
        return;
    }
    target[n] = 0;
    std::string virtioName = target;
    virtioName = virtioName.substr(virtioName.rfind('/') + 1); // e.g. virtio2
    int fd = open((std::string(kVirtioBlkDriver) + "/unbind").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || !writeFd(fd, virtioName.data(), virtioName.size()))
        warn("cannot unbind " + virtioName + " (" + disk + ") from virtio_blk: " + errStr(errno));
    if (fd >= 0)
        close(fd);
    logLine("workspace placeholder " + disk + " (" + virtioName + ") detached for the snapshot");
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
    bool triedBind = false;
    if (!gPlaceholder.empty()) {
        const std::string placeholder = gPlaceholder;
        gPlaceholder.clear();
        if (adoptPlaceholder(placeholder)) {
            disk = placeholder;
        } else {
            warn("the workspace disk " + placeholder + " kept the placeholder's size; probing it afresh");
            if (gPlaceholderFd >= 0) { // the device is about to be replaced
                close(gPlaceholderFd);
                gPlaceholderFd = -1;
            }
            unbindWorkspaceDisk();
        }
    }
    while (disk.empty()) {
        disk = findWorkspaceDisk();
        if (!disk.empty())
            break;
        if (!triedBind) {
            triedBind = true;
            if (int n = bindUnboundBlockDevices())
                logLine("bound " + std::to_string(n) + " detached block device(s) for the workspace");
            continue;
        }
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
    std::string dirty;
    const bool clean = superblockClean(dev, dirty, gPlaceholderFd);
    if (gPlaceholderFd >= 0) {
        close(gPlaceholderFd);
        gPlaceholderFd = -1;
    }
    int rc = clean ? 0 : runCapture({"/sbin/e2fsck", "-p", dev}, out);
    int fsck = rc;
    if (!clean)
        logLine("workspace needs a check (" + dirty + "): e2fsck -p exited " + std::to_string(rc));
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
    if (mount(dev.c_str(), kWorkspaceDir, "ext4", MS_NOATIME, "noinit_itable,no_prefetch_block_bitmaps,discard") < 0) {
        int e = errno;
        std::string k = lastKernelLines(disk, 3);
        fatal("cannot mount the workspace disk " + dev + " (ext4) at /workspace: " + errStr(e) +
              (k.empty() ? std::string() : " (kernel: " + k + ")"));
    }
    gWorkspaceMounted = true;
    int64_t end = nowMs();
    gPrep.diskAttach = waited;
    gPrep.fsck = mountStart - fsckStart;
    gPrep.mount = end - mountStart;
    logLine("workspace " + dev + " mounted (fsck " + (clean ? std::string("skipped: clean") : std::to_string(fsck)) + "; disk found after " +
            std::to_string(waited) + " ms, fsck " + std::to_string(mountStart - fsckStart) + " ms, mount " +
            std::to_string(end - mountStart) + " ms)");
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

} // namespace agent
