"""Python client of Magpie Desktop: run bash scripts in local VMs with persistent workspaces.

    from magpie import Magpie
    client = Magpie()                       # finds the running app (or MAGPIE_BASE_URL/MAGPIE_API_KEY)
    result = client.jobs.run_and_wait(name="hi", script="echo hello")
    print(result.status, result.exit_code, result.stdout)

Scripts written for Magpie Cloud's SDK run too: ``Magpie(api_key=...)``, ``client.base_url = ...``,
``run_and_wait(..., environment=...)``, ``result.success``/``result.logs``, ``jobs.get_status``,
``jobs.get_logs``, ``jobs.get_result`` (docs/api.md, "Magpie Cloud compatibility").
"""

from ._version import __version__
from .client import DEFAULT_TIMEOUT, Magpie
from .errors import (APIError, AuthenticationError, ConflictError, ConnectionError, JobNotFoundError, MagpieError,
                     NotFoundError, NotSupportedError, ServerError, ValidationError, WaitTimeoutError)
from .jobs import LogPage
from .models import (TERMINAL_STATUSES, FileEntry, Job, JobList, JobResult, JobState, JobStatus, LogEntry, UsageEntry,
                     Workspace)

__all__ = [
    "__version__",
    "Magpie",
    "DEFAULT_TIMEOUT",
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
    "Job",
    "JobList",
    "Workspace",
    "FileEntry",
    "UsageEntry",
    "LogPage",
    "TERMINAL_STATUSES",
    "JobState",
    "JobStatus",
    "JobResult",
    "LogEntry",
]
