// magpie-agent — the guest agent of Magpie Desktop. It runs as PID 1 inside the job VM: the
// kernel starts it as the initramfs's /init, and it makes the Debian root disk its root itself
// (stage1.cpp) before it goes on here.
//
// What it does, in order:
//   1. mounts the pseudo file systems that are not mounted yet, sets the hostname, brings lo up,
//      and reaps every zombie (SIGCHLD through a signalfd) as PID 1 must;
//   2. finds the virtio-serial control port (guest::kPortName), sends HELLO and waits;
//   3. PREPARE (the host is about to save this VM as a snapshot): warms the page cache, notes the
//      placeholder workspace disk (it stays bound), answers READY and waits again — the host saves the VM here,
//      and every VM restored from the snapshot resumes at this point, reconnected to a new host;
//   4. JOB: answers ACCEPTED, takes the VM's identity from the job (wall clock, RNG seed,
//      hostname, machine id), mounts the workspace (the virtio-blk disk with serial
//      guest::kWorkspaceSerial; in a restored VM the placeholder's device, once the host resized it to
//      the job's disk, or re-probed if that did not happen; checked with
//      e2fsck -p unless its superblock says clean) or an empty tmpfs at /workspace, configures
//      eth0 for QEMU user-mode NAT when asked, writes the script to /run/magpie/script and starts
//      it in its own session, then STARTED (with how long each step took);
//   5. forwards stdout and stderr as STDOUT / STDERR frames as they come, and handles KILL;
//   6. after the script's main process exits: drains the pipes (300 ms at most while background
//      children hold them), kills every remaining process, measures and unmounts (which writes
//      everything back) /workspace, and sends EXIT;
//   7. powers the VM off (or the host ends it first). It never returns from main: PID 1 exiting
//      panics the kernel.
//
// Static C++17, libc and libstdc++ only. The wire format is executor/GuestProtocol.h.

#include "agent.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace agent {

// ---------------------------------------------------------------------------------------------
// state (declared in agent.h)

int gPort = -1;
std::string gPortPath;
int gConsole = -1;
int gSigFd = -1;
bool gPortGone = false;
int64_t gWindowStart = 0;
uint64_t gWindowBytes = 0, gPrevWindowBytes = 0;
std::string gIn;
bool gWorkspaceMounted = false;
bool gKillRequested = false;
std::vector<std::string> gPending;
pid_t gScriptPid = -1;
bool gScriptExited = false;
int gScriptStatus = 0;
PrepTimes gPrep;

namespace {
// What every job runs first: bash and the libraries it loads.
const char *const kJobEssentials[] = {
    "/etc/ld.so.cache",
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/bin/bash",
    "/lib/x86_64-linux-gnu/libtinfo.so.6",
};

// readahead() of each file, in 256 KiB steps; with `interruptible` it stops as soon as the host
// sends something. Returns the bytes asked for, or -1 when it was interrupted.
template <size_t N>
off_t readAhead(const char *const (&files)[N], bool interruptible)
{
    constexpr off_t kStep = 256 * 1024;
    off_t total = 0;
    for (const char *f : files) {
        int fd = open(f, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st{};
        if (fstat(fd, &st) == 0) {
            for (off_t off = 0; off < st.st_size; off += kStep) {
                if (interruptible && portHasInput(0)) {
                    close(fd);
                    logLine("page cache warm-up interrupted by the host after " + std::to_string(total / 1024) + " KiB");
                    return -1;
                }
                readahead(fd, off, size_t(kStep));
                total += std::min<off_t>(kStep, st.st_size - off);
            }
        }
        close(fd);
    }
    return total;
}
} // namespace

// A booting VM's job comes right after HELLO: the reads of what it runs first start before it,
// at the agent's start, in a child process (readahead() waits for much of its I/O), so that the
// agent says HELLO and sets the job up meanwhile (measured: a cold job 2.26 -> 2.0 s, its
// script phase ~290 -> ~110 ms). Reaped like any orphan.
void prefetchJobEssentialsInBackground()
{
    const pid_t pid = fork();
    if (pid == 0) {
        prefetchJobEssentials();
        _exit(0);
    }
    if (pid < 0)
        prefetchJobEssentials();
}

void prefetchJobEssentials()
{
    const int64_t start = nowMs();
    const off_t total = readAhead(kJobEssentials, false);
    if (getpid() == 1) // the child's log would go nowhere
        logLine("prefetch of " + std::to_string(total / 1024) + " KiB done in " + std::to_string(nowMs() - start) + " ms");
}

// Reads the other programs jobs often need into the page cache: the first exec of a dynamic
// binary from the cold root disk costs ~250 ms under TCG. In a VM that boots for one job it stops
// as soon as the host sends something (the job comes first); when a snapshot is being prepared
// it runs to the end, and the saved state carries the warm cache into every VM restored from it.
void warmPageCache(bool interruptible)
{
    static const char *const files[] = {
        "/sbin/e2fsck",
        "/lib/x86_64-linux-gnu/libext2fs.so.2",
        "/lib/x86_64-linux-gnu/libcom_err.so.2",
        "/lib/x86_64-linux-gnu/libblkid.so.1",
        "/lib/x86_64-linux-gnu/libuuid.so.1",
        "/lib/x86_64-linux-gnu/libe2p.so.2",
        "/usr/bin/cat",
        "/usr/bin/python3",
    };
    if (interruptible && portHasInput(20))
        return;
    const int64_t start = nowMs();
    const off_t total = readAhead(files, interruptible);
    if (total >= 0)
        logLine("page cache warmed: " + std::to_string(total / 1024) + " KiB in " + std::to_string(nowMs() - start) + " ms");
}

// Snapshot preparation: what a restored VM should find ready. Runs bash and python once (their
// libraries and modules then sit in the page cache of every restored copy), notes the
// placeholder workspace disk (see notePlaceholderDisk) and tells the host to save the VM.
void prepareSnapshot()
{
    const int64_t start = nowMs();
    prefetchJobEssentials(); // done by the boot's child already, unless it has not finished
    warmPageCache(false);
    std::string out;
    runCapture({"/bin/bash", "-c", "true"}, out);
    runCapture({"/usr/bin/python3", "-c", "import json, os, stat, sys, datetime, heapq"}, out);
    notePlaceholderDisk();
    sync();
    logLine("snapshot prepared in " + std::to_string(nowMs() - start) + " ms");
    send(g::Msg::Ready);
}

// ---------------------------------------------------------------------------------------------
// the job


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
        case g::JobKey::Clock:
            job.clock = value;
            break;
        case g::JobKey::Seed:
            job.seed = value;
            break;
        case g::JobKey::Hostname:
            job.hostname = value;
            break;
        case g::JobKey::Interpreter:
            if (value.empty() || value.front() != '/')
                logLine("ignoring an interpreter that is not an absolute path");
            else
                job.interpreter = value;
            break;
        case g::JobKey::Stdin:
            job.stdinFromHost = value == "1";
            break;
        case g::JobKey::Changes:
            job.recordChanges = value == "1";
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
    int64_t t = nowMs();
    applyIdentity(job);
    gPrep.identity = nowMs() - t;
    mountWorkspace(job);
    t = nowMs();
    setupNetwork(job);
    gPrep.network = nowMs() - t;

    if (mkdir(kRunDir, 0700) < 0 && errno != EEXIST)
        fatal(std::string("cannot create ") + kRunDir + ": " + errStr(errno));
    if (!writeFile(kScriptPath, job.script, 0700))
        fatal(std::string("cannot write the script to ") + kScriptPath + ": " + errStr(errno));

    Manifest before;
    if (job.recordChanges && job.workspace)
        before = takeManifest();

    pumpPortForKill();
    if (gKillRequested)
        fatal("cancelled by the host before the script started");

    // stdin from the host: the agent writes what STDIN frames bring into a pipe, never blocking.
    int inp[2] = {-1, -1};
    std::string stdinBuf;
    bool stdinEof = false;
    if (job.stdinFromHost) {
        if (pipe2(inp, O_CLOEXEC) < 0)
            fatal("cannot create the stdin pipe for the script: " + errStr(errno));
        fcntl(inp[1], F_SETFL, O_NONBLOCK);
    }
    constexpr size_t kStdinHold = 4u << 20;

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
    c.in = inp[0];
    c.cwd = kWorkspaceDir;
    c.newSession = true;
    gScriptPid = spawn(c);
    close(outp[1]);
    close(errp[1]);
    if (inp[0] >= 0)
        close(inp[0]);
    int stdinFd = inp[1];
    if (gScriptPid < 0)
        fatal("cannot start the script: fork: " + errStr(errno));

    send(g::Msg::Started, "identity=" + std::to_string(gPrep.identity) + " disk_attach=" + std::to_string(gPrep.diskAttach) +
                              " fsck=" + std::to_string(gPrep.fsck) + " mount=" + std::to_string(gPrep.mount) +
                              " network=" + std::to_string(gPrep.network));
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
        pollfd pf[5];
        int n = 0;
        int iSig = -1, iPort = -1, iOut = -1, iErr = -1, iIn = -1;
        pf[n] = {gSigFd, POLLIN, 0};
        iSig = n++;
        if (stdinFd >= 0 && stdinEof && stdinBuf.empty()) {
            close(stdinFd);
            stdinFd = -1;
        }
        if (stdinFd >= 0 && !stdinBuf.empty()) {
            pf[n] = {stdinFd, POLLOUT, 0};
            iIn = n++;
        }
        bool portPolled = gPort >= 0 && nowMs() >= portQuietUntil && stdinBuf.size() < kStdinHold;
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
        if (iIn >= 0 && pf[iIn].revents) {
            ssize_t w = write(stdinFd, stdinBuf.data(), stdinBuf.size());
            if (w > 0) {
                stdinBuf.erase(0, size_t(w));
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                // The script closed its stdin (EPIPE): the rest is dropped.
                stdinBuf.clear();
                stdinBuf.shrink_to_fit();
                close(stdinFd);
                stdinFd = -1;
            }
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
                if (tag == uint8_t(g::Msg::Stdin)) {
                    if (payload.empty())
                        stdinEof = true;
                    else if (stdinFd >= 0)
                        stdinBuf += payload;
                } else if (tag == uint8_t(g::Msg::Kill)) {
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
    if (stdinFd >= 0)
        close(stdinFd);
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

    if (job.recordChanges && job.workspace)
        send(g::Msg::Changes, compareManifests(before, takeManifest()));

    // No sync() first: the unmount below writes back and commits the journal itself (a separate
    // sync cost one more flush of the workspace disk, i.e. one more fdatasync on the host). The
    // counts statvfs gives include blocks not yet allocated on disk (delayed allocation).
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
    prefetchJobEssentialsInBackground();
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
    warmPageCache(true);
    logLine("agent ready, waiting for a job");

    for (;;) {
        std::string payload;
        const uint8_t tag = waitForHost(payload);
        if (tag == uint8_t(g::Msg::Prepare)) {
            prepareSnapshot();
            continue; // the host saves the VM now; a restored copy continues here with its JOB
        }
        send(g::Msg::Accepted);
        Job job = parseJob(payload);
        logLine("job received");
        runJob(job);
        break;
    }
    letHostCatchUp();
    powerOff();
}

} // namespace agent

int main()
{
    if (getpid() != 1) {
        // Everything it does (kill(-1, SIGKILL), mounts, power-off) is only sane as the VM's init.
        std::fprintf(stderr, "magpie-agent: must run as PID 1 inside the Magpie guest VM; refusing to start\n");
        return 2;
    }
    std::set_terminate([] {
        agent::console("terminate called; powering off");
        agent::powerOff();
    });
    if (agent::inInitramfs())
        agent::switchToRootDisk();
    try {
        agent::agentMain();
    } catch (const std::exception &e) {
        agent::fatal(std::string("internal error in the agent: ") + e.what());
    } catch (...) {
        agent::fatal("internal error in the agent");
    }
    agent::powerOff();
}
