// stage1.cpp — the agent as the initramfs's /init: what a shell script with busybox did before
// (measured under TCG: its ten insmod forks, a copy of the agent into the root disk and the
// switch_root exec cost a cold boot ~150 ms). In order:
//   1. mounts proc, sysfs and devtmpfs, and takes /dev/console for its output;
//   2. loads the kernel modules listed in /lib/modules/load-order (dependency order, written by
//      packaging/guest/build-image.sh) with finit_module; the NIC's modules only when the VM
//      has a virtio NIC (a VM that boots for a job without network has none);
//   3. finds the root disk — the virtio block device whose serial is guest::kRootSerial — and
//      mounts it (ext4, rw, noatime, no background lazy init) at /newroot;
//   4. moves /dev, /proc and /sys into it, deletes the modules from the initramfs and makes
//      /newroot the root (MS_MOVE + chroot). The agent's own program stays where it is, in the
//      initramfs's memory, and goes on as the agent proper (agentMain) in the new root.
// Any failure prints "magpie-init: FATAL: …" on the console and powers the VM off: it never
// waits for input. "magpie.debug" on the kernel command line prints each step.
#include "agent.h"

#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/magic.h>

namespace agent {

namespace {

constexpr const char *kNewRoot = "/newroot";
constexpr const char *kModuleDir = "/lib/modules";
constexpr int kRootWaitMs = 5000;
bool gDebug = false;

void say(const std::string &line)
{
    const std::string l = "magpie-init: " + line + "\n";
    if (write(2, l.data(), l.size()) < 0) {
    }
}

void debug(const std::string &line)
{
    if (gDebug)
        say(uptimeStr() + line);
}

[[noreturn]] void fail(const std::string &why)
{
    say("FATAL: " + why);
    say("powering off");
    powerOff();
}

void mountOrFail(const char *source, const char *target, const char *type, unsigned long flags, const char *data)
{
    if (mkdir(target, 0755) < 0 && errno != EEXIST)
        fail(std::string("cannot create ") + target + ": " + errStr(errno));
    if (mount(source, target, type, flags, data) < 0 && errno != EBUSY)
        fail(std::string("cannot mount ") + type + " on " + target + ": " + errStr(errno));
}

// A virtio network device on the PCI bus (vendor 0x1af4; device 0x1000 legacy, 0x1041 modern).
bool haveVirtioNic()
{
    DIR *d = opendir("/sys/bus/pci/devices");
    if (!d)
        return true; // cannot tell: load everything
    bool found = false;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        const std::string dev = std::string("/sys/bus/pci/devices/") + e->d_name;
        std::string vendor, device;
        if (readFile(dev + "/vendor", vendor) && readFile(dev + "/device", device) && trim(vendor) == "0x1af4" &&
            (trim(device) == "0x1000" || trim(device) == "0x1041")) {
            found = true;
            break;
        }
    }
    closedir(d);
    return found;
}

bool isNetworkModule(const std::string &m)
{
    return m == "virtio_net" || m == "net_failover" || m == "failover";
}

void loadModules()
{
    std::string order;
    if (!readFile(std::string(kModuleDir) + "/load-order", order))
        return; // a kernel with the drivers built in
    const bool nic = haveVirtioNic();
    size_t pos = 0;
    while (pos < order.size()) {
        size_t end = order.find('\n', pos);
        if (end == std::string::npos)
            end = order.size();
        const std::string mod = trim(order.substr(pos, end - pos));
        pos = end + 1;
        if (mod.empty() || (!nic && isNetworkModule(mod)))
            continue;
        const std::string path = std::string(kModuleDir) + "/" + mod + ".ko";
        const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            say("warning: cannot open " + path + ": " + errStr(errno));
            continue;
        }
        const int64_t t0 = nowMs();
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
            say("warning: cannot load module " + mod + ": " + errStr(errno));
        close(fd);
        debug(mod + ": " + std::to_string(nowMs() - t0) + " ms");
    }
    debug(nic ? "modules loaded" : "modules loaded (no NIC: not its driver)");
}

// /dev/vdX of the virtio disk whose serial is `serial`, or "".
std::string findDiskBySerial(const char *serial)
{
    DIR *d = opendir("/sys/block");
    if (!d)
        return std::string();
    std::string found;
    while (dirent *e = readdir(d)) {
        if (std::strncmp(e->d_name, "vd", 2) != 0)
            continue;
        std::string s;
        if (readFile(std::string("/sys/block/") + e->d_name + "/serial", s) && trim(s) == serial) {
            found = e->d_name;
            break;
        }
    }
    closedir(d);
    if (found.empty())
        return found;
    const std::string dev = "/dev/" + found;
    if (!ensureDevNode(dev, "/sys/block/" + found + "/dev", S_IFBLK))
        return std::string();
    return dev;
}

// Deletes the initramfs's files that are no longer needed (switch_root would delete them all;
// the running program's pages stay until it exits, which PID 1 never does).
void dropModules()
{
    DIR *d = opendir(kModuleDir);
    if (!d)
        return;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] != '.')
            unlink((std::string(kModuleDir) + "/" + e->d_name).c_str());
    }
    closedir(d);
}

} // namespace

bool inInitramfs()
{
    struct statfs fs{};
    return getpid() == 1 && statfs("/", &fs) == 0 && (fs.f_type == RAMFS_MAGIC || fs.f_type == TMPFS_MAGIC) &&
           exists("/lib/modules") && exists(kNewRoot);
}

void switchToRootDisk()
{
    prctl(PR_SET_NAME, "magpie-agent"); // not "init" in ps and /proc/1/comm
    mountOrFail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    mountOrFail("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    mountOrFail("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    const int con = open("/dev/console", O_RDWR | O_NOCTTY);
    if (con >= 0) {
        for (int fd = 0; fd <= 2; ++fd)
            dup2(con, fd);
        if (con > 2)
            close(con);
    }
    std::string cmdline;
    readFile("/proc/cmdline", cmdline);
    cmdline = " " + trim(cmdline) + " ";
    gDebug = cmdline.find(" magpie.debug ") != std::string::npos || cmdline.find(" magpie.debug=1 ") != std::string::npos;
    debug("initramfs up");

    loadModules();

    std::string root;
    for (const int64_t deadline = nowMs() + kRootWaitMs; (root = findDiskBySerial(g::kRootSerial)).empty();) {
        if (nowMs() > deadline) {
            std::string disks;
            if (DIR *d = opendir("/sys/block")) {
                while (dirent *e = readdir(d))
                    if (e->d_name[0] != '.')
                        disks += std::string(disks.empty() ? "" : " ") + e->d_name;
                closedir(d);
            }
            fail(std::string("no virtio block device with serial '") + g::kRootSerial + "' after 5 s (block devices: " +
                 (disks.empty() ? "none" : disks) + ")");
        }
        sleepMs(1);
    }
    debug("root disk is " + root);
    // No ext4lazyinit thread in the background of every VM (and of every VM restored from a
    // snapshot): noinit_itable, the image's unused inode tables are not zeroed (the root's
    // copy-on-write layer is thrown away after the job anyway); no_prefetch_block_bitmaps, the
    // block bitmaps are read when an allocation needs them, not all at mount.
    if (mount(root.c_str(), kNewRoot, "ext4", MS_NOATIME, "noinit_itable,no_prefetch_block_bitmaps") < 0)
        fail("cannot mount " + root + " (ext4, rw) on " + kNewRoot + ": " + errStr(errno));

    for (const char *m : {"/dev", "/proc", "/sys"}) {
        const std::string target = std::string(kNewRoot) + m;
        mkdir(target.c_str(), 0755);
        if (mount(m, target.c_str(), nullptr, MS_MOVE, nullptr) < 0)
            fail(std::string("cannot move ") + m + " into the new root: " + errStr(errno));
    }
    dropModules();
    if (chdir(kNewRoot) < 0 || mount(".", "/", nullptr, MS_MOVE, nullptr) < 0 || chroot(".") < 0 || chdir("/") < 0)
        fail(std::string("cannot make ") + kNewRoot + " the root: " + errStr(errno));
    debug("running on the root disk");
}

} // namespace agent
