"""Typed artifacts for ``@script`` signatures (KFP v2's ``Input[Dataset]``/``Output[Model]``,
Flyte's typed files).

``Input[Dataset]`` is ``Annotated[Dataset, INPUT]``: type checkers see a ``Dataset``, and the
step receives one whose ``path`` holds the input. ``Output[Model]`` hands the function a
``Model`` to write (``model.save(obj)``, ``model.write_text(...)`` or any file at
``model.path``). ``Annotated[Output[Dataset], Format("csv")]`` declares the serialisation; a
kind's ``default_format`` applies otherwise (``Metrics``: ``json``).

The kind (``type``) and ``format`` travel into the spec, where ``argosy lint`` and the builder
reject wiring a ``Model`` into a ``Dataset`` input, and the step itself checks what it wrote.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from argosy.sdk._runtime import KINDS, Dataset, Directory, File, Metrics, Model, TypedArtifact

__all__ = [
    "INPUT",
    "KINDS",
    "OUTPUT",
    "Dataset",
    "Directory",
    "File",
    "Format",
    "Input",
    "Metrics",
    "Model",
    "Output",
    "TypedArtifact",
]

T = TypeVar("T")


class _Direction:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


INPUT = _Direction("Input")
OUTPUT = _Direction("Output")
#: ``Input[Dataset]``: an artifact the step reads (the function gets a ``Dataset`` at its path).
Input = Annotated[T, INPUT]
#: ``Output[Model]``: an artifact the step writes (the function gets a ``Model`` to save into).
Output = Annotated[T, OUTPUT]


class Format:
    """``Annotated[Output[Dataset], Format("csv")]``: the serialisation an artifact declares
    (``json``, ``text``, ``bytes``, ``csv``, ``parquet`` or a registered one)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Format({self.name!r})"
