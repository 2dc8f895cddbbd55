"""Artifact downloads and browsing: Argo Server's ``/artifacts``, ``/input-artifacts`` and ``/artifact-files``.

Beyond Argo, a path *inside* a packed artifact (tgz, tar, tar.zst, zip) can be listed and
downloaded without unpacking it: tar streams are read member by member (memory stays at one
buffer whatever the archive's size), zip archives through their central directory. A packed
artifact shows what a consuming step would see at its ``path``: Argo's unpack rule makes a
single top-level directory the artifact's root and a single top-level file the artifact itself.

Every sub-path is checked segment by segment after one decoding: ``..``, ``.``, encoded slashes
and backslashes are refused with 400, and the repository drivers refuse keys leaving their root.
"""

from __future__ import annotations

import html
import io
import json
import mimetypes
import os
import re
import shutil
import tarfile
import tempfile
import threading
import time
import urllib.parse
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from argosy.errors import ArtifactNotFound, StorageError, WorkflowNotFound
from argosy.server.app import HTTPError, Request, Response, Router, iter_file

__all__ = ["ArtifactRoutes", "ARTIFACT_CSP"]

ARTIFACT_CSP = "sandbox allow-same-origin; base-uri 'none'; default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'"
_SECURITY = {"Content-Security-Policy": ARTIFACT_CSP, "X-Frame-Options": "SAMEORIGIN"}
_HEAD = 64 << 10
_EXTRA_TYPES = {".log": "text/plain", ".md": "text/markdown", ".yaml": "text/yaml", ".yml": "text/yaml",
                ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".jsonl": "application/x-ndjson",
                ".ndjson": "application/x-ndjson", ".tgz": "application/gzip", ".zst": "application/zstd",
                ".parquet": "application/vnd.apache.parquet", ".svg": "image/svg+xml"}
_TEXT_TYPES = ("text/", "application/json", "application/x-ndjson", "application/xml", "image/svg+xml")


def mime_type(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    ctype = _EXTRA_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith(_TEXT_TYPES) and "charset" not in ctype:
        ctype += "; charset=utf-8"
    return ctype


# ------------------------------------------------------------------------------------------ sub-paths


def split_subpath(raw: str) -> tuple[list[str], bool]:
    """Decode a raw sub-path once into safe segments; (segments, ends with a slash)."""
    if not raw:
        return [], False
    trailing = raw.endswith("/")
    parts = []
    for seg in raw.split("/"):
        if not seg:
            continue
        value = urllib.parse.unquote(seg, errors="strict") if "%" in seg else seg
        if value in (".", "..") or any(c in value for c in "/\\\0") or value.strip() in ("..", "."):
            raise HTTPError(400, f"invalid path {raw!r}: '..', '.', encoded slashes and backslashes are not allowed")
        parts.append(value)
    return parts, trailing


# ------------------------------------------------------------------------------------------ archives


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    size: int
    mtime: float = 0.0


@dataclass(frozen=True)
class Layout:
    """Where an archive's artifact root is: ``root`` is a member prefix (``""`` or ``top/``)."""

    root: str
    single_file: str | None  # the member that *is* the artifact when it holds one top-level file


def _clean(name: str) -> str | None:
    """A member name as a relative path, or None for names that would escape (never served)."""
    if "\0" in name or name.startswith("/"):
        return None
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


class _Chain(io.RawIOBase):
    """``head`` (already read for sniffing) followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if len(self._head):
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()


def sniff(head: bytes) -> str:
    """The stored format from the first bytes: tgz, zstd, zip, tar or raw."""
    if head.startswith(b"\x1f\x8b"):
        try:
            block = zlib.decompressobj(31).decompress(head, 1024)
        except Exception:
            return "raw"
        return "tgz" if _tar_header(block) else "raw"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        try:
            import zstandard

            block = zstandard.ZstdDecompressor().decompressobj().decompress(head)[:1024]
        except Exception:
            return "raw"
        return "zstd" if _tar_header(block) else "raw"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if _tar_header(head):
        return "tar"
    return "raw"


def _tar_header(block: bytes) -> bool:
    if len(block) < 512 or block[:512] == bytes(512):
        return False
    try:
        stored = int(block[148:156].split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:
        return False
    rest = block[:148] + block[156:512]
    return stored == sum(rest) + 256


class _Gunzip(io.RawIOBase):
    """gzip decoding with bounded output per read (``tarfile``'s own would inflate a highly
    compressed member into one huge buffer); multi-member streams are followed."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._dec = zlib.decompressobj(31)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while True:
            if self._dec.eof:
                rest = self._dec.unused_data + self._pending
                if not rest.startswith(b"\x1f\x8b"):
                    return 0
                self._dec, self._pending = zlib.decompressobj(31), rest
            if not self._pending:
                self._pending = self._stream.read(256 << 10)
                if not self._pending:
                    return 0
            try:
                out = self._dec.decompress(self._pending, len(view))
            except zlib.error as exc:
                raise OSError(f"corrupt gzip data: {exc}") from None
            self._pending = self._dec.unconsumed_tail
            if out:
                view[: len(out)] = out
                return len(out)


class Archive:
    """Streaming access to one stored archive object (re-opened per pass; nothing unpacked to disk)."""

    def __init__(self, open_stream: Any, kind: str, label: str) -> None:
        self._open = open_stream
        self.kind = kind
        self.label = label

    # -- tar family --------------------------------------------------------------------------

    def _tar(self) -> tuple[tarfile.TarFile, Any]:
        stream = self._open()
        src: Any = stream
        if self.kind == "zstd":
            import zstandard

            src = zstandard.ZstdDecompressor().stream_reader(stream, read_size=256 << 10, read_across_frames=True)
        elif self.kind == "tgz":
            src = _Gunzip(stream)
        try:
            return tarfile.open(fileobj=src, mode="r|", bufsize=256 << 10), stream  # type: ignore[call-overload]
        except (tarfile.TarError, OSError, EOFError) as exc:
            stream.close()
            raise HTTPError(422, f"{self.label} is not a readable {self.kind} archive: {exc}") from None

    def _members(self) -> Generator[tuple[str, tarfile.TarInfo | zipfile.ZipInfo, Any], None, None]:
        """(clean name, info, handle) for each member; the handle reads a member's data."""
        if self.kind == "zip":
            zf, stream = self._zip()
            try:
                for info in zf.infolist():
                    name = _clean(info.filename)
                    if name:
                        yield name, info, zf
            finally:
                zf.close()
                stream.close()
            return
        tf, stream = self._tar()
        try:
            while True:
                try:
                    member = tf.next()
                except (tarfile.TarError, OSError, EOFError) as exc:
                    raise HTTPError(422, f"{self.label}: corrupt archive: {exc}") from None
                if member is None:
                    return
                tf.members.clear()  # type: ignore[attr-defined]  # stream mode: keep memory flat whatever the member count
                name = _clean(member.name)
                if name:
                    yield name, member, tf
        finally:
            tf.close()
            stream.close()

    def _zip(self) -> tuple[zipfile.ZipFile, Any]:
        stream = self._open()
        seekable = getattr(stream, "seekable", lambda: False)()
        if not seekable:  # zip needs random access: spool to disk, never to memory
            spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the ZipFile
            shutil.copyfileobj(stream, spool, 1 << 20)
            stream.close()
            spool.seek(0)
            stream = spool
        try:
            return zipfile.ZipFile(stream), stream
        except (zipfile.BadZipFile, OSError) as exc:
            stream.close()
            raise HTTPError(422, f"{self.label} is not a readable zip archive: {exc}") from None

    # -- queries -----------------------------------------------------------------------------

    @staticmethod
    def _is_dir(info: Any) -> bool:
        return bool(info.is_dir() if isinstance(info, zipfile.ZipInfo) else info.isdir())

    @staticmethod
    def _size(info: Any) -> int:
        return int(info.file_size if isinstance(info, zipfile.ZipInfo) else info.size)

    @staticmethod
    def _mtime(info: Any) -> float:
        if isinstance(info, zipfile.ZipInfo):
            return time.mktime((*info.date_time, 0, 0, -1))
        return float(info.mtime)

    def layout(self) -> Layout:
        tops: dict[str, bool] = {}
        for name, info, _ in self._members():
            top, _, rest = name.partition("/")
            is_dir = bool(rest) or self._is_dir(info)
            tops[top] = tops.get(top, False) or is_dir
            if len(tops) > 1:
                return Layout("", None)
        if len(tops) == 1:
            ((top, is_dir),) = tops.items()
            return Layout(top + "/", None) if is_dir else Layout("", top)
        return Layout("", None)

    def listing(self, prefix: str) -> tuple[list[Entry], bool]:
        """Immediate children of the member directory ``prefix`` (``""`` or ``a/b/``); (entries, exists)."""
        children: dict[str, Entry] = {}
        exists = prefix == ""
        for name, info, _ in self._members():
            if prefix and name == prefix.rstrip("/"):
                if not self._is_dir(info):
                    raise _IsFile()
                exists = True
                continue
            if not name.startswith(prefix):
                continue
            exists = True
            rest = name[len(prefix) :]
            head, sep, _ = rest.partition("/")
            if sep or self._is_dir(info):
                children.setdefault(head, Entry(head, True, 0, self._mtime(info)))
            else:
                children[head] = Entry(head, False, self._size(info), self._mtime(info))
        return sorted(children.values(), key=lambda e: (not e.is_dir, e.name)), exists

    def open_member(self, member: str) -> tuple[Any, int] | None:
        """A reader of one member's bytes and its size; None when there is no such file.

        The reader owns the archive stream: closing it closes everything.
        """
        gen = self._members()
        for name, info, handle in gen:
            if name != member:
                continue
            if self._is_dir(info):
                gen.close()
                raise _IsDir()
            if isinstance(info, zipfile.ZipInfo):
                return _Owned(handle.open(info), gen), self._size(info)
            if not info.isfile():
                continue
            fh = handle.extractfile(info)
            if fh is None:
                continue
            return _Owned(fh, gen), self._size(info)
        return None


class _IsFile(Exception):
    pass


class _IsDir(Exception):
    pass


class _Owned:
    """A member reader that, when closed, also ends the generator holding the archive open."""

    def __init__(self, fh: Any, gen: Iterator[Any]) -> None:
        self._fh = fh
        self._gen = gen

    def read(self, n: int = -1) -> bytes:
        return bytes(self._fh.read(n))

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            self._gen.close()  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ routes


@dataclass
class Located:
    """One artifact of one node, resolved to where its bytes are."""

    workflow: dict[str, Any]
    node: dict[str, Any]
    art: dict[str, Any]
    driver: Any
    key: str

    @property
    def packed(self) -> bool:
        """Stored as an archive (Argo's default tar+gzip), not as the raw file or directory."""
        archive = self.art.get("archive")
        return not (isinstance(archive, dict) and "none" in archive)


class ArtifactRoutes:
    """Resolves ``(namespace, workflow, node, artifact)`` and serves the bytes."""

    def __init__(self, store: Any) -> None:  # a Store or a cluster's KubeStore
        self.store = store
        self._managers: dict[str, tuple[float, Any]] = {}
        self._layouts: OrderedDict[tuple[str, str, str], Layout] = OrderedDict()
        self._lock = threading.Lock()

    # -- resolution ----------------------------------------------------------------------------

    def _manager(self, wf: dict[str, Any]) -> Any:
        from argosy.pipeline.artifacts import ArtifactManager
        from argosy.pipeline.config import load_config

        ns = (wf.get("metadata") or {}).get("namespace")
        ref = (wf.get("spec") or {}).get("artifactRepositoryRef")
        cache_key = json.dumps([ns, ref], sort_keys=True)
        with self._lock:
            hit = self._managers.get(cache_key)
            if hit is not None and time.monotonic() - hit[0] < 30:
                return hit[1]
        manager = ArtifactManager.from_config(self.store, load_config(self.store, ns), ns, ref)
        with self._lock:
            self._managers[cache_key] = (time.monotonic(), manager)
        return manager

    def locate(self, ns: str, wf_name: str, node_id: str, io_kind: str, art_name: str) -> Located:
        try:
            wf = self.store.get_workflow(wf_name, ns)
        except WorkflowNotFound:
            raise HTTPError(404, f'workflows.argoproj.io "{wf_name}" not found') from None
        if (wf.get("metadata") or {}).get("namespace") != ns:
            raise HTTPError(404, f'workflows.argoproj.io "{wf_name}" not found in namespace {ns}')
        nodes = (wf.get("status") or {}).get("nodes") or {}
        node = nodes.get(node_id)
        if node is None:
            raise HTTPError(404, f'node "{node_id}" not found in workflow {wf_name}')
        arts = ((node.get(io_kind) or {}).get("artifacts")) or []
        art = next((a for a in arts if a.get("name") == art_name), None)
        if art is None:
            raise HTTPError(404, f'{io_kind[:-1]} artifact "{art_name}" not found on node {node.get("displayName") or node_id}')
        if art.get("deleted"):
            raise HTTPError(404, f'artifact "{art_name}" has been deleted by artifact garbage collection')
        if (art.get("raw") or {}).get("data") is not None:
            return Located(wf, node, art, None, "")
        from argosy.pipeline.model import Artifact

        try:
            driver, key = self._manager(wf).driver_for(Artifact.model_validate(art))
        except StorageError as exc:
            raise HTTPError(404, f'artifact "{art_name}" is not stored in a repository Argosy can read: {exc}') from None
        return Located(wf, node, art, driver, key)

    def _layout(self, loc: Located, archive: Archive) -> Layout:
        cache_key = (loc.driver.describe(), loc.key, str(loc.art.get("digest") or loc.art.get("size") or ""))
        with self._lock:
            if cache_key in self._layouts:
                self._layouts.move_to_end(cache_key)
                return self._layouts[cache_key]
        layout = archive.layout()
        with self._lock:
            self._layouts[cache_key] = layout
            while len(self._layouts) > 256:
                self._layouts.popitem(last=False)
        return layout

    # -- /artifacts and /input-artifacts: the stored object as is ------------------------------

    def download(self, req: Request) -> Response:
        p = req.params
        io_kind = "inputs" if req.raw_path.startswith("/input-artifacts/") else "outputs"
        loc = self.locate(p["namespace"], p["name"], p["nodeId"], io_kind, p["artifactName"])
        if loc.driver is None:
            return _bytes_response(req, str(loc.art["raw"]["data"]).encode(), loc.art["name"])
        try:
            stream = loc.driver.open_read(loc.key)
        except ArtifactNotFound:
            if loc.driver.is_dir(loc.key):
                base = f"/artifact-files/{_q(p['namespace'])}/workflows/{_q(p['name'])}/{_q(p['nodeId'])}/{io_kind}/{_q(p['artifactName'])}/"
                return Response.redirect(base)
            raise HTTPError(404, f'artifact "{loc.art["name"]}" is recorded but its object {loc.key!r} is missing from {loc.driver.describe()}') from None
        return _stream_response(req, stream, os.path.basename(loc.key.rstrip("/")), _size_of(stream, loc))

    # -- /artifact-files: browse ---------------------------------------------------------------

    def files(self, req: Request) -> Response:
        p = req.params
        if p["kind"] != "workflows":
            raise HTTPError(404, "archived workflows are not kept by Argosy: use /artifact-files/{namespace}/workflows/...")
        if p["io"] not in ("inputs", "outputs"):
            raise HTTPError(404, f"expected inputs or outputs, got {p['io']!r}")
        segments, _ = split_subpath(p.get("path", ""))
        trailing = req.raw_path.endswith("/")
        loc = self.locate(p["namespace"], p["name"], p["nodeId"], p["io"], p["artifactName"])
        want_json = req.arg("format") == "json"
        if loc.driver is None:
            if segments or trailing:
                raise HTTPError(404, "a raw artifact has no files inside")
            if want_json:
                data = str(loc.art["raw"]["data"]).encode()
                return _json({"type": "file", "name": loc.art["name"], "size": len(data), "archive": None})
            return _bytes_response(req, str(loc.art["raw"]["data"]).encode(), loc.art["name"])
        sub = "/".join(segments)
        if not loc.packed:
            return self._raw_files(req, loc, sub, trailing, want_json)
        stream = self._open_head(loc)
        if stream is None:
            raise HTTPError(404, f'artifact object {loc.key!r} is missing from {loc.driver.describe()}')
        head, rest = stream
        kind = sniff(head)
        if kind == "raw":  # an explicit key holding a plain file, or an old object: serve it as it is
            if segments:
                raise HTTPError(404, f"{loc.art['name']} is a single file, not an archive")
            if want_json:
                rest.close()
                return _json({"type": "file", "name": os.path.basename(loc.key), "size": _size_of(None, loc), "archive": None})
            return _stream_response(req, _Chain(head, rest), os.path.basename(loc.key), _size_of(None, loc))
        rest.close()
        archive = Archive(lambda: loc.driver.open_read(loc.key), kind, f"artifact {loc.art['name']}")
        layout = self._layout(loc, archive)
        if layout.single_file is not None:
            if segments:
                raise HTTPError(404, f"{loc.art['name']} is a single file ({layout.single_file}); it has no files inside")
            return self._member(req, archive, layout.single_file, want_json, kind)
        return self._in_archive(req, archive, layout.root, sub, trailing, want_json, kind)

    def _open_head(self, loc: Located) -> tuple[bytes, BinaryIO] | None:
        try:
            stream = loc.driver.open_read(loc.key)
        except ArtifactNotFound:
            return None
        head = b""
        while len(head) < _HEAD:
            chunk = stream.read(_HEAD - len(head))
            if not chunk:
                break
            head += chunk
        return head, stream

    def _raw_files(self, req: Request, loc: Located, sub: str, trailing: bool, want_json: bool) -> Response:
        """Archive ``none``: a file object, or a directory stored one object per file under ``key/``."""
        key = loc.key.rstrip("/") + ("/" + sub if sub else "")
        driver = loc.driver
        if not sub:
            try:
                stream = driver.open_read(key)
            except ArtifactNotFound:
                stream = None
            if stream is not None:
                if not trailing:
                    if want_json:
                        stream.close()
                        return _json({"type": "file", "name": os.path.basename(key), "size": _size_of(None, loc), "archive": None})
                    return _stream_response(req, stream, os.path.basename(key), _size_of(stream, loc))
                # a trailing slash on a plain file: look inside it when it is an archive
                head = stream.read(_HEAD)
                stream.close()
                kind = sniff(head)
                if kind == "raw":
                    raise HTTPError(404, f"{os.path.basename(key)} is a file, not a directory or an archive")
                archive = Archive(lambda: driver.open_read(key), kind, f"artifact {loc.art['name']}")
                return self._in_archive(req, archive, "", "", True, want_json, kind)
        if driver.is_dir(key):
            if not trailing and not want_json:
                return Response.redirect(_dir_url(req))
            entries = [
                Entry(os.path.basename(o.key.rstrip("/")), o.is_dir, o.size, o.mtime)
                for o in driver.list(key, recursive=False)
                if o.key.rstrip("/") != key
            ]
            entries.sort(key=lambda e: (not e.is_dir, e.name))
            return self._listing(req, entries, sub, want_json, None)
        try:
            stream = driver.open_read(key)
        except ArtifactNotFound:
            raise HTTPError(404, f'"{sub or os.path.basename(key)}" not found in artifact {loc.art["name"]}') from None
        if trailing:
            stream.close()
            raise HTTPError(404, f'"{sub}" is a file, not a directory')
        if want_json:
            size = _size_of(stream, None)
            stream.close()
            return _json({"type": "file", "name": os.path.basename(key), "size": size, "archive": None})
        return _stream_response(req, stream, os.path.basename(key), _size_of(stream, None))

    def _in_archive(self, req: Request, archive: Archive, root: str, sub: str, trailing: bool, want_json: bool, kind: str) -> Response:
        member = root + sub
        if sub and not trailing:
            try:
                opened = archive.open_member(member)
            except _IsDir:
                if want_json:
                    return self._archive_listing(req, archive, member + "/", sub, want_json, kind)
                return Response.redirect(_dir_url(req))
            if opened is None:
                raise HTTPError(404, f'"{sub}" not found in {archive.label}')
            if want_json:
                opened[0].close()
                return _json({"type": "file", "name": os.path.basename(sub), "size": opened[1], "archive": kind})
            return _stream_response(req, opened[0], os.path.basename(sub), opened[1])
        if not sub and not trailing and not want_json:
            return Response.redirect(_dir_url(req))
        return self._archive_listing(req, archive, member.rstrip("/") + "/" if member else "", sub, want_json, kind)

    def _archive_listing(self, req: Request, archive: Archive, prefix: str, sub: str, want_json: bool, kind: str) -> Response:
        try:
            entries, exists = archive.listing(prefix)
        except _IsFile:
            raise HTTPError(404, f'"{sub}" is a file, not a directory') from None
        if not exists:
            raise HTTPError(404, f'"{sub}" not found in {archive.label}')
        return self._listing(req, entries, sub, want_json, kind)

    def _member(self, req: Request, archive: Archive, member: str, want_json: bool, kind: str) -> Response:
        opened = archive.open_member(member)
        if opened is None:
            raise HTTPError(404, f"{member} not found in {archive.label}")
        if want_json:
            opened[0].close()
            return _json({"type": "file", "name": member, "size": opened[1], "archive": kind})
        return _stream_response(req, opened[0], os.path.basename(member), opened[1])

    @staticmethod
    def _listing(req: Request, entries: list[Entry], sub: str, want_json: bool, kind: str | None) -> Response:
        if want_json:
            items = [{"name": e.name, "type": "dir" if e.is_dir else "file", "size": e.size,
                      "modified": _iso(e.mtime)} for e in entries]
            return _json({"type": "dir", "path": sub, "archive": kind, "items": items})
        if any(e.name == "index.html" and not e.is_dir for e in entries):
            return Response(307, b"", {"Location": req.raw_path + "index.html", **_SECURITY})
        lines = ["<html><body><ul>", '<li><a href="..">..</a></li>']
        for e in entries:
            label = e.name + ("/" if e.is_dir else "")
            lines.append(f'<li><a href="./{html.escape(urllib.parse.quote(label))}">{html.escape(label)}</a></li>')
        lines.append("</ul></body></html>")
        return Response(200, "\n".join(lines).encode(), {"Content-Type": "text/html; charset=utf-8", **_SECURITY})

    # -- routes --------------------------------------------------------------------------------

    def register(self, r: Router) -> None:
        r.add("GET", "/artifacts/{namespace}/{name}/{nodeId}/{artifactName}", self.download,
              "Download an output artifact's stored object as is (Range supported)", tag="artifacts", response="application/octet-stream", streaming=True)
        r.add("GET", "/input-artifacts/{namespace}/{name}/{nodeId}/{artifactName}", self.download,
              "Download an input artifact's stored object as is (Range supported)", tag="artifacts", response="application/octet-stream", streaming=True)
        files_q = (("format", "json: a JSON description instead of the bytes or an HTML listing"),)
        for pattern in ("/artifact-files/{namespace}/{kind}/{name}/{nodeId}/{io}/{artifactName}",
                        "/artifact-files/{namespace}/{kind}/{name}/{nodeId}/{io}/{artifactName}/{path*}"):
            r.add("GET", pattern, self.files,
                  "Browse an artifact: files, directories and the inside of tgz/tar.zst/zip archives",
                  tag="artifacts", query=files_q, response="application/octet-stream", streaming=True)


# ------------------------------------------------------------------------------------------ responses


def _q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def _iso(mtime: float) -> str | None:
    if not mtime:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mtime))


def _dir_url(req: Request) -> str:
    return req.raw_path.rstrip("/") + "/"


def _json(data: Any) -> Response:
    resp = Response.json(data)
    resp.headers.update(_SECURITY)
    return resp


def _size_of(stream: Any, loc: Located | None) -> int | None:
    """The object's size: from the open file when it has one, else as recorded in the status."""
    fileno = getattr(stream, "fileno", None)
    if fileno is not None:
        try:
            return os.fstat(fileno()).st_size
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
    if loc is not None and isinstance(loc.art.get("size"), int):
        return int(loc.art["size"])
    return None


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _range(req: Request, size: int | None) -> tuple[int, int] | None:
    """The single byte range asked for, as (start, length); None for the whole object."""
    header = (req.headers.get("Range") or "").strip()
    if not header or size is None:
        return None
    m = _RANGE.match(header.replace(" ", ""))
    if m is None:
        return None  # multiple ranges or another unit: RFC 9110 lets us send everything
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:
        n = min(int(last), size)
        if n == 0:
            raise HTTPError(416, "range not satisfiable", {"Content-Range": f"bytes */{size}"})
        return size - n, n
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise HTTPError(416, f"range not satisfiable: the object has {size} bytes", {"Content-Range": f"bytes */{size}", **_SECURITY})
    return start, end - start + 1


def _stream_response(req: Request, stream: Any, filename: str, size: int | None) -> Response:
    headers = {"Content-Type": mime_type(filename), "Content-Disposition": f'filename="{_header_safe(filename)}"', **_SECURITY}
    if size is not None:
        headers["Accept-Ranges"] = "bytes"
    try:
        wanted = _range(req, size)
    except HTTPError:
        stream.close()
        raise
    if wanted is None:
        return Response(200, iter_file(stream), headers, length=size)
    start, length = wanted
    headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    return Response(206, iter_file(stream, start, length), headers, length=length)


def _bytes_response(req: Request, data: bytes, filename: str) -> Response:
    return _stream_response(req, io.BytesIO(data), filename, len(data))


def _header_safe(name: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
