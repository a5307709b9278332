"""Finds the URL and API key of Magpie Desktop.

Order for the URL: the ``base_url`` argument, ``MAGPIE_BASE_URL``, then ``endpoint.json`` of a
running app in the data folder (``MAGPIE_DATA_DIR``, ``$XDG_DATA_HOME/magpie-desktop``,
``~/.local/share/magpie-desktop``). Order for the key: the ``api_key`` argument,
``MAGPIE_API_KEY``, the ``api_key_file`` named by that ``endpoint.json``, then ``<data-dir>/api-key``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional
from urllib.parse import urlsplit, urlunsplit

APP_DIR_NAME = "magpie-desktop"
ENDPOINT_FILE = "endpoint.json"
KEY_FILE = "api-key"
API_PREFIX = "/api/v1"


def normalize_base_url(url: str) -> str:
    """``http://127.0.0.1:8765/``, ``.../api/v1`` and ``.../api/v1/`` all become ``http://127.0.0.1:8765``."""
    url = url.strip()
    if not url:
        raise ValueError("base_url is empty")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"base_url must be an http:// or https:// URL, not {url!r}")
    if not parts.netloc:
        raise ValueError(f"base_url has no host: {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def data_dirs(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The folders where a running app may have written ``endpoint.json``, most specific first."""
    env = os.environ if environ is None else environ
    out: List[str] = []
    explicit = env.get("MAGPIE_DATA_DIR")
    if explicit:
        out.append(os.path.expanduser(explicit))
    xdg = env.get("XDG_DATA_HOME")
    if xdg:
        out.append(os.path.join(os.path.expanduser(xdg), APP_DIR_NAME))
    home = env.get("HOME") or os.path.expanduser("~")
    out.append(os.path.join(home, ".local", "share", APP_DIR_NAME))
    seen: Dict[str, None] = {}
    for d in out:
        seen.setdefault(os.path.abspath(d), None)
    return list(seen)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _read_key_file(path: str) -> Optional[str]:
    try:
        with open(path, "r", encoding="utf-8") as f:
            key = f.read().strip()
    except OSError:
        return None
    return key or None


@dataclass
class Endpoint:
    """What discovery found. ``base_url``/``api_key`` may be None; ``looked`` lists what was tried."""

    base_url: Optional[str] = None
    api_key: Optional[str] = None
    url_source: str = ""
    key_source: str = ""
    looked: List[str] = field(default_factory=list)

    def describe_search(self) -> str:
        return "; ".join(self.looked) if self.looked else "nowhere"


def discover(
    api_key: Optional[str] = None,
    base_url: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> Endpoint:
    env = os.environ if environ is None else environ
    ep = Endpoint()
    if base_url:
        ep.base_url, ep.url_source = normalize_base_url(base_url), "the base_url argument"
    elif env.get("MAGPIE_BASE_URL"):
        ep.base_url, ep.url_source = normalize_base_url(env["MAGPIE_BASE_URL"]), "MAGPIE_BASE_URL"
    if api_key:
        ep.api_key, ep.key_source = api_key, "the api_key argument"
    elif env.get("MAGPIE_API_KEY"):
        ep.api_key, ep.key_source = env["MAGPIE_API_KEY"], "MAGPIE_API_KEY"
    if ep.base_url and ep.api_key:
        return ep

    dirs = data_dirs(env)
    # endpoint.json of a running app: gives the URL and where its key is.
    for d in dirs:
        path = os.path.join(d, ENDPOINT_FILE)
        try:
            with open(path, "r", encoding="utf-8") as f:
                info = json.load(f)
        except FileNotFoundError:
            ep.looked.append(f"{path}: not found")
            continue
        except (OSError, ValueError) as e:
            ep.looked.append(f"{path}: unreadable ({e})")
            continue
        if not isinstance(info, dict) or not isinstance(info.get("url"), str):
            ep.looked.append(f"{path}: has no \"url\"")
            continue
        pid = info.get("pid")
        if isinstance(pid, int) and not _pid_alive(pid):
            ep.looked.append(f"{path}: stale (pid {pid} is not running)")
            continue
        if ep.base_url is None:
            try:
                ep.base_url = normalize_base_url(info["url"])
            except ValueError as e:
                ep.looked.append(f"{path}: bad url ({e})")
                continue
            ep.url_source = path
        if ep.api_key is None:
            kf = info.get("api_key_file")
            if isinstance(kf, str) and kf:
                key = _read_key_file(kf)
                if key:
                    ep.api_key, ep.key_source = key, kf
                else:
                    ep.looked.append(f"{kf}: key file not readable")
        break
    if ep.api_key is None:
        for d in dirs:
            kf = os.path.join(d, KEY_FILE)
            key = _read_key_file(kf)
            if key:
                ep.api_key, ep.key_source = key, kf
                break
    return ep
