"""Python client of Magpie Desktop: run bash scripts in local VMs with persistent workspaces.

    from magpie import Magpie
    client = Magpie()                       # finds the running app (or MAGPIE_BASE_URL/MAGPIE_API_KEY)
    result = client.jobs.run_and_wait(name="hi", script="echo hello")
    print(result.status, result.exit_code, result.stdout)
"""

from ._version import __version__
from .client import DEFAULT_TIMEOUT, Magpie
from .errors import (AuthenticationError, ConflictError, ConnectionError, MagpieError, NotFoundError,
                     ServerError, ValidationError, WaitTimeoutError)
from .jobs import LogPage
from .models import TERMINAL_STATUSES, FileEntry, Job, JobList, UsageEntry, Workspace

__all__ = [
    "__version__",
    "Magpie",
    "DEFAULT_TIMEOUT",
    "MagpieError",
    "AuthenticationError",
    "NotFoundError",
    "ValidationError",
    "ConflictError",
    "ServerError",
    "ConnectionError",
    "WaitTimeoutError",
    "Job",
    "JobList",
    "Workspace",
    "FileEntry",
    "UsageEntry",
    "LogPage",
    "TERMINAL_STATUSES",
]
