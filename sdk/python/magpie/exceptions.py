"""The exceptions under the module name of Magpie Cloud's SDK (``from magpie.exceptions import
JobNotFoundError``); they are those of :mod:`magpie.errors`."""

from .errors import (APIError, AuthenticationError, ConflictError, ConnectionError, JobNotFoundError, MagpieError,
                     NotFoundError, NotSupportedError, ServerError, ValidationError, WaitTimeoutError)

#: What ``wait_for_completion``/``run_and_wait`` raise when time runs out (also a builtin TimeoutError).
TimeoutError = WaitTimeoutError  # noqa: A001 - Magpie Cloud's name

__all__ = ["MagpieError", "APIError", "AuthenticationError", "NotFoundError", "JobNotFoundError", "ValidationError",
           "ConflictError", "ServerError", "NotSupportedError", "ConnectionError", "WaitTimeoutError", "TimeoutError"]
