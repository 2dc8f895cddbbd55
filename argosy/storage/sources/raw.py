"""Raw input artifacts: ``raw.data`` written verbatim (Argo's ``raw`` source).

Also home of the small atomic-write helper the other sources share: bytes go to a hidden
temporary file next to ``dest`` and are renamed into place, so a failed or interrupted
fetch never leaves a partial artifact behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from argosy.errors import StorageError

__all__ = ["fetch_raw"]


def temp_sibling(dest: Path, suffix: str = ".tmp") -> Path:
    """A fresh, unused hidden path in ``dest``'s directory (created if missing)."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"cannot create directory {dest.parent}: {e.strerror or e}") from e
    return dest.parent / f".{dest.name}.{secrets.token_hex(6)}{suffix}"


@contextlib.contextmanager
def atomic_file(dest: Path) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``dest`` atomically on clean exit, or vanishes on error.

    The file is created with mode ``0o666`` minus the umask, as a plain ``open`` would.
    """
    tmp = temp_sibling(dest)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        raise StorageError(f"cannot write {dest}: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def fetch_raw(data: str, dest: Path) -> None:
    """Write ``data`` to ``dest`` verbatim (UTF-8, no newline translation), atomically."""
    try:
        payload = data.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as e:
        raise StorageError(f"raw artifact data is not valid text: {e.reason}") from None
    try:
        with atomic_file(dest) as fh:
            fh.write(payload)
    except OSError as e:
        raise StorageError(f"cannot write raw artifact to {dest}: {e.strerror or e}") from None
