// process.cpp — starting, reaping and killing processes (the agent is PID 1).
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
        "TERM=xterm-256color", // output is rendered as a terminal would (colours, \r); not a tty
        "PWD=/workspace",
    };
}

pid_t spawn(const Cmd &c)
{
    std::vector<char *> av, ev;
    for (const auto &a : c.argv)
        av.push_back(const_cast<char *>(a.c_str()));
    av.push_back(nullptr);
    for (const auto &e : c.env)
        ev.push_back(const_cast<char *>(e.c_str()));
    ev.push_back(nullptr);

    // vfork: the agent's page tables are not copied (a fork costs a restored VM ~8 ms under
    // TCG). The child shares the agent's memory until it execs, so it only makes system calls
    // on what was prepared here; the messages for a failure are built before.
    const std::string cwdMsg = "magpie-agent: cannot change to " + c.cwd + ": ";
    const std::string execMsg = "magpie-agent: cannot execute " + c.argv[0] + ": ";
    const char *volatile cwd = c.cwd.empty() ? nullptr : c.cwd.c_str();
    const int fds[3] = {c.in, c.out, c.err};
    const bool newSession = c.newSession;
    pid_t pid = vfork();
    if (pid != 0)
        return pid;

    // child: a clean signal state — SIGPIPE (the one signal the agent ignores) back to its
    // default, nothing blocked (handlers reset by themselves at exec)
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (newSession)
        setsid();
    for (int i = 0; i < 3; ++i) {
        // 0..2 are always open in the agent, so the fds given are all >= 3 and cannot clobber
        // each other.
        if (fds[i] >= 0) {
            dup2(fds[i], i);
        } else {
            const int n = open("/dev/null", O_RDWR);
            if (n >= 0 && n != i) {
                dup2(n, i);
                close(n);
            }
        }
    }
    umask(022);
    if (cwd && chdir(cwd) < 0) {
        const char *e = strerror(errno);
        writeFd(2, cwdMsg.data(), cwdMsg.size());
        writeFd(2, e, strlen(e));
        writeFd(2, "\n", 1);
        _exit(126);
    }
    execve(av[0], av.data(), ev.data());
    const int e = errno;
    const char *es = strerror(e);
    writeFd(2, execMsg.data(), execMsg.size());
    writeFd(2, es, strlen(es));
    writeFd(2, "\n", 1);
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

} // namespace agent
