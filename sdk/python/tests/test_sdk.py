"""The client against a real headless Magpie Desktop: errors, discovery, jobs and workspaces."""

from __future__ import annotations

import http.server
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import List, Tuple
from unittest import mock

import harness

import magpie
from magpie import (AuthenticationError, ConflictError, ConnectionError, Magpie, MagpieError, NotFoundError,
                    ServerError, ValidationError, WaitTimeoutError)

UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000"


def clean_env(**extra: str) -> mock._patch_dict:  # type: ignore[type-arg]
    """os.environ without the variables the client reads (plus ``extra``)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAGPIE_API_KEY", "MAGPIE_BASE_URL", "MAGPIE_DATA_DIR", "XDG_DATA_HOME")}
    env.update(extra)
    return mock.patch.dict(os.environ, env, clear=True)


class ErrorsTest(unittest.TestCase):
    """Each exception type is raised by the situation it names."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()

    def test_wrong_key_is_authentication_error(self) -> None:
        bad = Magpie(api_key="not-the-key", base_url=self.app.url)
        with self.assertRaises(AuthenticationError) as cm:
            bad.jobs.list()
        e = cm.exception
        self.assertIsInstance(e, MagpieError)
        self.assertEqual(e.status, 401)
        self.assertEqual(e.code, "unauthorized")
        self.assertTrue(e.message)
        with self.assertRaises(AuthenticationError):
            bad.jobs.create(name="x", script="echo never")
        # health needs no key
        self.assertEqual(bad.health().get("status"), "ok")

    def test_unknown_job_is_not_found(self) -> None:
        for call in (lambda: self.client.jobs.get(UNKNOWN_JOB), lambda: self.client.jobs.cancel(UNKNOWN_JOB),
                     lambda: self.client.jobs.logs(UNKNOWN_JOB), lambda: self.client.jobs.wait(UNKNOWN_JOB)):
            with self.assertRaises(NotFoundError) as cm:
                call()
            self.assertEqual(cm.exception.status, 404)
            self.assertEqual(cm.exception.code, "not_found")
            self.assertTrue(cm.exception.message)

    def test_unknown_workspace_is_not_found(self) -> None:
        with self.assertRaises(NotFoundError) as cm:
            self.client.workspaces.get("no-such-workspace")
        self.assertEqual(cm.exception.status, 404)
        with self.assertRaises(NotFoundError):
            self.client.workspaces.delete("no-such-workspace")

    def test_bad_workspace_id_is_validation_error(self) -> None:
        for bad in ("Bad_Workspace", "-leading-hyphen", "x" * 64, "has space"):
            with self.subTest(workspace_id=bad):
                with self.assertRaises(ValidationError) as cm:
                    self.client.jobs.create(name="bad id", script="echo hi", stateful=True, workspace_id=bad)
                self.assertEqual(cm.exception.status, 422)
                self.assertEqual(cm.exception.code, "invalid_workspace_id")
                self.assertTrue(cm.exception.message)
        self.assertEqual(self.client.jobs.list(workspace_id="bad-id-never").total, 0)

    def test_other_validation_errors(self) -> None:
        with self.assertRaises(ValidationError) as cm:
            self.client.jobs.create(name="empty", script="")
        self.assertEqual((cm.exception.status, cm.exception.code), (422, "invalid_request"))
        with self.assertRaises(ValidationError) as cm:
            self.client.jobs.create(name="ws without stateful", script="true", workspace_id="some-ws")
        self.assertEqual(cm.exception.status, 422)
        with self.assertRaises(ValidationError) as cm:
            self.client.jobs.create(name="size", script="true", stateful=True, workspace_size_gb=0)
        self.assertEqual(cm.exception.status, 422)
        with self.assertRaises(ValidationError) as cm:
            self.client.jobs.create(name="too big", script="#" * (1024 * 1024 + 1))
        self.assertEqual((cm.exception.status, cm.exception.code), (413, "payload_too_large"))

    def test_nothing_listening_is_connection_error(self) -> None:
        port = harness.free_port()
        c = Magpie(api_key="k", base_url=f"http://127.0.0.1:{port}", timeout=5)
        with self.assertRaises(ConnectionError) as cm:
            c.jobs.list()
        self.assertIsInstance(cm.exception, MagpieError)
        self.assertIsNone(cm.exception.status)
        self.assertIn(f"127.0.0.1:{port}", str(cm.exception))
        self.assertIn("running", str(cm.exception))

    def test_app_not_running_says_where_it_looked(self) -> None:
        with tempfile.TemporaryDirectory() as d, clean_env(MAGPIE_DATA_DIR=d, HOME=d):
            c = Magpie()
            self.assertIsNone(c.base_url)
            with self.assertRaises(ConnectionError) as cm:
                c.jobs.list()
            msg = str(cm.exception)
            self.assertIn("not running", msg)
            self.assertIn(os.path.join(d, "endpoint.json"), msg)
            self.assertIn("MAGPIE_BASE_URL", msg)

    def test_server_error_mapping(self) -> None:
        """The 5xx mapping, against a stand-in that answers 500 in the API's error format (the real
        app's 500 trigger is exercised in WorkspaceFilesTest when it can be produced)."""
        body = json.dumps({"error": {"code": "internal", "message": "disk on fire"}}).encode()

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            c = Magpie(api_key="k", base_url=f"http://127.0.0.1:{srv.server_address[1]}")
            with self.assertRaises(ServerError) as cm:
                c.jobs.get("abc")
            self.assertEqual((cm.exception.status, cm.exception.code, cm.exception.message),
                             (500, "internal", "disk on fire"))
        finally:
            srv.shutdown()
            srv.server_close()

    def test_busy_workspace_conflict_wait_timeout_and_cancel(self) -> None:
        c = self.client
        job = c.jobs.create(name="busy", script="echo started; sleep 120", stateful=True, workspace_id="busy-ws")
        try:
            self.assertIn(job.status, ("queued", "running"))
            with self.assertRaises(ConflictError) as cm:
                c.workspaces.delete("busy-ws")
            self.assertEqual((cm.exception.status, cm.exception.code), (409, "conflict"))
            self.assertTrue(cm.exception.message)
            t0 = time.monotonic()
            with self.assertRaises(WaitTimeoutError) as wt:
                c.jobs.wait(job.request_id, timeout=2)
            self.assertLess(time.monotonic() - t0, 30)
            self.assertIn(wt.exception.job.status, ("queued", "running"))
            self.assertEqual([w.state for w in c.workspaces.list() if w.id == "busy-ws"][0] in
                             ("queued", "running"), True)
        finally:
            cancelled = c.jobs.cancel(job.request_id)
        self.assertIn(cancelled.status, ("running", "cancelled"))
        final = c.jobs.wait(job.request_id, timeout=120)
        self.assertEqual(final.status, "cancelled", final)
        self.assertTrue(final.error)
        with self.assertRaises(ConflictError) as cm:
            c.jobs.cancel(job.request_id)
        self.assertEqual(cm.exception.status, 409)
        self.assertTrue(harness.wait_for(lambda: c.workspaces.get("busy-ws").state == "idle", 30))
        self.assertEqual(c.workspaces.delete("busy-ws"), "busy-ws")
        with self.assertRaises(NotFoundError):
            c.workspaces.get("busy-ws")


class RealServerErrorTest(unittest.TestCase):
    """A real 5xx from the app: the disk image of a workspace is damaged on the host (overwritten in
    the test's own data folder), so the VM that lists its files cannot use it; the app answers 500
    ``internal`` ("the workspace operation failed: ..."), which the client raises as ServerError."""

    def test_damaged_workspace_disk_is_server_error(self) -> None:
        app = harness.shared_app()
        c = app.client()
        r = c.jobs.run_and_wait(name="soon broken", script="echo x > /workspace/x", stateful=True,
                                workspace_id="broken-ws", workspace_size_gb=1)
        self.assertEqual(r.status, "completed", (r.stderr, r.error))
        disks = [os.path.join(d, f) for d, _, files in os.walk(app.data_dir) for f in files
                 if f.startswith("broken-ws.")]
        self.assertEqual(len(disks), 1, f"the disk of broken-ws in {app.data_dir}: {disks}")
        with open(disks[0], "r+b") as f:
            f.write(b"this is not a disk image " * 4096)
        with self.assertRaises(ServerError) as cm:
            c.workspaces.files("broken-ws")
        e = cm.exception
        self.assertIsInstance(e, MagpieError)
        self.assertGreaterEqual(e.status or 0, 500)
        self.assertEqual(e.code, "internal")
        self.assertTrue(e.message)
        c.workspaces.delete("broken-ws")


class DiscoveryFilesTest(unittest.TestCase):
    """endpoint.json handling that needs no running app."""

    def test_stale_endpoint_is_skipped(self) -> None:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        with tempfile.TemporaryDirectory() as d, clean_env(MAGPIE_DATA_DIR=d, HOME=d):
            with open(os.path.join(d, "endpoint.json"), "w") as f:
                json.dump({"url": "http://127.0.0.1:9", "pid": dead.pid, "api_key_file": None}, f)
            c = Magpie()
            self.assertIsNone(c.base_url)
            with self.assertRaises(ConnectionError) as cm:
                c.jobs.list()
            self.assertIn("stale", str(cm.exception))
            self.assertIn("not running", str(cm.exception))

    def test_endpoint_of_an_app_that_does_not_answer(self) -> None:
        port = harness.free_port()
        with tempfile.TemporaryDirectory() as d, clean_env(MAGPIE_DATA_DIR=d, HOME=d):
            with open(os.path.join(d, "api-key"), "w") as f:
                f.write("the-key\n")
            with open(os.path.join(d, "endpoint.json"), "w") as f:
                json.dump({"url": f"http://127.0.0.1:{port}", "pid": os.getpid(),
                           "api_key_file": os.path.join(d, "api-key")}, f)
            c = Magpie(timeout=5)
            self.assertEqual(c.base_url, f"http://127.0.0.1:{port}")
            self.assertEqual(c._endpoint.api_key, "the-key")
            with self.assertRaises(ConnectionError) as cm:
                c.jobs.list()
            self.assertIn(os.path.join(d, "endpoint.json"), str(cm.exception))
            self.assertIn("connection refused", str(cm.exception))


class DiscoveryTest(unittest.TestCase):
    """The client finds a running app through endpoint.json (no key in the app's environment)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls._tmp = tempfile.TemporaryDirectory(prefix="magpie-discovery-")
        cls.xdg = os.path.join(cls._tmp.name, "xdg")
        cls.app = harness.App(api_key=None, data_dir=os.path.join(cls.xdg, "magpie-desktop"))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.app.stop()
        cls._tmp.cleanup()

    def test_endpoint_json(self) -> None:
        with open(os.path.join(self.app.data_dir, "endpoint.json")) as f:
            info = json.load(f)
        self.assertEqual(magpie._config.normalize_base_url(info["url"]), self.app.url)
        self.assertTrue(os.path.isfile(info["api_key_file"]))

    def test_magpie_data_dir(self) -> None:
        with clean_env(MAGPIE_DATA_DIR=self.app.data_dir, HOME=self._tmp.name):
            c = Magpie()
            self.assertEqual(c.base_url, self.app.url)
            self.assertIsInstance(c.jobs.list().total, int)

    def test_xdg_data_home(self) -> None:
        with clean_env(XDG_DATA_HOME=self.xdg, HOME=self._tmp.name):
            c = Magpie()
            self.assertEqual(c.base_url, self.app.url)
            c.workspaces.list()

    def test_home_default(self) -> None:
        home = os.path.join(self._tmp.name, "home")
        os.makedirs(os.path.join(home, ".local", "share"), exist_ok=True)
        link = os.path.join(home, ".local", "share", "magpie-desktop")
        if not os.path.exists(link):
            os.symlink(self.app.data_dir, link)
        with clean_env(HOME=home):
            self.assertEqual(Magpie().base_url, self.app.url)
            Magpie().jobs.list(limit=1)

    def test_env_url_and_key_and_url_forms(self) -> None:
        with open(os.path.join(self.app.data_dir, "endpoint.json")) as f:
            key_file = json.load(f)["api_key_file"]
        with open(key_file) as f:
            key = f.read().strip()
        for url in (self.app.url, self.app.url + "/", self.app.url + "/api/v1", self.app.url + "/api/v1/"):
            with self.subTest(url=url), clean_env(MAGPIE_BASE_URL=url, MAGPIE_API_KEY=key,
                                                  HOME=self._tmp.name):
                self.assertEqual(Magpie().jobs.list(limit=1).limit, 1)
                self.assertEqual(Magpie(api_key=key, base_url=url).base_url, self.app.url)
        with clean_env(MAGPIE_BASE_URL=self.app.url, MAGPIE_API_KEY="wrong", HOME=self._tmp.name):
            with self.assertRaises(AuthenticationError):
                Magpie().jobs.list()
            # an explicit argument wins over the environment
            Magpie(api_key=key).jobs.list()


class JobsApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()

    def test_create_follow_wait_get_list_logs(self) -> None:
        c = self.client
        script = ("echo out-1; echo err-1 >&2; sleep 3; printf 'caf\\xc3\\xa9 '; echo out-2; "
                  "echo \"K=$MY_VAR\"; echo err-2 >&2; exit 3")
        t0 = time.monotonic()
        job = c.jobs.create("follow me", script, env={"MY_VAR": "v a l"}, memory_mb=512, vcpus=1, timeout=300)
        self.assertLess(time.monotonic() - t0, 10, "create returns at once")
        self.assertTrue(job.request_id)
        self.assertIn(job.status, ("queued", "running"))
        self.assertEqual(job.name, "follow me")
        self.assertFalse(job.stateful)
        self.assertIsNone(job.workspace_id)
        self.assertEqual(job.env, {"MY_VAR": "v a l"})

        seen: List[Tuple[float, str, str]] = []
        for stream, text in c.jobs.follow(job.request_id):
            self.assertIsInstance(text, str)
            seen.append((time.monotonic(), stream, text))
        end = time.monotonic()
        out = "".join(t for _, s, t in seen if s == "stdout")
        err = "".join(t for _, s, t in seen if s == "stderr")
        self.assertEqual(out, "out-1\ncafé out-2\nK=v a l\n")
        self.assertEqual(err, "err-1\nerr-2\n")
        first_out = next(ts for ts, s, t in seen if s == "stdout")
        first_err = next(ts for ts, s, t in seen if s == "stderr")
        self.assertGreater(end - first_out, 2, "stdout arrived while the job ran")
        self.assertGreater(end - first_err, 2, "stderr arrived while the job ran")

        done = c.jobs.wait(job.request_id)
        self.assertEqual(done.status, "failed")
        self.assertEqual(done.exit_code, 3)
        self.assertIsNone(done.error)
        self.assertEqual(done.stdout, out)
        self.assertEqual(done.stderr, err)
        self.assertTrue(done.finished)
        self.assertFalse(done.ok)
        got = c.jobs.get(job.request_id)
        self.assertEqual(got.status, "failed")
        self.assertEqual(got.stdout_bytes, len(out.encode()))
        self.assertEqual(got.stderr_bytes, len(err.encode()))
        self.assertEqual(got.script, script)
        self.assertEqual(c.jobs.logs(job.request_id), out)
        self.assertEqual(c.jobs.logs(job.request_id, stream="stderr"), err)
        self.assertEqual(c.jobs.logs(job.request_id, offset=6), out[6:])
        page = c.jobs.read_logs(job.request_id, "stdout", 0)
        self.assertTrue(page.complete)
        self.assertEqual(page.job_status, "failed")
        self.assertEqual(page.next_offset, len(out.encode()))
        bchunks = list(c.jobs.follow(job.request_id, decode=False))
        self.assertEqual(b"".join(b for s, b in bchunks if s == "stdout"), out.encode())

        listed = c.jobs.list(status="failed", limit=100)
        self.assertIn(job.request_id, [j.request_id for j in listed])
        self.assertGreaterEqual(listed.total, 1)
        self.assertTrue(all(j.status == "failed" for j in listed))
        one = c.jobs.list(limit=1, offset=0)
        self.assertEqual(len(one), 1)
        self.assertEqual(one.limit, 1)
        self.assertTrue(one[0].script, "list items carry the script (issue 8: Magpie Cloud's Job model requires it)")
        self.assertIn(job.request_id, [j.request_id for j in c.jobs.iter(status="failed", page_size=2)])
        with self.assertRaises(ValidationError):
            c.jobs.list(status="bogus")

    def test_run_and_wait_positional_and_wait_timeout(self) -> None:
        r = self.client.jobs.run_and_wait("positional", "echo $((6*7))", network=False, wait_timeout=300)
        self.assertEqual((r.status, r.exit_code, r.stdout, r.stderr), ("completed", 0, "42\n", ""))
        self.assertFalse(r.network)
        self.assertTrue(r.ok)
        self.assertEqual(r.to_dict()["request_id"], r.request_id)


class WorkspaceFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()
        cls.blob = bytes(range(256)) * 9
        r = cls.client.jobs.run_and_wait(
            name="files", stateful=True, workspace_id="files-ws", workspace_size_gb=1,
            script="mkdir -p /workspace/sub/deeper && echo hello > /workspace/sub/hello.txt && "
                   "head -c 2304 /dev/zero > /workspace/zeros.bin && "
                   "python3 -c \"import sys; sys.stdout.buffer.write(bytes(range(256))*9)\" > /workspace/blob.bin")
        assert r.status == "completed", (r.status, r.stderr, r.error)

    def test_list_get_files_download(self) -> None:
        c = self.client
        ws = c.workspaces.get("files-ws")
        self.assertEqual(ws.id, "files-ws")
        self.assertEqual(ws.size_gb, 1)
        self.assertEqual(ws.job_count, 1)
        self.assertIsInstance(ws.used_bytes, int)
        self.assertTrue(ws.last_used_at)
        listed = {w.id: w for w in c.workspaces.list()}
        self.assertIn("files-ws", listed)
        self.assertEqual(listed["files-ws"].size_gb, 1)

        root = {e.name: e for e in c.workspaces.files("files-ws")}
        self.assertEqual(root["sub"].type, "dir")
        self.assertTrue(root["sub"].is_dir)
        self.assertEqual((root["blob.bin"].type, root["blob.bin"].size), ("file", len(self.blob)))
        sub = {e.name: e for e in c.workspaces.files("files-ws", "sub")}
        self.assertEqual(sub["hello.txt"].size, 6)
        self.assertEqual(sub["hello.txt"].path, "sub/hello.txt")
        self.assertEqual(sub["deeper"].type, "dir")

        with tempfile.TemporaryDirectory() as d:
            written = c.workspaces.download("files-ws", "blob.bin", d)
            self.assertEqual(written, os.path.join(d, "blob.bin"))
            with open(written, "rb") as f:
                self.assertEqual(f.read(), self.blob)
            target = os.path.join(d, "renamed.txt")
            self.assertEqual(c.workspaces.download("files-ws", "sub/hello.txt", target), target)
            with open(target, "rb") as f:
                self.assertEqual(f.read(), b"hello\n")
            buf = io.BytesIO()
            c.workspaces.download("files-ws", "sub/hello.txt", buf)
            self.assertEqual(buf.getvalue(), b"hello\n")
            with self.assertRaises(NotFoundError):
                c.workspaces.download("files-ws", "missing.txt", os.path.join(d, "missing.txt"))
            self.assertFalse(os.path.exists(os.path.join(d, "missing.txt")))
            self.assertEqual(sorted(os.listdir(d)), ["blob.bin", "renamed.txt"], "no temp files left")

        for bad in ("../etc/passwd", "/etc/passwd", "sub/../../x"):
            with self.subTest(path=bad):
                with self.assertRaises(ValidationError) as cm:
                    c.workspaces.files("files-ws", bad)
                self.assertEqual((cm.exception.status, cm.exception.code), (422, "invalid_path"))
        with self.assertRaises(NotFoundError):
            c.workspaces.files("files-ws", "sub/hello.txt")  # not a folder

    def test_size_of_an_existing_workspace_gives_a_notice(self) -> None:
        job = self.client.jobs.create(name="resize?", script="true", stateful=True, workspace_id="files-ws",
                                      workspace_size_gb=3)
        self.assertTrue(job.notice, job.raw)
        self.assertIn("workspace_size_gb", job.notice or "")
        self.assertEqual(job.workspace_size_gb, 1)
        final = self.client.jobs.wait(job.request_id, timeout=300)
        self.assertEqual(final.status, "completed")
        self.assertEqual(final.notice, job.notice)


if __name__ == "__main__":
    unittest.main()
