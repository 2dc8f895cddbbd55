"""FsspecDriver: the contract on memory:// and file://."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from argosy.storage import FsspecDriver, driver_for_url

from .contract import DriverContract


class TestMemoryContract(DriverContract):
    @pytest.fixture()
    def driver(self) -> Iterator[FsspecDriver]:
        url = f"memory://argosy-{uuid.uuid4().hex[:8]}"
        yield FsspecDriver(url)
        fs = fsspec.filesystem("memory")
        if fs.exists(url):
            fs.rm(url, recursive=True)


class TestFileUrlContract(DriverContract):
    @pytest.fixture()
    def driver(self, tmp_path: Path) -> FsspecDriver:
        return FsspecDriver(f"file://{tmp_path}/repo")


def test_describe_never_shows_storage_options() -> None:
    driver = FsspecDriver("memory://argosy-opts", skip_instance_cache=True)
    assert driver.describe() == "memory://argosy-opts"
    assert isinstance(driver_for_url("memory://argosy-opts"), FsspecDriver)
