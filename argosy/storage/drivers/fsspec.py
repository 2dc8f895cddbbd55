"""Artifact repository on any fsspec URL (``memory://``, ``file://``, ``gs://`` with gcsfs, ...).

Atomicity: every write goes to a hidden temp key beside the target and is then moved into place.
On local disks the move is a rename (atomic); on ``memory://`` the object is swapped in one dict
assignment; on object stores (gcs, az, ...) ``mv`` is copy+delete, and since those stores publish
an object only when its upload completes, the final key still never shows a partial object — but
a crash can leave a hidden ``.…argosy-tmp-…`` object behind (``list`` skips them).  Object stores
have no empty directories, so ``make_dir`` writes a zero-byte ``key/`` marker there, like S3.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

import fsspec

from argosy.errors import ArtifactNotFound, StorageError

from .base import ArtifactDriver, BufferReader, ObjectInfo, check_key, check_prefix, copy_stream

__all__ = ["FsspecDriver"]

_TMP_MARK = ".argosy-tmp-"
_BATCH = 1000


class FsspecDriver(ArtifactDriver):
    """Keys live under the URL's path; ``storage_options`` go to the fsspec filesystem (and are
    never shown by ``describe``/``repr``, since they may hold credentials)."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **storage_options)
        except (ImportError, ValueError) as exc:
            raise StorageError(f"cannot open artifact repository {url.split('?')[0]!r}: {exc}") from exc
        protocol = self.fs.protocol
        self.protocol: str = protocol if isinstance(protocol, str) else protocol[0]
        self.root: str = root.rstrip("/")
        self.max_concurrency = 1 if self.protocol in ("memory", "file", "local") else 8

    def _path(self, key: str) -> str:
        rel = check_key(key)
        if ".." in rel.split("/"):
            raise StorageError(f"invalid artifact key {key!r}: '..' would escape the repository {self.describe()}")
        return f"{self.root}/{rel}"

    def _key(self, path: str) -> str:
        return path[len(self.root) + 1 :] if path.startswith(self.root + "/") else path.lstrip("/")

    # -- writing ---------------------------------------------------------------------------------

    def put_stream(self, key: str, reader: BinaryIO, size: int | None = None) -> ObjectInfo:
        path = self._path(key)
        parent, _, name = path.rpartition("/")
        tmp = f"{parent}/.{name[:40]}{_TMP_MARK}{uuid.uuid4().hex}"
        try:
            self.fs.makedirs(parent, exist_ok=True)
            with self.fs.open(tmp, "wb") as out:
                total = copy_stream(reader, out, size)
            self.fs.mv(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            if isinstance(exc, (FileExistsError, NotADirectoryError, IsADirectoryError)):
                raise StorageError(f"cannot store {key!r} in {self.describe()}: {exc}") from exc
            raise
        return ObjectInfo(key, total, _mtime(self._info(path)))

    def make_dir(self, key: str) -> None:
        path = self._path(key)
        try:
            self.fs.makedirs(path, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise StorageError(f"cannot create directory {key!r} in {self.describe()}: {exc}") from exc
        if not self.fs.isdir(path):  # an object store: no real directories, write a marker
            self.fs.pipe_file(path + "/", b"")

    # -- reading ---------------------------------------------------------------------------------

    def open_read(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            f = self.fs.open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArtifactNotFound(f"artifact {key!r} not found in {self.describe()}") from None
        if isinstance(f, io.BytesIO):  # memory:// hands out the stored object itself: read a view
            reader: Any = BufferReader(f.getbuffer(), release_on_close=True)
            return reader  # type: ignore[no-any-return]
        return f  # type: ignore[no-any-return]

    def _info(self, path: str) -> dict[str, Any]:
        try:
            return dict(self.fs.info(path))
        except FileNotFoundError:
            return {}

    def exists(self, key: str) -> bool:
        return bool(self.fs.isfile(self._path(key)))

    def is_dir(self, key: str) -> bool:
        return bool(self.fs.isdir(self._path(key)))

    def list(self, prefix: str = "", recursive: bool = True, *, include_dirs: bool = False) -> Iterator[ObjectInfo]:
        norm = prefix.strip("/")
        top = self._path(norm) if norm else self.root
        try:
            if recursive:
                found = self.fs.find(top, withdirs=include_dirs, detail=True)
                infos = found.values() if isinstance(found, dict) else found
            else:
                infos = self.fs.ls(top, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return
        entries: builtins.list[ObjectInfo] = []
        for info in infos:
            name = str(info["name"]).rstrip("/")
            if name == top.rstrip("/") or not name.startswith(top.rstrip("/") + "/") or _TMP_MARK in name:
                continue
            is_dir = info.get("type") == "directory" or str(info["name"]).endswith("/")
            entries.append(ObjectInfo(self._key(name), 0 if is_dir else int(info.get("size") or 0), _mtime(info), is_dir))
        entries.sort(key=lambda o: o.key)
        for i, info in enumerate(entries):
            if recursive and info.is_dir and i + 1 < len(entries) and entries[i + 1].key.startswith(info.key + "/"):
                continue  # only empty directories need recording
            yield info

    # -- deleting --------------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            if self.fs.isfile(path):
                self.fs.rm_file(path)

    def delete_many(self, keys: Iterable[str]) -> int:
        count = 0
        batch: builtins.list[str] = []
        for key in keys:
            batch.append(self._path(key))
            count += 1
            if len(batch) == _BATCH:
                self._rm_batch(batch)
                batch = []
        if batch:
            self._rm_batch(batch)
        return count

    def _rm_batch(self, paths: builtins.list[str]) -> None:
        try:
            self.fs.rm(paths)
        except FileNotFoundError:  # some backends refuse the whole batch if one key is gone
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(path)

    def delete_prefix(self, prefix: str) -> int:
        path = self._path(check_prefix(prefix))
        if not self.fs.isdir(path):
            return 0
        count = sum(1 for _ in self.list(prefix, include_dirs=True))
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path, recursive=True)
        return count

    # -- naming ----------------------------------------------------------------------------------

    def describe(self) -> str:
        return f"{self.protocol}://{self.root.lstrip('/') if self.protocol != 'file' else self.root}"

    def url(self, key: str) -> str:
        return str(self.fs.unstrip_protocol(self._path(key)))


def _mtime(info: dict[str, Any]) -> float:
    """fsspec backends name the modification time differently; take the first one present."""
    for field in ("mtime", "LastModified", "last_modified", "updated", "modified", "created", "ctime"):
        value = info.get(field)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    return 0.0
