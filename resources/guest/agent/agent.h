// agent.h — what the parts of the guest agent share: constants, the agent's global state and
// the functions each file provides. The agent is one static program (PID 1 in the job VM); its
// files are stage1 (the initramfs: modules, root disk), util (helpers), port (the control
// channel), process (spawn/reap/kill), system (boot set-up, per-job identity, network,
// power-off), workspace (/workspace) and magpie-agent (the job).
#pragma once

#include "../../../executor/GuestProtocol.h"

#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace agent {

namespace g = magpie::guest;

inline constexpr const char *kWorkspaceDir = "/workspace";
inline constexpr const char *kRunDir = "/run/magpie";
inline constexpr const char *kScriptPath = "/run/magpie/script";
inline constexpr int kPortWaitMs = 10000;       // the control port must show up within this
inline constexpr int kWorkspaceWaitMs = 30000;  // the workspace disk (at boot or bound after a restore)
inline constexpr int kDrainAfterExitMs = 300;   // pipes held open by background children
inline constexpr int kReapTimeoutMs = 3000;     // after kill(-1, SIGKILL)
inline constexpr int kFinalDrainMs = 2000;      // pipes after everything is dead
inline constexpr int kHostGoneMs = 10000;       // host side disconnected this long while writing: drop
inline constexpr size_t kChunk = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// state (defined in magpie-agent.cpp)

extern int gPort;          // the control port, O_RDWR | O_NONBLOCK
extern std::string gPortPath;   // /dev/vportNpM
extern int gConsole;       // /dev/console, only for problems (console output is slow under TCG)
extern int gSigFd;         // signalfd for SIGCHLD
extern bool gPortGone;     // the host went away for good: output is dropped
// Bytes written to the port in the current and the previous one-second window.
extern int64_t gWindowStart;
extern uint64_t gWindowBytes, gPrevWindowBytes;
extern std::string gIn;    // bytes read from the port and not decoded yet
extern bool gWorkspaceMounted;
extern bool gKillRequested; // a KILL frame arrived
extern std::vector<std::string> gPending; // LOG lines from before the port was open
extern pid_t gScriptPid;
extern bool gScriptExited;
extern int gScriptStatus;

enum class ReadResult { Data, Nothing, Hup };

struct Cmd {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    int in = -1;  // -1: /dev/null
    int out = -1; // -1: /dev/null
    int err = -1; // -1: /dev/null
    std::string cwd;
    bool newSession = false;
};

struct Job {
    std::string script;
    std::vector<std::string> env;
    bool workspace = false;
    bool network = false;
    std::string clock;     // host wall clock "<seconds>.<nanoseconds>" (empty: keep the guest's)
    std::string seed;      // random bytes from the host for the kernel RNG
    std::string hostname;  // empty: "magpie"
    std::string interpreter; // empty: bash, or the script's own "#!" line
    bool stdinFromHost = false; // STDIN frames feed the script's stdin
    bool recordChanges = false; // CHANGES before EXIT
};

struct ManifestEntry {
    char type = 'o';      // f, d, l, o
    int64_t size = 0;
    int64_t mtimeNs = 0, ctimeNs = 0;
    uint64_t inode = 0;
};
struct Manifest {
    std::map<std::string, ManifestEntry> entries; // path relative to /workspace
    bool truncated = false;
};

// How long the steps before the script took (reported in STARTED).
struct PrepTimes {
    int64_t identity = 0, diskAttach = 0, fsck = 0, mount = 0, network = 0;
};
extern PrepTimes gPrep;

struct Stream {
    int fd = -1;
    g::Msg type;
};

// ---------------------------------------------------------------------------------------------
// util.cpp

int64_t nowMs();
std::string uptimeStr();
std::string errStr(int e);
void sleepMs(int ms);
std::string trim(std::string s);
// Collapses command output into one line for a FAIL sentence, keeping its end.
std::string oneLine(const std::string &text, size_t max = 600);
bool readFile(const std::string &path, std::string &out);
bool writeFd(int fd, const char *data, size_t size);
bool writeFile(const std::string &path, const std::string &data, mode_t mode);
bool exists(const char *path);
void console(const std::string &line);

// ---------------------------------------------------------------------------------------------
// port.cpp

// Writes every byte of data to the port, waiting out EAGAIN (the virtqueue is full or the
// driver takes at most 32 KiB per write). Gives up only when the host side stays disconnected.
bool portWrite(const std::string &data);
bool send(g::Msg type, const std::string &payload = std::string());
void logLine(const std::string &line);
// A problem: to the host log and to the console.
void warn(const std::string &line);
ReadResult portRead();
// Takes one complete frame off the input buffer.
bool nextFrame(uint8_t &tag, std::string &payload);
// Reads what the port has right now and notes a KILL (used while a job is being prepared).
void pumpPortForKill();
// Finds /dev/<vportNpM> for the port named kPortName.
std::string findPort();
// Creates /dev/<name> from /sys/.../dev when devtmpfs has not (yet).
bool ensureDevNode(const std::string &devPath, const std::string &sysDevFile, mode_t type);
void openPort();
// True when the host has sent something that is not read yet.
bool portHasInput(int timeoutMs);
// Waits for the next JOB or PREPARE frame; blocks as long as it takes (the VM may be a saved
// snapshot that is restored much later). Returns the frame's type and payload.
uint8_t waitForHost(std::string &payload);
// Called after the last frame (EXIT or FAIL), before the power-off: waits until the host has
// read everything (it hangs up), at most about a second.
void letHostCatchUp();

// ---------------------------------------------------------------------------------------------
// process.cpp

std::vector<std::string> baseEnv();
pid_t spawn(const Cmd &c);
int statusToCode(int st);
// Runs a helper command to completion; output gets stdout and stderr together.
// Returns the exit code (128+N for signal N), or -1 when it could not be started.
int runCapture(const std::vector<std::string> &argv, std::string &output);
// Reaps every zombie; remembers the script's status when it is among them.
void reapAll();
void drainSignalFd();
// Kills everything but PID 1 and waits (bounded) until all of it is reaped.
void killEverything();

// ---------------------------------------------------------------------------------------------
// system.cpp

bool isMountpoint(const std::string &path);
void ensureMount(const char *source, const char *target, const char *type, unsigned long flags,
                 const char *data, mode_t mode);
void ensureStdFds();
void setInterfaceUp(int sock, const char *name);
void bootSetup();
// What must differ between VMs restored from one snapshot: the wall clock, the kernel RNG
// (the host's seed is mixed in and the CRNG reseeded), the hostname and the machine id.
void applyIdentity(const Job &job);
void setupNetwork(const Job &job);
[[noreturn]] void powerOff();

// ---------------------------------------------------------------------------------------------
// workspace.cpp

std::string lastKernelLines(const std::string &needle, size_t count);
std::string findWorkspaceDisk();
// Detaches the workspace disk from its driver (so that it is probed afresh when bound again).
void unbindWorkspaceDisk();
// Snapshot preparation: notes the placeholder workspace disk, which stays bound. In a restored
// VM it is backed by the job's real disk: the host resizes it over QMP (a config interrupt: the
// guest reads the real size), and the agent drops what it cached of the placeholder.
void notePlaceholderDisk();
void mountWorkspace(const Job &job);
void unmountWorkspace();

// ---------------------------------------------------------------------------------------------
// stage1.cpp

// True when the agent runs as the initramfs's /init (PID 1 on the kernel's rootfs).
bool inInitramfs();
// Loads the modules, mounts the root disk and makes it the root (powers off on failure).
void switchToRootDisk();

// ---------------------------------------------------------------------------------------------
// changes.cpp

Manifest takeManifest();
// The CHANGES payload (ChangeKey records).
std::string compareManifests(const Manifest &before, const Manifest &after);

// ---------------------------------------------------------------------------------------------
// magpie-agent.cpp

// Reads bash and its libraries into the page cache (at once, or from a child process).
void prefetchJobEssentials();
void prefetchJobEssentialsInBackground();
// Reads the other programs jobs often need into the page cache (interruptible by the host).
void warmPageCache(bool interruptible);
Job parseJob(const std::string &payload);
std::vector<std::string> jobEnv(const Job &job);
[[noreturn]] void fatal(const std::string &why);
// One read of up to 64 KiB, forwarded at once. Returns false at EOF (the fd is then closed).
bool forward(Stream &s);

} // namespace agent
