"""Golden round trip: every example document loads into the models and ``to_dict()`` gives back
exactly what the YAML said (nothing dropped, renamed, defaulted or reordered into something else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.pipeline.loader import load_file, load_text

CONFORMANCE_DIR = Path("/work/shared/conformance/argo")
DATA = Path(__file__).resolve().parent.parent / "data"


def _files() -> list[Path]:
    out = sorted(p for p in (DATA / "seeds").glob("*.yaml"))
    out += sorted(p for p in (DATA / "lint").glob("*.yaml"))
    if CONFORMANCE_DIR.is_dir():
        out += sorted(CONFORMANCE_DIR.rglob("*.yaml"))
    return out


def _id(path: Path) -> str:
    return str(path.relative_to(CONFORMANCE_DIR)) if path.is_relative_to(CONFORMANCE_DIR) else f"{path.parent.name}/{path.name}"


def _differences(want: Any, got: Any, where: str = "") -> list[str]:
    """Where two JSON-like values differ (empty when equal, types included)."""
    if type(want) is not type(got):
        return [f"{where or '.'}: {want!r} != {got!r}"]
    if isinstance(want, dict):
        out = []
        for key in want.keys() | got.keys():
            if key not in got:
                out.append(f"{where}.{key}: dropped")
            elif key not in want:
                out.append(f"{where}.{key}: added")
            else:
                out += _differences(want[key], got[key], f"{where}.{key}")
        return out
    if isinstance(want, list):
        if len(want) != len(got):
            return [f"{where}: {len(want)} items became {len(got)}"]
        return [d for i, (a, b) in enumerate(zip(want, got, strict=True)) for d in _differences(a, b, f"{where}[{i}]")]
    return [] if want == got else [f"{where or '.'}: {want!r} != {got!r}"]


@pytest.mark.parametrize("path", _files(), ids=_id)
def test_to_dict_gives_back_the_document(path: Path) -> None:
    originals = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    loaded = load_file(path)
    assert len(loaded) == len(originals)
    for original, item in zip(originals, loaded, strict=True):
        assert _differences(original, item.doc.to_dict()) == []


@pytest.mark.parametrize("path", _files(), ids=_id)
def test_dumped_document_loads_back_the_same(path: Path) -> None:
    for item in load_file(path):
        text = yaml.safe_dump(item.doc.to_dict(), sort_keys=False, allow_unicode=True)
        [again] = load_text(text)
        assert again.doc.to_dict() == item.doc.to_dict()
        assert type(again.doc) is type(item.doc)


def test_conformance_corpus_is_present_or_skipped() -> None:
    if not CONFORMANCE_DIR.is_dir():
        pytest.skip(f"{CONFORMANCE_DIR} is not available")
    assert len([p for p in _files() if p.is_relative_to(CONFORMANCE_DIR)]) >= 70
