"""Typed views of the objects the API returns.

Each object keeps the server's JSON in ``raw``; fields the server adds later are readable as
attributes too (``job.some_new_field``) and via ``to_dict()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, TypeVar

__all__ = ["Job", "JobList", "Workspace", "FileEntry", "UsageEntry", "TERMINAL_STATUSES",
           "JobState", "JobStatus", "JobResult", "LogEntry", "CLOUD_FINAL_STATUSES", "split_lines",
           "parse_time"]

#: Job statuses after which nothing changes any more.
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "timed_out"})
#: The statuses of ``GET /jobs/{id}/status`` (Magpie Cloud's words) after which nothing changes.
CLOUD_FINAL_STATUSES = frozenset({"completed", "failed", "error", "cancelled"})


def split_lines(text: Optional[str]) -> List[str]:
    """Output as lines, split as the server splits it for ``/status`` and the JSON logs: at each
    ``\n``, a trailing ``\r`` removed, no empty line after a final line break."""
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO-8601 time of the API (``2026-12-01T07:46:24.123Z``) as an aware datetime; None when
    absent or not a time."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None

T = TypeVar("T", bound="_Model")


class _Model:
    raw: Dict[str, Any]

    @classmethod
    def from_dict(cls: "type[T]", data: Mapping[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names and k != "raw"}
        # A submit reply names its status in Magpie Cloud's words (for the official SDK) and
        # ours in job_status.
        if "job_status" in data and "status" in names:
            kwargs["status"] = data["job_status"]
        obj = cls(**kwargs)
        obj.raw = dict(data)
        return obj

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes that are not fields: expose the server's extra keys.
        if name.startswith("__") or name == "raw":
            raise AttributeError(name)
        raw = self.__dict__.get("raw") or {}
        if name in raw:
            return raw[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def to_dict(self) -> Dict[str, Any]:
        out = dict(self.raw)
        for f in dataclasses.fields(self):
            if f.name == "raw":
                continue
            v = getattr(self, f.name)
            if v is not None or f.name in out:
                out[f.name] = v
        return out


@dataclass
class Job(_Model):
    """A job. ``stdout``/``stderr`` are filled in by ``run_and_wait`` and ``wait`` (else None)."""

    request_id: str = ""
    name: Optional[str] = None
    status: str = ""
    exit_code: Optional[int] = None
    error: Optional[str] = None
    notice: Optional[str] = None
    script: Optional[str] = None
    stateful: bool = False
    workspace_id: Optional[str] = None
    workspace_size_gb: Optional[int] = None
    env: Optional[Dict[str, str]] = None
    vcpus: Optional[int] = None
    memory_mb: Optional[int] = None
    timeout: Optional[int] = None
    network: Optional[bool] = None
    created_at: Optional[str] = None
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    duration_ms: Optional[int] = None
    workspace_used_bytes: Optional[int] = None
    workspace_total_bytes: Optional[int] = None
    stdout_bytes: Optional[int] = None
    stderr_bytes: Optional[int] = None
    accelerator: Optional[str] = None
    source: Optional[str] = None
    description: Optional[str] = None
    script_type: Optional[str] = None
    stdout: Optional[str] = None
    stderr: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.request_id

    # Magpie Cloud's result names (its JobResult), so scripts written for its SDK read ours.
    @property
    def logs(self) -> List[str]:
        """stdout lines then stderr lines (filled by ``run_and_wait``/``wait``; ``[]`` for a job
        read with ``get``, whose output ``jobs.logs``/``jobs.get_logs`` read)."""
        return split_lines(self.stdout) + split_lines(self.stderr)

    @property
    def success(self) -> bool:
        """Completed, with exit code 0 (or none): Magpie Cloud's ``success``."""
        return self.status == "completed" and self.exit_code in (0, None)

    @property
    def error_message(self) -> Optional[str]:
        """``error`` (Magpie Cloud's name): why the job failed, timed out or was cancelled; None
        for a script that exited non-zero on its own."""
        return self.error

    @property
    def completed_at(self) -> Optional[str]:
        """``finished_at`` (Magpie Cloud's name; an ISO-8601 string like every time of ``Job``)."""
        return self.finished_at

    @property
    def duration(self) -> Optional[int]:
        """``duration_ms``: milliseconds, as the ``duration`` of Magpie Cloud's status object."""
        return self.duration_ms

    @property
    def environment(self) -> Optional[Dict[str, str]]:
        """``env`` (Magpie Cloud's name)."""
        return self.env

    @property
    def finished(self) -> bool:
        """True once the job is completed, failed, cancelled or timed out."""
        return self.status in TERMINAL_STATUSES

    @property
    def ok(self) -> bool:
        """True when the script ran and exited 0."""
        return self.status == "completed"

    def __repr__(self) -> str:
        return (f"Job(request_id={self.request_id!r}, name={self.name!r}, status={self.status!r}, "
                f"exit_code={self.exit_code!r}, workspace_id={self.workspace_id!r})")


class JobList(List[Job]):
    """A page of jobs (a list) with the server's ``total``, ``limit``, ``offset`` and
    ``next_cursor`` (None when the page was not full)."""

    def __init__(self, jobs: List[Job], total: int, limit: Optional[int], offset: int,
                 next_cursor: Optional[str] = None) -> None:
        super().__init__(jobs)
        self.total = total
        self.limit = limit
        self.offset = offset
        self.next_cursor = next_cursor

    def __repr__(self) -> str:
        return f"JobList({list.__repr__(self)}, total={self.total}, limit={self.limit}, offset={self.offset})"


@dataclass
class Workspace(_Model):
    id: str = ""
    size_gb: Optional[int] = None
    used_bytes: Optional[int] = None
    total_bytes: Optional[int] = None
    disk_bytes: Optional[int] = None
    created_at: Optional[str] = None
    last_used_at: Optional[str] = None
    job_count: Optional[int] = None
    state: Optional[str] = None
    queued: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class FileEntry(_Model):
    name: str = ""
    path: str = ""
    type: str = ""
    size: Optional[int] = None
    modified_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_dir(self) -> bool:
        return self.type == "dir"


@dataclass
class UsageEntry(_Model):
    path: str = ""
    type: Optional[str] = None
    size: Optional[int] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------------- Magpie Cloud's shapes
class JobState(str, Enum):
    """The statuses of ``GET /jobs/{id}/status`` (Magpie Cloud's words; compare with plain strings too)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ERROR = "error"


_TIME_FIELDS = ("started_at", "completed_at", "timestamp")


class _CloudModel(_Model):
    @classmethod
    def from_dict(cls: "type[T]", data: Mapping[str, Any]) -> T:
        d = dict(data)
        if "duration_ms" not in d and "duration" in d:
            d["duration_ms"] = d["duration"]
        if isinstance(d.get("logs"), list):
            d["logs"] = [x if isinstance(x, str) else str(x) for x in d["logs"]]
        for k in _TIME_FIELDS:
            if k in d:
                d[k] = parse_time(d[k])
        names = {f.name for f in dataclasses.fields(cls)}
        obj = cls(**{k: v for k, v in d.items() if k in names and k != "raw"})
        obj.raw = dict(data)
        return obj


@dataclass
class JobStatus(_CloudModel):
    """``jobs.get_status(id)``: the status object of ``GET /jobs/{id}/status``. ``status`` is
    Magpie Cloud's (``not_started``, ``in_progress``, ``completed``, ``failed``, ``error``,
    ``cancelled``), ``local_status`` ours; ``logs`` the last lines of stdout then stderr (bounded:
    1,000 lines / 256 KiB per stream); times are datetimes."""

    request_id: str = ""
    name: Optional[str] = None
    status: str = ""
    logs: List[str] = field(default_factory=list)
    duration_ms: Optional[int] = None
    script_duration_ms: Optional[int] = None
    exit_code: Optional[int] = None
    started_at: Optional[datetime] = None
    completed_at: Optional[datetime] = None
    error_message: Optional[str] = None
    vm_info: Optional[Dict[str, Any]] = None
    persist: bool = False
    ipv6_address: Optional[str] = None
    proxy_url: Optional[str] = None
    local_status: Optional[str] = None
    workspace_id: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def duration(self) -> Optional[int]:
        return self.duration_ms

    @property
    def finished(self) -> bool:
        return self.status in CLOUD_FINAL_STATUSES


@dataclass
class JobResult(_CloudModel):
    """``jobs.get_result(id)``: Magpie Cloud's result of a job, from its status object."""

    request_id: str = ""
    name: Optional[str] = None
    status: str = ""
    exit_code: Optional[int] = None
    logs: List[str] = field(default_factory=list)
    duration_ms: Optional[int] = None
    script_duration_ms: Optional[int] = None
    started_at: Optional[datetime] = None
    completed_at: Optional[datetime] = None
    error_message: Optional[str] = None
    success: bool = False
    persist: bool = False
    ipv6_address: Optional[str] = None
    proxy_url: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_status(cls, s: JobStatus) -> "JobResult":
        r = cls(request_id=s.request_id, name=s.name, status=s.status, exit_code=s.exit_code, logs=list(s.logs),
                duration_ms=s.duration_ms, script_duration_ms=s.script_duration_ms, started_at=s.started_at,
                completed_at=s.completed_at, error_message=s.error_message,
                success=s.status == "completed" and s.exit_code in (0, None), persist=s.persist,
                ipv6_address=s.ipv6_address, proxy_url=s.proxy_url)
        r.raw = dict(s.raw)
        return r

    @property
    def duration(self) -> Optional[int]:
        return self.duration_ms


@dataclass
class LogEntry(_CloudModel):
    """One line of ``jobs.get_logs(id)``: ``message`` (the line without its line break),
    ``source`` stdout, stderr or magpie (a note saying what was left out), ``level`` and
    ``timestamp`` as the server gives them (docs/api.md)."""

    timestamp: Optional[datetime] = None
    level: str = "info"
    message: str = ""
    source: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
