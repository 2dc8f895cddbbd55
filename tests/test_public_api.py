"""The public surface: one `argosy` namespace, complete and sorted (as httpx checks its own)."""

from __future__ import annotations

import subprocess
import sys

import argosy
from argosy import errors


def test_all_is_sorted_and_resolvable() -> None:
    public = [n for n in argosy.__all__ if not n.startswith("_")]
    assert public == sorted(public)
    for name in argosy.__all__:
        assert getattr(argosy, name) is not None, name


def test_every_error_is_exported_and_rooted_in_argosy_error() -> None:
    for name in errors.__all__:
        assert name in argosy.__all__
        cls = getattr(errors, name)
        assert issubclass(cls, errors.ArgosyError)


def test_the_python_api_is_reexported() -> None:
    import argosy.sdk

    for name in argosy.sdk.__all__:
        assert name in argosy.__all__
        assert getattr(argosy, name) is getattr(argosy.sdk, name)


def test_import_argosy_stays_light() -> None:
    """The CLI and in-pod executors import `argosy`; the Python API must load only on use."""
    code = "import sys, argosy; print('argosy.sdk' in sys.modules, 'pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
