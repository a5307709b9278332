"""``client.jobs``: create, follow and manage jobs."""

from __future__ import annotations

import codecs
import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union,
                    overload)

from . import errors
from ._ansi import AnsiStripper, ColorMode, wants_color
from ._transport import Response, quote_segment
from .jobs_cloud import CloudJobsMixin, merge_env
from .models import TERMINAL_STATUSES, Job, JobList

if TYPE_CHECKING:  # pragma: no cover
    from typing import Literal

    from .client import Magpie

__all__ = ["Jobs", "LogPage", "STREAMS"]

STREAMS = ("stdout", "stderr")
#: Longest the server holds a logs request (docs/api.md: wait=0..60).
MAX_SERVER_WAIT = 60


@dataclass
class LogPage:
    """One answer of the logs route: ``data`` from ``offset`` up to ``next_offset``."""

    stream: str
    data: bytes
    offset: int
    next_offset: int
    job_status: Optional[str]
    complete: bool

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def __str__(self) -> str:
        return self.text


def _int_header(resp: Response, name: str, default: int) -> int:
    v = resp.header(name)
    try:
        return int(v) if v is not None else default
    except ValueError:
        return default


class Jobs(CloudJobsMixin):
    """``client.jobs``. Magpie Cloud's names (``run``, ``get_status``, ``get_logs``,
    ``get_result``, ``wait_for_completion``, ``send_command``) come from :class:`CloudJobsMixin`."""

    def __init__(self, client: "Magpie") -> None:
        self._client = client
        #: Seconds each long-poll asks the server to hold a logs request (1..60).
        self.poll_wait: int = 25

    # ------------------------------------------------------------------ requests
    @staticmethod
    def _body(
        name: Optional[str],
        script: Optional[str],
        stateful: Optional[bool],
        workspace_id: Optional[str],
        workspace_size_gb: Optional[int],
        env: Optional[Mapping[str, str]],
        vcpus: Optional[int],
        memory_mb: Optional[int],
        timeout: Optional[int],
        network: Optional[bool],
        cloud: Optional[Mapping[str, Any]] = None,
    ) -> Dict[str, Any]:
        if script is None:
            raise TypeError("script is required")
        extra = dict(cloud or {})
        env = merge_env(env, extra.pop("environment", None))
        fields: Dict[str, Any] = {
            "name": name,
            "script": script,
            "stateful": stateful,
            "workspace_id": workspace_id,
            "workspace_size_gb": workspace_size_gb,
            "env": env,
            "vcpus": vcpus,
            "memory_mb": memory_mb,
            "timeout": timeout,
            "network": network,
            "description": extra.pop("description", None),
            "type": extra.pop("script_type", None),
            "docker_image": extra.pop("docker_image", None),
            "persist": extra.pop("persist", None),
            "ip_lease": extra.pop("ip_lease", None),
        }
        return {k: v for k, v in fields.items() if v is not None}

    def create(
        self,
        name: Optional[str] = None,
        script: Optional[str] = None,
        stateful: Optional[bool] = False,
        workspace_id: Optional[str] = None,
        workspace_size_gb: Optional[int] = None,
        env: Optional[Mapping[str, str]] = None,
        vcpus: Optional[int] = None,
        memory_mb: Optional[int] = None,
        timeout: Optional[int] = None,
        network: Optional[bool] = None,
        *,
        description: Optional[str] = None,
        script_type: Optional[str] = None,
        environment: Optional[Mapping[str, str]] = None,
        docker_image: Optional[str] = None,
        persist: Optional[bool] = None,
        ip_lease: Optional[bool] = None,
        image: Optional[str] = None,
    ) -> Job:
        """Queues a job and returns at once (``status`` is usually ``queued``).

        Only arguments that are not None are sent; the server applies its defaults to the rest.
        The keyword-only arguments are Magpie Cloud's: ``environment`` is ``env`` (both given and
        different → ValueError), ``script_type`` ``"inline"``/``"bash"`` or ``"python"``;
        ``persist=True``, ``ip_lease=True`` and ``docker_image`` are refused by the server
        (ValidationError, code ``not_supported``).
        """
        body = self._body(name, script, stateful, workspace_id, workspace_size_gb, env, vcpus, memory_mb,
                          timeout, network, dict(description=description, script_type=script_type,
                                                 environment=environment, docker_image=docker_image,
                                                 persist=persist, ip_lease=ip_lease))
        if image is not None:
            body["image"] = image  # guest image profile: "base" (default), "dev", or a recipe of yours
        resp = self._client._transport.request("POST", "/jobs", body=body, ok=(200, 201, 202))
        return Job.from_dict(resp.json())

    def run_and_wait(
        self,
        name: Optional[str] = None,
        script: Optional[str] = None,
        stateful: Optional[bool] = False,
        workspace_id: Optional[str] = None,
        workspace_size_gb: Optional[int] = None,
        env: Optional[Mapping[str, str]] = None,
        vcpus: Optional[int] = None,
        memory_mb: Optional[int] = None,
        timeout: Optional[int] = None,
        network: Optional[bool] = None,
        wait_timeout: Optional[float] = None,
        *,
        description: Optional[str] = None,
        script_type: Optional[str] = None,
        environment: Optional[Mapping[str, str]] = None,
        docker_image: Optional[str] = None,
        persist: Optional[bool] = None,
        ip_lease: Optional[bool] = None,
        poll_interval: Optional[float] = None,
        image: Optional[str] = None,
    ) -> Job:
        """Creates a job, waits until it has finished and returns it with ``stdout``/``stderr``
        (and ``logs``, their lines).

        Does not raise when the script fails: look at ``status`` (``completed``, ``failed``,
        ``timed_out``, ``cancelled``), ``exit_code`` and ``error`` (or Magpie Cloud's ``success``
        and ``error_message``). Raises :class:`~magpie.errors.WaitTimeoutError` if
        ``wait_timeout`` seconds pass first (the job keeps running). ``timeout`` is the job's own
        time limit; ``poll_interval`` is accepted for Magpie Cloud's signature (waiting long-polls).
        """
        job = self.create(name, script, stateful, workspace_id, workspace_size_gb, env, vcpus, memory_mb,
                          timeout, network, description=description, script_type=script_type,
                          environment=environment, docker_image=docker_image, persist=persist, ip_lease=ip_lease,
                          image=image)
        return self.wait(job.request_id, timeout=wait_timeout)

    def get(self, job_id: str) -> Job:
        resp = self._client._transport.request("GET", f"/jobs/{quote_segment(job_id)}")
        return Job.from_dict(resp.json())

    def list(
        self,
        workspace_id: Optional[str] = None,
        status: Optional[str] = None,
        limit: Optional[int] = 50,
        offset: Optional[int] = 0,
        *,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> JobList:
        """One page of jobs, newest first; ``.total`` counts all matches.

        ``page``/``page_size`` (Magpie Cloud's paging: page 1 is the newest ``page_size`` jobs)
        replace ``limit``/``offset`` when given. ``cursor`` (the ``next_cursor`` of the previous
        page, with the same filters and ``limit``) continues after that page without skipping or
        repeating jobs when new ones arrive; ``offset`` is then not sent.
        """
        query: Dict[str, Any] = {"workspace_id": workspace_id, "status": status}
        if page is not None or page_size is not None:
            query.update(page=page, page_size=page_size)
        elif cursor:
            query.update(limit=limit, cursor=cursor)
        else:
            query.update(limit=limit, offset=offset)
        resp = self._client._transport.request("GET", "/jobs", query=query)
        data = resp.json() or {}
        jobs = [Job.from_dict(j) for j in data.get("jobs", [])]
        total = data.get("total")
        return JobList(jobs, total=int(total) if total is not None else len(jobs), limit=data.get("limit", limit),
                       offset=int(data.get("offset") or 0), next_cursor=data.get("next_cursor"))

    def iter(self, workspace_id: Optional[str] = None, status: Optional[str] = None,
             page_size: int = 100) -> Iterator[Job]:
        """Every matching job, newest first, fetched page by page (by cursor: jobs created while
        iterating neither shift nor repeat what follows)."""
        cursor: Optional[str] = None
        while True:
            page = self.list(workspace_id=workspace_id, status=status, limit=page_size, cursor=cursor)
            yield from page
            if not page or not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = str(page.next_cursor)

    def delete(self, job_id: str) -> str:
        """Deletes a finished job's record and its logs (its workspace stays); returns the id.
        Raises ConflictError while the job is queued or running (cancel it first)."""
        data = self._client._transport.request("DELETE", f"/jobs/{quote_segment(job_id)}").json() or {}
        return str(data.get("deleted", job_id))

    def cancel(self, job_id: str) -> Job:
        """Cancels a queued or running job. Raises ConflictError when it has already finished."""
        resp = self._client._transport.request("POST", f"/jobs/{quote_segment(job_id)}/cancel")
        return Job.from_dict(resp.json())

    # ------------------------------------------------------------------ logs
    def read_logs(self, job_id: str, stream: str = "stdout", offset: int = 0,
                  wait: Optional[float] = None) -> LogPage:
        """One request to the logs route; with ``wait`` the server holds it until there is output
        past ``offset`` or the job has finished (at most 60 s)."""
        if stream not in STREAMS:
            raise ValueError(f"stream must be 'stdout' or 'stderr', not {stream!r}")
        w: Optional[int] = None
        timeout: Optional[float] = None
        if wait is not None:
            w = max(0, min(MAX_SERVER_WAIT, int(math.ceil(wait))))
            timeout = max(self._client.timeout, w + 30.0)
        resp = self._client._transport.request(
            "GET", f"/jobs/{quote_segment(job_id)}/logs",
            query={"stream": stream, "offset": offset, "wait": w}, timeout=timeout)
        start = _int_header(resp, "X-Magpie-Offset", offset)
        nxt = _int_header(resp, "X-Magpie-Next-Offset", start + len(resp.body))
        status = resp.header("X-Magpie-Job-Status")
        complete = (resp.header("X-Magpie-Complete") or "").strip().lower() == "true"
        return LogPage(stream=stream, data=resp.body, offset=start, next_offset=nxt, job_status=status,
                       complete=complete)

    def logs(self, job_id: str, stream: str = "stdout", offset: int = 0) -> str:
        """The output of ``stream`` so far, from byte ``offset``, as text (UTF-8)."""
        return self.logs_bytes(job_id, stream, offset).decode("utf-8", errors="replace")

    def logs_bytes(self, job_id: str, stream: str = "stdout", offset: int = 0) -> bytes:
        """The raw bytes of ``stream`` so far from ``offset`` (reads until nothing is left)."""
        parts: List[bytes] = []
        while True:
            page = self.read_logs(job_id, stream, offset)
            parts.append(page.data)
            if not page.data or page.next_offset <= offset:
                break
            offset = page.next_offset
            if page.complete:
                break
        return b"".join(parts)

    @overload
    def follow(self, job_id: str, *, decode: "Literal[True]" = ...,
               streams: Iterable[str] = ..., color: ColorMode = ...) -> Iterator[Tuple[str, str]]: ...

    @overload
    def follow(self, job_id: str, *, decode: "Literal[False]",
               streams: Iterable[str] = ..., color: ColorMode = ...) -> Iterator[Tuple[str, bytes]]: ...

    def follow(self, job_id: str, *, decode: bool = True, streams: Iterable[str] = STREAMS,
               color: ColorMode = True) -> Iterator[Tuple[str, Union[str, bytes]]]:
        """Yields ``(stream, chunk)`` as output arrives, on both streams, until the job has finished.

        ``chunk`` is text (UTF-8, split safely between characters) or, with ``decode=False``, bytes.
        Each stream is long-polled on its own thread, so stderr is not delayed behind stdout.

        ``color``: True or ``"always"`` (default) passes colours and other terminal escape sequences
        through as the job wrote them; False or ``"never"`` strips them (even when a sequence is split
        between chunks); ``"auto"`` keeps them for a stream whose counterpart here (``sys.stdout`` for
        stdout, ``sys.stderr`` for stderr) is a terminal and strips them otherwise (also when
        ``NO_COLOR`` is set or ``TERM=dumb``).
        """
        wanted = [s for s in streams]
        for s in wanted:
            if s not in STREAMS:
                raise ValueError(f"unknown stream {s!r}")
        strippers = {s: AnsiStripper() for s in wanted if not wants_color(color, s)}
        q: "queue.Queue[Tuple[str, str, Any]]" = queue.Queue()
        stop = threading.Event()

        def pump(stream: str) -> None:
            try:
                for data in self._pump(job_id, stream, 0, stop):
                    q.put(("data", stream, data))
            except BaseException as e:  # noqa: BLE001 - handed to the consumer
                q.put(("error", stream, e))
            finally:
                q.put(("done", stream, None))

        decoders = {s: codecs.getincrementaldecoder("utf-8")(errors="replace") for s in wanted}
        threads = [threading.Thread(target=pump, args=(s,), name=f"magpie-follow-{s}", daemon=True)
                   for s in wanted]
        for t in threads:
            t.start()
        pending = len(threads)
        try:
            while pending:
                kind, stream, payload = q.get()
                if kind == "data" and stream in strippers:
                    payload = strippers[stream].feed(payload)
                    if not payload:
                        continue
                if kind == "data":
                    if decode:
                        text = decoders[stream].decode(payload)
                        if text:
                            yield stream, text
                    else:
                        yield stream, payload
                elif kind == "error":
                    raise payload
                else:
                    pending -= 1
                    if decode:
                        tail = decoders[stream].decode(b"", final=True)
                        if tail:
                            yield stream, tail
        finally:
            stop.set()

    def _pump(self, job_id: str, stream: str, offset: int, stop: threading.Event,
              deadline: Optional[float] = None) -> Iterator[bytes]:
        """Long-polls one stream from ``offset`` until it is complete; yields each chunk."""
        while not stop.is_set():
            wait: float = self.poll_wait
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Deadline()
                wait = min(wait, remaining)
            t0 = time.monotonic()
            page = self.read_logs(job_id, stream, offset, wait=wait)
            if page.data:
                yield page.data
            advanced = page.next_offset > offset
            offset = max(offset, page.next_offset)
            if page.complete:
                return
            if not page.data and page.job_status in TERMINAL_STATUSES:
                # Finished and nothing past offset (a server that omits X-Magpie-Complete).
                return
            if not advanced and time.monotonic() - t0 < 0.25:
                # The server answered at once with nothing new: do not spin.
                stop.wait(0.5)

    # ------------------------------------------------------------------ waiting
    def wait(self, job_id: str, timeout: Optional[float] = None, output: bool = True) -> Job:
        """Blocks until the job has finished and returns it.

        Follows the job with the logs route's long-poll (no tight loop). With ``output`` (default)
        the returned job has ``stdout`` and ``stderr`` (text). Raises
        :class:`~magpie.errors.WaitTimeoutError` when ``timeout`` seconds pass first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        stop = threading.Event()
        out: List[bytes] = []
        try:
            if output:
                for chunk in self._pump(job_id, "stdout", 0, stop, deadline):
                    out.append(chunk)
            else:
                while True:
                    job = self.get(job_id)
                    if job.finished:
                        return job
                    # Hold on stdout past what exists: returns on new output or when finished.
                    for _ in self._pump(job_id, "stdout", job.stdout_bytes or 0, stop, deadline):
                        break
        except _Deadline:
            job = self.get(job_id)
            if not job.finished:
                raise errors.WaitTimeoutError(
                    f"job {job_id} has not finished after {timeout:g} s (status {job.status})", job=job) from None
        job = self.get(job_id)
        if output:
            if not job.finished:  # the stream said complete but the record lags: settle it
                job = self.wait(job_id, timeout=None if deadline is None else max(0.0, deadline - time.monotonic()),
                                output=False)
            stdout = b"".join(out)
            # Output written after the stream said complete cannot exist, but a record may be longer
            # than what was followed when a server chunks its answers: read the rest.
            if job.stdout_bytes is not None and job.stdout_bytes > len(stdout):
                stdout += self.logs_bytes(job_id, "stdout", len(stdout))
            job.stdout = stdout.decode("utf-8", errors="replace")
            job.stderr = self.logs_bytes(job_id, "stderr", 0).decode("utf-8", errors="replace")
        return job


class _Deadline(Exception):
    pass
