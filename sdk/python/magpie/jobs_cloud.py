"""Magpie Cloud's names on ``client.jobs``: ``run``, ``get_status``, ``get_logs``, ``get_result``,
``wait_for_completion`` and ``send_command``, with the official SDK's signatures and return shapes,
so scripts written for it run against Magpie Desktop through this package (docs/api.md, "Magpie
Cloud compatibility"). Mixed into :class:`magpie.jobs.Jobs`.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from . import errors
from ._transport import quote_segment
from .models import Job, JobResult, JobStatus, LogEntry

if TYPE_CHECKING:  # pragma: no cover
    from .client import Magpie

__all__ = ["CloudJobsMixin", "merge_env"]


def merge_env(env: Optional[Mapping[str, str]], environment: Optional[Mapping[str, str]]) -> Optional[Dict[str, str]]:
    """``env`` (ours) and ``environment`` (Magpie Cloud's name) are the same thing: either may be
    given, or both when equal."""
    if env is not None and environment is not None and dict(env) != dict(environment):
        raise ValueError("env= and environment= are the same setting (environment is Magpie Cloud's name) "
                         "and were given different values; pass one of them")
    chosen = env if env is not None else environment
    return dict(chosen) if chosen is not None else None


class CloudJobsMixin:
    _client: "Magpie"

    if TYPE_CHECKING:  # pragma: no cover - provided by Jobs
        def create(self, *args: Any, **kwargs: Any) -> Job: ...

        def wait(self, job_id: str, timeout: Optional[float] = None, output: bool = True) -> Job: ...

    def run(
        self,
        name: Optional[str] = None,
        script: Optional[str] = None,
        description: Optional[str] = None,
        script_type: Optional[str] = None,
        vcpus: Optional[int] = None,
        memory_mb: Optional[int] = None,
        environment: Optional[Mapping[str, str]] = None,
        docker_image: Optional[str] = None,
        stateful: Optional[bool] = False,
        workspace_id: Optional[str] = None,
        workspace_size_gb: Optional[int] = None,
        persist: Optional[bool] = None,
        ip_lease: Optional[bool] = None,
        *,
        env: Optional[Mapping[str, str]] = None,
        timeout: Optional[int] = None,
        network: Optional[bool] = None,
    ) -> Dict[str, Any]:
        """Queues a job and returns the server's reply as a dict (``request_id``, ``id``, ``status``
        in Magpie Cloud's words, ``job_status`` in ours, ...): Magpie Cloud's ``jobs.run``.

        Arguments left None get the server's defaults (1 vCPU, 512 MiB). ``script_type`` is
        ``"inline"``/``"bash"`` or ``"python"``; ``persist=True``, ``ip_lease=True`` and
        ``docker_image`` are refused (ValidationError, code ``not_supported``).
        """
        job = self.create(name, script, stateful, workspace_id, workspace_size_gb, env, vcpus, memory_mb, timeout,
                          network, description=description, script_type=script_type, environment=environment,
                          docker_image=docker_image, persist=persist, ip_lease=ip_lease)
        return dict(job.raw)

    def get_status(self, run_id: str) -> JobStatus:
        """``GET /jobs/{id}/status``: Magpie Cloud's status object (its status words, the last
        lines of output, datetimes)."""
        resp = self._client._transport.request("GET", f"/jobs/{quote_segment(run_id)}/status")
        return JobStatus.from_dict(resp.json() or {})

    def get_logs(self, run_id: str) -> List[LogEntry]:
        """``GET /jobs/{id}/logs`` as JSON: the last lines of the job's output as :class:`LogEntry`,
        as the server bounds and orders them (docs/api.md); ``logs``/``follow`` read whole streams."""
        resp = self._client._transport.request("GET", f"/jobs/{quote_segment(run_id)}/logs")
        data = resp.json() or {}
        out: List[LogEntry] = []
        for item in data.get("logs", []) if isinstance(data, dict) else []:
            if isinstance(item, str):
                out.append(LogEntry(timestamp=datetime.now(timezone.utc), level="info", message=item,
                                    raw={"message": item}))
            elif isinstance(item, dict):
                out.append(LogEntry.from_dict(item))
        return out

    def get_result(self, run_id: str) -> JobResult:
        """Magpie Cloud's result of a job (``success``, ``exit_code``, ``logs``, ...), from its status."""
        return JobResult.from_status(self.get_status(run_id))

    def wait_for_completion(self, run_id: str, timeout: Optional[float] = 300, poll_interval: float = 2) -> JobStatus:
        """Waits until the job has finished and returns its status object. Raises
        :class:`~magpie.errors.WaitTimeoutError` (a ``TimeoutError``) after ``timeout`` seconds
        (None: no limit). Waiting uses the logs route's long-poll; ``poll_interval`` is accepted for
        Magpie Cloud's signature and only spaces the final status reads."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.wait(run_id, timeout=timeout, output=False)
        while True:
            status = self.get_status(run_id)
            if status.finished:
                return status
            # The job record says finished, the status object not yet: a moment's lag at most.
            if deadline is not None and time.monotonic() >= deadline:
                raise errors.WaitTimeoutError(f"job {run_id} has not finished after {timeout:g} s "
                                              f"(status {status.status})", job=status)
            time.sleep(min(max(poll_interval, 0.1), 2.0))

    def send_command(self, run_id: str, script: str, workspace_id: Optional[str] = None) -> Job:
        """Runs ``script`` as a new stateful job on the workspace of job ``run_id`` (read from
        ``GET /jobs/{id}/details``) or on ``workspace_id``; returns the new job at once."""
        if workspace_id is None:
            details = self._client._transport.request("GET", f"/jobs/{quote_segment(run_id)}/details").json() or {}
            workspace_id = details.get("workspace_id") or run_id
        return self.create(None, script, True, workspace_id)
