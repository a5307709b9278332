"""Typed views of the objects the API returns.

Each object keeps the server's JSON in ``raw``; fields the server adds later are readable as
attributes too (``job.some_new_field``) and via ``to_dict()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, TypeVar

__all__ = ["Job", "JobList", "Workspace", "FileEntry", "UsageEntry", "TERMINAL_STATUSES"]

#: Job statuses after which nothing changes any more.
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "timed_out"})

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
    stdout: Optional[str] = None
    stderr: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.request_id

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
    """A page of jobs (a list) with the server's ``total``, ``limit`` and ``offset``."""

    def __init__(self, jobs: List[Job], total: int, limit: Optional[int], offset: int) -> None:
        super().__init__(jobs)
        self.total = total
        self.limit = limit
        self.offset = offset

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
