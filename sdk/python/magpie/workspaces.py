"""``client.workspaces``: list, inspect, download from and delete persistent workspaces."""

from __future__ import annotations

import os
import tempfile
from typing import IO, TYPE_CHECKING, List, Optional, Union

from ._transport import parse_content_disposition_filename, quote_segment
from .models import FileEntry, UsageEntry, Workspace
from .workspace_ops import WorkspaceOpsMixin

if TYPE_CHECKING:  # pragma: no cover
    from .client import Magpie

__all__ = ["Workspaces"]

PathLike = Union[str, "os.PathLike[str]"]

#: Listing or reading files boots a VM through the workspace's queue: allow for that.
FILE_TIMEOUT = 600.0


class Workspaces(WorkspaceOpsMixin):
    def __init__(self, client: "Magpie") -> None:
        self._client = client

    def list(self) -> List[Workspace]:
        resp = self._client._transport.request("GET", "/workspaces")
        data = resp.json() or {}
        return [Workspace.from_dict(w) for w in data.get("workspaces", [])]

    def get(self, workspace_id: str) -> Workspace:
        resp = self._client._transport.request("GET", f"/workspaces/{quote_segment(workspace_id)}")
        return Workspace.from_dict(resp.json())

    def delete(self, workspace_id: str) -> str:
        """Deletes the workspace and its disk; returns its id. ConflictError while jobs use it."""
        resp = self._client._transport.request("DELETE", f"/workspaces/{quote_segment(workspace_id)}")
        data = resp.json() if resp.body else None
        if isinstance(data, dict) and isinstance(data.get("deleted"), str):
            return str(data["deleted"])
        return workspace_id

    def files(self, workspace_id: str, path: str = "", timeout: Optional[float] = FILE_TIMEOUT) -> List[FileEntry]:
        """The entries of folder ``path`` (relative to the workspace root; "" = root).

        This boots a VM behind the workspace's queued jobs, hence the long default timeout.
        """
        resp = self._client._transport.request(
            "GET", f"/workspaces/{quote_segment(workspace_id)}/files", query={"path": path}, timeout=timeout)
        data = resp.json() or {}
        return [FileEntry.from_dict(e) for e in data.get("entries", [])]

    def read(self, workspace_id: str, path: str, timeout: Optional[float] = FILE_TIMEOUT) -> bytes:
        """The content of the file at ``path`` (relative to the workspace root)."""
        resp = self._client._transport.request(
            "GET", f"/workspaces/{quote_segment(workspace_id)}/file", query={"path": path}, timeout=timeout)
        return resp.body

    def download(self, workspace_id: str, path: str, dest: Union[PathLike, IO[bytes], None] = None,
                 timeout: Optional[float] = FILE_TIMEOUT) -> Optional[str]:
        """Saves the file at ``path`` to ``dest``: a file name, an existing folder (the file keeps
        its name), a binary file object, or None (the current folder). Returns the path written
        (None for a file object). A file is replaced only once the download has succeeded.
        """
        url_path = f"/workspaces/{quote_segment(workspace_id)}/file"
        if dest is not None and hasattr(dest, "write"):
            self._client._transport.request("GET", url_path, query={"path": path}, timeout=timeout,
                                            stream_to=dest)  # type: ignore[arg-type]
            return None
        target = os.fspath(dest) if dest is not None else os.curdir
        into_dir = os.path.isdir(target)
        folder = target if into_dir else (os.path.dirname(os.path.abspath(target)) or os.curdir)
        fd, tmp = tempfile.mkstemp(prefix=".magpie-download-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                resp = self._client._transport.request("GET", url_path, query={"path": path}, timeout=timeout,
                                                       stream_to=f)
            if into_dir:
                name = parse_content_disposition_filename(resp.header("Content-Disposition"))
                name = os.path.basename(name or "") or os.path.basename(path.rstrip("/")) or "download"
                target = os.path.join(target, name)
            os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return target

    def usage(self, workspace_id: str, limit: Optional[int] = 50,
              timeout: Optional[float] = FILE_TIMEOUT) -> List[UsageEntry]:
        """The largest files and folders of the workspace, biggest first."""
        resp = self._client._transport.request(
            "GET", f"/workspaces/{quote_segment(workspace_id)}/usage", query={"limit": limit}, timeout=timeout)
        data = resp.json() or {}
        return [UsageEntry.from_dict(e) for e in data.get("entries", [])]


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m
