"""Artifact repository backends behind one contract (:class:`ArtifactDriver`).

``S3Driver`` and ``FsspecDriver`` load lazily: importing boto3 costs ~0.4 s, which local-only
runs should not pay.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import ArtifactDriver, ObjectInfo
from .local import LocalDriver

if TYPE_CHECKING:
    from .fsspec import FsspecDriver
    from .s3 import S3Config, S3Driver

__all__ = ["ArtifactDriver", "FsspecDriver", "LocalDriver", "ObjectInfo", "S3Config", "S3Driver", "driver_for_url"]

_LAZY = {"FsspecDriver": ".fsspec", "S3Config": ".s3", "S3Driver": ".s3"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def driver_for_url(url: str | Path, **options: Any) -> ArtifactDriver:
    """A driver for a location: a plain path or ``file://`` ⇒ LocalDriver, ``s3://bucket`` ⇒ S3Driver
    (``options`` are :class:`S3Config` fields), anything else ⇒ FsspecDriver (``options`` are
    fsspec storage options)."""
    text = str(url)
    if isinstance(url, Path) or "://" not in text:
        return LocalDriver(Path(text), **options)
    scheme, _, rest = text.partition("://")
    if scheme == "file":
        return LocalDriver(Path("/" + rest.lstrip("/")), **options)
    if scheme == "s3":
        from .s3 import S3Config, S3Driver

        bucket, _, prefix = rest.partition("/")
        if prefix.strip("/"):
            raise ValueError(f"S3 repositories are whole buckets; key prefixes belong in keys, got {text!r}")
        return S3Driver(S3Config(bucket=bucket, **options))
    from .fsspec import FsspecDriver

    return FsspecDriver(text, **options)
