"""ttlStrategy retention: due workflows are deleted through the same finalizer path as `argosy delete`."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from argosy.gc import retention
from argosy.pipeline.status import now, parse_time
from argosy.pipeline.store import Store

from .conftest import exists, local_objects, run, seed
from .test_lifecycle_local import undeletable


@pytest.mark.parametrize(
    ("phase", "ttl", "expected"),
    [
        pytest.param("Running", {"secondsAfterCompletion": 10}, None, id="not-finished"),
        pytest.param("Succeeded", {}, None, id="no-ttl"),
        pytest.param("Succeeded", {"secondsAfterCompletion": 10}, 10.0, id="completion"),
        pytest.param("Succeeded", {"secondsAfterCompletion": 10, "secondsAfterSuccess": 3}, 3.0, id="success-wins"),
        pytest.param("Failed", {"secondsAfterCompletion": 10, "secondsAfterSuccess": 3}, 10.0,
                     id="success-ttl-not-for-failures"),
        pytest.param("Error", {"secondsAfterFailure": 0}, 0.0, id="error-is-a-failure"),
        pytest.param("Failed", {"secondsAfterFailure": 5, "secondsAfterCompletion": 50}, 5.0, id="failure-wins"),
    ],
)
def test_ttl_seconds(phase: str, ttl: dict[str, int], expected: float | None) -> None:
    wf: dict[str, Any] = {"spec": {"ttlStrategy": ttl}, "status": {"phase": phase}}
    assert retention.ttl_seconds(wf) == expected


def _with_ttl(seconds: int) -> dict[str, Any]:
    doc = copy.deepcopy(seed("002-artifact-gc"))
    doc["spec"]["ttlStrategy"] = {"secondsAfterSuccess": seconds}
    return doc


def test_due_workflow_is_deleted_and_its_artifacts_collected(store: Store) -> None:
    name = run(store, _with_ttl(60))
    finished = parse_time(store.get_workflow(name)["status"]["finishedAt"])
    assert finished is not None
    assert retention.due_deletions(store, finished + timedelta(seconds=59)) == []
    later = finished + timedelta(seconds=60)
    assert retention.due_deletions(store, later) == [name]
    assert retention.run_once(store, later) == [(name, "deleted")]
    assert not exists(store, name)
    assert local_objects(store) == {"keep-this.txt"}


def test_blocked_retention_keeps_the_record_and_is_not_retried_every_pass(store: Store) -> None:
    name = run(store, _with_ttl(0))
    with undeletable(store.artifacts_dir):
        [(got, outcome)] = retention.run_once(store, now() + timedelta(seconds=1))
    assert got == name and outcome.startswith("deletion blocked")
    assert exists(store, name)
    assert retention.due_deletions(store, now() + timedelta(days=1)) == []  # deletion is under way
