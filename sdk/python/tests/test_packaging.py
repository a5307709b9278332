"""``pip install sdk/python`` works offline (no index; with and without build isolation: the
in-tree backend needs nothing but the standard library) and installs the package, its py.typed
marker and the ``magpie`` console script. Needs no app."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import harness


class PackagingTest(unittest.TestCase):
    def test_offline_pip_install(self) -> None:
        for isolation in ([], ["--no-build-isolation"]):
            with self.subTest(isolation=isolation):
                self._install(isolation)

    def _install(self, isolation: list) -> None:
        if importlib.util.find_spec("pip") is None:
            self.fail(f"{sys.executable} has no pip")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "src")
            # Build from a copy so that nothing (build/, *.egg-info) is left in the source tree.
            shutil.copytree(harness.SDK_DIR, src, ignore=shutil.ignore_patterns(
                "tests", "build", "*.egg-info", "__pycache__", "CMakeLists.txt"))
            target = os.path.join(d, "target")
            env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
            env.pop("PIP_FIND_LINKS", None)
            r = subprocess.run([sys.executable, "-m", "pip", "install", *isolation, "--no-index",
                                "--no-deps", "--target", target, src],
                               capture_output=True, text=True, env=env, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(os.path.isfile(os.path.join(target, "magpie", "py.typed")))
            self.assertTrue(os.path.isfile(os.path.join(target, "magpie", "cli.py")))
            script = os.path.join(target, "bin", "magpie")
            self.assertTrue(os.access(script, os.X_OK), os.listdir(target))
            run_env = dict(os.environ, PYTHONPATH=target)
            r = subprocess.run([sys.executable, script, "--version"], capture_output=True, text=True,
                               env=run_env, cwd=d, timeout=60)
            self.assertEqual((r.returncode, r.stdout.strip()), (0, "magpie 0.2.0"), r.stderr)
            r = subprocess.run([sys.executable, "-c", "import magpie, sys; print(magpie.__file__)"],
                               capture_output=True, text=True, env=run_env, cwd=d, timeout=60)
            self.assertTrue(r.stdout.strip().startswith(target), r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
