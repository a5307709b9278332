"""The CLI's workspace lifecycle verbs (issue 11), wired into ``magpie`` by :func:`install`:

    magpie workspaces snapshot WS NAME | snapshots WS | restore WS NAME | unsnapshot WS NAME
    magpie workspaces clone WS NEW | resize WS SIZE_GB | create WS [--size-gb N]
    magpie workspaces upload WS LOCAL_FILE [PATH] | rm WS PATH
    magpie workspaces export WS OUT.tar.gz | import NEW ARCHIVE.tar.gz [--size-gb N]
    magpie jobs changes ID | rollback ID [--force]

``magpie workspaces`` alone still lists the workspaces.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Dict, List

from .client import Magpie

__all__ = ["install"]


def _client(args: argparse.Namespace) -> Magpie:
    return Magpie(api_key=args.key, base_url=args.url, timeout=args.request_timeout)


def _human_bytes(n: Any) -> str:
    from .cli import _human_bytes as hb
    return hb(n if isinstance(n, int) else None)


def _out(args: argparse.Namespace, obj: Dict[str, Any], line: str) -> int:
    if getattr(args, "json", False):
        from .cli import _print_json
        _print_json(obj)
    else:
        print(line)
    return 0


# ---------------------------------------------------------------------- workspaces
def cmd_snapshot(args: argparse.Namespace) -> int:
    info = _client(args).workspaces.snapshot(args.workspace, args.name)
    return _out(args, info, f"snapshot {args.name} of {args.workspace} taken")


def cmd_snapshots(args: argparse.Namespace) -> int:
    snaps = _client(args).workspaces.snapshots(args.workspace)
    if args.json:
        return _out(args, {"workspace_id": args.workspace, "snapshots": snaps}, "")
    from .cli import _table
    rows = [[str(s.get("name", "")), str(s.get("created_at") or "-"), str(s.get("job_id") or "-"),
             _human_bytes(s.get("size_bytes"))] for s in snaps]
    _table(rows, ["NAME", "CREATED", "JOB", "SIZE"], sys.stdout)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    info = _client(args).workspaces.restore(args.workspace, args.name)
    safety = info.get("safety_snapshot")
    extra = f" (the state before is kept as snapshot {safety})" if safety else ""
    return _out(args, info, f"{args.workspace} restored to {args.name}{extra}")


def cmd_unsnapshot(args: argparse.Namespace) -> int:
    info = _client(args).workspaces.delete_snapshot(args.workspace, args.name)
    return _out(args, info, f"snapshot {args.name} of {args.workspace} deleted")


def cmd_clone(args: argparse.Namespace) -> int:
    info = _client(args).workspaces.clone(args.workspace, args.new_id)
    return _out(args, info, f"{args.new_id} cloned from {args.workspace}")


def cmd_resize(args: argparse.Namespace) -> int:
    info = _client(args).workspaces.resize(args.workspace, args.size_gb)
    return _out(args, info, f"{args.workspace} is now {args.size_gb} GB")


def cmd_create(args: argparse.Namespace) -> int:
    info = _client(args).workspaces.create(args.workspace, args.size_gb)
    size = info.get("size_gb", args.size_gb)
    return _out(args, info, f"{args.workspace} created" + (f" ({size} GB)" if size else ""))


def cmd_upload(args: argparse.Namespace) -> int:
    client = _client(args)
    target = args.path or os.path.basename(args.local)
    if args.local == "-":
        if not args.path:
            raise ValueError("give the PATH in the workspace when uploading from stdin")
        info = client.workspaces.upload(args.workspace, target, sys.stdin.buffer)
    else:
        info = client.workspaces.upload(args.workspace, target, args.local)
    return _out(args, info, f"uploaded {target} to {args.workspace}")


def cmd_rmfile(args: argparse.Namespace) -> int:
    client = _client(args)
    for path in args.path:
        client.workspaces.delete_file(args.workspace, path)
        print(f"deleted {path} from {args.workspace}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    written = _client(args).workspaces.export(args.workspace, args.out)
    print(written, file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    info = _client(args).workspaces.import_(args.workspace, args.archive, args.size_gb)
    return _out(args, info, f"{args.workspace} imported from {args.archive}")


# ---------------------------------------------------------------------- jobs
def cmd_changes(args: argparse.Namespace) -> int:
    ch = _client(args).jobs.changes(args.id)
    if args.json:
        return _out(args, ch, "")
    for kind, mark in (("added", "A"), ("modified", "M"), ("deleted", "D")):
        for e in ch.get(kind, []):
            print(f"{mark} {_human_bytes(e.get('size')):>10}  {e.get('path')}{'/' if e.get('type') == 'dir' else ''}")
    print(f"{len(ch.get('added', []))} added ({_human_bytes(ch.get('added_bytes'))}), "
          f"{len(ch.get('modified', []))} modified ({_human_bytes(ch.get('modified_bytes'))}), "
          f"{len(ch.get('deleted', []))} deleted ({_human_bytes(ch.get('deleted_bytes'))})"
          + (" - truncated: the job touched more than 100,000 entries" if ch.get("truncated") else ""),
          file=sys.stderr)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    info = _client(args).jobs.rollback(args.id, force=args.force)
    undone = info.get("undone_jobs") or 0
    extra = f"; {undone} later job(s) undone too" if undone else ""
    return _out(args, info, f"{info.get('workspace_id', 'the workspace')} rolled back to before {args.id}{extra}")


# ---------------------------------------------------------------------- parser
def install(ws: argparse.ArgumentParser, add_parser: Callable[..., argparse.ArgumentParser],
            common: argparse.ArgumentParser) -> None:
    """Adds the verbs under ``magpie workspaces`` (``ws``) and a ``magpie jobs`` command."""
    verbs = ws.add_subparsers(dest="ws_command", metavar="VERB")
    verbs.required = False

    def verb(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str, args: List[str]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help)
        for a in args:
            p.add_argument(a, metavar=a.upper())
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
        return p

    verb(verbs, "snapshot", cmd_snapshot, "take a named snapshot", ["workspace", "name"])
    verb(verbs, "snapshots", cmd_snapshots, "list snapshots (named and before-JOB checkpoints)", ["workspace"])
    verb(verbs, "restore", cmd_restore, "put the workspace back as it was at a snapshot", ["workspace", "name"])
    verb(verbs, "unsnapshot", cmd_unsnapshot, "delete a snapshot", ["workspace", "name"])
    verb(verbs, "clone", cmd_clone, "copy a workspace to a new one", ["workspace", "new_id"])
    rs = verb(verbs, "resize", cmd_resize, "grow a workspace's disk", ["workspace"])
    rs.add_argument("size_gb", type=int, metavar="SIZE_GB")
    cr = verb(verbs, "create", cmd_create, "create an empty workspace", ["workspace"])
    cr.add_argument("--size-gb", type=int, default=None)
    up = verb(verbs, "upload", cmd_upload, "copy a local file (or - for stdin) into a workspace", ["workspace", "local"])
    up.add_argument("path", nargs="?", default=None, metavar="PATH", help="where in the workspace (default: its name)")
    rm = verbs.add_parser("rm", parents=[common], help="delete files or folders in a workspace")
    rm.add_argument("workspace", metavar="WORKSPACE")
    rm.add_argument("path", nargs="+", metavar="PATH")
    rm.set_defaults(func=cmd_rmfile)
    verb(verbs, "export", cmd_export, "save the workspace's files as a .tar.gz", ["workspace", "out"])
    im = verb(verbs, "import", cmd_import, "create a workspace from a .tar.gz", ["workspace", "archive"])
    im.add_argument("--size-gb", type=int, default=None)

    jobs = add_parser("jobs", help="what a job changed in its workspace; roll it back")
    jverbs = jobs.add_subparsers(dest="jobs_command", metavar="VERB")
    jverbs.required = True
    verb(jverbs, "changes", cmd_changes, "files the job added, modified and deleted", ["id"])
    rb = verb(jverbs, "rollback", cmd_rollback, "put the workspace back as it was before the job", ["id"])
    rb.add_argument("--force", action="store_true", help="also undo the jobs that ran on it later")
