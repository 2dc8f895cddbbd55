"""Artifact formats: built-ins round-trip, nothing is pickled, parquet only with pandas."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.sdk import Dataset, Metrics, Model, register_format
from argosy.sdk.loaders import check_path, formats, load_path, save_path


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("json", {"a": [1, 2]}, {"a": [1, 2]}),
        ("text", "héllo\n", "héllo\n"),
        ("bytes", b"\x00\x01", b"\x00\x01"),
        ("csv", [{"x": "1", "y": "2"}, {"x": "3", "y": "4"}], [{"x": "1", "y": "2"}, {"x": "3", "y": "4"}]),
    ],
)
def test_builtin_formats_round_trip(tmp_path: Path, fmt: str, value: object, expected: object) -> None:
    path = tmp_path / "a"
    save_path(value, path, fmt)
    assert load_path(path, fmt) == expected
    assert check_path(path, "Dataset", fmt) is None


def test_no_pickle_and_unknown_formats_are_errors(tmp_path: Path) -> None:
    assert "pickle" not in formats()
    with pytest.raises(ValueError, match="unknown artifact format 'pickle'"):
        save_path(object(), tmp_path / "x", "pickle")


def test_typed_handles_use_their_format(tmp_path: Path) -> None:
    model = Model(tmp_path / "m.json", format="json")
    model.save({"w": 1})
    assert Model(tmp_path / "m.json", format="json").load() == {"w": 1}
    assert Model(tmp_path / "m.json").load() == model.read_bytes()  # no format: bytes
    metrics = Metrics(tmp_path / "metrics")
    assert metrics.format == "json"
    assert check_path(tmp_path / "nothing", "Model", None) == "was not written"
    (tmp_path / "d").mkdir()
    assert check_path(tmp_path / "d", "Directory", None) is None
    assert check_path(tmp_path / "m.json", "Directory", None) == "is not a directory"


def test_register_format(tmp_path: Path) -> None:
    from argosy.sdk._runtime import FORMATS

    def write(obj: object, path: Path) -> None:
        path.write_text(str(obj))

    register_format("upper", lambda p: p.read_text().upper(), write)
    try:
        save_path("shout", tmp_path / "u", "upper")
        assert Dataset(tmp_path / "u", format="upper").load() == "SHOUT"
        assert "upper" in formats()
        with pytest.raises(ValueError, match="already registered"):
            register_format("json", Path.read_text, write)
    finally:
        FORMATS.pop("upper", None)


def test_parquet_needs_pandas(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"x": [1, 2]})
    save_path(frame, tmp_path / "p", "parquet")
    assert check_path(tmp_path / "p", "Dataset", "parquet") is None
    assert list(load_path(tmp_path / "p", "parquet")["x"]) == [1, 2]
    assert list(Dataset(tmp_path / "p", format="parquet").to_pandas()["x"]) == [1, 2]


def test_parquet_check_needs_no_pandas(tmp_path: Path) -> None:
    (tmp_path / "p").write_bytes(b"not parquet")
    assert check_path(tmp_path / "p", "Dataset", "parquet") == "is not a Parquet file (no PAR1 magic)"
