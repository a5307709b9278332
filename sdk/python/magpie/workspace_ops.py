"""``client.workspaces`` lifecycle: snapshots, clone, grow, create, upload, delete files,
export and import (issue 11). :class:`WorkspaceOpsMixin` is mixed into ``Workspaces``.

Every operation goes through the workspace's queue on the server: it waits for the jobs queued
before it, hence the long default timeout.
"""

from __future__ import annotations

import os
import tempfile
from typing import IO, Any, Dict, List, Optional, Union

from . import errors
from ._transport import quote_segment

__all__ = ["WorkspaceOpsMixin", "MAX_UPLOAD_BYTES"]

#: The server's limit for one uploaded file (docs/api.md).
MAX_UPLOAD_BYTES = 256 << 20
#: Disk operations wait behind the workspace's queued jobs: allow for that.
OP_TIMEOUT = 600.0

PathLike = Union[str, "os.PathLike[str]"]


class WorkspaceOpsMixin:
    _client: Any

    # ------------------------------------------------------------------ snapshots
    def snapshots(self, workspace_id: str) -> List[Dict[str, Any]]:
        """The snapshots of the workspace: ``[{name, created_at, job_id, size_bytes}]``."""
        resp = self._client._transport.request("GET", f"{_ws(workspace_id)}/snapshots", timeout=OP_TIMEOUT)
        return list((resp.json() or {}).get("snapshots", []))

    def snapshot(self, workspace_id: str, name: str) -> Dict[str, Any]:
        """Takes a named snapshot. ConflictError when the name exists."""
        return self._json("POST", f"{_ws(workspace_id)}/snapshots", body={"name": name})

    def restore(self, workspace_id: str, name: str) -> Dict[str, Any]:
        """Puts the workspace back as it was at snapshot ``name``; the state before is kept as
        a safety snapshot (its name is in the answer's ``safety_snapshot``)."""
        return self._json("POST", f"{_ws(workspace_id)}/snapshots/{quote_segment(name)}/restore")

    def delete_snapshot(self, workspace_id: str, name: str) -> Dict[str, Any]:
        return self._json("DELETE", f"{_ws(workspace_id)}/snapshots/{quote_segment(name)}")

    # ------------------------------------------------------------------ disks
    def clone(self, workspace_id: str, new_id: str) -> Dict[str, Any]:
        """An independent copy of the workspace, named ``new_id``."""
        return self._json("POST", f"{_ws(workspace_id)}/clone", body={"id": new_id})

    def resize(self, workspace_id: str, size_gb: int) -> Dict[str, Any]:
        """Grows the disk and its filesystem to ``size_gb``; a size not larger → ValidationError."""
        return self._json("PATCH", _ws(workspace_id), body={"size_gb": size_gb})

    def create(self, workspace_id: str, size_gb: Optional[int] = None) -> Dict[str, Any]:
        """A new empty workspace. ConflictError when it exists."""
        body: Dict[str, Any] = {"id": workspace_id}
        if size_gb is not None:
            body["size_gb"] = size_gb
        return self._json("POST", "/workspaces", body=body)

    # ------------------------------------------------------------------ files
    def upload(self, workspace_id: str, path: str, data: Union[bytes, bytearray, IO[bytes], PathLike]) -> Dict[str, Any]:
        """Writes ``data`` (bytes, a binary file object, or the name of a local file) to ``path``
        in the workspace, parent folders created. At most 256 MiB."""
        payload = _read_payload(data)
        if len(payload) > MAX_UPLOAD_BYTES:
            raise ValueError(f"{len(payload)} bytes is more than the {MAX_UPLOAD_BYTES >> 20} MiB upload limit")
        resp = self._raw("PUT", f"{_ws(workspace_id)}/file", {"path": path}, payload, "application/octet-stream")
        return _json_or_empty(resp)

    def delete_file(self, workspace_id: str, path: str) -> Dict[str, Any]:
        """Deletes a file or a folder (with what it holds). The root → ValidationError."""
        resp = self._client._transport.request("DELETE", f"{_ws(workspace_id)}/file", query={"path": path},
                                               timeout=OP_TIMEOUT)
        return _json_or_empty(resp)

    # ------------------------------------------------------------------ archives
    def export(self, workspace_id: str, target_path: PathLike) -> str:
        """Saves a ``.tar.gz`` of the workspace's files to ``target_path``; returns that path.
        The file is replaced only once the export has succeeded."""
        target = os.fspath(target_path)
        folder = os.path.dirname(os.path.abspath(target)) or os.curdir
        fd, tmp = tempfile.mkstemp(prefix=".magpie-export-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                self._client._transport.request("GET", f"{_ws(workspace_id)}/export", timeout=OP_TIMEOUT, stream_to=f)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return target

    def import_(self, workspace_id: str, archive_path: PathLike, size_gb: Optional[int] = None) -> Dict[str, Any]:
        """Creates workspace ``workspace_id`` from a ``.tar.gz`` (ConflictError when it exists;
        an archive with absolute or ``..`` paths → ValidationError)."""
        with open(os.fspath(archive_path), "rb") as f:
            payload = f.read()
        query = {"size_gb": size_gb} if size_gb is not None else None
        resp = self._raw("POST", f"{_ws(workspace_id)}/import", query, payload, "application/gzip")
        return _json_or_empty(resp)

    # ------------------------------------------------------------------ plumbing
    def _json(self, method: str, path: str, body: Any = None) -> Dict[str, Any]:
        resp = self._client._transport.request(method, path, body=body, timeout=OP_TIMEOUT)
        return _json_or_empty(resp)

    def _raw(self, method: str, path: str, query: Optional[Dict[str, Any]], payload: bytes, content_type: str) -> Any:
        """A request with a raw (not JSON) body; errors map to the same exceptions as JSON ones."""
        return self._client._transport.request(method, path, query=query, raw=payload, content_type=content_type,
                                               timeout=OP_TIMEOUT)


def _ws(workspace_id: str) -> str:
    return f"/workspaces/{quote_segment(workspace_id)}"


def _json_or_empty(resp: Any) -> Dict[str, Any]:
    data = resp.json() if resp.body else None
    return data if isinstance(data, dict) else {}


def _read_payload(data: Union[bytes, bytearray, IO[bytes], PathLike]) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if hasattr(data, "read"):
        return data.read()  # type: ignore[union-attr]
    with open(os.fspath(data), "rb") as f:  # type: ignore[arg-type]
        return f.read(MAX_UPLOAD_BYTES + 1)
