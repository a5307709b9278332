#!/usr/bin/env python3
"""Host-side test harness for the Magpie guest agent (resources/guest/agent/magpie-agent.cpp).

Boots real QEMU VMs (TCG) from an image made by packaging/guest/build-image.sh, plays the host
side of executor/GuestProtocol.h over the virtio-serial unix socket, and checks what comes back.
Python 3 standard library only.

    test_agent.py [--img DIR] [--work DIR] [-k SUBSTRING] [--slow] [-v]

--img   folder with vmlinuz, initrd.img, rootfs.qcow2 (default /tmp/agent/img)
--work  scratch folder for overlays, sockets, disks and console logs (default /tmp/agent/run)
-k      run only tests whose name contains SUBSTRING (repeatable)
--slow  also run slow tests (the 30 s wait for a workspace disk that never comes)
-v      print every frame as it arrives

Exit status 0 when every selected test passed. The last line reads "N passed, N failed".
"""

import argparse
import http.server
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

# ------------------------------------------------------------------------------ protocol
# Mirrors executor/GuestProtocol.h.
PORT_NAME = "org.magpie.ctl"
PROTOCOL_VERSION = b"magpie-agent/2"
WORKSPACE_SERIAL = "magpie-ws"
ROOT_SERIAL = "magpie-root"
MAX_FRAME = 64 * 1024 * 1024

HELLO, STARTED, STDOUT, STDERR, EXIT, FAIL, LOG, ACCEPTED = b"H", b"S", b"O", b"E", b"X", b"F", b"L", b"A"
JOB, KILL = b"J", b"K"
JOB_SCRIPT, JOB_ENV, JOB_WORKSPACE, JOB_NETWORK = b"S", b"E", b"W", b"N"
EXIT_CODE, EXIT_SIGNAL, EXIT_USED, EXIT_TOTAL, EXIT_KILLED = b"C", b"G", b"U", b"T", b"K"

NAMES = {HELLO: "HELLO", STARTED: "STARTED", STDOUT: "STDOUT", STDERR: "STDERR", EXIT: "EXIT",
         FAIL: "FAIL", LOG: "LOG", JOB: "JOB", KILL: "KILL", ACCEPTED: "ACCEPTED"}


def encode(tag: bytes, payload: bytes = b"") -> bytes:
    return tag + struct.pack("<I", len(payload)) + payload


def decode(buf: bytes):
    """Returns (tag, payload, consumed) or None when more bytes are needed."""
    if len(buf) < 5:
        return None
    (length,) = struct.unpack_from("<I", buf, 1)
    if length > MAX_FRAME:
        raise ValueError("frame too large: %d" % length)
    if len(buf) < 5 + length:
        return None
    return buf[0:1], buf[5:5 + length], 5 + length


def records(payload: bytes):
    out = []
    while payload:
        r = decode(payload)
        if r is None:
            raise ValueError("truncated record")
        tag, value, used = r
        out.append((tag, value))
        payload = payload[used:]
    return out


def job_frame(script, env=(), workspace=False, network=False) -> bytes:
    if isinstance(script, str):
        script = script.encode()
    p = encode(JOB_SCRIPT, script)
    for e in env:
        p += encode(JOB_ENV, e.encode() if isinstance(e, str) else e)
    p += encode(JOB_WORKSPACE, b"1" if workspace else b"0")
    p += encode(JOB_NETWORK, b"1" if network else b"0")
    return encode(JOB, p)


# ------------------------------------------------------------------------------ VM runner
class Result:
    def __init__(self):
        self.frames = []          # (time since qemu start, tag, payload)
        self.stdout = b""
        self.stderr = b""
        self.logs = []
        self.exit = None          # dict of ExitKey -> str
        self.fail = None          # FAIL text
        self.hello = None
        self.t_hello = self.t_started = self.t_end = self.t_qemu_exit = None
        self.console = ""
        self.qemu_rc = None

    @property
    def code(self):
        return int(self.exit["C"])

    def summary(self):
        def f(t):
            return "-" if t is None else "%.2fs" % t
        return "hello %s, started %s, exit %s, qemu exit %s" % (
            f(self.t_hello), f(self.t_started), f(self.t_end), f(self.t_qemu_exit))


class Harness:
    def __init__(self, img, work, verbose=False):
        self.img = os.path.abspath(img)
        self.work = os.path.abspath(work)
        self.verbose = verbose
        self.counter = 0
        os.makedirs(self.work, exist_ok=True)
        for f in ("vmlinuz", "initrd.img", "rootfs.qcow2"):
            if not os.path.exists(os.path.join(self.img, f)):
                raise SystemExit("missing %s in %s (build it with packaging/guest/build-image.sh)" % (f, self.img))

    def make_workspace(self, name, size="1G", fs=True):
        raw = os.path.join(self.work, name + ".raw")
        qcow = os.path.join(self.work, name + ".qcow2")
        for p in (raw, qcow):
            if os.path.exists(p):
                os.unlink(p)
        subprocess.run(["truncate", "-s", size, raw], check=True)
        if fs:
            subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1", raw],
                           check=True)
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", raw, qcow], check=True)
        os.unlink(raw)
        return qcow

    def run(self, job, ws=None, kill_after=None, job_delay=0.0, timeout=120, hotplug_ws=None,
            hotplug_after=None, kill_before_started_after=None, read_pause=None,
            close_after_exit=False, job_pieces=1, nic=True):
        """Boots one VM and plays the host side. Returns a Result.

        nic: give the VM a virtio NIC (a job VM without network has none).
        ws: qcow2 path attached at boot as the workspace disk.
        kill_after: seconds after STARTED to send KILL.
        job_delay: seconds to wait after HELLO before sending JOB (VM booted ahead of time).
        hotplug_ws/hotplug_after: attach this qcow2 via QMP that many seconds after JOB is sent.
        kill_before_started_after: send KILL that many seconds after JOB (no STARTED needed).
        read_pause: stop reading the socket for that many seconds right after STARTED (a slow host).
        close_after_exit: close the control socket as soon as EXIT/FAIL is read (the agent then
            powers off at once instead of waiting for QEMU to pass on the last bytes).
        job_pieces: send the JOB frame in that many pieces, 50 ms apart (the agent must reassemble).
        """
        self.counter += 1
        n = self.counter
        d = os.path.join(self.work, "vm%d" % n)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        overlay = os.path.join(d, "ov.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", os.path.join(self.img, "rootfs.qcow2"),
                        "-F", "qcow2", overlay], check=True)
        sock_path = os.path.join(d, "ctl.sock")
        qmp_path = os.path.join(d, "qmp.sock")
        console = os.path.join(d, "console.log")
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(sock_path)
        lsock.listen(1)

        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-M", "pc", "-cpu", "max", "-m", "512", "-smp", "1",
               "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-serial", "file:" + console,
               "-kernel", os.path.join(self.img, "vmlinuz"), "-initrd", os.path.join(self.img, "initrd.img"),
               "-append", # The app's kernel arguments (executor/QemuCommand.cpp): no_timer_check avoids
               # "IO-APIC + timer doesn't work" panics when a loaded host delays TCG's timer.
               "console=ttyS0 quiet panic=-1 mitigations=off tsc=reliable no_timer_check "
               "i8042.noaux i8042.nomux i8042.nopnp i8042.nokbd cryptomgr.notests random.trust_cpu=on "
               + os.environ.get("MAGPIE_TEST_APPEND", ""),
               "-drive", "if=none,id=root,file=%s,format=qcow2,cache=unsafe" % overlay,
               "-device", "virtio-blk-pci,drive=root,serial=" + ROOT_SERIAL]
        if ws:
            cmd += ["-drive", "if=none,id=ws,file=%s,format=qcow2,discard=unmap" % ws,
                    "-device", "virtio-blk-pci,drive=ws,serial=" + WORKSPACE_SERIAL]
        cmd += ["-device", "virtio-serial-pci",
                "-chardev", "socket,id=ctl,path=" + sock_path,
                "-device", "virtserialport,chardev=ctl,name=" + PORT_NAME]
        if nic:
            cmd += ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
        if hotplug_ws:
            cmd += ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]

        res = Result()
        self.last = res
        t0 = time.monotonic()
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            lsock.settimeout(30)
            conn, _ = lsock.accept()
            lsock.close()
            conn.setblocking(False)

            def send(data):
                conn.setblocking(True)
                try:
                    conn.sendall(data)
                finally:
                    conn.setblocking(False)

            buf = b""
            job_sent_at = None
            killed_sent = False
            hotplugged = False
            deadline = t0 + timeout
            pending_job_at = None
            while True:
                now = time.monotonic()
                if now > deadline:
                    raise AssertionError("timeout after %ds waiting for EXIT/FAIL" % timeout)
                if pending_job_at is not None and now >= pending_job_at:
                    cuts = [0, 1, 3] + [len(job) * i // job_pieces for i in range(1, job_pieces)] if job_pieces > 1 else []
                    cuts = sorted(set(c for c in cuts if 0 < c < len(job)))
                    prev = 0
                    for c in cuts:
                        send(job[prev:c])
                        prev = c
                        time.sleep(0.05)
                    send(job[prev:])
                    job_sent_at = now
                    pending_job_at = None
                if (kill_after is not None and res.t_started is not None and not killed_sent
                        and now - t0 >= res.t_started + kill_after):
                    send(encode(KILL))
                    killed_sent = True
                    res.t_kill = now - t0
                if (kill_before_started_after is not None and job_sent_at is not None and not killed_sent
                        and now - job_sent_at >= kill_before_started_after):
                    send(encode(KILL))
                    killed_sent = True
                    res.t_kill = now - t0
                if (hotplug_ws and not hotplugged and job_sent_at is not None
                        and now - job_sent_at >= hotplug_after):
                    qmp_hotplug(qmp_path, hotplug_ws)
                    hotplugged = True
                    res.t_hotplug = time.monotonic() - t0
                r, _, _ = select.select([conn], [], [], 0.02)
                if not r:
                    if qemu.poll() is not None:
                        raise AssertionError("qemu exited (rc %s) before EXIT/FAIL" % qemu.returncode)
                    continue
                data = conn.recv(1 << 20)
                if not data:
                    raise AssertionError("control socket closed before EXIT/FAIL")
                buf += data
                done = False
                while True:
                    fr = decode(buf)
                    if fr is None:
                        break
                    tag, payload, used = fr
                    buf = buf[used:]
                    t = time.monotonic() - t0
                    res.frames.append((t, tag, payload))
                    if self.verbose:
                        shown = payload if len(payload) < 200 else payload[:200] + b"..."
                        print("    %7.3f %-7s %r" % (t, NAMES.get(tag, tag), shown))
                    if tag == HELLO:
                        res.hello = payload
                        res.t_hello = t
                        pending_job_at = time.monotonic() + job_delay
                    elif tag == STARTED:
                        res.t_started = t
                        if read_pause:
                            time.sleep(read_pause)
                    elif tag == STDOUT:
                        res.stdout += payload
                    elif tag == STDERR:
                        res.stderr += payload
                    elif tag == LOG:
                        res.logs.append(payload.decode(errors="replace"))
                    elif tag == EXIT:
                        res.exit = {k.decode(): v.decode() for k, v in records(payload)}
                        res.t_end = t
                        done = True
                    elif tag == FAIL:
                        res.fail = payload.decode(errors="replace")
                        res.t_end = t
                        done = True
                if done:
                    break
            if close_after_exit:
                conn.close()
            # The guest powers off by itself.
            try:
                qemu.wait(timeout=30)
            except subprocess.TimeoutExpired:
                raise AssertionError("qemu did not exit within 30 s after EXIT/FAIL")
            res.t_qemu_exit = time.monotonic() - t0
            # Anything after EXIT/FAIL?
            if not close_after_exit:
                try:
                    extra = conn.recv(1 << 20)
                    if extra:
                        raise AssertionError("bytes after EXIT/FAIL: %r" % extra[:200])
                except BlockingIOError:
                    pass
                conn.close()
        finally:
            if qemu.poll() is None:
                qemu.kill()
                qemu.wait()
            res.qemu_rc = qemu.returncode
            try:
                res.qemu_out = qemu.stdout.read().decode(errors="replace")
            except Exception:
                res.qemu_out = ""
            try:
                with open(console, errors="replace") as f:
                    res.console = f.read()
            except OSError:
                pass
            lsock.close()
        return res


def qmp_hotplug(path, qcow):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rwb")

    def cmd(obj):
        f.write(json.dumps(obj).encode() + b"\n")
        f.flush()
        while True:
            line = json.loads(f.readline())
            if "return" in line or "error" in line:
                if "error" in line:
                    raise AssertionError("QMP error: %r" % line)
                return line

    json.loads(f.readline())  # greeting
    cmd({"execute": "qmp_capabilities"})
    cmd({"execute": "blockdev-add", "arguments": {
        "node-name": "wsnode", "driver": "qcow2", "discard": "unmap",
        "file": {"driver": "file", "filename": qcow}}})
    cmd({"execute": "device_add", "arguments": {
        "driver": "virtio-blk-pci", "drive": "wsnode", "serial": WORKSPACE_SERIAL, "id": "wsdev"}})
    s.close()


# ------------------------------------------------------------------------------ tests
TESTS = []


def test(slow=False):
    def deco(fn):
        TESTS.append((fn.__name__, fn, slow))
        return fn
    return deco


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


def check_exit(res, code, signal=0, killed=0):
    if res.exit is None:
        raise AssertionError("no EXIT (FAIL: %r)" % res.fail)
    eq(res.exit.get("C"), str(code), "exit code")
    eq(res.exit.get("G"), str(signal), "signal")
    eq(res.exit.get("K"), str(killed), "killed")
    for k in ("U", "T"):
        if k not in res.exit or not res.exit[k].isdigit():
            raise AssertionError("EXIT record %s missing or not decimal: %r" % (k, res.exit))


def check_sequence(res):
    tags = [t for _, t, _ in res.frames if t != LOG]
    eq(tags[0], HELLO, "first frame")
    eq(res.hello, PROTOCOL_VERSION, "HELLO payload")
    if len(tags) > 1:
        eq(tags[1], ACCEPTED, "the agent accepts the JOB first")
    if res.exit is not None:
        if STARTED not in tags:
            raise AssertionError("EXIT without STARTED")
        eq(tags[-1], EXIT, "last frame")
        si = tags.index(STARTED)
        for t in tags[si + 1:-1]:
            if t not in (STDOUT, STDERR):
                raise AssertionError("unexpected frame %r between STARTED and EXIT" % t)


@test()
def basic_streams_and_code(h):
    r = h.run(job_frame("echo out; echo err >&2; exit 3"))
    check_sequence(r)
    check_exit(r, 3)
    eq(r.stdout, b"out\n", "stdout")
    eq(r.stderr, b"err\n", "stderr")
    return r


@test()
def workspace_counter_persists(h):
    ws = h.make_workspace("counter")
    script = ("n=$(cat /workspace/counter 2>/dev/null || echo 0); n=$((n+1)); echo $n > /workspace/counter; "
              "echo $n; findmnt -no FSTYPE,OPTIONS /workspace >&2")
    r1 = h.run(job_frame(script, workspace=True), ws=ws)
    check_sequence(r1)
    check_exit(r1, 0)
    eq(r1.stdout, b"1\n", "first run")
    r2 = h.run(job_frame(script, workspace=True), ws=ws)
    check_exit(r2, 0)
    eq(r2.stdout, b"2\n", "second run")
    opts = r2.stderr.decode()
    for want in ("ext4", "noatime", "discard"):
        if want not in opts:
            raise AssertionError("mount options lack %s: %r" % (want, opts))
    total = int(r2.exit["T"])
    used = int(r2.exit["U"])
    if not (900e6 < total < 1.1e9 and 0 < used < total):
        raise AssertionError("implausible used/total: %d / %d" % (used, total))
    if not any("mounted (fsck skipped: clean" in l for l in r2.logs):
        raise AssertionError("no 'mounted (fsck skipped: clean' LOG (a cleanly unmounted workspace needs no e2fsck): %r" % r2.logs)
    # The host can fsck the disk afterwards: it was unmounted cleanly.
    raw = os.path.join(h.work, "counter-check.raw")
    subprocess.run(["qemu-img", "convert", "-O", "raw", ws, raw], check=True)
    p = subprocess.run(["e2fsck", "-fn", raw], capture_output=True, text=True)
    os.unlink(raw)
    eq(p.returncode, 0, "host e2fsck -fn of the workspace after two runs (%s)" % p.stdout.strip()[-200:])
    print("    used %d of %d bytes" % (used, total))
    return r2


@test()
def environment(h):
    r = h.run(job_frame('echo "$FOO|$HOME|$PWD|$(pwd)|$TERM|$LANG|$PATH|$(hostname)"; env | sort >&2',
                        env=["FOO=bar baz=qux", "TERM=xterm"]))
    check_exit(r, 0)
    eq(r.stdout, b"bar baz=qux|/root|/workspace|/workspace|xterm|C.UTF-8|"
                 b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|magpie\n", "env line")
    names = sorted(l.split("=", 1)[0] for l in r.stderr.decode().splitlines())
    extra = set(names) - {"FOO", "HOME", "PWD", "TERM", "LANG", "PATH", "USER", "LOGNAME", "SHELL", "SHLVL",
                          "_", "OLDPWD"}
    if extra:
        raise AssertionError("unexpected variables leaked into the script: %r" % sorted(extra))
    return r


@test()
def process_and_system_setup(h):
    script = r"""
cat; echo stdin-eof
grep -E '^Sig(Blk|Ign)' /proc/self/status | tr -s '	 ' ' '
[ "$(ps -o sid= -p $$ | tr -d ' ')" = "$$" ] && [ "$(ps -o pgid= -p $$ | tr -d ' ')" = "$$" ] && echo own-session
cat <(echo procsubst)
for m in /proc /sys /dev /dev/pts /dev/shm /tmp /run /workspace; do echo "$m $(findmnt -no FSTYPE $m)"; done
stat -c '%a' /tmp /dev/shm
python3 -c 'import os; m, s = os.openpty(); print("pty", os.ttyname(s).startswith("/dev/pts/"))'
ip -o link show lo | grep -q 'state UNKNOWN\|,UP' && echo lo-up
python3 -c 'import socket; s = socket.create_server(("127.0.0.1", 0)); c = socket.create_connection(s.getsockname()); print("loopback", s.accept()[0].fileno() > 0)'

date +%s
stat -c '%a %U' /run/magpie/script
umask
"""
    t = time.time()
    r = h.run(job_frame(script))
    check_exit(r, 0)
    lines = r.stdout.decode().splitlines()
    expect = ["stdin-eof", "SigBlk: 0000000000000000", "SigIgn: 0000000000000000", "own-session", "procsubst",
              "/proc proc", "/sys sysfs", "/dev devtmpfs", "/dev/pts devpts", "/dev/shm tmpfs", "/tmp tmpfs",
              "/run tmpfs", "/workspace tmpfs", "1777", "1777", "pty True", "lo-up"]
    eq(lines[:len(expect)], expect, "setup lines")
    rest = lines[len(expect):]
    eq(rest[0], "loopback True", "TCP over lo")
    guest_time = int(rest[1])
    if abs(guest_time - t) > 30:
        raise AssertionError("guest clock is off by %ds" % (guest_time - t))
    eq(rest[-2:], ["700 root", "0022"], "script mode and umask")
    if r.stderr:
        raise AssertionError("unexpected stderr: %r" % r.stderr)
    if "magpie-agent" in r.console:
        raise AssertionError("the agent wrote to the console in the normal path: %r" % r.console)
    return r


@test()
def kill_long_sleep(h):
    r = h.run(job_frame("echo going; sleep 1000"), kill_after=1.0)
    check_exit(r, 137, signal=9, killed=1)
    eq(r.stdout, b"going\n", "stdout before kill")
    dt = r.t_end - r.t_kill
    print("    KILL -> EXIT %.3fs" % dt)
    if dt > 2.0:
        raise AssertionError("KILL took %.2fs to produce EXIT" % dt)
    return r


@test()
def background_child_does_not_hang(h):
    r = h.run(job_frame("sleep 100 & echo started-bg; exit 0"))
    check_exit(r, 0)
    eq(r.stdout, b"started-bg\n", "stdout")
    dt = r.t_end - r.t_started
    print("    STARTED -> EXIT %.3fs" % dt)
    if dt > 2.5:
        raise AssertionError("background child delayed EXIT by %.2fs" % dt)
    return r


@test()
def background_writer_output_forwarded(h):
    # A background child keeps writing after the main process exits: its output within the
    # drain window arrives, then it is killed.
    # The main process waits until the child has written its first line (a loaded host can
    # delay the child's start past the drain window), then exits while the child goes on.
    r = h.run(job_frame("(for i in $(seq 1 1000); do echo tick $i; [ $i = 1 ] && touch /tmp/bg-started; sleep 0.05; done) & "
                        "while [ ! -e /tmp/bg-started ]; do sleep 0.01; done; echo main-done; exit 4"))
    check_exit(r, 4)
    lines = r.stdout.decode().splitlines()
    if "main-done" not in lines or "tick 1" not in lines:
        raise AssertionError("missing lines: %r" % lines[:10])
    if len(lines) > 100:
        raise AssertionError("background writer was not killed: %d lines" % len(lines))
    return r


@test()
def detached_daemon_does_not_hang(h):
    r = h.run(job_frame("setsid sh -c 'sleep 100' </dev/null >/dev/null 2>&1 & "
                        "nohup sleep 200 >/dev/null 2>&1 & echo ok"))
    check_exit(r, 0)
    eq(r.stdout, b"ok\n", "stdout")
    return r


@test()
def shebang_python(h):
    r = h.run(job_frame("#!/usr/bin/python3\nimport os, sys\nprint('py', sys.version_info[0], os.getcwd())\n"
                        "print('to-err', file=sys.stderr)\nsys.exit(5)\n"))
    check_exit(r, 5)
    eq(r.stdout, b"py 3 /workspace\n", "stdout")
    eq(r.stderr, b"to-err\n", "stderr")
    return r


@test()
def shebang_missing_interpreter(h):
    r = h.run(job_frame("#!/nonexistent/interp\necho hi\n"))
    check_exit(r, 127)
    if b"cannot execute" not in r.stderr:
        raise AssertionError("no explanation on stderr: %r" % r.stderr)
    return r


@test()
def no_workspace_is_empty_tmpfs(h):
    r = h.run(job_frame("ls -A /workspace | wc -l; findmnt -no FSTYPE /workspace; touch /workspace/x && echo writable"))
    check_exit(r, 0)
    eq(r.stdout, b"0\ntmpfs\nwritable\n", "stdout")
    return r


@test()
def network_on(h):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello from the host\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        r = h.run(job_frame("curl -s --max-time 20 http://10.0.2.2:%d/; cat /etc/resolv.conf; "
                            "ip -4 -o addr show dev eth0 | awk '{print $4}'; ip route show default" % port,
                            network=True))
    finally:
        srv.shutdown()
    check_exit(r, 0)
    out = r.stdout.decode()
    for want in ("hello from the host", "nameserver 10.0.2.3", "10.0.2.15/24", "default via 10.0.2.2"):
        if want not in out:
            raise AssertionError("network output lacks %r: %r" % (want, out))
    return r


@test()
def network_off(h):
    r = h.run(job_frame("ip -4 -o addr show | awk '{print $2, $4}'; ip link show eth0 | grep -c ',UP' || true"))
    check_exit(r, 0)
    eq(r.stdout, b"lo 127.0.0.1/8\n0\n", "only lo has an address, eth0 down")
    return r


@test()
def large_output_and_signal_exit(h):
    r = h.run(job_frame("head -c 3000000 /dev/zero | tr '\\0' a; seq 1 20000 >&2; kill -TERM $$"))
    check_exit(r, 143, signal=15)
    eq(len(r.stdout), 3000000, "stdout length")
    eq(set(r.stdout), {ord("a")}, "stdout content")
    eq(r.stderr, ("\n".join(str(i) for i in range(1, 20001)) + "\n").encode(), "stderr content")
    chunks = [len(p) for _, t, p in r.frames if t == STDOUT]
    print("    %d STDOUT frames, largest %d bytes" % (len(chunks), max(chunks)))
    if max(chunks) > 65536:
        raise AssertionError("chunk larger than 64 KiB")
    return r


@test()
def slow_host_reader(h):
    # The host stops reading for 0.5 s while the script writes 2 MB and exits: nothing may be lost,
    # and EXIT must still arrive after all of the output. (A host that stalls for longer than the
    # agent's final wait, 50 ms + 1 ms per 16 KiB recently written, at most 1 s, can lose the tail:
    # the guest cannot see when QEMU has passed the bytes on.)
    r = h.run(job_frame("head -c 2000000 /dev/zero | tr '\\0' b; echo tail >&2; exit 7"), read_pause=0.5)
    check_sequence(r)
    check_exit(r, 7)
    eq(len(r.stdout), 2000000, "stdout length")
    eq(r.stderr, b"tail\n", "stderr")
    return r


@test()
def host_hangup_after_exit(h):
    # A host that closes the socket after EXIT lets the agent power off without its final wait.
    r = h.run(job_frame("head -c 1000000 /dev/zero; exit 0"), close_after_exit=True)
    check_exit(r, 0)
    eq(len(r.stdout), 1000000, "stdout length")
    dt = r.t_qemu_exit - r.t_end
    print("    EXIT -> qemu exit %.3fs" % dt)
    if dt > 0.3:
        raise AssertionError("the agent did not power off at the hangup (%.2fs)" % dt)
    return r


@test()
def orphans_are_reaped(h):
    r = h.run(job_frame("for i in $(seq 20); do (sleep 0.1 &); done; sleep 1.5; "
                        "ps -eo stat=,pid=,comm= | awk '$1 ~ /^Z/' | wc -l; ps -o pid= -p 1; cat /proc/1/comm"))
    check_exit(r, 0)
    eq(r.stdout.split(), [b"0", b"1", b"magpie-agent"], "no zombies, agent is PID 1")
    return r


@test()
def streams_unbuffered(h):
    # Output must be forwarded as it is produced, not at the end.
    r = h.run(job_frame("printf first; sleep 2; printf second"))
    check_exit(r, 0)
    times = [(t, p) for t, tag, p in r.frames if tag == STDOUT]
    eq(b"".join(p for _, p in times), b"firstsecond", "stdout")
    first = times[0][0]
    if r.t_end - first < 1.5:
        raise AssertionError("first chunk arrived only %.2fs before EXIT" % (r.t_end - first))
    return r


@test()
def job_in_pieces_and_big_script(h):
    # The JOB frame arrives in pieces (split inside the header too) and is larger than one read.
    filler = "# " + "x" * 98 + "\n"
    script = filler * 20000 + "echo big-script-ok; wc -c < $0\n"  # ~2 MB
    frame = job_frame(script, env=["A=1", "B=2"])
    r = h.run(frame, job_pieces=6)
    check_exit(r, 0)
    eq(r.stdout, b"big-script-ok\n%d\n" % len(script.encode()), "stdout")
    return r


@test()
def job_after_delay(h):
    # The host may boot the VM ahead of time and send the job later.
    r = h.run(job_frame("echo late"), job_delay=3.0)
    check_exit(r, 0)
    eq(r.stdout, b"late\n", "stdout")
    return r


@test()
def hotplugged_workspace(h):
    ws = h.make_workspace("hotplug", size="512M")
    r = h.run(job_frame("echo hp > /workspace/f; cat /workspace/f", workspace=True),
              hotplug_ws=ws, hotplug_after=1.0)
    check_exit(r, 0)
    eq(r.stdout, b"hp\n", "stdout")
    print("    hot-plug at %.2fs, STARTED at %.2fs" % (r.t_hotplug, r.t_started))
    return r


@test()
def corrupt_workspace_fails(h):
    ws = h.make_workspace("corrupt", size="64M", fs=False)
    r = h.run(job_frame("echo never", workspace=True), ws=ws)
    if r.fail is None:
        raise AssertionError("expected FAIL, got %r" % r.exit)
    print("    FAIL: %s" % r.fail)
    if "e2fsck" not in r.fail:
        raise AssertionError("FAIL text does not mention e2fsck: %r" % r.fail)
    eq(r.t_started, None, "no STARTED")
    return r


@test()
def repairable_workspace(h):
    # A workspace with an error e2fsck -p refuses to fix: -fy repairs it and the job runs.
    raw = os.path.join(h.work, "dirty.raw")
    subprocess.run(["truncate", "-s", "256M", raw], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", raw], check=True)
    # Clear the root inode: e2fsck -p gives up (exit 4), e2fsck -fy recreates it.
    subprocess.run(["debugfs", "-w", "-R", "clri <2>", raw], check=True, capture_output=True)
    subprocess.run(["debugfs", "-w", "-R", "ssv state 2", raw], check=True, capture_output=True)
    ws = os.path.join(h.work, "dirty.qcow2")
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", raw, ws], check=True)
    os.unlink(raw)
    r = h.run(job_frame("echo ran", workspace=True), ws=ws)
    if r.exit is None:
        raise AssertionError("expected EXIT, got FAIL %r" % r.fail)
    check_exit(r, 0)
    eq(r.stdout, b"ran\n", "stdout")
    fsck_logs = [l for l in r.logs if "fsck" in l]
    print("    logs: %s" % fsck_logs)
    if not any("e2fsck -fy" in l and "repaired" in l for l in fsck_logs):
        raise AssertionError("the e2fsck -fy path was not taken")
    return r


@test()
def kill_while_waiting_for_disk(h):
    r = h.run(job_frame("echo never", workspace=True), kill_before_started_after=1.0)
    if r.fail is None:
        raise AssertionError("expected FAIL, got %r" % r.exit)
    print("    FAIL: %s" % r.fail)
    if r.t_end - r.t_kill > 1.5:
        raise AssertionError("cancel took %.2fs" % (r.t_end - r.t_kill))
    return r


@test()
def nic_driver_only_with_a_nic(h):
    probe = "test -d /sys/module/virtio_net && echo net-driver || echo no-net-driver; ls /sys/class/net | tr '\\n' ' '"
    r = h.run(job_frame(probe), nic=False)
    check_exit(r, 0)
    eq(r.stdout.split(), [b"no-net-driver", b"lo"], "no NIC: its modules are not loaded")
    r = h.run(job_frame(probe))
    check_exit(r, 0)
    eq(r.stdout.split(), [b"net-driver", b"eth0", b"lo"], "with a NIC: virtio_net loaded at boot")
    return r


@test()
def missing_root_disk_powers_off(h):
    # The agent as the initramfs's /init: no root disk -> a FATAL line on the console and a
    # power-off by itself within its 5 s wait (no control port is ever opened).
    d = os.path.join(h.work, "noroot")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    console = os.path.join(d, "console.log")
    t0 = time.monotonic()
    rc = subprocess.run(["qemu-system-x86_64", "-accel", "tcg", "-M", "pc", "-cpu", "max", "-m", "512",
                         "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                         "-serial", "file:" + console,
                         "-kernel", os.path.join(h.img, "vmlinuz"), "-initrd", os.path.join(h.img, "initrd.img"),
                         "-append", "console=ttyS0 quiet panic=-1 mitigations=off tsc=reliable no_timer_check"],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                        timeout=60).returncode
    took = time.monotonic() - t0
    with open(console, errors="replace") as f:
        text = f.read()
    want = "magpie-init: FATAL: no virtio block device with serial 'magpie-root' after 5 s (block devices: none)"
    if want not in text or "magpie-init: powering off" not in text:
        raise AssertionError("console lacks %r: %r" % (want, text[-800:]))
    if "Kernel panic" in text:
        raise AssertionError("the kernel panicked instead of a power-off: %r" % text[-800:])
    eq(rc, 0, "QEMU exit code after the guest's power-off")
    print("    powered off after %.1fs" % took)
    return None


@test(slow=True)
def missing_workspace_disk_fails(h):
    r = h.run(job_frame("echo never", workspace=True))
    if r.fail is None:
        raise AssertionError("expected FAIL, got %r" % r.exit)
    print("    FAIL: %s" % r.fail)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--img", default="/tmp/agent/img")
    ap.add_argument("--work", default="/tmp/agent/run")
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("--slow", action="store_true")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    h = Harness(args.img, args.work, verbose=args.v)
    passed = failed = 0
    for name, fn, slow in TESTS:
        if args.k and not any(k in name for k in args.k):
            continue
        if slow and not args.slow and not args.k:
            continue
        print("== %s" % name, flush=True)
        h.last = None
        t = time.monotonic()
        try:
            r = fn(h)
            print("   PASS in %.2fs (%s)" % (time.monotonic() - t, r.summary() if r else ""), flush=True)
            passed += 1
        except Exception:
            failed += 1
            print("   FAIL in %.2fs" % (time.monotonic() - t))
            traceback.print_exc()
            last = getattr(h, "last", None)
            if last is not None:
                print("   agent LOG frames:")
                for l in last.logs:
                    print("     " + l)
                if last.fail:
                    print("   FAIL frame: " + last.fail)
                print("   console tail:\n" + "\n".join("     " + l for l in last.console.splitlines()[-20:]))
                if getattr(last, "qemu_out", ""):
                    print("   qemu output: " + last.qemu_out.strip()[-500:])
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
