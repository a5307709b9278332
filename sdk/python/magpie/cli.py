"""``magpie`` / ``python -m magpie``: the command line of Magpie Desktop.

    magpie run build.sh                      # streams the output, exits with the script's exit code
    echo 'uname -a' | magpie run -
    magpie run --workspace my-ws --env K=V job.sh
    magpie logs -f JOB_ID | magpie status JOB_ID | magpie list | magpie workspaces | magpie rm my-ws
    magpie logs --json JOB_ID | magpie delete JOB_ID
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any, Dict, List, Optional, Sequence

from . import errors
from ._ansi import COLOR_MODES, strip_ansi, wants_color
from ._version import __version__
from ._transport import quote_segment
from .client import DEFAULT_TIMEOUT, Magpie
from .models import Job, Workspace

PROG = "magpie"

#: Exit codes when the script's own exit code is not available.
EXIT_ERROR = 1          # API/connection error, infrastructure failure, cancelled job
EXIT_USAGE = 2
EXIT_TIMED_OUT = 124    # like timeout(1)
EXIT_INTERRUPTED = 130  # Ctrl-C (the job is cancelled)


def _eprint(*parts: Any) -> None:
    print(f"{PROG}:", *parts, file=sys.stderr, flush=True)


def _client(args: argparse.Namespace) -> Magpie:
    return Magpie(api_key=args.key, base_url=args.url, timeout=args.request_timeout)


def _human_bytes(n: Optional[int]) -> str:
    if n is None:
        return "-"
    f = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if f < 1024 or unit == "TiB":
            return f"{f:.0f} {unit}" if unit == "B" else f"{f:.1f} {unit}"
        f /= 1024
    return str(n)


def _duration(ms: Optional[int]) -> str:
    if ms is None:
        return "-"
    s = ms / 1000.0
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(s), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def _table(rows: List[List[str]], headers: List[str], out: IO[str]) -> None:
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    fmt = "  ".join("{:<%d}" % w for w in widths)
    print(fmt.format(*headers).rstrip(), file=out)
    for r in rows:
        print(fmt.format(*r).rstrip(), file=out)


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def job_exit_code(job: Job) -> int:
    """The exit code ``magpie run`` ends with for a finished job (and says why on stderr)."""
    if job.status == "completed":
        return 0
    if job.status == "failed":
        if job.error is None and job.exit_code is not None:
            return job.exit_code if 0 < job.exit_code < 256 else EXIT_ERROR
        _eprint(f"job {job.request_id} failed: {job.error or 'unknown error'}")
        return job.exit_code if job.exit_code else EXIT_ERROR
    if job.status == "timed_out":
        _eprint(f"job {job.request_id} timed out: {job.error or 'time limit reached'}")
        return EXIT_TIMED_OUT
    if job.status == "cancelled":
        _eprint(f"job {job.request_id} was cancelled" + (f": {job.error}" if job.error else ""))
        return EXIT_ERROR
    _eprint(f"job {job.request_id} ended in unexpected status {job.status!r}")
    return EXIT_ERROR


class _Sink:
    """Writes raw bytes to a text stream's buffer; stops quietly when the reader went away."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.buffer: Any = getattr(stream, "buffer", None)
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            if self.buffer is not None:
                self.buffer.write(data)
                self.buffer.flush()
            else:
                self.stream.write(data.decode("utf-8", errors="replace"))
                self.stream.flush()
        except BrokenPipeError:
            self.closed = True
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.stream.fileno())
            except (OSError, ValueError):
                pass


def _stream_job(client: Magpie, job_id: str, color: str = "auto") -> None:
    sinks = {"stdout": _Sink(sys.stdout), "stderr": _Sink(sys.stderr)}
    for stream, chunk in client.jobs.follow(job_id, decode=False, color=color):
        sinks[stream].write(chunk)


# ---------------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    if args.script == "-":
        script = sys.stdin.buffer.read().decode("utf-8", errors="replace") if hasattr(sys.stdin, "buffer") \
            else sys.stdin.read()
        default_name = None
    else:
        try:
            with open(args.script, "r", encoding="utf-8", errors="replace") as f:
                script = f.read()
        except OSError as e:
            _eprint(f"cannot read {args.script}: {e.strerror or e}")
            return EXIT_USAGE
        default_name = os.path.basename(args.script)
    env: Dict[str, str] = {}
    for item in args.env or []:
        if "=" in item:
            k, v = item.split("=", 1)
        elif item in os.environ:
            k, v = item, os.environ[item]
        else:
            _eprint(f"--env {item}: expected K=V (or the name of a variable set here)")
            return EXIT_USAGE
        if not k:
            _eprint(f"--env {item}: empty variable name")
            return EXIT_USAGE
        env[k] = v
    stateful = bool(args.workspace or args.stateful or args.size is not None)
    client = _client(args)
    job = client.jobs.create(
        name=args.name if args.name is not None else default_name,
        script=script,
        stateful=stateful,
        workspace_id=args.workspace,
        workspace_size_gb=args.size,
        env=env or None,
        vcpus=args.vcpus,
        memory_mb=args.memory,
        timeout=args.timeout,
        network=False if args.no_network else None,
        description=args.description,
        script_type=args.type,
        image=args.image,
    )
    if args.detach:
        print(job.request_id)
        return 0
    if job.notice:
        _eprint(f"notice: {job.notice}")
    if sys.stderr.isatty():
        where = f" in workspace {job.workspace_id}" if job.workspace_id else ""
        _eprint(f"job {job.request_id}{where} {job.status}")
    try:
        _stream_job(client, job.request_id, args.color)
        final = client.jobs.get(job.request_id)
        if not final.finished:
            final = client.jobs.wait(job.request_id, output=False)
    except KeyboardInterrupt:
        _eprint(f"interrupted: cancelling job {job.request_id}")
        try:
            client.jobs.cancel(job.request_id)
        except errors.MagpieError as e:
            _eprint(f"could not cancel job {job.request_id}: {e}")
        return EXIT_INTERRUPTED
    if final.notice and final.notice != job.notice:
        _eprint(f"notice: {final.notice}")
    return job_exit_code(final)


def cmd_logs(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.json:
        if args.follow or args.stream != "both":
            _eprint("logs --json prints the JSON lines of both streams; it does not go with -f or --stream")
            return EXIT_USAGE
        _print_json(client.request("GET", f"/jobs/{quote_segment(args.id)}/logs"))
        return 0
    streams = ["stdout", "stderr"] if args.stream == "both" else [args.stream]
    if args.follow:
        sinks = {"stdout": _Sink(sys.stdout), "stderr": _Sink(sys.stderr)}
        try:
            for stream, chunk in client.jobs.follow(args.id, decode=False, streams=streams, color=args.color):
                sinks[stream].write(chunk)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        return 0
    client.jobs.get(args.id)  # 404 for an unknown job, even when it has no output
    for stream in streams:
        data = client.jobs.logs_bytes(args.id, stream)
        if not wants_color(args.color, stream):
            data = strip_ansi(data)
        _Sink(sys.stdout if stream == "stdout" else sys.stderr).write(data)
    return 0


def _job_summary(job: Job) -> str:
    lines = [
        ("job", job.request_id),
        ("name", job.name or "-"),
        ("status", job.status),
        ("exit code", "-" if job.exit_code is None else str(job.exit_code)),
    ]
    if job.error:
        lines.append(("error", job.error))
    if job.notice:
        lines.append(("notice", job.notice))
    if job.stateful or job.workspace_id:
        ws = job.workspace_id or "-"
        if job.workspace_used_bytes is not None:
            ws += f" ({_human_bytes(job.workspace_used_bytes)} of {_human_bytes(job.workspace_total_bytes)} used)"
        lines.append(("workspace", ws))
    lines += [
        ("created", job.created_at or "-"),
        ("started", job.started_at or "-"),
        ("finished", job.finished_at or "-"),
        ("duration", _duration(job.duration_ms)),
        ("output", f"stdout {_human_bytes(job.stdout_bytes)}, stderr {_human_bytes(job.stderr_bytes)}"),
    ]
    res = []
    if job.vcpus is not None or job.memory_mb is not None:
        res.append(f"{job.vcpus or '-'} vCPU, {job.memory_mb or '-'} MiB")
    if job.timeout is not None:
        res.append(f"timeout {job.timeout} s")
    if job.network is not None:
        res.append("network" if job.network else "no network")
    if job.accelerator:
        res.append(job.accelerator)
    if res:
        lines.append(("resources", ", ".join(res)))
    w = max(len(k) for k, _ in lines)
    return "\n".join(f"{k + ':':<{w + 1}} {v}" for k, v in lines)


def cmd_status(args: argparse.Namespace) -> int:
    job = _client(args).jobs.get(args.id)
    if args.json:
        _print_json(job.raw)
    else:
        print(_job_summary(job))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    page = _client(args).jobs.list(workspace_id=args.workspace, status=args.status, limit=args.limit,
                                   offset=args.offset)
    if args.json:
        _print_json({"jobs": [j.raw for j in page], "total": page.total, "limit": page.limit,
                     "offset": page.offset})
        return 0
    rows = [[j.request_id, j.status, "-" if j.exit_code is None else str(j.exit_code),
             _duration(j.duration_ms), j.workspace_id or "-", j.created_at or "-", j.name or ""] for j in page]
    _table(rows, ["ID", "STATUS", "EXIT", "DURATION", "WORKSPACE", "CREATED", "NAME"], sys.stdout)
    if page.total > page.offset + len(page):
        print(f"({len(page)} of {page.total} shown; use --limit/--offset)", file=sys.stderr)
    return 0


def _ws_row(w: Workspace) -> List[str]:
    state = w.state or "-"
    if w.queued:
        state += f" ({w.queued} queued)"
    return [w.id, f"{w.size_gb} GB" if w.size_gb is not None else "-", _human_bytes(w.used_bytes), state,
            "-" if w.job_count is None else str(w.job_count), w.last_used_at or "-"]


def cmd_workspaces(args: argparse.Namespace) -> int:
    wss = _client(args).workspaces.list()
    if args.json:
        _print_json({"workspaces": [w.raw for w in wss]})
        return 0
    _table([_ws_row(w) for w in wss], ["ID", "SIZE", "USED", "STATE", "JOBS", "LAST USED"], sys.stdout)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    client = _client(args)
    rc = 0
    for ws in args.workspace:
        try:
            print(f"deleted {client.workspaces.delete(ws)}")
        except errors.MagpieError as e:
            _eprint(f"cannot delete {ws}: {e}")
            rc = EXIT_ERROR
    return rc


def cmd_delete(args: argparse.Namespace) -> int:
    client = _client(args)
    rc = 0
    for job_id in args.id:
        try:
            print(f"deleted {client.jobs.delete(job_id)}")
        except errors.MagpieError as e:
            _eprint(f"cannot delete job {job_id}: {e}")
            rc = EXIT_ERROR
    return rc


def cmd_cancel(args: argparse.Namespace) -> int:
    job = _client(args).jobs.cancel(args.id)
    print(f"{job.request_id} {job.status}")
    return 0


def cmd_files(args: argparse.Namespace) -> int:
    entries = _client(args).workspaces.files(args.workspace, args.path)
    if args.json:
        _print_json({"entries": [e.raw for e in entries]})
        return 0
    rows = [[e.type, _human_bytes(e.size) if e.type == "file" else "-", e.modified_at or "-",
             e.path + ("/" if e.type == "dir" else "")] for e in entries]
    _table(rows, ["TYPE", "SIZE", "MODIFIED", "PATH"], sys.stdout)
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.dest == "-":
        client.workspaces.download(args.workspace, args.path, sys.stdout.buffer)
        sys.stdout.flush()
        return 0
    written = client.workspaces.download(args.workspace, args.path, args.dest)
    print(written, file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- parser
def _add_color_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--color", "--colour", choices=COLOR_MODES, default="auto",
                   help="colours and other terminal escape codes in the job's output: kept for a terminal "
                        "and stripped otherwise (auto, the default; NO_COLOR strips them too), always kept, "
                        "or never")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Run bash scripts in Magpie Desktop VMs and manage their workspaces.",
        epilog="The URL and key default to MAGPIE_BASE_URL/MAGPIE_API_KEY, else to the running app's "
               "endpoint.json (MAGPIE_DATA_DIR or ~/.local/share/magpie-desktop).")
    p.add_argument("--url", help="server root, e.g. http://127.0.0.1:8765 (default: discovered)")
    p.add_argument("--key", help="API key (default: MAGPIE_API_KEY or the app's key file)")
    p.add_argument("--request-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds one HTTP request may take (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # The global options are accepted after the command too (magpie run --url U x.sh).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--key", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--request-timeout", type=float, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    r = add_parser("run", help="run a script and stream its output; exits with its exit code",
                       description="Runs SCRIPT_FILE (or the script on stdin with '-') in a VM, streams its "
                                   "stdout/stderr here and exits with the script's exit code (124 when the "
                                   "job timed out, 1 for other failures, 130 when interrupted).")
    r.add_argument("--name", "-n", help="job name (default: the script's file name)")
    r.add_argument("--workspace", "-w", metavar="ID", help="run statefully on this workspace (created if new)")
    r.add_argument("--stateful", action="store_true", help="stateful job on a new workspace named after the job")
    r.add_argument("--size", type=int, metavar="GB", help="size of a new workspace (default 10)")
    r.add_argument("--env", "-e", action="append", metavar="K=V", help="environment variable (repeatable)")
    r.add_argument("--timeout", type=int, metavar="S", help="job time limit in seconds (default 3600)")
    r.add_argument("--no-network", action="store_true", help="no network in the VM")
    r.add_argument("--vcpus", type=int, metavar="N")
    r.add_argument("--memory", type=int, metavar="MB", help="VM memory in MiB")
    r.add_argument("--image", metavar="NAME", help="guest image profile: base (default), dev, or one of your recipes")
    r.add_argument("--detach", "-d", action="store_true", help="print the job id and return at once")
    r.add_argument("--type", choices=["bash", "python"], help="bash (default; or the script's #! line) or python "
                                                              "(runs as python3 SCRIPT in the VM)")
    r.add_argument("--description", metavar="TEXT", help="a description kept with the job (shown in the app)")
    _add_color_option(r)
    r.add_argument("script", metavar="SCRIPT_FILE", help="script file, or - for stdin")
    r.set_defaults(func=cmd_run)

    lg = add_parser("logs", help="print a job's output")
    lg.add_argument("-f", "--follow", action="store_true", help="keep printing until the job has finished")
    lg.add_argument("--stream", choices=["both", "stdout", "stderr"], default="both")
    lg.add_argument("--json", action="store_true",
                    help="print the last lines of the output as JSON, as GET /jobs/ID/logs answers them "
                         "({\"logs\": [{timestamp, level, message, source}]})")
    _add_color_option(lg)
    lg.add_argument("id", metavar="ID")
    lg.set_defaults(func=cmd_logs)

    st = add_parser("status", help="show a job")
    st.add_argument("--json", action="store_true", help="print the job object as JSON")
    st.add_argument("id", metavar="ID")
    st.set_defaults(func=cmd_status)

    ls = add_parser("list", help="list jobs, newest first")
    ls.add_argument("--workspace", "-w", metavar="ID")
    ls.add_argument("--status", choices=["queued", "running", "completed", "failed", "cancelled", "timed_out"])
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--offset", type=int, default=0)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    ws = add_parser("workspaces", help="list workspaces")
    ws.add_argument("--json", action="store_true")
    ws.set_defaults(func=cmd_workspaces)

    rm = add_parser("rm", help="delete workspaces (refused while jobs use them)")
    rm.add_argument("workspace", nargs="+", metavar="WORKSPACE")
    rm.set_defaults(func=cmd_rm)

    de = add_parser("delete", help="delete finished jobs and their logs from the history (workspaces stay)")
    de.add_argument("id", nargs="+", metavar="ID")
    de.set_defaults(func=cmd_delete)

    c = add_parser("cancel", help="cancel a queued or running job")
    c.add_argument("id", metavar="ID")
    c.set_defaults(func=cmd_cancel)

    fl = add_parser("files", help="list a folder of a workspace (boots a VM)")
    fl.add_argument("workspace", metavar="WORKSPACE")
    fl.add_argument("path", nargs="?", default="", metavar="PATH")
    fl.add_argument("--json", action="store_true")
    fl.set_defaults(func=cmd_files)

    dl = add_parser("download", help="copy a file out of a workspace")
    dl.add_argument("workspace", metavar="WORKSPACE")
    dl.add_argument("path", metavar="PATH")
    dl.add_argument("dest", nargs="?", default=None, metavar="DEST", help="file, folder, or - for stdout")
    dl.set_defaults(func=cmd_download)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except errors.MagpieError as e:
        _eprint(f"error: {e}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except ValueError as e:  # e.g. a malformed --url
        _eprint(f"error: {e}")
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
