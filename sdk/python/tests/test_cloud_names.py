"""Magpie Cloud's names in our SDK (issue 8, item 8), against a real headless Magpie Desktop.

A script written in the official Magpie Cloud SDK's style (``Magpie(api_key=...)``, then
``client.base_url = ...``, ``run_and_wait(..., environment=...)``, ``result.success``,
``result.logs``, ``get_status``, ``get_logs``, ``get_result``, ``run`` + ``wait_for_completion``)
runs in its own Python process with only this package on its path and no way to discover the app;
a script in our seed-guide style reads the same jobs with the new names too. VM jobs are few and
each is checked for several things.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from datetime import datetime, timedelta, timezone

import harness
from test_sdk import clean_env

from magpie import (APIError, ConflictError, JobNotFoundError, JobResult, JobStatus, LogEntry, Magpie, NotFoundError,
                    NotSupportedError, ServerError, ValidationError)
from magpie.models import parse_time

UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000"
#: The levels a log entry of each source may carry (docs/api.md, the JSON logs route; the server
#: has named them info/error and, with per-line times, after the stream).
LEVELS = {"stdout": ("info", "stdout"), "stderr": ("error", "stderr")}


def by_source(entries, message: int, source: int):  # type: ignore[no-untyped-def]
    """{source: [messages in order]}: the JSON logs may interleave the streams."""
    out: dict = {}  # type: ignore[type-arg]
    for e in entries:
        out.setdefault(e[source], []).append(e[message])
    return out

# Written as the official SDK's README writes scripts; it prints what it saw as one JSON line.
CLOUD_STYLE_SCRIPT = textwrap.dedent('''
    import json
    import os

    from magpie import Magpie, JobNotFoundError, ValidationError

    client = Magpie(api_key=os.environ["TEST_KEY"])
    client.base_url = os.environ["TEST_URL"]          # after construction, as documented

    result = client.jobs.run_and_wait(
        name="Cloud style",
        script='echo "G=$GREETING"; echo to-stderr >&2',
        description="written for Magpie Cloud",
        environment={"GREETING": "hi there"},
        timeout=600,
    )
    out = {"base_url": client.base_url, "success": result.success, "logs": result.logs,
           "exit_code": result.exit_code, "request_id": result.request_id,
           "error_message": result.error_message, "duration_ms": result.duration_ms,
           "completed_at": str(result.completed_at)}
    status = client.jobs.get_status(result.request_id)
    out["status"] = [status.status, status.logs, status.exit_code, status.duration_ms,
                     status.completed_at.isoformat(), status.completed_at >= status.started_at]
    out["entries"] = [[e.level, e.message, e.source, e.timestamp.year] for e in client.jobs.get_logs(result.request_id)]
    r = client.jobs.get_result(result.request_id)
    out["result"] = [r.success, r.exit_code, r.status, r.logs]
    job = client.jobs.get(result.request_id)
    out["job"] = [job.id, job.name, job.description, job.user_id, job.script, job.environment]
    out["listed"] = [j.id for j in client.jobs.list(page=1, page_size=50)]

    run = client.jobs.run(name="Cloud fail", script="import sys\\nprint('failing')\\nsys.exit(3)",
                          script_type="python")
    final = client.jobs.wait_for_completion(run["request_id"], timeout=600, poll_interval=2)
    failed = client.jobs.get_result(run["request_id"])
    out["fail"] = [run["request_id"], run["status"], final.status, final.exit_code, failed.success,
                   failed.error_message, failed.logs]

    try:
        client.jobs.get_status("%s")
    except JobNotFoundError as e:
        out["not_found"] = str(e)
    try:
        client.jobs.run(name="persist", script="true", persist=True)
    except ValidationError as e:
        out["persist"] = str(e)
    print(json.dumps(out))
''' % UNKNOWN_JOB)


class CloudStyleScriptTest(unittest.TestCase):
    """The official SDK's style, in a fresh interpreter that cannot find the app by itself."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()

    def test_cloud_style_script_runs_unchanged(self) -> None:
        with tempfile.TemporaryDirectory(prefix="magpie-cloud-style-") as home:
            path = os.path.join(home, "cloud_style.py")
            with open(path, "w") as f:
                f.write(CLOUD_STYLE_SCRIPT)
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith("MAGPIE_") and k not in ("XDG_DATA_HOME", "PYTHONPATH")}
            env.update(HOME=home, PYTHONPATH=harness.SDK_DIR, TEST_KEY=self.app.api_key or "",
                       TEST_URL=self.app.url + "/")
            p = subprocess.run([sys.executable, path], capture_output=True, env=env, timeout=1200)
        self.assertEqual(p.returncode, 0, p.stderr.decode("utf-8", "replace"))
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])

        self.assertEqual(out["base_url"], self.app.url)
        self.assertTrue(out["success"], out)
        self.assertEqual(out["exit_code"], 0)
        self.assertEqual(out["logs"], ["G=hi there", "to-stderr"])  # stdout lines, then stderr lines
        self.assertIsNone(out["error_message"])
        self.assertGreater(out["duration_ms"], 0)
        self.assertEqual(parse_time(out["completed_at"]), parse_time(self.client.jobs.get(out["request_id"]).finished_at))

        st_status, st_logs, st_exit, st_duration, st_completed, ordered = out["status"]
        self.assertEqual((st_status, st_logs, st_exit, st_duration), ("completed", ["G=hi there", "to-stderr"], 0,
                                                                      out["duration_ms"]))
        self.assertTrue(ordered)
        self.assertEqual(datetime.fromisoformat(st_completed).tzinfo, timezone.utc)
        self.assertEqual(by_source(out["entries"], message=1, source=2),
                         {"stdout": ["G=hi there"], "stderr": ["to-stderr"]})
        for level, _, source, year in out["entries"]:
            self.assertIn(level, LEVELS[source])
            self.assertGreaterEqual(year, 2026)
        self.assertEqual(out["result"], [True, 0, "completed", ["G=hi there", "to-stderr"]])

        jid, name, description, user_id, script, environment = out["job"]
        self.assertEqual((jid, name, description, user_id), (out["request_id"], "Cloud style",
                                                             "written for Magpie Cloud", "local"))
        self.assertIn("$GREETING", script)
        self.assertEqual(environment, {"GREETING": "hi there"})
        self.assertIn(out["request_id"], out["listed"])

        fid, posted, final, code, success, message, flogs = out["fail"]
        self.assertEqual(posted, "not_started")  # the POST reply speaks Magpie Cloud's words
        self.assertEqual((final, code, success), ("failed", 3, False))
        self.assertIn("3", message)
        self.assertEqual(flogs, ["failing"])
        self.assertIn("404", out["not_found"])
        self.assertIn("422", out["persist"])
        self.assertIn("persist", out["persist"])

        # The same jobs through our own names; then the CLI's new verbs on the failed one.
        ours = self.client.jobs.get(fid)
        self.assertEqual((ours.status, ours.exit_code, ours.script_type, ours.error), ("failed", 3, "python", None))
        self.assertFalse(ours.success)
        cli = [sys.executable, "-m", "magpie", "--url", self.app.url, "--key", self.app.api_key or ""]
        cenv = dict(os.environ, PYTHONPATH=harness.SDK_DIR)
        p = subprocess.run(cli + ["logs", "--json", fid], capture_output=True, env=cenv, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = json.loads(p.stdout)
        self.assertEqual([(e["message"], e["source"]) for e in data["logs"]], [("failing", "stdout")])
        p = subprocess.run(cli + ["logs", "--json", "-f", fid], capture_output=True, env=cenv, timeout=120)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run(cli + ["delete", fid], capture_output=True, env=cenv, timeout=120)
        self.assertEqual((p.returncode, p.stdout.decode().strip()), (0, f"deleted {fid}"), p.stderr)
        with self.assertRaises(JobNotFoundError):
            self.client.jobs.get(fid)
        p = subprocess.run(cli + ["delete", fid], capture_output=True, env=cenv, timeout=120)
        self.assertEqual(p.returncode, 1)
        self.assertIn("404", p.stderr.decode())


class CliCloudFieldsTest(unittest.TestCase):
    def test_run_type_python_and_description(self) -> None:
        app = harness.shared_app()
        cli = [sys.executable, "-m", "magpie", "--url", app.url, "--key", app.api_key or ""]
        env = dict(os.environ, PYTHONPATH=harness.SDK_DIR)
        p = subprocess.run(cli + ["run", "--type", "python", "--description", "from the CLI", "--name", "py", "-"],
                           input=b"import sys\nprint('py', sys.version_info[0])\nsys.exit(4)\n",
                           capture_output=True, env=env, timeout=600)
        self.assertEqual((p.returncode, p.stdout), (4, b"py 3\n"), p.stderr)
        p = subprocess.run(cli + ["run", "--type", "ruby", "-"], input=b"puts 1", capture_output=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 2)  # not a choice: a usage error, nothing sent
        job = [j for j in app.client().jobs.list(limit=20) if j.name == "py"][0]
        p = subprocess.run(cli + ["status", "--json", job.id], capture_output=True, env=env, timeout=60)
        shown = json.loads(p.stdout)
        self.assertEqual((shown["description"], shown["script_type"], shown["exit_code"]), ("from the CLI", "python", 4))


class OurNamesTest(unittest.TestCase):
    """Our seed-guide style, and Magpie Cloud's names on the same results."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()

    def test_seed_guide_style_with_cloud_names(self) -> None:
        c = self.client
        r = c.jobs.run_and_wait(
            name="Initialize Workspace",
            script="echo 'data' > /workspace/file.txt; cat /workspace/file.txt; echo \"E=$E\"; printf 'warn\\r\\n' >&2",
            stateful=True,
            workspace_id="cloud-names-ws",
            workspace_size_gb=1,
            env={"E": "v"},
            environment={"E": "v"},  # both may be given when equal
        )
        # ours
        self.assertEqual((r.status, r.exit_code, r.stdout, r.stderr), ("completed", 0, "data\nE=v\n", "warn\r\n"))
        self.assertTrue(r.ok)
        # Magpie Cloud's names on the same result
        self.assertTrue(r.success)
        self.assertEqual(r.logs, ["data", "E=v", "warn"])
        self.assertIsNone(r.error_message)
        self.assertEqual(r.completed_at, r.finished_at)
        self.assertIsNotNone(r.completed_at)
        self.assertEqual(r.duration, r.duration_ms)
        self.assertGreater(r.duration, 0)
        self.assertEqual(r.environment, {"E": "v"})

        st = c.jobs.get_status(r.id)
        self.assertIsInstance(st, JobStatus)
        self.assertEqual((st.status, st.local_status, st.logs, st.exit_code, st.workspace_id),
                         ("completed", "completed", r.logs, 0, "cloud-names-ws"))
        self.assertEqual(st.completed_at, parse_time(r.finished_at))
        self.assertEqual(st.duration_ms, r.duration_ms)
        entries = c.jobs.get_logs(r.id)
        self.assertTrue(all(isinstance(e, LogEntry) for e in entries))
        self.assertEqual(by_source([(e.message, e.source) for e in entries], message=0, source=1),
                         {"stdout": ["data", "E=v"], "stderr": ["warn"]},
                         "JSON log lines come without their line break, CRLF included, as /status's logs")
        created, finished = parse_time(r.created_at), parse_time(r.finished_at)
        assert created is not None and finished is not None
        for e in entries:
            self.assertIn(e.level, LEVELS[e.source or ""])
            assert e.timestamp is not None
            self.assertTrue(created - timedelta(seconds=1) <= e.timestamp <= finished + timedelta(seconds=1), e)
        res = c.jobs.get_result(r.id)
        self.assertIsInstance(res, JobResult)
        self.assertEqual((res.success, res.exit_code, res.logs, res.request_id), (True, 0, r.logs, r.id))
        self.assertEqual(c.jobs.wait_for_completion(r.id, timeout=60).status, "completed")
        # send_command: the workspace of job r (from /details), a new job on it.
        n = c.jobs.send_command(r.id, "cat /workspace/file.txt")
        self.assertEqual((n.stateful, n.workspace_id), (True, "cloud-names-ws"))
        self.assertEqual(c.jobs.wait(n.id, timeout=600).logs, ["data"])

        # Paging: page/page_size and the cursor walk see the same jobs as one big page.
        everything = [j.id for j in c.jobs.list(limit=500)]
        self.assertIn(r.id, everything)
        self.assertEqual([j.id for j in c.jobs.iter(page_size=1)], everything)
        first = c.jobs.list(page=1, page_size=1)
        self.assertEqual([j.id for j in first], everything[:1])
        if len(everything) > 1:
            self.assertEqual([j.id for j in c.jobs.list(page=2, page_size=1)], everything[1:2])
            self.assertTrue(first.next_cursor)

        # Deleting the finished job: record and logs go, the workspace stays.
        self.assertEqual(c.jobs.delete(r.id), r.id)
        for call in (lambda: c.jobs.get(r.id), lambda: c.jobs.get_status(r.id), lambda: c.jobs.delete(r.id)):
            with self.assertRaises(JobNotFoundError) as cm:
                call()
            self.assertIsInstance(cm.exception, NotFoundError)
            self.assertEqual(cm.exception.status, 404)
        self.assertNotIn(r.id, [j.id for j in c.jobs.list(limit=500)])
        self.assertEqual(c.workspaces.get("cloud-names-ws").id, "cloud-names-ws")
        c.workspaces.delete("cloud-names-ws")

    def test_delete_of_an_unfinished_job_is_a_conflict(self) -> None:
        c = self.client
        job = c.jobs.create(name="busy", script="sleep 120")
        try:
            with self.assertRaises(ConflictError) as cm:
                c.jobs.delete(job.id)
            self.assertEqual((cm.exception.status, cm.exception.code), (409, "conflict"))
            self.assertIn(c.jobs.get(job.id).status, ("queued", "running"), "nothing was deleted")
        finally:
            c.jobs.cancel(job.id)
        self.assertEqual(c.jobs.wait(job.id, timeout=120, output=False).status, "cancelled")
        self.assertEqual(c.jobs.delete(job.id), job.id)

    def test_validation_not_supported_and_env_conflicts_without_vms(self) -> None:
        c = self.client
        before = c.jobs.list(limit=1).total
        with self.assertRaises(ValueError):
            c.jobs.create(name="x", script="true", env={"A": "1"}, environment={"A": "2"})
        with self.assertRaises(ValueError):
            c.jobs.run(name="x", script="true", env={"A": "1"}, environment={"B": "1"})
        for kwargs in ({"persist": True}, {"ip_lease": True}, {"docker_image": "debian:12"}):
            with self.subTest(**kwargs):
                with self.assertRaises(ValidationError) as cm:
                    c.jobs.run(name="cloud only", script="true", **kwargs)
                self.assertEqual((cm.exception.status, cm.exception.code), (422, "not_supported"))
                self.assertIsInstance(cm.exception, APIError)
        with self.assertRaises(ValidationError) as cm:
            c.jobs.create(name="ruby", script="puts 1", script_type="ruby")
        self.assertEqual(cm.exception.status, 422)
        self.assertEqual(c.jobs.list(limit=1).total, before, "rejected requests create no job")

        for path in (f"/jobs/{UNKNOWN_JOB}/vm-info", "/job-templates"):
            with self.subTest(path=path):
                with self.assertRaises(NotSupportedError) as nc:
                    c.request("GET", path)
                e = nc.exception
                self.assertEqual((e.status, e.code), (501, "not_supported"))
                self.assertIsInstance(e, ServerError)
                self.assertIn("Magpie Cloud", e.message)
        with self.assertRaises(JobNotFoundError):
            c.jobs.get_logs(UNKNOWN_JOB)
        with self.assertRaises(NotFoundError) as nf:
            c.workspaces.get("no-such-workspace")
        self.assertNotIsInstance(nf.exception, JobNotFoundError)

    def test_base_url_and_api_key_assigned_after_construction(self) -> None:
        with tempfile.TemporaryDirectory() as d, clean_env(HOME=d):
            client = Magpie(api_key=self.app.api_key)
            self.assertIsNone(client.base_url)  # nothing to discover here
            client.base_url = self.app.url + "/api/v1/"
            self.assertEqual(client.base_url, self.app.url)
            self.assertIsInstance(client.jobs.list(limit=1).total, int)
            with self.assertRaises(ValueError):
                client.base_url = "ftp://127.0.0.1:1"
            self.assertEqual(client.base_url, self.app.url, "a rejected value changes nothing")
            client.api_key = "wrong"
            with self.assertRaises(APIError) as cm:
                client.jobs.list()
            self.assertEqual(cm.exception.status, 401)
            client.api_key = self.app.api_key
            self.assertEqual(client.api_key, self.app.api_key)
            client.jobs.list(limit=1)
            numbered = Magpie(self.app.api_key, 12)  # Magpie Cloud's Magpie(api_key, timeout)
            self.assertEqual(numbered.timeout, 12.0)


if __name__ == "__main__":
    unittest.main()
