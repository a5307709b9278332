"""The :class:`Magpie` client."""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional

from . import errors
from ._config import Endpoint, data_dirs, discover, normalize_base_url
from ._transport import Transport
from .jobs import Jobs
from .workspaces import Workspaces

__all__ = ["Magpie", "DEFAULT_TIMEOUT"]

#: Seconds a single ordinary request may take (long-polls and file reads get more).
DEFAULT_TIMEOUT = 60.0


class Magpie:
    """Client of the Magpie Desktop local API.

    ``api_key`` falls back to ``MAGPIE_API_KEY``, ``base_url`` to ``MAGPIE_BASE_URL``; when either
    is missing the client reads ``endpoint.json`` (and the key file it names) of a Magpie Desktop
    running for this user, in ``MAGPIE_DATA_DIR``, ``$XDG_DATA_HOME/magpie-desktop`` or
    ``~/.local/share/magpie-desktop``. If the app is not found at construction time the client
    looks again before each request, so it also works once the app has been started.

    ``base_url`` is the server root (``http://127.0.0.1:8765``); a trailing slash or ``/api/v1``
    is accepted. Scripts written for Magpie Cloud's SDK (``Magpie(api_key=...)``, then
    ``client.base_url = ...``) work unchanged: both attributes may be assigned after construction.
    """

    def __init__(self, api_key: Optional[str] = None, base_url: Optional[str] = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        if isinstance(base_url, (int, float)) and not isinstance(base_url, bool):
            # Magpie Cloud's constructor is Magpie(api_key, timeout): a number second is the timeout.
            timeout, base_url = base_url, None
        self._explicit_key = api_key
        self._explicit_url = base_url
        self.timeout = float(timeout)
        self._lock = threading.Lock()
        self._endpoint: Endpoint = discover(api_key, base_url)
        self._transport = Transport(self._resolve, self.timeout)
        self.jobs = Jobs(self)
        self.workspaces = Workspaces(self)

    # ------------------------------------------------------------------ endpoint
    def _resolve(self) -> Endpoint:
        with self._lock:
            ep = self._endpoint
            if ep.base_url is None or ep.api_key is None:
                ep = discover(self._explicit_key, self._explicit_url)
                self._endpoint = ep
            if ep.base_url is None:
                raise errors.ConnectionError(
                    "Magpie Desktop is not running: no base_url was given, MAGPIE_BASE_URL is not set, "
                    "and no endpoint.json of a running app was found (looked at " + ep.describe_search() +
                    "). Start Magpie Desktop (or `magpie-desktop --headless`), or pass base_url= / set "
                    "MAGPIE_BASE_URL.")
            return ep

    @property
    def base_url(self) -> Optional[str]:
        """The server root in use (None while no running app has been found).

        Assignable, as Magpie Cloud's SDK documents it (``client.base_url = "http://127.0.0.1:PORT"``
        after construction): the value is normalised as the ``base_url`` argument is (a trailing
        slash or ``/api/v1`` is dropped; ValueError when it is not an http(s) URL) and used from the
        next request on; None goes back to discovery.
        """
        return self._endpoint.base_url

    @base_url.setter
    def base_url(self, value: Optional[str]) -> None:
        url = normalize_base_url(value) if value is not None else None
        with self._lock:
            self._explicit_url = url
            self._endpoint = discover(self._explicit_key, url)

    @property
    def api_key(self) -> Optional[str]:
        """The API key in use (None while none has been found); assignable like ``base_url``."""
        return self._endpoint.api_key

    @api_key.setter
    def api_key(self, value: Optional[str]) -> None:
        with self._lock:
            self._explicit_key = value or None
            self._endpoint = discover(self._explicit_key, self._explicit_url)

    @property
    def api_key_source(self) -> str:
        return self._endpoint.key_source

    @staticmethod
    def data_dirs() -> list:  # type: ignore[type-arg]
        """Where the client looks for ``endpoint.json``."""
        return data_dirs()

    # ------------------------------------------------------------------ misc routes
    def health(self) -> Dict[str, Any]:
        """``GET /api/v1/health`` (no key needed): ``{"status": "ok", "version": ...}``."""
        data: Dict[str, Any] = self._transport.request("GET", "/health", auth=False).json()
        return data

    def pool(self) -> Dict[str, Any]:
        """``GET /api/v1/pool``: running/queued counts, ``max_parallel``, the accelerator."""
        data: Dict[str, Any] = self._transport.request("GET", "/pool").json()
        return data

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Low-level escape hatch: ``path`` below ``/api/v1`` (e.g. ``"/pool"``); returns decoded JSON."""
        return self._transport.request(method, path, **kwargs).json()

    def __repr__(self) -> str:
        return f"Magpie(base_url={self.base_url!r})"
