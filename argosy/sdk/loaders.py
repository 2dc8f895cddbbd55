"""Artifact formats: how an artifact's bytes become a Python value and back.

Built in (standard library only, so they also work inside steps): ``json``, ``text``,
``bytes``, ``csv`` (rows as dicts; pandas DataFrames are written with ``to_csv``) and
``parquet`` (needs pandas and pyarrow, imported only when used). Nothing is pickled by default.

:func:`register_format` adds formats for the host side (``ArtifactHandle.load()``,
``TypedArtifact.load()`` in your own process); a step running in a plain image only knows the
built-in ones, so write custom formats there with ``write_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from argosy.sdk._runtime import FORMATS, check_path, load_path, save_path

__all__ = ["check_path", "formats", "load_path", "register_format", "save_path"]


def register_format(
    name: str,
    load: Callable[[Path], Any],
    save: Callable[[Any, Path], None],
    check: Callable[[Path], str | None] | None = None,
    *,
    replace: bool = False,
) -> None:
    """Add format ``name``: ``load(path)``, ``save(obj, path)``, and optionally ``check(path)``
    returning why a produced file is invalid (None when it is fine)."""
    if name in FORMATS and not replace:
        raise ValueError(f"format {name!r} is already registered (pass replace=True)")
    FORMATS[name] = (load, save, check)


def formats() -> list[str]:
    """The names of every known format."""
    return sorted(FORMATS)
