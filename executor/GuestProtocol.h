// GuestProtocol.h — the wire format between the host (executor/) and the guest agent
// (resources/guest/agent/). Plain C++17, no Qt, so that both sides include the same file.
//
// Transport: one virtio-serial port named kPortName. On the host it is a unix socket that
// QEMU connects to (the host listens); in the guest it is /dev/vportNpM, found by scanning
// /sys/class/virtio-ports/*/name for kPortName (there is no udev in the guest).
//
// Framing: every message is  [u8 type][u32 length, little endian][length bytes of payload].
// Records inside JOB and EXIT payloads use the same shape: [u8 key][u32 length LE][bytes].
//
// Sequence:
//   guest -> HELLO            agent is up and waits
//   host  -> PREPARE          (only when the host makes a snapshot of this VM) the agent warms its page
//                             cache and notes the placeholder workspace disk (it stays bound; a restored
//                             VM's host resizes it to the job's disk and the agent drops its cache), then
//   guest -> READY            and waits. The host stops and saves the VM; every VM restored from that
//                             state resumes here, connected to a new host socket, and gets a JOB.
//   host  -> JOB              script, env, whether a workspace disk is attached, network on/off, and the
//                             VM's identity: wall clock, a fresh RNG seed, hostname
//   guest -> ACCEPTED         the JOB arrived (a restored VM proves it is alive with this)
//   guest -> STARTED          workspace mounted, network configured, script started (host starts its
//                             timeout); payload: "identity=N disk_attach=N fsck=N mount=N network=N" (ms)
//   guest -> STDOUT / STDERR  raw bytes as the script produces them, each stream kept apart
//   host  -> KILL             (timeout or cancel) the agent kills the script's process group
//   guest -> EXIT             after the script ended, leftovers were killed, the workspace was synced and
//                             unmounted: exit code, signal, used/total workspace bytes. Then it powers off.
//   guest -> FAIL             instead of STARTED/EXIT when the agent cannot run the job (text: why)
//   guest -> LOG              a diagnostic line from the agent at any time (kept in the job's VM log)
//   host  -> STDIN            (when the JOB asked for it) bytes for the script's stdin, after STARTED;
//                             an empty STDIN frame closes it. The agent stops reading the port while
//                             it holds 4 MiB it could not write yet (the host then waits).
//   guest -> CHANGES          (when the JOB asked for it) before EXIT: what the script added, modified
//                             and deleted in /workspace (manifests of path, type, size, mtime, ctime and
//                             inode before and after), as ChangeKey records
#pragma once

#include <cstdint>
#include <string>

namespace magpie::guest {

inline constexpr const char *kPortName = "org.magpie.ctl";
inline constexpr const char *kProtocolVersion = "magpie-agent/2";
// The workspace disk is a virtio-blk device with this serial (/sys/block/vdX/serial).
inline constexpr const char *kWorkspaceSerial = "magpie-ws";
inline constexpr const char *kRootSerial = "magpie-root";

enum class Msg : uint8_t {
    // guest -> host
    Hello = 'H',   // payload: kProtocolVersion
    Started = 'S', // payload: empty
    Stdout = 'O',  // payload: raw bytes
    Stderr = 'E',  // payload: raw bytes
    Exit = 'X',    // payload: records (ExitKey)
    Fail = 'F',    // payload: UTF-8 sentence
    Log = 'L',     // payload: UTF-8 line
    Ready = 'R',   // payload: empty (PREPARE is done: save the VM now)
    Accepted = 'A', // payload: empty (the JOB arrived)
    Changes = 'C', // payload: records (ChangeKey)
    // host -> guest
    Job = 'J',     // payload: records (JobKey)
    Kill = 'K',    // payload: empty
    Prepare = 'P', // payload: empty
    Stdin = 'D',   // payload: raw bytes for the script's stdin; empty: end of input
};

enum class JobKey : uint8_t {
    Script = 'S',    // the script text (bash unless it starts with "#!")
    Env = 'E',       // one "NAME=VALUE" per record, repeated
    Workspace = 'W', // "1": wait for the disk with serial kWorkspaceSerial, e2fsck -p, mount at /workspace
                     // "0": an empty tmpfs at /workspace
    Network = 'N',   // "1": configure eth0 for QEMU user-mode NAT (10.0.2.15/24, gw 10.0.2.2, dns 10.0.2.3)
    Clock = 'C',     // the host's wall clock, "<seconds>.<nanoseconds>" since the epoch: set as CLOCK_REALTIME
    Seed = 'R',      // random bytes from the host: mixed into the kernel RNG, which is then reseeded
    Hostname = 'H',  // the VM's hostname (also written to /etc/hosts)
    Interpreter = 'I', // optional: an absolute path; the script runs as `<interpreter> <script file>`
                       // (e.g. /usr/bin/python3). An agent that predates it ignores it (bash).
    Stdin = 'D',     // "1": the script's stdin comes from the host in STDIN frames (else /dev/null)
    Changes = 'M',   // "1": report what the script changed in /workspace (CHANGES before EXIT)
};

// Records of a CHANGES payload. Added/Modified/Deleted: "<type> <size> <path>", type one of
// f (file), d (folder), l (symlink), o (other); the path is relative to /workspace and may hold
// any byte but NUL.
enum class ChangeKey : uint8_t {
    Added = 'A',
    Modified = 'M',
    Deleted = 'D',
    Truncated = 'T', // "1": a manifest stopped at kMaxManifestEntries
};
inline constexpr size_t kMaxManifestEntries = 100000;

enum class ExitKey : uint8_t {
    Code = 'C',       // decimal exit code; 128+N when killed by signal N
    Signal = 'G',     // decimal signal number, 0 when the script exited normally
    UsedBytes = 'U',  // decimal: statvfs of /workspace, (f_blocks - f_bfree) * f_frsize
    TotalBytes = 'T', // decimal: f_blocks * f_frsize
    Killed = 'K',     // "1" when the script was ended by a KILL from the host
};

inline constexpr uint32_t kMaxFrame = 64u * 1024u * 1024u; // anything larger is a protocol error

inline void appendU32(std::string &out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline uint32_t readU32(const char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    return v;
}

// One frame or one record: [u8 tag][u32 len][bytes].
inline std::string encode(uint8_t tag, const std::string &payload)
{
    std::string out;
    out.reserve(5 + payload.size());
    out.push_back(static_cast<char>(tag));
    appendU32(out, static_cast<uint32_t>(payload.size()));
    out += payload;
    return out;
}

// Parses one [tag][len][bytes] unit at the front of buf. Returns bytes consumed, 0 when more
// bytes are needed, or -1 when the length exceeds kMaxFrame.
inline long decode(const char *buf, size_t size, uint8_t &tag, std::string &payload)
{
    if (size < 5)
        return 0;
    const uint32_t len = readU32(buf + 1);
    if (len > kMaxFrame)
        return -1;
    if (size < 5 + static_cast<size_t>(len))
        return 0;
    tag = static_cast<uint8_t>(buf[0]);
    payload.assign(buf + 5, len);
    return 5 + static_cast<long>(len);
}

// Calls fn(tag, payload) for each [tag][len][bytes] record of `buf`, in order. False when a
// record is cut short or too long (the records before it were handed to fn).
template <typename Fn>
inline bool forEachRecord(const std::string &buf, Fn &&fn)
{
    size_t pos = 0;
    while (pos < buf.size()) {
        uint8_t tag = 0;
        std::string payload;
        const long used = decode(buf.data() + pos, buf.size() - pos, tag, payload);
        if (used <= 0)
            return false;
        pos += static_cast<size_t>(used);
        fn(tag, payload);
    }
    return true;
}

} // namespace magpie::guest
