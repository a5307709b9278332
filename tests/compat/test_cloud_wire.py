"""A client written from Magpie Cloud's wire format (issue 8), not from our SDK: Python's
standard library only, the headers, routes, polling and parsing the official SDK 0.1.x uses.
It drives the real `magpie-desktop --headless` binary with real VMs: the five flows of the seed
guide through /status polling, environment reaching the script, python jobs, JSON logs, job
objects with the fields the official models require, cancel, a failed job, an infrastructure
failure (qemu killed under a running job), a timed-out job, send_command's details-then-post
flow, the 501 routes and the 422s.

With MAGPIE_COMPAT_BACKEND=slurm the same flows run against `--backend slurm` on the two-node
test cluster that tests/slurm/cluster.sh starts (issue 13: scripts do not change with the backend).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BIN = os.environ.get("MAGPIE_DESKTOP_BIN", "")
BACKEND = os.environ.get("MAGPIE_COMPAT_BACKEND", "local")
HERE = os.path.dirname(os.path.abspath(__file__))
FINAL = ("completed", "failed", "error", "cancelled")
STATUSES = ("not_started", "in_progress", "completed", "failed", "cancelled", "error")
JOB_REQUIRED = ("id", "name", "script", "created_at", "updated_at", "user_id")


class APIError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class CloudStyleClient:
    """What the official SDK does on the wire (client.base_url set after construction)."""

    def __init__(self, api_key):
        self.api_key = api_key
        self.base_url = "https://api.magpiecloud.example"  # replaced, as users do

    def _request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url.rstrip("/") + "/api/v1" + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json",
            "User-Agent": "Magpie-SDK/0.1.0"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                raw = r.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise APIError(e.code, parsed) from None

    def create(self, name, script, description=None, script_type="inline", vcpus=2, memory_mb=512, environment=None,
               stateful=False, workspace_id=None, workspace_size_gb=None, **extra):
        body = {"name": name, "script": script, "type": script_type, "vcpus": vcpus, "memory_mb": memory_mb,
                "environment": environment or {}, "stateful": stateful, "persist": False, "ip_lease": False}
        for k, v in (("description", description), ("workspace_id", workspace_id), ("workspace_size_gb", workspace_size_gb)):
            if v is not None:
                body[k] = v
        body.update(extra)
        return self._request("POST", "/jobs", body)

    def get_status(self, request_id):
        s = self._request("GET", f"/jobs/{request_id}/status")
        # The official JobStatus model: required strings, optional typed fields.
        assert isinstance(s["request_id"], str) and isinstance(s["status"], str), s
        assert s["status"] in STATUSES, s
        assert isinstance(s.get("logs", []), list)
        for k in ("duration", "script_duration_ms", "exit_code"):
            assert s.get(k) is None or isinstance(s[k], (int, float)), (k, s)
        for k in ("started_at", "completed_at"):
            if s.get(k):
                time_of(s[k])
        return s

    def run_and_wait(self, poll=2.0, wait_s=900, **kw):
        job = self.create(**kw)
        rid = job["request_id"]
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            s = self.get_status(rid)
            if s["status"] in FINAL:
                s["success"] = s["status"] == "completed" and s.get("exit_code") in (0, None)
                return s
            time.sleep(poll)
        raise AssertionError(f"job {rid} did not finish in {wait_s} s")

    def get_logs(self, request_id):
        return self._request("GET", f"/jobs/{request_id}/logs")["logs"]


def time_of(text):
    # ISO-8601 with milliseconds and Z, as the server writes it.
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", text), text


def qemu_pids_with(marker):
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "qemu-system" in cmd and marker in cmd:
            pids.append(int(p))
    return pids


@unittest.skipUnless(BIN and os.path.exists(BIN), "MAGPIE_DESKTOP_BIN is not set")
class CloudWireFormat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="magpie-compat-")
        data = os.path.join(cls.tmp, "data")
        env = dict(os.environ, MAGPIE_ACCEL=os.environ.get("MAGPIE_ACCEL", "tcg"))
        env.pop("MAGPIE_API_KEY", None)
        args = [BIN, "--headless", "--data-dir", data, "--listen", "127.0.0.1:0", "--max-parallel", "2"]
        if BACKEND == "slurm":
            args += cls.start_slurm(env)
        cls.proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
        line = cls.proc.stdout.readline().decode().strip()
        m = re.match(r"^listening on (http://127\.0\.0\.1:\d+)$", line)
        assert m, line
        with open(os.path.join(data, "api-key")) as f:
            key = f.read().strip()
        cls.c = CloudStyleClient(key)
        cls.c.base_url = m.group(1)  # the documented way: set after construction

    @classmethod
    def start_slurm(cls, env):
        """Starts the test cluster (idempotent) and returns the server's backend arguments."""
        base = os.environ.get("MAGPIE_SLURM_BASE", "/tmp/magpie-slurm-test")
        env["SLURM_CONF"] = os.path.join(base, "etc", "slurm.conf")
        # The nodes restore VMs saved on this machine (as TestSlurm does) instead of booting.
        env.setdefault("MAGPIE_SLURM_SNAPSHOT_DIR", os.environ.get(
            "MAGPIE_SNAPSHOT_DIR", os.path.expanduser("~/.cache/magpie-desktop/snapshots")))
        started = subprocess.run(["bash", os.path.join(HERE, "..", "slurm", "cluster.sh"), "start"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        assert started.returncode == 0, "tests/slurm/cluster.sh start failed:\n" + started.stdout.decode(errors="replace")
        shared = os.path.join(cls.tmp, "shared")
        os.makedirs(shared)
        return ["--backend", "slurm", "--slurm-shared", shared, "--slurm-partition", "debug"]

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            cls.proc.wait(60)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def out(self, status):
        return "\n".join(status["logs"])

    # ---------------------------------------------------------------- the seed guide
    def test_1_option1_auto_workspace_id(self):
        r1 = self.c.run_and_wait(name="Initialize Workspace", script="echo 'data' > /workspace/file.txt", stateful=True,
                                 workspace_size_gb=5)
        self.assertTrue(r1["success"], r1)
        ws = r1["request_id"]
        r2 = self.c.run_and_wait(name="Read Workspace", script="cat /workspace/file.txt", stateful=True, workspace_id=ws)
        self.assertTrue(r2["success"], r2)
        self.assertIn("data", r2["logs"])

    def test_2_option2_custom_workspace_id(self):
        self.c.run_and_wait(name="Init", script="echo 'hello' > /workspace/greeting.txt", stateful=True,
                            workspace_id="my-project-workspace", workspace_size_gb=10)
        r = self.c.run_and_wait(name="Greet", script="cat /workspace/greeting.txt", stateful=True, workspace_id="my-project-workspace")
        self.assertEqual(r["status"], "completed")
        self.assertIn("hello", r["logs"])

    def test_3_iterative_processing(self):
        # The guide's pipeline without the internet: the data arrives from the script itself.
        a = self.c.run_and_wait(name="Download", script="printf 'a,1\\nb,2\\n' > /workspace/data.csv", stateful=True,
                                workspace_id="data-pipeline")
        b = self.c.run_and_wait(name="Process", script="python3 -c \"import csv; rows=list(csv.reader(open('/workspace/data.csv')));"
                                " open('/workspace/results.csv','w').write(str(sum(int(r[1]) for r in rows)))\"",
                                stateful=True, workspace_id="data-pipeline")
        c = self.c.run_and_wait(name="Upload", script="echo total=$(cat /workspace/results.csv)", stateful=True,
                                workspace_id="data-pipeline")
        self.assertTrue(a["success"] and b["success"] and c["success"], (a, b, c))
        self.assertIn("total=3", c["logs"])

    def test_4_counter(self):
        script = """
        if [ -f /workspace/counter ]; then COUNT=$(cat /workspace/counter); else COUNT=0; fi
        COUNT=$((COUNT + 1))
        echo $COUNT > /workspace/counter
        echo "Counter is now: $COUNT"
        """
        for i in range(5):
            r = self.c.run_and_wait(name=f"Increment {i + 1}", script=script, stateful=True, workspace_id="counter-demo")
            self.assertTrue(r["success"], r)
            self.assertIn(f"Counter is now: {i + 1}", r["logs"])
            # Where it ran: this machine's QEMU, or a node of the Slurm cluster.
            job = self.c._request("GET", f"/jobs/{r['request_id']}")
            self.assertEqual(job["backend"], BACKEND, job)
            if BACKEND == "slurm":
                self.assertIn(job["node"], ("n1", "n2"), job)

    def test_5_build_cache(self):
        first = self.c.run_and_wait(name="Initial Build", stateful=True, workspace_id="build-cache", workspace_size_gb=2, script="""
            mkdir -p /workspace/repo/node_modules && cd /workspace/repo
            echo cached > node_modules/.installed; echo built-1 > build.out; cat build.out""")
        again = self.c.run_and_wait(name="Rebuild", stateful=True, workspace_id="build-cache", script="""
            cd /workspace/repo && test -f node_modules/.installed && echo "cache hit" """)
        self.assertIn("built-1", first["logs"])
        self.assertIn("cache hit", again["logs"])

    # ---------------------------------------------------------------- fields and results
    def test_environment_python_and_json_logs(self):
        r = self.c.run_and_wait(name="env", script='echo "G=$GREETING"; echo to-stderr >&2', environment={"GREETING": "hi there"},
                                description="checks the environment")
        self.assertIn("G=hi there", r["logs"])
        self.assertIn("to-stderr", r["logs"])
        self.assertLess(r["logs"].index("G=hi there"), r["logs"].index("to-stderr"), "stdout lines come first")
        entries = self.c.get_logs(r["request_id"])
        for e in entries:
            self.assertEqual(set(e), {"timestamp", "level", "message", "source"})
            time_of(e["timestamp"])
        self.assertIn({"source": "stdout", "message": "G=hi there"}, [{"source": e["source"], "message": e["message"]} for e in entries])
        self.assertIn("stderr", [e["source"] for e in entries if e["message"] == "to-stderr"])
        py = self.c.run_and_wait(name="py", script_type="python", script="import sys\nprint('python', sys.version_info[0])")
        self.assertTrue(py["success"], py)
        self.assertIn("python 3", py["logs"])

        # get and list parse as the official Job model does.
        job = self.c._request("GET", f"/jobs/{r['request_id']}")
        for k in JOB_REQUIRED:
            self.assertIn(k, job)
        self.assertEqual(job["user_id"], "local")
        self.assertEqual(job["environment"], {"GREETING": "hi there"})
        self.assertEqual(job["description"], "checks the environment")
        self.assertEqual(job["script_type"], "bash")
        time_of(job["created_at"]), time_of(job["updated_at"])
        listing = self.c._request("GET", "/jobs?page=1&page_size=20")
        self.assertLessEqual(len(listing["jobs"]), 20)
        for j in listing["jobs"]:
            for k in JOB_REQUIRED:
                self.assertIn(k, j, j)
        self.assertIn(py["request_id"], [j["id"] for j in listing["jobs"]])
        page2 = self.c._request("GET", "/jobs?page=2&page_size=1")
        self.assertEqual(page2["jobs"][0]["id"], listing["jobs"][1]["id"])

    def test_failed_timed_out_cancelled(self):
        f = self.c.run_and_wait(name="fails", script="echo before; exit 3")
        self.assertEqual((f["status"], f["exit_code"], f["success"]), ("failed", 3, False))
        t = self.c.run_and_wait(name="slow", script="sleep 120", timeout=3)
        self.assertEqual(t["status"], "failed")
        self.assertIn("timed out", t["error_message"])
        job = self.c.create(name="cancel me", script="echo up; sleep 600")
        rid = job["request_id"]
        while self.c.get_status(rid)["status"] == "not_started":
            time.sleep(1)
        self.c._request("POST", f"/jobs/{rid}/cancel")
        deadline = time.monotonic() + 120
        while self.c.get_status(rid)["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(2)
        self.assertEqual(self.c.get_status(rid)["status"], "cancelled")

    def test_infrastructure_failure_is_error(self):
        # The VM dies under the script (qemu killed): no exit code, status "error".
        job = self.c.create(name="doomed", script="echo up; sleep 600")
        rid = job["request_id"]
        deadline = time.monotonic() + 180
        while "up" not in self.c.get_status(rid)["logs"] and time.monotonic() < deadline:
            time.sleep(1)
        pids = qemu_pids_with(rid)
        self.assertTrue(pids, "no qemu process for the job")
        for p in pids:
            os.kill(p, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while (s := self.c.get_status(rid))["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(2)
        self.assertEqual(s["status"], "error", s)
        self.assertIsNone(s["exit_code"])
        self.assertTrue(s["error_message"])

    def test_send_command_details_then_post(self):
        first = self.c.run_and_wait(name="vm", script="echo one > /workspace/a", stateful=True, workspace_id="cmd-ws")
        details = self.c._request("GET", f"/jobs/{first['request_id']}/details")
        self.assertEqual(details["workspace_id"], "cmd-ws")
        posted = self.c.create(name="command", script="cat /workspace/a", stateful=True, workspace_id=details["workspace_id"])
        self.assertEqual(posted["id"], posted["request_id"])
        self.assertEqual(posted["job_id"], posted["request_id"])
        # The official SDK builds a JobRun from this reply: its status must be one of Cloud's states.
        self.assertIn(posted["status"], ("not_started", "in_progress", "completed", "failed", "cancelled", "error"))
        deadline = time.monotonic() + 300
        while (s := self.c.get_status(posted["job_id"]))["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(2)
        self.assertIn("one", s["logs"])

    # ---------------------------------------------------------------- refusals
    def test_cloud_only_routes_are_501(self):
        for method, path in (("GET", "/jobs/x/vm-info"), ("POST", "/jobs/x/ssh"), ("GET", "/job-templates"),
                             ("POST", "/job-templates"), ("GET", "/proxy-targets"), ("PUT", "/jobs/x"), ("POST", "/jobs/x/run")):
            with self.assertRaises(APIError) as cm:
                self.c._request(method, path, {} if method in ("POST", "PUT") else None)
            self.assertEqual(cm.exception.status, 501, (method, path))
            err = cm.exception.body["error"]
            self.assertEqual(err["code"], "not_supported")
            self.assertIn("is a Magpie Cloud feature; Magpie Desktop runs one-shot VMs", err["message"])

    def test_validation_errors_are_422(self):
        for extra in ({"persist": True}, {"ip_lease": True}, {"docker_image": "ubuntu"}, {"script_type": "ruby"},
                      {"environment": {"A": "1"}, "env": {"A": "2"}}, {"vcpus": 99}):
            with self.assertRaises(APIError) as cm:
                body = dict(extra)
                st = body.pop("script_type", "inline")
                self.c.create(name="bad", script="echo", script_type=st, **body)
            self.assertEqual(cm.exception.status, 422, extra)
            self.assertTrue(cm.exception.body["error"]["message"])
        with self.assertRaises(APIError) as cm:
            self.c._request("GET", "/jobs/00000000-0000-4000-8000-000000000000/status")
        self.assertEqual(cm.exception.status, 404)


if __name__ == "__main__":
    unittest.main()
