"""Finalizer rules as the Kubernetes API server applies them, over plain workflow dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from argosy.gc import finalizers as fz

F = fz.ARTIFACT_GC_FINALIZER
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def body(finalizers: list[str] | None = None, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "wf"}
    if finalizers is not None:
        meta["finalizers"] = list(finalizers)
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {"metadata": meta}


@pytest.mark.parametrize(
    ("start", "changed", "after"),
    [
        pytest.param(body(), True, [F], id="no-finalizers"),
        pytest.param(body([]), True, [F], id="empty-list"),
        pytest.param(body(["other"]), True, ["other", F], id="keeps-others"),
        pytest.param(body([F]), False, [F], id="already-there"),
        pytest.param(body([], deleting=True), False, [], id="refused-while-deleting"),
    ],
)
def test_add_finalizer(start: dict[str, Any], changed: bool, after: list[str]) -> None:
    assert fz.add_finalizer(start) is changed
    assert fz.finalizers(start) == after


@pytest.mark.parametrize(
    ("start", "changed", "meta_finalizers"),
    [
        pytest.param(body([F]), True, None, id="last-one-drops-the-field"),
        pytest.param(body(["a", F, "b"]), True, ["a", "b"], id="keeps-others"),
        pytest.param(body(["a"]), False, ["a"], id="absent"),
        pytest.param(body(), False, None, id="no-list"),
    ],
)
def test_remove_finalizer(start: dict[str, Any], changed: bool, meta_finalizers: list[str] | None) -> None:
    assert fz.remove_finalizer(start) is changed
    assert start["metadata"].get("finalizers") == meta_finalizers


@pytest.mark.parametrize(
    ("start", "deleting", "blocked", "gone"),
    [
        pytest.param(body(), False, False, False, id="live"),
        pytest.param(body([F]), False, False, False, id="live-with-finalizer"),
        pytest.param(body([F], deleting=True), True, True, False, id="blocked"),
        pytest.param(body([], deleting=True), True, False, True, id="deletable"),
        pytest.param({"metadata": {"finalizers": None, "deletionTimestamp": "x"}}, True, False, True, id="null-list"),
    ],
)
def test_deletion_state(start: dict[str, Any], deleting: bool, blocked: bool, gone: bool) -> None:
    assert fz.is_deleting(start) is deleting
    assert fz.is_deletion_blocked(start) is blocked
    assert fz.is_gone(start) is gone


@pytest.mark.parametrize(
    ("now", "stamp"),
    [
        pytest.param(NOW, "2025-01-02T03:04:05Z", id="aware-datetime"),
        pytest.param(datetime(2025, 1, 2, 3, 4, 5), "2025-01-02T03:04:05Z", id="naive-is-utc"),
        pytest.param("2030-05-05T05:05:05Z", "2030-05-05T05:05:05Z", id="string"),
    ],
)
def test_mark_deleting_sets_the_timestamp_once(now: datetime | str, stamp: str) -> None:
    wf = body([F])
    assert fz.mark_deleting(wf, now) is True
    assert wf["metadata"]["deletionTimestamp"] == stamp
    assert fz.mark_deleting(wf, "2099-01-01T00:00:00Z") is False  # the first request's time stays
    assert wf["metadata"]["deletionTimestamp"] == stamp


def test_clear_finalizers_is_delete_force() -> None:
    wf = body(["a", F], deleting=True)
    assert fz.clear_finalizers(wf) is True
    assert "finalizers" not in wf["metadata"] and fz.is_gone(wf)
    assert fz.clear_finalizers(wf) is False


def test_functions_create_missing_metadata() -> None:
    wf: dict[str, Any] = {}
    assert fz.add_finalizer(wf) and wf["metadata"]["finalizers"] == [F]
    bare: dict[str, Any] = {"metadata": None}
    assert fz.mark_deleting(bare, NOW) and fz.is_deleting(bare)
