"""Colours in job output: kept for a terminal, stripped otherwise (``--color auto|always|never``,
``Jobs.follow(color=...)``), with the stripper checked on its own and the CLI against a real
headless Magpie Desktop running real VM jobs (a pseudo-terminal stands in for the user's terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import unittest
from typing import Dict, Optional, Tuple

import harness

from magpie._ansi import AnsiStripper, strip_ansi, wants_color

COLOURED = (b"\x1b[1;31mred\x1b[0m plain \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ "
            b"\x1b]0;title\x07\x1b[2K\x1b(B\xc3\xa9\xe2\x80\x9b\r\n")
STRIPPED = "red plain link \u00e9\u201b\r\n".encode()


class StripperTest(unittest.TestCase):
    def test_strips_every_kind_of_sequence_and_keeps_text(self) -> None:
        self.assertEqual(strip_ansi(COLOURED), STRIPPED)
        self.assertEqual(strip_ansi(b"\x1b[38;2;1;2;3mx\x1b[38:5:208my\x1bPq#0;2;0;0;0\x1b\\z\x1b7\x1b8\n"), b"xyz\n")
        self.assertEqual(strip_ansi(b"no escapes at all \xff\xfe\n"), b"no escapes at all \xff\xfe\n")

    def test_any_chunking_gives_the_same_result(self) -> None:
        for size in range(1, 9):
            s = AnsiStripper()
            out = b"".join(s.feed(COLOURED[i:i + size]) for i in range(0, len(COLOURED), size)) + s.flush()
            self.assertEqual(out, STRIPPED, size)

    def test_a_stray_string_start_does_not_swallow_the_log(self) -> None:
        self.assertEqual(strip_ansi(b"before \x1b]0;no end\nafter\n"), b"before \nafter\n")
        self.assertEqual(strip_ansi(b"\x1b]" + b"x" * (70 * 1024) + b"tail")[-4:], b"tail")
        # a CSI cut by a control character is dropped up to it, the rest stays
        self.assertEqual(strip_ansi(b"a\x1b[12\nb"), b"a\nb")

    def test_wants_color(self) -> None:
        self.assertTrue(wants_color("always", "stdout"))
        self.assertTrue(wants_color(True, "stderr"))
        self.assertFalse(wants_color("never", "stdout"))
        self.assertFalse(wants_color(False, "stdout"))
        with self.assertRaises(ValueError):
            wants_color("sometimes", "stdout")
        with tempfile.TemporaryFile("w") as f:
            self.assertFalse(wants_color("auto", "stdout", f))
        master, slave = pty.openpty()
        try:
            with os.fdopen(os.dup(slave), "w") as tty:
                saved = {k: os.environ.pop(k, None) for k in ("NO_COLOR", "TERM")}
                try:
                    self.assertTrue(wants_color("auto", "stdout", tty))
                    os.environ["NO_COLOR"] = "1"
                    self.assertFalse(wants_color("auto", "stdout", tty))
                    del os.environ["NO_COLOR"]
                    os.environ["TERM"] = "dumb"
                    self.assertFalse(wants_color("auto", "stdout", tty))
                finally:
                    for k, v in saved.items():
                        os.environ.pop(k, None)
                        if v is not None:
                            os.environ[k] = v
        finally:
            os.close(master)
            os.close(slave)


SCRIPT = ("printf '\\033[1;31mred\\033[0m plain\\n'\n"
          "printf '\\033[32mgreen on stderr\\033[0m\\n' >&2\n"
          "printf 'progress \\033[33m50%%\\033[0m\\rprogress \\033[32m100%%\\033[0m\\n'\n")
RAW_OUT = b"\x1b[1;31mred\x1b[0m plain\nprogress \x1b[33m50%\x1b[0m\rprogress \x1b[32m100%\x1b[0m\n"
RAW_ERR = b"\x1b[32mgreen on stderr\x1b[0m\n"


def run_with_pty_stdout(argv: list, env: Dict[str, str], timeout: float = 300) -> Tuple[int, bytes, bytes]:
    """Runs argv with stdout on a pseudo-terminal and stderr on a pipe; returns (rc, tty bytes, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    tty = bytearray()
    try:
        while True:
            r, _, _ = select.select([master], [], [], timeout)
            if not r:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the other end is closed
                break
            if not data:
                break
            tty += data
        err = proc.stderr.read() if proc.stderr else b""  # type: ignore[union-attr]
        rc = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    return rc, bytes(tty), err


class CliColorTest(unittest.TestCase):
    job_id: Optional[str] = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()
        cls._tmp = tempfile.TemporaryDirectory(prefix="magpie-color-")
        cls.script = os.path.join(cls._tmp.name, "colours.sh")
        with open(cls.script, "w") as f:
            f.write(SCRIPT)
        cls.env = {k: v for k, v in os.environ.items() if k not in ("MAGPIE_API_KEY", "MAGPIE_BASE_URL",
                                                                   "MAGPIE_DATA_DIR", "NO_COLOR")}
        cls.env["PYTHONPATH"] = harness.SDK_DIR + os.pathsep + cls.env.get("PYTHONPATH", "")
        cls.env["TERM"] = "xterm-256color"

    @classmethod
    def tearDownClass(cls) -> None:
        cls._tmp.cleanup()

    def argv(self, *args: str) -> list:
        return [sys.executable, "-m", "magpie", "--url", self.app.url, "--key", self.app.api_key or ""] + list(args)

    def cli(self, *args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        return subprocess.run(self.argv(*args), capture_output=True, stdin=subprocess.DEVNULL,
                              env=dict(self.env, **(env or {})), timeout=300)

    def finished_job(self) -> str:
        if CliColorTest.job_id is None:
            job = self.client.jobs.run_and_wait(name="colours", script=SCRIPT, network=False)
            self.assertEqual(job.status, "completed", job)
            CliColorTest.job_id = job.request_id
        return CliColorTest.job_id

    def test_run_keeps_colours_on_a_terminal_and_strips_them_in_a_pipe(self) -> None:
        # stdout is a terminal, stderr a pipe: one run, both behaviours.
        rc, tty, err = run_with_pty_stdout(self.argv("run", self.script), self.env)
        self.assertEqual(rc, 0, (tty, err))
        self.assertIn(RAW_OUT.replace(b"\n", b"\r\n"), tty)  # the terminal's line discipline adds \r
        self.assertEqual(err, strip_ansi(RAW_ERR))
        # both in pipes: stripped; --color always keeps them, --color never strips them on a terminal
        r = self.cli("run", self.script)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, strip_ansi(RAW_OUT), b"green on stderr\n"), r)
        self.assertEqual(r.stdout, b"red plain\nprogress 50%\rprogress 100%\n")
        r = self.cli("run", "--color", "always", self.script)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, RAW_OUT, RAW_ERR), r)
        rc, tty, err = run_with_pty_stdout(self.argv("run", "--color=never", self.script), self.env)
        self.assertEqual(rc, 0)
        self.assertNotIn(b"\x1b", tty)
        self.assertIn(b"red plain", tty)

    def test_logs_follows_the_same_rule(self) -> None:
        job = self.finished_job()
        r = self.cli("logs", job)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, strip_ansi(RAW_OUT), strip_ansi(RAW_ERR)))
        r = self.cli("logs", "--color", "always", job)
        self.assertEqual((r.stdout, r.stderr), (RAW_OUT, RAW_ERR))
        r = self.cli("logs", "-f", "--colour", "never", "--stream", "stderr", job)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b"green on stderr\n"))
        rc, tty, _ = run_with_pty_stdout(self.argv("logs", "--stream", "stdout", job), self.env)
        self.assertEqual(rc, 0)
        self.assertEqual(tty, RAW_OUT.replace(b"\n", b"\r\n"))
        rc, tty, _ = run_with_pty_stdout(self.argv("logs", "--stream", "stdout", job), dict(self.env, NO_COLOR="1"))
        self.assertEqual(tty, strip_ansi(RAW_OUT).replace(b"\n", b"\r\n"))
        r = self.cli("logs", "--color", "sometimes", job)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"invalid choice", r.stderr)

    def test_follow_strips_on_request(self) -> None:
        job = self.finished_job()
        raw: Dict[str, bytes] = {"stdout": b"", "stderr": b""}
        for stream, chunk in self.client.jobs.follow(job, decode=False):
            raw[stream] += chunk
        self.assertEqual(raw, {"stdout": RAW_OUT, "stderr": RAW_ERR})
        text: Dict[str, str] = {"stdout": "", "stderr": ""}
        for stream, piece in self.client.jobs.follow(job, color="never"):
            text[stream] += piece
        self.assertEqual(text, {"stdout": "red plain\nprogress 50%\rprogress 100%\n", "stderr": "green on stderr\n"})
        with self.assertRaises(ValueError):
            next(iter(self.client.jobs.follow(job, color="sometimes")))


if __name__ == "__main__":
    unittest.main()
