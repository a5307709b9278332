"""HTTP transport over urllib (standard library only)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any, Callable, Dict, Mapping, Optional, Sequence, Union
from urllib.parse import quote, urlencode, urlsplit

from . import errors
from ._config import API_PREFIX, Endpoint
from ._version import __version__

QueryValue = Union[str, int, float, bool, None]

USER_AGENT = f"magpie-python/{__version__}"


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        v = self.headers.get(name)
        return default if v is None else v

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")


def quote_segment(value: str) -> str:
    """Quotes one path segment (an id) so it cannot change the route."""
    return quote(str(value), safe="")


class Transport:
    """Sends requests to ``<base_url>/api/v1``; maps failures to :mod:`magpie.errors`."""

    def __init__(self, resolve: Callable[[], Endpoint], timeout: float) -> None:
        self._resolve = resolve
        self.timeout = timeout
        self._openers: Dict[bool, urllib.request.OpenerDirector] = {}

    def _opener(self, loopback: bool) -> urllib.request.OpenerDirector:
        op = self._openers.get(loopback)
        if op is None:
            # The app only listens on 127.0.0.1: never send that through an HTTP proxy.
            handlers = [urllib.request.ProxyHandler({})] if loopback else []
            op = urllib.request.build_opener(*handlers)
            self._openers[loopback] = op
        return op

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, QueryValue]] = None,
        body: Any = None,
        timeout: Optional[float] = None,
        auth: bool = True,
        stream_to: Optional[IO[bytes]] = None,
        ok: Sequence[int] = (200, 201, 202, 204),
        raw: Optional[bytes] = None,
        content_type: str = "application/octet-stream",
    ) -> Response:
        """``body`` is sent as JSON; ``raw`` as it is, with ``content_type`` (uploads, imports)."""
        ep = self._resolve()
        assert ep.base_url is not None
        url = ep.base_url + API_PREFIX + path
        if query:
            q = {}
            for k, v in query.items():
                if v is None:
                    continue
                q[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
            if q:
                url += "?" + urlencode(q)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if auth and ep.api_key:
            headers["Authorization"] = f"Bearer {ep.api_key}"
        data: Optional[bytes] = None
        if raw is not None:
            data = raw
            headers["Content-Type"] = content_type
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        host = urlsplit(url).hostname or ""
        t = self.timeout if timeout is None else timeout
        try:
            with self._opener(_is_loopback(host)).open(req, timeout=t) as resp:
                status = resp.status
                hdrs = _headers(resp.headers)
                if stream_to is not None and status in ok:
                    while True:
                        chunk = resp.read(1 << 16)
                        if not chunk:
                            break
                        stream_to.write(chunk)
                    payload = b""
                else:
                    payload = resp.read()
        except urllib.error.HTTPError as e:
            try:
                raw = e.read()
            except Exception:  # noqa: BLE001 - the body of an error is best effort
                raw = b""
            finally:
                e.close()
            raise errors.error_for_status(e.code, _decode_error_body(raw), reason=str(e.reason or ""),
                                          method=method, url=url) from None
        except urllib.error.URLError as e:
            raise self._connection_error(ep, url, method, e.reason) from None
        except (socket.timeout, TimeoutError) as e:
            raise errors.ConnectionError(
                f"{method} {url}: no answer within {t:g} s ({e or 'timed out'})", method=method, url=url) from None
        except (http.client.HTTPException, ConnectionResetError, BrokenPipeError, OSError) as e:
            raise self._connection_error(ep, url, method, e) from None
        if status not in ok:
            raise errors.error_for_status(status, _decode_error_body(payload), method=method, url=url)
        return Response(status, hdrs, payload)

    def _connection_error(self, ep: Endpoint, url: str, method: str, reason: Any) -> errors.ConnectionError:
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return errors.ConnectionError(f"{method} {url}: no answer in time ({reason or 'timed out'})",
                                          method=method, url=url)
        if isinstance(reason, ssl.SSLError):
            what = f"TLS error: {reason}"
        elif isinstance(reason, ConnectionRefusedError):
            what = "connection refused"
        else:
            what = str(reason) or type(reason).__name__
        msg = (f"cannot connect to Magpie Desktop at {ep.base_url} ({what}); "
               f"is the app running? (URL from {ep.url_source or 'unknown'})")
        return errors.ConnectionError(msg, method=method, url=url)


def _headers(msg: Any) -> Mapping[str, str]:
    return _CaseInsensitive({k: v for k, v in msg.items()})


class _CaseInsensitive(dict):  # type: ignore[type-arg]
    def __init__(self, d: Dict[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in d.items()})

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return str(super().__getitem__(key.lower()))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


def _decode_error_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_content_disposition_filename(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    for part in value.split(";"):
        part = part.strip()
        if part.lower().startswith("filename="):
            name = part[9:].strip().strip('"')
            return name or None
    return None


__all__ = ["Transport", "Response", "quote_segment", "parse_content_disposition_filename"]
