"""fetch_raw: Argo's ``raw.data`` is written verbatim."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from argosy.errors import StorageError
from argosy.storage.sources import fetch_raw


@pytest.mark.parametrize(
    "data",
    [
        "",
        "no trailing newline",
        "line 1\r\nline 2\n\n",
        "unicode: ünïcødé ✓ 日本\n",
        "  {{not a template}}  ",
    ],
)
def test_written_verbatim(tmp_path: Path, data: str) -> None:
    dest = tmp_path / "raw.txt"
    fetch_raw(data, dest)
    assert dest.read_bytes() == data.encode("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["raw.txt"]


def test_creates_parents_and_replaces(tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b" / "raw"
    fetch_raw("first", dest)
    fetch_raw("second", dest)
    assert dest.read_text() == "second"


def test_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fetch_raw("x", tmp_path / "f")
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o644


def test_unwritable_destination(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "child").write_text("keep")
    with pytest.raises(StorageError, match="cannot write"):
        fetch_raw("x", tmp_path / "dir")
    assert [p.name for p in (tmp_path / "dir").iterdir()] == ["child"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir"]
