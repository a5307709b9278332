"""``python -m magpie`` against a real headless Magpie Desktop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Dict, List, Optional, Tuple

import harness


class Cli:
    def __init__(self, app: harness.App) -> None:
        self.app = app
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MAGPIE_API_KEY", "MAGPIE_BASE_URL", "MAGPIE_DATA_DIR")}
        self.env["PYTHONPATH"] = harness.SDK_DIR + os.pathsep + self.env.get("PYTHONPATH", "")
        self.env["PYTHONUNBUFFERED"] = "1"

    def argv(self, *args: str, auth: bool = True) -> List[str]:
        base = [sys.executable, "-m", "magpie"]
        if auth:
            base += ["--url", self.app.url, "--key", self.app.api_key or ""]
        return base + list(args)

    def run(self, *args: str, stdin: Optional[bytes] = None, auth: bool = True,
            env: Optional[Dict[str, str]] = None, timeout: float = 300) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        return subprocess.run(self.argv(*args, auth=auth), input=stdin if stdin is not None else b"",
                              capture_output=True, env=dict(self.env, **(env or {})), timeout=timeout)


def text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.cli = Cli(cls.app)
        cls.client = cls.app.client()
        cls._tmp = tempfile.TemporaryDirectory(prefix="magpie-cli-")

    @classmethod
    def tearDownClass(cls) -> None:
        cls._tmp.cleanup()

    def script_file(self, name: str, content: str) -> str:
        path = os.path.join(self._tmp.name, name)
        with open(path, "w") as f:
            f.write(content)
        return path

    def test_run_streams_and_exits_with_the_script_exit_code(self) -> None:
        path = self.script_file("stream.sh", "echo first\necho err-first >&2\nsleep 5\necho second\n"
                                             "echo err-second >&2\nexit 7\n")
        proc = subprocess.Popen(self.cli.argv("run", path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=self.cli.env)
        lines: Dict[str, List[Tuple[float, str]]] = {"stdout": [], "stderr": []}

        def reader(name: str, pipe) -> None:  # type: ignore[no-untyped-def]
            for raw in iter(pipe.readline, b""):
                lines[name].append((time.monotonic(), text(raw).rstrip("\n")))

        ts = [threading.Thread(target=reader, args=("stdout", proc.stdout)),
              threading.Thread(target=reader, args=("stderr", proc.stderr))]
        for t in ts:
            t.start()
        rc = proc.wait(timeout=300)
        end = time.monotonic()
        for t in ts:
            t.join()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        self.assertEqual(rc, 7, lines)
        self.assertEqual([l for _, l in lines["stdout"]], ["first", "second"])
        self.assertEqual([l for _, l in lines["stderr"] if not l.startswith("magpie:")],
                         ["err-first", "err-second"])
        first_out = next(ts for ts, l in lines["stdout"] if l == "first")
        first_err = next(ts for ts, l in lines["stderr"] if l == "err-first")
        self.assertGreater(end - first_out, 3, "stdout was streamed while the job ran")
        self.assertGreater(end - first_err, 3, "stderr was streamed while the job ran")

        # the job is there with the name of the file
        job = self.client.jobs.list(limit=1)[0]
        self.assertEqual((job.name, job.exit_code, job.status), ("stream.sh", 7, "failed"))

        # status, logs, list work on it
        r = self.cli.run("status", job.request_id)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("failed", text(r.stdout))
        self.assertIn("exit code: 7", text(r.stdout))
        r = self.cli.run("status", "--json", job.request_id)
        self.assertEqual(json.loads(r.stdout)["exit_code"], 7)
        r = self.cli.run("logs", job.request_id)
        self.assertEqual((r.returncode, text(r.stdout), text(r.stderr)),
                         (0, "first\nsecond\n", "err-first\nerr-second\n"))
        r = self.cli.run("logs", "-f", job.request_id)
        self.assertEqual((r.returncode, text(r.stdout)), (0, "first\nsecond\n"))
        r = self.cli.run("logs", "--stream", "stderr", job.request_id)
        self.assertEqual((text(r.stdout), text(r.stderr)), ("", "err-first\nerr-second\n"))
        r = self.cli.run("list", "--limit", "5")
        self.assertEqual(r.returncode, 0, r)
        self.assertIn(job.request_id, text(r.stdout))
        self.assertIn("ID", text(r.stdout).splitlines()[0])
        r = self.cli.run("list", "--json", "--status", "failed")
        self.assertIn(job.request_id, [j["request_id"] for j in json.loads(r.stdout)["jobs"]])
        # cancelling a finished job: 409, reported, exit 1
        r = self.cli.run("cancel", job.request_id)
        self.assertEqual(r.returncode, 1)
        self.assertIn("409", text(r.stderr))

    def test_run_stdin_workspace_env_no_network_and_rm(self) -> None:
        port = harness.free_port()
        script = (f"echo \"$GREETING\" > /workspace/greeting\ncat /workspace/greeting\n"
                  f"curl -sS -m 5 http://{harness.GUEST_HOST}:{port}/ >/dev/null 2>&1 && echo net || echo no-net\n"
                  "echo \"$FROM_HERE\"\n")
        r = self.cli.run("run", "--name", "stdin job", "--workspace", "cli-ws", "--size", "2",
                         "--env", "GREETING=hello there", "--env", "FROM_HERE", "--no-network", "-",
                         stdin=script.encode(), env={"FROM_HERE": "passed through"})
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(text(r.stdout), "hello there\nno-net\npassed through\n")
        job = self.client.jobs.list(workspace_id="cli-ws")[0]
        self.assertEqual((job.name, job.network, job.workspace_id), ("stdin job", False, "cli-ws"))
        self.assertEqual(self.client.workspaces.get("cli-ws").size_gb, 2)

        r = self.cli.run("workspaces")
        self.assertEqual(r.returncode, 0, r)
        row = [l for l in text(r.stdout).splitlines() if l.startswith("cli-ws ")]
        self.assertEqual(len(row), 1, text(r.stdout))
        self.assertIn("2 GB", row[0])
        r = self.cli.run("workspaces", "--json")
        self.assertIn("cli-ws", [w["id"] for w in json.loads(r.stdout)["workspaces"]])
        r = self.cli.run("rm", "cli-ws")
        self.assertEqual((r.returncode, text(r.stdout)), (0, "deleted cli-ws\n"), r)
        r = self.cli.run("rm", "cli-ws")
        self.assertEqual(r.returncode, 1)
        self.assertIn("404", text(r.stderr))

    def test_ctrl_c_cancels_the_job(self) -> None:
        path = self.script_file("interrupt.sh", "echo started\nsleep 120\n")
        proc = subprocess.Popen(self.cli.argv("run", path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=self.cli.env)
        try:
            assert proc.stdout is not None
            self.assertEqual(proc.stdout.readline(), b"started\n")
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("cancelling job", text(err))
        job = self.client.jobs.list(limit=1)[0]
        self.assertEqual(job.name, "interrupt.sh")
        final = self.client.jobs.wait(job.request_id, timeout=120)
        self.assertEqual(final.status, "cancelled")

    def test_timeout_exits_124(self) -> None:
        path = self.script_file("slow.sh", "echo going to sleep\nsleep 120\n")
        t0 = time.monotonic()
        r = self.cli.run("run", "--timeout", "3", path)
        self.assertEqual(r.returncode, 124, r)
        self.assertLess(time.monotonic() - t0, 100)
        self.assertIn("timed out", text(r.stderr))
        self.assertEqual(text(r.stdout), "going to sleep\n")

    def test_errors_without_vms(self) -> None:
        r = self.cli.run("status", "00000000-0000-4000-8000-000000000000")
        self.assertEqual(r.returncode, 1)
        self.assertIn("404", text(r.stderr))
        r = subprocess.run([sys.executable, "-m", "magpie", "--url", self.app.url, "--key", "wrong", "list"],
                           capture_output=True, env=self.cli.env, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("401", text(r.stderr))
        # global options after the command, and the key from the environment
        r = self.cli.run("list", "--url", self.app.url, auth=False, env={"MAGPIE_API_KEY": self.app.api_key or ""})
        self.assertEqual(r.returncode, 0, r)
        r = self.cli.run("list", auth=False, env={"MAGPIE_BASE_URL": f"http://127.0.0.1:{harness.free_port()}",
                                                  "MAGPIE_API_KEY": "k"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect", text(r.stderr))
        with tempfile.TemporaryDirectory() as d:
            r = self.cli.run("list", auth=False, env={"MAGPIE_DATA_DIR": d, "HOME": d, "XDG_DATA_HOME": d})
        self.assertEqual(r.returncode, 1)
        self.assertIn("not running", text(r.stderr))
        r = self.cli.run("run", os.path.join(self._tmp.name, "does-not-exist.sh"))
        self.assertEqual(r.returncode, 2)
        r = self.cli.run("bogus-command")
        self.assertEqual(r.returncode, 2)
        r = self.cli.run("run", "--name", "x", "-", stdin=b"")
        self.assertEqual(r.returncode, 1, r)  # empty script: 422 from the server
        self.assertIn("422", text(r.stderr))


if __name__ == "__main__":
    unittest.main()
