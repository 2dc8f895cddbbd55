"""The storage contract every ArtifactDriver must honour, as a mixin test suite (fsspec-style).

A backend opts in with a few lines::

    class TestLocalContract(DriverContract):
        @pytest.fixture()
        def driver(self, tmp_path):
            return LocalDriver(tmp_path / "repo")

The class name does not start with ``Test``, so pytest collects it only through subclasses.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from argosy.errors import ArtifactNotFound, StorageError
from argosy.storage import ArchiveFormat, ArtifactDriver, load_artifact, read_bytes, save_artifact

from .helpers import FailingReader, make_tree, snapshot


def _put(driver: ArtifactDriver, key: str, data: bytes, sized: bool = True) -> None:
    driver.put_stream(key, io.BytesIO(data), len(data) if sized else None)


class DriverContract:
    """Behaviour a user of any artifact repository relies on."""

    @pytest.fixture()
    def driver(self) -> ArtifactDriver:  # pragma: no cover - always overridden
        raise NotImplementedError

    # -- writing and reading ---------------------------------------------------------------------

    @pytest.mark.parametrize("size", [0, 1, 4096, 3 * 1024 * 1024 + 17])
    @pytest.mark.parametrize("sized", [True, False], ids=["known-size", "unknown-size"])
    def test_stream_round_trip(self, driver: ArtifactDriver, size: int, sized: bool) -> None:
        data = os.urandom(size)
        info = driver.put_stream("wf/pod/blob.bin", io.BytesIO(data), size if sized else None)
        assert info.key == "wf/pod/blob.bin" and info.size == size
        with driver.open_read("wf/pod/blob.bin") as reader:
            assert reader.read() == data

    def test_file_round_trip_is_atomic_for_the_consumer(self, driver: ArtifactDriver, tmp_path: Path) -> None:
        src = tmp_path / "in.txt"
        src.write_bytes(b"hello artifact\n" * 1000)
        driver.put_file("k/in.txt", src)
        dest = tmp_path / "out" / "copy.txt"
        info = driver.get_file("k/in.txt", dest)
        assert dest.read_bytes() == src.read_bytes() and info.size == src.stat().st_size
        assert sorted(p.name for p in dest.parent.iterdir()) == ["copy.txt"]  # no temp files left

    def test_overwrite_replaces_the_object(self, driver: ArtifactDriver) -> None:
        _put(driver, "a/obj", b"first version")
        _put(driver, "a/obj", b"second")
        assert read_bytes(driver, "a/obj") == b"second"

    @pytest.mark.parametrize("sized", [True, False], ids=["known-size", "unknown-size"])
    def test_failed_upload_keeps_the_previous_object(self, driver: ArtifactDriver, sized: bool) -> None:
        _put(driver, "a/obj", b"good old bytes")
        reader = FailingReader(b"x" * (2 << 20), fail_after=1 << 20)
        with pytest.raises(OSError, match="disk on fire"):
            driver.put_stream("a/obj", reader, (2 << 20) if sized else None)  # type: ignore[arg-type]
        assert read_bytes(driver, "a/obj") == b"good old bytes"
        assert [o.key for o in driver.list("a")] == ["a/obj"]  # no temp object visible

    def test_failed_upload_of_a_new_key_leaves_nothing(self, driver: ArtifactDriver) -> None:
        with pytest.raises(OSError):
            driver.put_stream("new/obj", FailingReader(b"y" * 4096, fail_after=100), None)  # type: ignore[arg-type]
        assert not driver.exists("new/obj")
        assert list(driver.list("new")) == []

    @pytest.mark.parametrize("declared", [10, 1000])
    def test_declared_size_mismatch_stores_nothing(self, driver: ArtifactDriver, declared: int) -> None:
        with pytest.raises(StorageError, match="declared size"):
            driver.put_stream("m/obj", io.BytesIO(b"z" * 100), declared)
        assert not driver.exists("m/obj")

    def test_missing_key_is_artifact_not_found(self, driver: ArtifactDriver, tmp_path: Path) -> None:
        with pytest.raises(ArtifactNotFound) as caught:
            driver.open_read("no/such/key")
        assert isinstance(caught.value, FileNotFoundError)
        assert "no/such/key" in str(caught.value)
        dest = tmp_path / "never"
        with pytest.raises(ArtifactNotFound):
            driver.get_file("no/such/key", dest)
        assert not dest.exists() and list(tmp_path.iterdir()) == []

    def test_a_directory_prefix_is_not_an_object(self, driver: ArtifactDriver) -> None:
        _put(driver, "d/inner.txt", b"x")
        with pytest.raises(ArtifactNotFound):
            driver.open_read("d")
        assert not driver.exists("d") and driver.is_dir("d")

    def test_exists_and_is_dir(self, driver: ArtifactDriver) -> None:
        _put(driver, "x/y/z.txt", b"1")
        assert driver.exists("x/y/z.txt")
        assert not driver.exists("x/y/z")
        assert driver.is_dir("x") and driver.is_dir("x/y") and driver.is_dir("x/y/")
        assert not driver.is_dir("x/y/z.txt") and not driver.is_dir("nothing")

    def test_keys_with_spaces_and_unicode(self, driver: ArtifactDriver) -> None:
        key = "runs/größe 1/data set ü.csv"
        _put(driver, key, b"a,b\n")
        assert read_bytes(driver, key) == b"a,b\n"
        assert [o.key for o in driver.list("runs")] == [key]

    # -- listing ---------------------------------------------------------------------------------

    def test_list_is_recursive_and_prefix_is_a_directory(self, driver: ArtifactDriver) -> None:
        for key in ("p/a.txt", "p/sub/b.txt", "p/sub/deeper/c.txt", "pp/not-me.txt", "p-sibling/no.txt"):
            _put(driver, key, key.encode())
        infos = list(driver.list("p"))
        assert [o.key for o in infos] == ["p/a.txt", "p/sub/b.txt", "p/sub/deeper/c.txt"]
        assert all(not o.is_dir and o.size == len(o.key) and o.mtime > 0 for o in infos)
        assert [o.key for o in driver.list("p/sub/")] == ["p/sub/b.txt", "p/sub/deeper/c.txt"]
        assert {o.key for o in driver.list("")} >= {"p/a.txt", "pp/not-me.txt", "p-sibling/no.txt"}
        assert list(driver.list("absent")) == []

    def test_list_non_recursive_shows_children(self, driver: ArtifactDriver) -> None:
        for key in ("q/a.txt", "q/sub/b.txt", "q/sub/c.txt"):
            _put(driver, key, b"1")
        children = {(o.key, o.is_dir) for o in driver.list("q", recursive=False)}
        assert children == {("q/a.txt", False), ("q/sub", True)}

    def test_make_dir_records_an_empty_directory(self, driver: ArtifactDriver) -> None:
        driver.make_dir("e/empty")
        _put(driver, "e/file.txt", b"1")
        assert driver.is_dir("e/empty")
        assert [o.key for o in driver.list("e")] == ["e/file.txt"]  # files only by default
        dirs = {o.key for o in driver.list("e", include_dirs=True) if o.is_dir}
        assert "e/empty" in dirs

    # -- deleting --------------------------------------------------------------------------------

    def test_delete(self, driver: ArtifactDriver) -> None:
        _put(driver, "del/a", b"1")
        driver.delete("del/a")
        assert not driver.exists("del/a")
        driver.delete("del/a")  # deleting a missing key is success
        driver.delete("never/existed")

    def test_delete_many(self, driver: ArtifactDriver) -> None:
        keys = [f"many/{i:03d}" for i in range(30)]
        for key in keys[:20]:
            _put(driver, key, b"1")
        assert driver.delete_many(iter(keys)) == 30  # includes 10 missing keys: still success
        assert list(driver.list("many")) == []

    def test_delete_prefix_removes_only_what_is_under_it(self, driver: ArtifactDriver) -> None:
        for key in ("gc/wf1/a.tgz", "gc/wf1/pod/b.tgz", "gc/wf10/keep.tgz", "gc/wf1.tgz"):
            _put(driver, key, b"1")
        driver.make_dir("gc/wf1/empty")
        assert driver.delete_prefix("gc/wf1") >= 2
        assert not driver.is_dir("gc/wf1")
        assert sorted(o.key for o in driver.list("gc")) == ["gc/wf1.tgz", "gc/wf10/keep.tgz"]
        assert driver.delete_prefix("gc/absent") == 0
        with pytest.raises(StorageError, match="non-empty prefix"):
            driver.delete_prefix("/")

    # -- naming ----------------------------------------------------------------------------------

    def test_describe_and_url(self, driver: ArtifactDriver) -> None:
        assert driver.describe()
        assert "some/key.tgz" in driver.url("some/key.tgz")
        assert driver.describe() in repr(driver)

    # -- artifacts through this backend ----------------------------------------------------------

    @pytest.mark.parametrize("kind", ["tgz", "tar", "zstd", "zip", "none"])
    def test_directory_artifact_round_trip(self, driver: ArtifactDriver, tmp_path: Path, kind: str) -> None:
        src = make_tree(tmp_path / "out-dir")
        fmt = ArchiveFormat(kind)  # type: ignore[arg-type]
        saved = save_artifact(driver, "wf/pod/out-dir" + {"none": ""}.get(kind, "." + kind), src, fmt)
        assert saved.is_dir
        dest = tmp_path / "in" / "dir"
        load_artifact(driver, saved.key, dest, fmt)
        expected, got = snapshot(src), snapshot(dest)
        if kind == "none":  # as in Argo: symlinks are skipped and object stores keep no file modes
            expected = {k: v[:-1] for k, v in expected.items() if not v.startswith("->")}
            got = {k: v[:-1] for k, v in got.items()}
        assert got == expected

    def test_file_artifact_digest_is_of_the_stored_bytes(self, driver: ArtifactDriver, tmp_path: Path) -> None:
        src = tmp_path / "report.json"
        src.write_text('{"ok": true}\n' * 500)
        for kind in ("tgz", "none"):
            saved = save_artifact(driver, f"r/report.{kind}", src, ArchiveFormat(kind))  # type: ignore[arg-type]
            stored = read_bytes(driver, saved.key)
            assert saved.size == len(stored) and saved.sha256 == hashlib.sha256(stored).hexdigest()
            dest = tmp_path / f"back-{kind}.json"
            load_artifact(driver, saved.key, dest, None)  # auto-detect, like an unset `archive`
            assert dest.read_text() == src.read_text()

