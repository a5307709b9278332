"""Exceptions raised by the Magpie client.

Every exception derives from :class:`MagpieError` and carries the HTTP status (``status``, ``None``
when no HTTP answer was received), the server's error ``code`` (e.g. ``"not_found"``), its
``message``, and the offending ``field`` when the server named one.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type
from urllib.parse import urlsplit

__all__ = [
    "MagpieError",
    "APIError",
    "AuthenticationError",
    "NotFoundError",
    "JobNotFoundError",
    "ValidationError",
    "ConflictError",
    "ServerError",
    "NotSupportedError",
    "ConnectionError",
    "WaitTimeoutError",
    "error_for_status",
]


class MagpieError(Exception):
    """Base class of every error raised by this package."""

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        field: Optional[str] = None,
        body: Any = None,
        method: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message: str = message
        self.status: Optional[int] = status
        self.code: Optional[str] = code
        self.field: Optional[str] = field
        self.body: Any = body
        self.method: Optional[str] = method
        self.url: Optional[str] = url

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(self.code)
        prefix = " ".join(parts)
        text = self.message
        if self.field and self.field not in text:
            text = f"{text} (field: {self.field})"
        return f"{prefix}: {text}" if prefix else text

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
                f"code={self.code!r}, field={self.field!r})")


class APIError(MagpieError):
    """The server answered with an HTTP error (every exception below but ``ConnectionError`` and
    ``WaitTimeoutError``). Magpie Cloud's SDK has the same name for "any other HTTP error"."""


class AuthenticationError(APIError):
    """401: the API key is missing or wrong."""


class NotFoundError(APIError):
    """404: unknown job, workspace, file or route."""


class JobNotFoundError(NotFoundError):
    """404 on a job route (``/jobs/...``): no job has that id (Magpie Cloud's SDK's name)."""


class ValidationError(APIError):
    """400, 413 or 422: the request was rejected (bad field, bad workspace id or path, too large;
    ``code`` ``not_supported`` for a Magpie Cloud field with no local meaning, e.g. ``persist=True``)."""


class ConflictError(APIError):
    """409: e.g. deleting a workspace that has queued or running jobs, cancelling a finished job,
    deleting a job that is queued or running."""


class ServerError(APIError):
    """5xx: the server failed (the message says what)."""


class NotSupportedError(ServerError):
    """501: a Magpie Cloud call with no local meaning (``vm-info``, ``ssh``, templates, proxy
    targets, ``PUT /jobs/{id}``, ``POST /jobs/{id}/run``), or an HTTP method the server does not know."""


class ConnectionError(MagpieError):  # noqa: A001 - the name is part of the public API
    """No HTTP answer: nothing listens at the URL, the app is not running, or the request timed out.

    This shadows the builtin ``ConnectionError`` inside this package on purpose; it is *not* a
    subclass of the builtin one.
    """


class WaitTimeoutError(MagpieError, TimeoutError):
    """``jobs.wait``/``run_and_wait`` gave up after ``timeout``/``wait_timeout`` seconds (also
    ``wait_for_completion`` after ``timeout``). It is also a builtin ``TimeoutError``.

    The job keeps running on the server; ``job`` holds its last known state.
    """

    def __init__(self, message: str, *, job: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.job = job


_BY_STATUS: Dict[int, Type[MagpieError]] = {
    400: ValidationError,
    401: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    422: ValidationError,
    501: NotSupportedError,
}


def _is_job_route(url: Optional[str]) -> bool:
    if not url:
        return False
    path = urlsplit(url).path
    return "/api/v1/jobs" in path


def error_class_for_status(status: int, url: Optional[str] = None) -> Type[MagpieError]:
    if status == 404 and _is_job_route(url):
        return JobNotFoundError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status <= 599:
        return ServerError
    return APIError


def error_for_status(
    status: int,
    body: Any = None,
    *,
    reason: str = "",
    method: Optional[str] = None,
    url: Optional[str] = None,
) -> MagpieError:
    """Builds the exception for an HTTP error answer (``body`` is the decoded JSON or raw text)."""
    code: Optional[str] = None
    field: Optional[str] = None
    message: Optional[str] = None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            code = err.get("code") if isinstance(err.get("code"), str) else None
            message = err.get("message") if isinstance(err.get("message"), str) else None
            field = err.get("field") if isinstance(err.get("field"), str) else None
        elif isinstance(err, str):
            message = err
        if message is None and isinstance(body.get("message"), str):
            message = body["message"]
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:2000]
    if not message:
        message = reason or f"HTTP {status}"
    cls = error_class_for_status(status, url)
    return cls(message, status=status, code=code, field=field, body=body, method=method, url=url)
