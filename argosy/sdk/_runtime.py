"""The in-step runtime of ``@script`` functions: typed artifact handles, format serialisers, and
the runner that reads a step's inputs and writes its outputs.

Standard library only and no argosy imports: this module's source is copied into every
generated script, so a step runs the same in a plain ``python:3`` image on a cluster as with the
host's ``python`` in Argosy's sandbox. Host code imports it too (through ``argosy.sdk``), so the
classes a user annotates with are the classes a step receives. (The generated script starts
with ``from __future__ import annotations``, so ``Input``/``Output``/``Format`` annotations are
never evaluated there and live in ``argosy.sdk.artifacts``.)
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, NoReturn

INPUTS_DIR = "/tmp/argosy/inputs"
OUTPUTS_DIR = "/tmp/argosy/outputs"
PARAM_ENV = "ARGOSY_PARAM_"

# ------------------------------------------------------------------------------------- formats


def _dump_csv(obj: Any, path: Path) -> None:
    if hasattr(obj, "to_csv"):  # a pandas DataFrame
        obj.to_csv(path, index=False)
        return
    rows = list(obj)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if rows and isinstance(rows[0], dict):
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        else:
            csv.writer(fh).writerows(rows)


def _load_csv(path: Path) -> Any:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise RuntimeError("this format needs pandas (and pyarrow for parquet): pip install pandas pyarrow") from None
    return pandas


def _dump_parquet(obj: Any, path: Path) -> None:
    if not hasattr(obj, "to_parquet"):
        obj = _pandas().DataFrame(obj)
    obj.to_parquet(path)


def _load_parquet(path: Path) -> Any:
    return _pandas().read_parquet(path)


def _dump_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _dump_text(obj: Any, path: Path) -> None:
    path.write_text(str(obj), encoding="utf-8")


def _dump_bytes(obj: Any, path: Path) -> None:
    path.write_bytes(bytes(obj))


def _check_json(path: Path) -> str | None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return f"is not valid JSON ({exc})"
    return None


def _check_text(path: Path) -> str | None:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte {exc.start})"
    return None


def _check_parquet(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return None if head == b"PAR1" else "is not a Parquet file (no PAR1 magic)"


#: format name -> (load(path), save(obj, path), check(path) -> problem or None). Formats read
#: and write a single file; ``argosy.sdk.loaders.register_format`` adds more on the host.
FORMATS: dict[str, tuple[Callable[[Path], Any], Callable[[Any, Path], None], Callable[[Path], str | None] | None]] = {
    "json": (lambda p: json.loads(p.read_text(encoding="utf-8")), _dump_json, _check_json),
    "text": (lambda p: p.read_text(encoding="utf-8"), _dump_text, _check_text),
    "bytes": (lambda p: p.read_bytes(), _dump_bytes, None),
    "csv": (_load_csv, _dump_csv, _check_text),
    "parquet": (_load_parquet, _dump_parquet, _check_parquet),
}


def _format(name: str) -> tuple[Callable[[Path], Any], Callable[[Any, Path], None], Callable[[Path], str | None] | None]:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown artifact format {name!r} (known: {', '.join(sorted(FORMATS))})") from None


def load_path(path: str | os.PathLike[str], fmt: str | None) -> Any:
    """Deserialise the file at ``path`` written in format ``fmt`` (``None``: its bytes)."""
    p = Path(path)
    if fmt is None:
        return p.read_bytes()
    return _format(fmt)[0](p)


def save_path(obj: Any, path: str | os.PathLike[str], fmt: str | None) -> None:
    """Serialise ``obj`` to ``path`` in format ``fmt``; without one, bytes and str are written as
    they are and anything else as JSON."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt is None:
        fmt = "bytes" if isinstance(obj, bytes | bytearray) else "text" if isinstance(obj, str) else "json"
    _format(fmt)[1](obj, p)


def check_path(path: Path, kind: str, fmt: str | None) -> str | None:
    """Why ``path`` is not a valid artifact of ``kind``/``fmt`` (None: it is)."""
    if not path.exists():
        return "was not written"
    if kind == "Directory":
        return None if path.is_dir() else "is not a directory"
    if fmt is None:
        return None
    if not path.is_file():
        return f"is not a file (format {fmt} is one file)"
    check = FORMATS.get(fmt, (None, None, None))[2]
    return check(path) if check is not None else None


# ------------------------------------------------------------------------------------- kinds


class TypedArtifact:
    """Base of typed artifacts: a file or directory at ``path`` whose kind (``type_name``) and
    serialisation (``format``) travel into the spec, so wiring and contents can be checked.

    Subclass it for your own kinds: ``class Report(TypedArtifact): type_name = "Report"``.
    """

    type_name: ClassVar[str] = ""
    default_format: ClassVar[str | None] = None

    def __init__(self, path: str | os.PathLike[str], *, name: str = "", format: str | None = None) -> None:
        self.path = Path(path)
        self.name = name
        self.format = format or self.default_format

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        fmt = f", format={self.format!r}" if self.format else ""
        return f"{type(self).__name__}({str(self.path)!r}{fmt})"

    def load(self) -> Any:
        """The content, deserialised with the loader of the declared format (bytes without one)."""
        return load_path(self.path, self.format)

    def save(self, obj: Any) -> None:
        """Write ``obj`` with the declared format's serialiser."""
        save_path(obj, self.path, self.format)

    def read_text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def write_text(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(text, encoding="utf-8")

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def write_bytes(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(data)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of a ``csv``, ``parquet`` or ``json`` artifact (needs pandas)."""
        pd = _pandas()
        readers = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json}
        if self.format not in readers:
            raise ValueError(f"cannot read format {self.format!r} as a DataFrame")
        return readers[self.format](self.path)

    def _finish(self) -> None:
        """Called after the step's function returned (Metrics writes what was logged)."""


class Dataset(TypedArtifact):
    """Data a step produces or consumes (KFP's ``Dataset``)."""

    type_name = "Dataset"


class Model(TypedArtifact):
    """A trained model (KFP's ``Model``)."""

    type_name = "Model"


class Metrics(TypedArtifact):
    """Scalar metrics, stored as one JSON object; ``log_metric`` collects them."""

    type_name = "Metrics"
    default_format = "json"

    def __init__(self, path: str | os.PathLike[str], *, name: str = "", format: str | None = None) -> None:
        super().__init__(path, name=name, format=format)
        self.metrics: dict[str, Any] = {}

    def log_metric(self, name: str, value: Any) -> None:
        """Record one metric; all of them are written when the step's function returns."""
        self.metrics[name] = value

    def _finish(self) -> None:
        if self.metrics and not self.path.exists():
            self.save(self.metrics)


class File(TypedArtifact):
    """A single file of any content."""

    type_name = "File"


class Directory(TypedArtifact):
    """A directory tree."""

    type_name = "Directory"


KINDS: dict[str, type[TypedArtifact]] = {k.type_name: k for k in (Dataset, Model, Metrics, File, Directory)}


# ------------------------------------------------------------------------------------- runner


def parse_param(raw: str, kind: str) -> Any:
    """A parameter's text as the Python value of its declared kind."""
    if kind == "str":
        return raw
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        low = raw.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError(f"not a boolean: {raw!r}")
    return json.loads(raw)


def dump_param(value: Any) -> str:
    """A Python value as parameter text: strings as they are, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _artifact(name: str, kind: str, fmt: str | None, path: str) -> Any:
    if kind == "Path":
        return Path(path)
    cls = KINDS.get(kind) or type(kind, (TypedArtifact,), {"type_name": kind})
    return cls(path, name=name, format=fmt)


def _fail(message: str) -> NoReturn:
    print(f"argosy: {message}", file=sys.stderr)
    sys.exit(1)


def _argosy_run(fn: Callable[..., Any], spec: dict[str, Any]) -> None:
    """Call ``fn`` with the step's inputs, then check and write its outputs.

    ``spec`` (generated): ``parameters`` {name: kind}, ``inputs``/``outputs`` {name: [kind,
    format, path, optional]}, ``returns`` [[name, kind], ...], ``result`` (return value to stdout).
    """
    kwargs: dict[str, Any] = {}
    for name, kind in spec.get("parameters", {}).items():
        raw = os.environ.get(PARAM_ENV + name)
        if raw is None:
            _fail(f"parameter '{name}' was not supplied")
        try:
            kwargs[name] = parse_param(str(raw), kind)
        except ValueError as exc:
            _fail(f"parameter '{name}' expects {kind}, got {raw!r}: {exc}")
    for name, (kind, fmt, path, optional) in spec.get("inputs", {}).items():
        if optional and not os.path.exists(path):
            kwargs[name] = None
            continue
        problem = check_path(Path(path), kind, fmt)
        if problem:
            _fail(f"input artifact '{name}' ({kind}{', ' + fmt if fmt else ''}) at {path} {problem}")
        kwargs[name] = _artifact(name, kind, fmt, path)
    outputs: dict[str, Any] = {}
    for name, (kind, fmt, path, _optional) in spec.get("outputs", {}).items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if kind == "Directory":
            Path(path).mkdir(parents=True, exist_ok=True)
        outputs[name] = kwargs[name] = _artifact(name, kind, fmt, path)
    if spec.get("result"):
        with contextlib.redirect_stdout(sys.stderr):
            value = fn(**kwargs)
    else:
        value = fn(**kwargs)
    for name, (kind, fmt, path, optional) in spec.get("outputs", {}).items():
        handle = outputs[name]
        if isinstance(handle, TypedArtifact):
            handle._finish()
        if optional and not os.path.exists(path):
            continue
        problem = check_path(Path(path), kind, fmt)
        if problem:
            _fail(f"output artifact '{name}' ({kind}{', ' + fmt if fmt else ''}) at {path} {problem}")
    returns = spec.get("returns") or []
    if spec.get("result"):
        print(dump_param(value))
    elif len(returns) == 1:
        _write_param(returns[0][0], value)
    elif returns:
        for (name, _kind), item in zip(returns, value, strict=True):
            _write_param(name, item)


def _write_param(name: str, value: Any) -> None:
    path = Path(OUTPUTS_DIR) / "parameters" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_param(value), encoding="utf-8")
