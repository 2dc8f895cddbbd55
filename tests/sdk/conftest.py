"""Helpers for SDK tests: a fresh ARGOSY_HOME per test, and the examples as loaded modules."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.sdk import Client

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"
SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"


def example(name: str) -> dict[str, Any]:
    """The globals of ``examples/python/<name>.py`` after running it as a module (not main)."""
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ARGOSY_HOME, exported for runners started as child processes."""
    path = tmp_path / "home"
    monkeypatch.setenv("ARGOSY_HOME", str(path))
    return path


@pytest.fixture
def client(home: Path) -> Iterator[Client]:
    c = Client(home=home)
    yield c
    store = getattr(c.backend, "store", None)
    if store is not None:
        store.close()
