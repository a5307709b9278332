"""Test support: a real headless Magpie Desktop and a host HTTP server the guests can reach.

The app is started as ``$MAGPIE_DESKTOP_BIN --headless --data-dir TMP --listen 127.0.0.1:0``
with ``MAGPIE_API_KEY`` (a fresh key), ``MAGPIE_ACCEL=tcg`` and ``MAGPIE_GUEST_DIR`` (passed
through) in its environment; the test reads its one ``listening on http://127.0.0.1:PORT`` line.
One app is shared by all test modules of a run (``shared_app()``) and stopped at exit.
"""

from __future__ import annotations

import atexit
import email.parser
import email.policy
import http.server
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_DIR = os.path.dirname(HERE)
REPO_DIR = os.path.dirname(os.path.dirname(SDK_DIR))
if SDK_DIR not in sys.path:
    sys.path.insert(0, SDK_DIR)

LISTEN_RE = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
START_TIMEOUT = 90.0
#: How the guest reaches the host's loopback (QEMU user-mode networking).
GUEST_HOST = "10.0.2.2"


def find_binary() -> Optional[str]:
    b = os.environ.get("MAGPIE_DESKTOP_BIN")
    if b:
        return b
    for cand in (os.path.join(REPO_DIR, "build", "app", "magpie-desktop"),
                 os.path.join(REPO_DIR, "build", "magpie-desktop")):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def free_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """One ``magpie-desktop --headless`` process."""

    def __init__(self, api_key: Optional[str] = "", data_dir: Optional[str] = None,
                 extra_env: Optional[Dict[str, str]] = None) -> None:
        self.binary = find_binary()
        if not self.binary:
            raise unittest.SkipTest("magpie-desktop not found: set MAGPIE_DESKTOP_BIN (ctest sets it)")
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"MAGPIE_DESKTOP_BIN={self.binary} is not an executable file")
        self._own_tmp = tempfile.mkdtemp(prefix="magpie-sdk-test-")
        self.data_dir = data_dir or os.path.join(self._own_tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.api_key = secrets.token_hex(16) if api_key == "" else api_key
        env = dict(os.environ)
        for k in ("MAGPIE_API_KEY", "MAGPIE_BASE_URL", "MAGPIE_DATA_DIR"):
            env.pop(k, None)
        if self.api_key is not None:
            env["MAGPIE_API_KEY"] = self.api_key
        env["MAGPIE_ACCEL"] = "tcg"
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        if extra_env:
            env.update(extra_env)
        self.log_path = os.path.join(self._own_tmp, "app.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--headless", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log, env=env,
            start_new_session=True)
        self.url = self._read_listen_line()

    def _read_listen_line(self) -> str:
        assert self.proc.stdout is not None
        found: List[str] = []
        lines: List[str] = []
        done = threading.Event()

        def reader() -> None:
            assert self.proc.stdout is not None
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                lines.append(line)
                m = LISTEN_RE.search(line)
                if m and not found:
                    found.append(m.group(1))
                    done.set()
            done.set()

        threading.Thread(target=reader, daemon=True, name="magpie-app-stdout").start()
        done.wait(START_TIMEOUT)
        if not found:
            rc = self.proc.poll()
            self.stop()
            raise RuntimeError(
                f"{self.binary} did not print 'listening on http://127.0.0.1:PORT' within {START_TIMEOUT:g} s "
                f"(exit code {rc}); stdout: {lines[-10:]!r}; log tail:\n{self.log_tail()}")
        return found[0]

    def log_tail(self, n: int = 40) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, **kw: object):  # -> magpie.Magpie
        from magpie import Magpie
        return Magpie(api_key=self.api_key, base_url=self.url, **kw)  # type: ignore[arg-type]

    def stop(self) -> None:
        """SIGTERM to the app (it stops its VMs and removes endpoint.json), then SIGKILL to whatever
        is left of its process group (only processes this test started)."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print("[harness] magpie-desktop ignored SIGTERM for 30 s; killing it", file=sys.stderr)
        for pid in ([self.proc.pid] if self.proc.poll() is None else []) + group_members(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self._log.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if os.environ.get("MAGPIE_TEST_KEEP") != "1":
            shutil.rmtree(self._own_tmp, ignore_errors=True)
        else:
            print(f"[harness] kept {self._own_tmp}", file=sys.stderr)


def group_members(pgid: int) -> List[int]:
    """Processes still in process group ``pgid`` (the app's session: its QEMU children)."""
    out: List[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == pgid:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[2] == str(pgid):
            out.append(int(entry))
    return out


_shared: Optional[App] = None
_shared_lock = threading.Lock()


def shared_app() -> App:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = App()
            atexit.register(_shared.stop)
        elif _shared.proc.poll() is not None:
            raise RuntimeError(f"the shared magpie-desktop exited ({_shared.proc.returncode}); log:\n"
                               f"{_shared.log_tail()}")
        return _shared


# ---------------------------------------------------------------------- host HTTP fixture server
class Fixture:
    """A host HTTP server on 127.0.0.1 that guests reach as http://10.0.2.2:PORT.

    GET /data.csv serves ``csv``; POST /upload takes multipart/form-data and records the parts;
    GET /repo.git/... serves a bare git repository over git's dumb HTTP protocol.
    """

    def __init__(self, csv: bytes, repo_dir: Optional[str] = None) -> None:
        self.csv = csv
        self.repo_dir = repo_dir
        self.uploads: List[Dict[str, Tuple[Optional[str], bytes]]] = []
        self.requests: List[Tuple[str, str]] = []
        fixture = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:
                fixture.requests.append(("GET", self.path))
                path = self.path.split("?", 1)[0]
                if path == "/data.csv":
                    return self._send(200, fixture.csv, "text/csv")
                if path.startswith("/repo.git/") and fixture.repo_dir:
                    rel = os.path.normpath(path[len("/repo.git/"):])
                    if rel.startswith("..") or os.path.isabs(rel):
                        return self._send(403, b"no\n")
                    full = os.path.join(fixture.repo_dir, rel)
                    if os.path.isfile(full):
                        with open(full, "rb") as f:
                            return self._send(200, f.read(), "application/octet-stream")
                return self._send(404, b"not found\n")

            do_HEAD = do_GET

            def do_POST(self) -> None:
                fixture.requests.append(("POST", self.path))
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if self.path.split("?", 1)[0] != "/upload":
                    return self._send(404, b"not found\n")
                ctype = self.headers.get("Content-Type", "")
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
                parts: Dict[str, Tuple[Optional[str], bytes]] = {}
                if msg.is_multipart():
                    for part in msg.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        parts[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
                fixture.uploads.append(parts)
                return self._send(200, b"uploaded\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="fixture-http")
        self.thread.start()

    @property
    def guest_url(self) -> str:
        return f"http://{GUEST_HOST}:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def git(*args: str, cwd: Optional[str] = None) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Magpie Test", GIT_AUTHOR_EMAIL="test@magpie.invalid",
               GIT_COMMITTER_NAME="Magpie Test", GIT_COMMITTER_EMAIL="test@magpie.invalid",
               GIT_CONFIG_NOSYSTEM="1", HOME=cwd or tempfile.gettempdir())
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout


def wait_for(pred, timeout: float, interval: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())
