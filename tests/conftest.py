"""Shared test configuration: real servers start once per session (see tests/fixtures/)."""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures.s3server",
    "tests.fixtures.gitserver",
    "tests.fixtures.httpserver",
    "tests.fixtures.fakekube",
]
