"""Every Python code block of the seed guide (stateful-jobs-guide.md), run against a real
headless Magpie Desktop with real VMs.

The blocks below are copied verbatim from the guide (``test_00`` checks that against the guide when
it can find it). Before a block runs, only these strings are replaced:

* ``api_key="your-key"`` / ``base_url="http://your-server"`` -> the test app's key and URL;
* the external URLs (``https://example.com/data.csv``, ``https://api.example.com/upload``,
  ``https://github.com/user/repo.git``) -> an HTTP server this test runs on the host loopback,
  which the guest reaches as ``http://10.0.2.2:PORT``;
* in the build-cache example, ``npm install`` / ``npm run build`` -> ``make install`` /
  ``make build`` (the guest has make, not npm; the test repository's Makefile plays npm's part).

Blocks after the first get the ``client`` the first block made, built the same way (key and URL
only). ``python process.py`` needs a ``process.py`` in the workspace: a job before the block writes
it there (jobs start in /workspace).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Dict, List, Optional, Sequence, Tuple

import harness

from magpie import Job, Magpie

# ============================================================================ the guide, verbatim
OPTION_1_AUTO_WORKSPACE = r'''from magpie import Magpie

client = Magpie(api_key="your-key", base_url="http://your-server")

# Job 1: Create workspace (workspace_id will be the request_id)
result1 = client.jobs.run_and_wait(
    name="Initialize Workspace",
    script="echo 'data' > /workspace/file.txt",
    stateful=True,
    workspace_size_gb=5  # Optional, defaults to 10GB
)

workspace_id = result1.request_id  # Use this for subsequent jobs

# Job 2: Reuse the same workspace
result2 = client.jobs.run_and_wait(
    name="Read Workspace",
    script="cat /workspace/file.txt",  # Will show 'data'
    stateful=True,
    workspace_id=workspace_id  # Reuse same workspace
)
'''

OPTION_2_CUSTOM_WORKSPACE = r'''# Job 1: Create with custom ID
result1 = client.jobs.run_and_wait(
    name="Init",
    script="echo 'hello' > /workspace/greeting.txt",
    stateful=True,
    workspace_id="my-project-workspace",  # Custom ID
    workspace_size_gb=10
)

# Job 2: Reuse by custom ID
result2 = client.jobs.run_and_wait(
    name="Greet",
    script="cat /workspace/greeting.txt",
    stateful=True,
    workspace_id="my-project-workspace"  # Same custom ID
)
'''

USE_CASE_1_DATA_PROCESSING = r'''# Step 1: Download data
client.jobs.run_and_wait(
    name="Download",
    script="curl https://example.com/data.csv > /workspace/data.csv",
    stateful=True,
    workspace_id="data-pipeline"
)

# Step 2: Process data
client.jobs.run_and_wait(
    name="Process",
    script="python process.py /workspace/data.csv > /workspace/results.csv",
    stateful=True,
    workspace_id="data-pipeline"
)

# Step 3: Upload results
client.jobs.run_and_wait(
    name="Upload",
    script="curl -X POST -F file=@/workspace/results.csv https://api.example.com/upload",
    stateful=True,
    workspace_id="data-pipeline"
)
'''

USE_CASE_2_COUNTER = r'''workspace_id = "counter-demo"

for i in range(5):
    result = client.jobs.run_and_wait(
        name=f"Increment {i+1}",
        script="""
        # Read current counter
        if [ -f /workspace/counter ]; then
            COUNT=$(cat /workspace/counter)
        else
            COUNT=0
        fi

        # Increment
        COUNT=$((COUNT + 1))
        echo $COUNT > /workspace/counter
        echo "Counter is now: $COUNT"
        """,
        stateful=True,
        workspace_id=workspace_id
    )
    print(f"Run {i+1} completed")
'''

USE_CASE_3_BUILD_CACHE = r'''# First build - slow
client.jobs.run_and_wait(
    name="Initial Build",
    script="""
    cd /workspace
    git clone https://github.com/user/repo.git
    cd repo
    npm install
    npm run build
    """,
    stateful=True,
    workspace_id="build-cache",
    workspace_size_gb=20
)

# Subsequent builds - fast (node_modules cached)
client.jobs.run_and_wait(
    name="Rebuild",
    script="""
    cd /workspace/repo
    git pull
    npm run build
    """,
    stateful=True,
    workspace_id="build-cache"
)
'''

API_PARAMETERS = r'''client.jobs.run_and_wait(
    name="Job Name",
    script="your script",
    stateful=True,              # Required for stateful jobs
    workspace_id="optional-id",  # Optional, defaults to request_id
    workspace_size_gb=10,        # Optional, defaults to 10GB
)
'''

SEED_BLOCKS = [OPTION_1_AUTO_WORKSPACE, OPTION_2_CUSTOM_WORKSPACE, USE_CASE_1_DATA_PROCESSING, USE_CASE_2_COUNTER,
               USE_CASE_3_BUILD_CACHE, API_PARAMETERS]
# ================================================================================================

SEED_NAME = "stateful-jobs-guide.md"

#: What the data pipeline downloads.
DATA_CSV = b"city,visits,revenue\nlisbon,3,12.5\nporto,5,7.25\nlisbon,4,10\nfaro,1,3\nporto,2,4.75\n"

#: The process.py the pipeline runs (``python process.py /workspace/data.csv > results.csv``).
PROCESS_PY = '''\
import csv
import sys

totals = {}
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        t = totals.setdefault(row["city"], [0, 0.0])
        t[0] += int(row["visits"])
        t[1] += float(row["revenue"])
out = csv.writer(sys.stdout, lineterminator="\\n")
out.writerow(["city", "visits", "revenue"])
for city in sorted(totals):
    out.writerow([city, totals[city][0], "%.2f" % totals[city][1]])
'''

MAKEFILE = (
    ".PHONY: install build\n"
    "install: node_modules/.installed\n"
    "node_modules/.installed: package.txt\n"
    "\t@echo \"installing dependencies\"\n"
    "\t@mkdir -p node_modules && cp package.txt node_modules/ && touch $@\n"
    "build: node_modules/.installed\n"
    "\t@mkdir -p dist && cp src/version.txt dist/ && echo \"built version $$(cat src/version.txt)\"\n"
)


def find_guide() -> Optional[str]:
    cands = [os.environ.get("MAGPIE_SEED_GUIDE", "")]
    d = harness.REPO_DIR
    for _ in range(3):
        cands.append(os.path.join(d, "shared", "seed", SEED_NAME))
        d = os.path.dirname(d)
    for c in cands:
        if c and os.path.isfile(c):
            return c
    return None


def adapt(code: str, subs: Sequence[Tuple[str, str]]) -> str:
    for old, new in subs:
        if old not in code:
            raise AssertionError(f"seed block no longer contains {old!r}")
        code = code.replace(old, new)
    return code


def describe(job: Job) -> str:
    return (f"job {job.request_id} {job.name!r}: status={job.status} exit={job.exit_code} error={job.error!r}\n"
            f"--- stdout ---\n{job.stdout}\n--- stderr ---\n{job.stderr}")


class SeedGuideTest(unittest.TestCase):
    app: harness.App
    fixture: harness.Fixture
    client: Magpie
    repo_work: str
    bare: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()
        cls._tmp = tempfile.TemporaryDirectory(prefix="magpie-seed-")
        # A small project in a bare repository, served over git's dumb HTTP protocol.
        cls.repo_work = os.path.join(cls._tmp.name, "work")
        cls.bare = os.path.join(cls._tmp.name, "repo.git")
        os.makedirs(os.path.join(cls.repo_work, "src"))
        with open(os.path.join(cls.repo_work, "Makefile"), "w") as f:
            f.write(MAKEFILE)
        with open(os.path.join(cls.repo_work, "package.txt"), "w") as f:
            f.write("left-pad 1.3.0\n")
        with open(os.path.join(cls.repo_work, "src", "version.txt"), "w") as f:
            f.write("1\n")
        harness.git("init", "-q", "-b", "main", cwd=cls.repo_work)
        harness.git("add", "-A", cwd=cls.repo_work)
        harness.git("commit", "-q", "-m", "v1", cwd=cls.repo_work)
        harness.git("clone", "-q", "--bare", cls.repo_work, cls.bare, cwd=cls._tmp.name)
        harness.git("update-server-info", cwd=cls.bare)
        cls.fixture = harness.Fixture(DATA_CSV, repo_dir=cls.bare)
        u = cls.fixture.guest_url
        cls.url_subs = [
            ("https://example.com/data.csv", f"{u}/data.csv"),
            ("https://api.example.com/upload", f"{u}/upload"),
            ("https://github.com/user/repo.git", f"{u}/repo.git"),
        ]

    @classmethod
    def tearDownClass(cls) -> None:
        cls.fixture.close()
        cls._tmp.cleanup()

    def connection_subs(self) -> List[Tuple[str, str]]:
        return [('api_key="your-key"', f"api_key={self.app.api_key!r}"),
                ('base_url="http://your-server"', f"base_url={self.app.url!r}")]

    def run_block(self, name: str, code: str, ns: Optional[Dict[str, Any]] = None) -> Tuple[Dict[str, Any], str]:
        ns = {"__name__": f"seed_{name}"} if ns is None else ns
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"<{SEED_NAME}: {name}>", "exec"), ns)
        return ns, printed.getvalue()

    def fresh_client_ns(self) -> Dict[str, Any]:
        # What the first block does: a client from api_key and base_url alone.
        return {"__name__": "seed", "client": Magpie(api_key=self.app.api_key, base_url=self.app.url)}

    def assertCompleted(self, job: Job) -> None:
        self.assertEqual(job.status, "completed", describe(job))
        self.assertEqual(job.exit_code, 0, describe(job))
        self.assertIsNone(job.error, describe(job))

    def workspace_jobs(self, workspace_id: str) -> List[Job]:
        page = self.client.jobs.list(workspace_id=workspace_id)
        return sorted(page, key=lambda j: j.created_at or "")

    # ------------------------------------------------------------------------------------ tests
    def test_00_blocks_match_the_guide(self) -> None:
        path = find_guide()
        if not path:
            self.skipTest(f"{SEED_NAME} not found (set MAGPIE_SEED_GUIDE to check the copies against it)")
        with open(path, encoding="utf-8") as f:
            guide_blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        self.assertEqual(guide_blocks, SEED_BLOCKS, "the blocks in this file must be the guide's, verbatim")

    def test_01_option_1_auto_generated_workspace(self) -> None:
        ns, _ = self.run_block("Option 1", adapt(OPTION_1_AUTO_WORKSPACE, self.connection_subs()))
        r1: Job = ns["result1"]
        r2: Job = ns["result2"]
        self.assertCompleted(r1)
        self.assertCompleted(r2)
        self.assertEqual(r1.name, "Initialize Workspace")
        self.assertTrue(r1.request_id)
        self.assertEqual(r1.workspace_id, r1.request_id, "workspace_id defaults to the request_id")
        self.assertEqual(ns["workspace_id"], r1.request_id)
        self.assertEqual(r2.workspace_id, r1.request_id)
        self.assertEqual(r2.stdout, "data\n", describe(r2))
        # The result carries the job's fields.
        for job in (r1, r2):
            for f in ("created_at", "started_at", "finished_at"):
                self.assertRegex(getattr(job, f) or "", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", f)
            self.assertIsInstance(job.duration_ms, int)
            self.assertGreaterEqual(job.duration_ms, 0)
            self.assertIsInstance(job.stderr, str)
            self.assertTrue(job.stateful)
        ws = self.client.workspaces.get(r1.request_id)
        self.assertEqual(ws.size_gb, 5)
        self.assertEqual(ws.job_count, 2)

    def test_02_option_2_custom_workspace_id(self) -> None:
        ns, _ = self.run_block("Option 2", OPTION_2_CUSTOM_WORKSPACE, self.fresh_client_ns())
        r1: Job = ns["result1"]
        r2: Job = ns["result2"]
        self.assertCompleted(r1)
        self.assertCompleted(r2)
        self.assertEqual(r1.workspace_id, "my-project-workspace")
        self.assertEqual(r2.workspace_id, "my-project-workspace")
        self.assertEqual(r2.stdout, "hello\n", describe(r2))
        self.assertEqual(self.client.workspaces.get("my-project-workspace").size_gb, 10)

    def test_03_use_case_1_iterative_data_processing(self) -> None:
        # Not in the guide: put process.py into the workspace (jobs start in /workspace).
        prep = self.client.jobs.run_and_wait(
            name="Write process.py",
            script="cat > /workspace/process.py <<'PY'\n" + PROCESS_PY + "PY\n"
                   "command -v python || echo 'NO python COMMAND IN THE GUEST' >&2\n",
            stateful=True, workspace_id="data-pipeline")
        self.assertCompleted(prep)

        self.run_block("Use case 1", adapt(USE_CASE_1_DATA_PROCESSING, self.url_subs[:2]), self.fresh_client_ns())

        jobs = self.workspace_jobs("data-pipeline")
        self.assertEqual([j.name for j in jobs], ["Write process.py", "Download", "Process", "Upload"])
        download, process, upload = (self.client.jobs.wait(j.request_id) for j in jobs[1:])
        self.assertCompleted(download)
        if process.exit_code == 127 and "python" in (process.stderr or ""):
            self.fail("the guest image has no `python` command (only python3), so the guide's "
                      "`python process.py` cannot run; add python-is-python3 to the image.\n" + describe(process))
        self.assertCompleted(process)
        self.assertCompleted(upload)
        self.assertIn(("GET", "/data.csv"), self.fixture.requests)
        self.assertEqual(len(self.fixture.uploads), 1, self.fixture.requests)
        filename, content = self.fixture.uploads[0]["file"]
        self.assertEqual(filename, "results.csv")
        with tempfile.NamedTemporaryFile("wb", suffix=".csv") as data, \
                tempfile.NamedTemporaryFile("w", suffix=".py") as prog:
            data.write(DATA_CSV)
            data.flush()
            prog.write(PROCESS_PY)
            prog.flush()
            expected = subprocess.run([sys.executable, prog.name, data.name], check=True,
                                      capture_output=True).stdout
        self.assertEqual(content, expected)
        self.assertEqual(expected.splitlines()[1], b"faro,1,3.00")

    def test_04_use_case_2_counter(self) -> None:
        ns, printed = self.run_block("Use case 2", USE_CASE_2_COUNTER, self.fresh_client_ns())
        self.assertEqual(printed.splitlines(), [f"Run {i} completed" for i in range(1, 6)])
        result: Job = ns["result"]
        self.assertCompleted(result)
        self.assertEqual(result.name, "Increment 5")
        self.assertIn("Counter is now: 5", result.stdout or "", describe(result))
        self.assertEqual((result.stdout or "").strip(), "Counter is now: 5")
        jobs = self.workspace_jobs("counter-demo")
        self.assertEqual(len(jobs), 5)
        for i, j in enumerate(jobs, 1):
            self.assertEqual(self.client.jobs.logs(j.request_id), f"Counter is now: {i}\n")

    def test_05_use_case_3_build_cache(self) -> None:
        code = adapt(USE_CASE_3_BUILD_CACHE,
                     self.url_subs[2:] + [("npm install", "make install"), ("npm run build", "make build")])
        first, sep, second = code.partition("# Subsequent builds")
        self.assertTrue(sep, "the build-cache block has two parts")
        ns = self.fresh_client_ns()
        self.run_block("Use case 3 (first build)", first, ns)
        # A new commit upstream, so that `git pull` has something to fetch.
        with open(os.path.join(self.repo_work, "src", "version.txt"), "w") as f:
            f.write("2\n")
        harness.git("commit", "-q", "-am", "v2", cwd=self.repo_work)
        harness.git("push", "-q", self.bare, "main", cwd=self.repo_work)
        harness.git("update-server-info", cwd=self.bare)
        self.run_block("Use case 3 (rebuild)", sep + second, ns)

        jobs = [self.client.jobs.wait(j.request_id) for j in self.workspace_jobs("build-cache")]
        self.assertEqual([j.name for j in jobs], ["Initial Build", "Rebuild"])
        initial, rebuild = jobs
        self.assertCompleted(initial)
        self.assertCompleted(rebuild)
        self.assertIn("installing dependencies", initial.stdout or "", describe(initial))
        self.assertIn("built version 1", initial.stdout or "", describe(initial))
        self.assertIn("built version 2", rebuild.stdout or "", describe(rebuild))
        self.assertNotIn("installing dependencies", rebuild.stdout or "", "node_modules should be cached")
        self.assertEqual(self.client.workspaces.get("build-cache").size_gb, 20)

    def test_06_api_parameters(self) -> None:
        # "your script" is not a command: the job fails with exit code 127 and run_and_wait does not raise.
        self.run_block("API Parameters", API_PARAMETERS, self.fresh_client_ns())
        jobs = self.workspace_jobs("optional-id")
        self.assertEqual(len(jobs), 1)
        job = self.client.jobs.wait(jobs[0].request_id)
        self.assertEqual(job.name, "Job Name")
        self.assertEqual(job.status, "failed", describe(job))
        self.assertEqual(job.exit_code, 127, describe(job))
        self.assertIsNone(job.error, describe(job))
        self.assertIn("your", job.stderr or "")
        self.assertEqual(self.client.workspaces.get("optional-id").size_gb, 10)


if __name__ == "__main__":
    unittest.main()
