"""Workspace lifecycle through the SDK and the CLI (issue 11), against a real headless Magpie
Desktop with real VMs: create, upload and read back, snapshot / restore / delete snapshot, a job's
changes and its rollback, clone, grow (shrinking refused), export → import, delete files, and the
``magpie workspaces …`` / ``magpie jobs …`` verbs."""

from __future__ import annotations

import io
import json
import os
import secrets
import tarfile
import tempfile
import unittest

import harness
from test_cli import Cli, text

from magpie import ConflictError, NotFoundError, ValidationError


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


class WorkspaceOpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.app = harness.shared_app()
        cls.client = cls.app.client()
        cls.tmp = tempfile.mkdtemp(prefix="magpie-ws-ops-")

    def test_upload_snapshot_restore_delete(self) -> None:
        ws = self.client.workspaces
        wid = fresh("sdk-snap")
        ws.create(wid, 1)
        with self.assertRaises(ConflictError):
            ws.create(wid, 1)
        data = os.urandom(50000)
        ws.upload(wid, "dir/sub/blob.bin", data)
        ws.upload(wid, "notes.txt", io.BytesIO(b"first\n"))
        self.assertEqual(ws.read(wid, "dir/sub/blob.bin"), data)
        for bad in ("../escape", "/etc/passwd", ""):
            with self.assertRaises(ValidationError, msg=bad):
                ws.upload(wid, bad, b"x")

        ws.snapshot(wid, "s1")
        with self.assertRaises(ConflictError):
            ws.snapshot(wid, "s1")
        with self.assertRaises(ValidationError):
            ws.snapshot(wid, "bad name/")
        names = [s["name"] for s in ws.snapshots(wid)]
        self.assertIn("s1", names)

        ws.delete_file(wid, "dir")
        with self.assertRaises(ValidationError):
            ws.delete_file(wid, "")  # the root
        with self.assertRaises(NotFoundError):
            ws.read(wid, "dir/sub/blob.bin")
        with self.assertRaises(NotFoundError):
            ws.restore(wid, "no-such-snapshot")
        info = ws.restore(wid, "s1")
        self.assertTrue(str(info.get("safety_snapshot", "")).startswith("before-restore-"), info)
        self.assertEqual(ws.read(wid, "dir/sub/blob.bin"), data)
        ws.delete_snapshot(wid, "s1")
        self.assertNotIn("s1", [s["name"] for s in ws.snapshots(wid)])

    def test_changes_and_rollback(self) -> None:
        ws = self.client.workspaces
        wid = fresh("sdk-roll")
        ws.create(wid, 1)
        ws.upload(wid, "keep.txt", b"one\n")
        ws.upload(wid, "gone.txt", b"precious\n")
        job = self.client.jobs.run_and_wait(
            script="cd /workspace && echo two >> keep.txt && rm gone.txt && printf abc > new.txt",
            workspace_id=wid, stateful=True)
        self.assertEqual(job.exit_code, 0)
        ch = self.client.jobs.changes(job.request_id)
        self.assertEqual([e["path"] for e in ch["added"]], ["new.txt"])
        self.assertEqual([e["path"] for e in ch["modified"]], ["keep.txt"])
        self.assertEqual([e["path"] for e in ch["deleted"]], ["gone.txt"])
        self.assertEqual(ch["added_bytes"], 3)
        self.assertFalse(ch["truncated"])
        info = self.client.jobs.rollback(job.request_id)
        self.assertEqual(info.get("undone_jobs"), 0)
        self.assertEqual(ws.read(wid, "gone.txt"), b"precious\n")
        self.assertEqual(ws.read(wid, "keep.txt"), b"one\n")

    def test_clone_grow_export_import(self) -> None:
        ws = self.client.workspaces
        wid = fresh("sdk-src")
        ws.create(wid, 1)
        ws.upload(wid, "a/b.txt", b"tree\n")
        copy = fresh("sdk-clone")
        ws.clone(wid, copy)
        with self.assertRaises(ConflictError):
            ws.clone(wid, copy)
        ws.upload(copy, "only-in-clone.txt", b"x")
        with self.assertRaises(NotFoundError):
            ws.read(wid, "only-in-clone.txt")

        with self.assertRaises(ValidationError):
            ws.resize(wid, 1)  # not larger
        ws.resize(wid, 2)
        self.assertEqual(ws.get(wid).size_gb, 2)

        archive = os.path.join(self.tmp, f"{wid}.tar.gz")
        self.assertEqual(ws.export(wid, archive), archive)
        with tarfile.open(archive, "r:gz") as t:
            names = [m.name.lstrip("./") for m in t.getmembers()]
        self.assertIn("a/b.txt", names)
        imported = fresh("sdk-imp")
        ws.import_(imported, archive, 1)
        self.assertEqual(ws.read(imported, "a/b.txt"), b"tree\n")
        with self.assertRaises(ConflictError):
            ws.import_(imported, archive, 1)
        evil = os.path.join(self.tmp, "evil.tar.gz")
        with tarfile.open(evil, "w:gz") as t:
            ti = tarfile.TarInfo("../outside.txt")
            ti.size = 1
            t.addfile(ti, io.BytesIO(b"x"))
        with self.assertRaises(ValidationError):
            ws.import_(fresh("sdk-evil"), evil, 1)

    def test_cli_verbs(self) -> None:
        cli = Cli(self.app)
        wid = fresh("cli-ws")
        r = cli.run("workspaces", "create", wid, "--size-gb", "1")
        self.assertEqual(r.returncode, 0, text(r.stderr))
        local = os.path.join(self.tmp, "up.txt")
        with open(local, "wb") as f:
            f.write(b"from the cli\n")
        r = cli.run("workspaces", "upload", wid, local, "docs/up.txt")
        self.assertEqual(r.returncode, 0, text(r.stderr))
        r = cli.run("workspaces", "snapshot", wid, "cli-snap")
        self.assertEqual(r.returncode, 0, text(r.stderr))
        r = cli.run("workspaces", "snapshots", wid, "--json")
        self.assertEqual(r.returncode, 0, text(r.stderr))
        self.assertIn("cli-snap", [s["name"] for s in json.loads(r.stdout)["snapshots"]])
        r = cli.run("workspaces", "rm", wid, "docs/up.txt")
        self.assertEqual(r.returncode, 0, text(r.stderr))
        r = cli.run("workspaces", "restore", wid, "cli-snap")
        self.assertEqual(r.returncode, 0, text(r.stderr))
        self.assertIn("restored", text(r.stdout))
        self.assertEqual(self.client.workspaces.read(wid, "docs/up.txt"), b"from the cli\n")
        r = cli.run("workspaces", "resize", wid, "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("error", text(r.stderr))
        out = os.path.join(self.tmp, "cli.tar.gz")
        r = cli.run("workspaces", "export", wid, out)
        self.assertEqual(r.returncode, 0, text(r.stderr))
        self.assertTrue(tarfile.is_tarfile(out))
        r = cli.run("jobs", "changes", "00000000-0000-4000-8000-000000000000")
        self.assertEqual(r.returncode, 1)
        r = cli.run("workspaces")  # still lists
        self.assertEqual(r.returncode, 0, text(r.stderr))
        self.assertIn(wid, text(r.stdout))


if __name__ == "__main__":
    unittest.main()
