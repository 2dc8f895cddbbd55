"""LocalDriver: the contract, plus what only a folder repository has (root confinement, pruning)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from argosy.errors import StorageError
from argosy.storage import LocalDriver, driver_for_url

from .contract import DriverContract


class TestLocalContract(DriverContract):
    @pytest.fixture()
    def driver(self, tmp_path: Path) -> LocalDriver:
        return LocalDriver(tmp_path / "repo")


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "a/../../../etc/passwd"])
def test_keys_cannot_escape_the_root(tmp_path: Path, key: str) -> None:
    driver = LocalDriver(tmp_path / "repo")
    with pytest.raises(StorageError, match="escape the repository"):
        driver.put_stream(key, io.BytesIO(b"x"))
    assert not (tmp_path / "escape.txt").exists()


def test_a_symlink_inside_the_root_cannot_lead_outside(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "repo" / "door").symlink_to(tmp_path / "elsewhere")
    driver = LocalDriver(tmp_path / "repo")
    with pytest.raises(StorageError, match="outside the repository"):
        driver.put_stream("door/x.txt", io.BytesIO(b"x"))
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_leading_slash_keys_stay_inside(tmp_path: Path) -> None:
    driver = LocalDriver(tmp_path / "repo")
    driver.put_stream("/abs/key.txt", io.BytesIO(b"x"))
    assert (tmp_path / "repo" / "abs" / "key.txt").read_bytes() == b"x"


def test_deletes_prune_empty_parent_directories(tmp_path: Path) -> None:
    driver = LocalDriver(tmp_path / "repo", fsync=False)
    driver.put_stream("wf/pod-1/out.tgz", io.BytesIO(b"x"))
    driver.put_stream("wf/pod-2/out.tgz", io.BytesIO(b"x"))
    driver.delete("wf/pod-1/out.tgz")
    assert sorted(p.name for p in (tmp_path / "repo" / "wf").iterdir()) == ["pod-2"]
    driver.delete_prefix("wf")
    assert list((tmp_path / "repo").iterdir()) == []


def test_driver_for_url_picks_the_local_driver(tmp_path: Path) -> None:
    assert isinstance(driver_for_url(tmp_path), LocalDriver)
    driver = driver_for_url(f"file://{tmp_path}")
    assert isinstance(driver, LocalDriver) and driver.root == tmp_path
