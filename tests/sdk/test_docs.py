"""The API reference in docs/api is generated from the current docstrings."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import argosy.sdk

ROOT = Path(__file__).resolve().parents[2]


def test_api_docs_are_current() -> None:
    gen = runpy.run_path(str(ROOT / "scripts" / "gen_api_docs.py"), run_name="gen_api_docs")
    if os.environ.get("ARGOSY_REGENERATE"):
        gen["main"]()
    pages = gen["render"]()
    on_disk = {p.name: p.read_text() for p in (ROOT / "docs" / "api").glob("*.md")}
    stale = sorted(name for name in pages.keys() | on_disk.keys() if pages.get(name) != on_disk.get(name))
    assert not stale, f"docs/api is stale ({', '.join(stale)}): run python scripts/gen_api_docs.py"


def test_every_public_name_is_documented() -> None:
    missing = [name for name in argosy.sdk.__all__ if not getattr(argosy.sdk, name).__doc__]
    assert missing == []
    index = (ROOT / "docs" / "api" / "argosy.sdk.md").read_text()
    assert all(f"`{name}`" in index for name in argosy.sdk.__all__)
