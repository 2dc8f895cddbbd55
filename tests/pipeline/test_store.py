"""Store basics and workflow records: what `argosy submit/get/list/delete` will rely on."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.errors import SpecError, StateError, WorkflowNotFound
from argosy.pipeline.store import SCHEMA_VERSION, ConflictError, Store, now_rfc3339

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "home") as s:
        yield s


def wf(name: str | None = None, generate: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if name:
        meta["name"] = name
    if generate:
        meta["generateName"] = generate
    meta.update(extra.pop("metadata", {}))
    return {"metadata": meta, "spec": {"entrypoint": "main", "templates": []}, **extra}


# -- home and paths ---------------------------------------------------------------------------


def test_home_layout_created(tmp_path: Path) -> None:
    s = Store(tmp_path / "a" / "b")
    assert s.home == (tmp_path / "a" / "b").resolve()
    for d in (s.home, s.logs_dir, s.artifacts_dir, s.runs_dir):
        assert d.is_dir()
    assert (s.logs_dir, s.artifacts_dir, s.runs_dir) == (
        s.home / "logs",
        s.home / "artifacts",
        s.home / "runs",
    )
    assert s.db_path.parent == s.home and s.db_path.exists()


def test_home_from_env_then_user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGOSY_HOME", str(tmp_path / "env-home"))
    assert Store().home == (tmp_path / "env-home").resolve()
    monkeypatch.delenv("ARGOSY_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert Store().home == (tmp_path / "user" / ".argosy").resolve()


def test_log_path_creates_parent_and_refuses_escapes(store: Store) -> None:
    p = store.log_path("wf-1", "wf-1-123")
    assert p == store.logs_dir / "wf-1" / "wf-1-123.log" and p.parent.is_dir()
    for bad in ("..", "a/b", ""):
        with pytest.raises(SpecError):
            store.log_path(bad, "pod")
        with pytest.raises(SpecError):
            store.log_path("wf", bad)


def test_schema_is_versioned_in_wal_mode(store: Store) -> None:
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_reopening_keeps_data_and_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path).create_workflow(wf("keep"))
    assert Store(tmp_path).get_workflow("keep")["metadata"]["name"] == "keep"
    conn = sqlite3.connect(tmp_path / "state.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StateError, match="newer"):
        Store(tmp_path)


def test_now_rfc3339_format() -> None:
    assert RFC3339.match(now_rfc3339())


# -- create / get -----------------------------------------------------------------------------


def test_create_fills_server_fields(store: Store) -> None:
    given = wf("hello", metadata={"labels": {"a": "b"}})
    out = store.create_workflow(given)
    meta = out["metadata"]
    assert out["apiVersion"] == "argoproj.io/v1alpha1" and out["kind"] == "Workflow"
    assert meta["name"] == "hello" and meta["namespace"] == "default" and meta["labels"] == {"a": "b"}
    assert re.match(r"^[0-9a-f-]{36}$", meta["uid"]) and RFC3339.match(meta["creationTimestamp"])
    assert meta["resourceVersion"] == "1"
    assert given["metadata"] == {"name": "hello", "labels": {"a": "b"}}, "caller's dict must not change"
    assert store.get_workflow("hello") == out


def test_generate_name_uses_kubernetes_alphabet(store: Store) -> None:
    names = {store.create_workflow(wf(generate="job-"))["metadata"]["name"] for _ in range(30)}
    assert len(names) == 30
    assert all(re.match(r"^job-[bcdfghjklmnpqrstvwxz2456789]{5}$", n) for n in names)


def test_duplicate_name_is_refused(store: Store) -> None:
    store.create_workflow(wf("dup"))
    with pytest.raises(StateError, match=r'^workflows.argoproj.io "dup" already exists$'):
        store.create_workflow(wf("dup"))
    store.create_workflow(wf("dup", metadata={"namespace": "other"}))  # other namespace is fine


def test_invalid_or_missing_names_are_refused(store: Store) -> None:
    with pytest.raises(SpecError):
        store.create_workflow({"spec": {}})
    with pytest.raises(SpecError):
        store.create_workflow(wf("Bad_Name"))
    with pytest.raises(SpecError):
        store.create_workflow(wf("../escape"))


def test_get_unknown_and_latest(store: Store) -> None:
    with pytest.raises(WorkflowNotFound, match=r'^workflows.argoproj.io "nope" not found$'):
        store.get_workflow("nope")
    with pytest.raises(WorkflowNotFound):
        store.get_workflow("@latest")
    for n in ("first", "second", "third"):
        store.create_workflow(wf(n))
    store.create_workflow(wf("elsewhere", metadata={"namespace": "argo"}))
    assert store.get_workflow("@latest")["metadata"]["name"] == "elsewhere"
    assert store.get_workflow("@latest", "default")["metadata"]["name"] == "third"


def test_get_without_namespace_finds_it_wherever_it_is(store: Store) -> None:
    store.create_workflow(wf("solo", metadata={"namespace": "argo"}))
    assert store.get_workflow("solo")["metadata"]["namespace"] == "argo"
    with pytest.raises(WorkflowNotFound):
        store.get_workflow("solo", "default")
    store.create_workflow(wf("twin", metadata={"namespace": "a"}))
    store.create_workflow(wf("twin", metadata={"namespace": "b"}))
    with pytest.raises(StateError, match="several namespaces"):
        store.get_workflow("twin")
    assert store.get_workflow("twin", "b")["metadata"]["namespace"] == "b"


# -- update / modify --------------------------------------------------------------------------


def test_update_bumps_version_and_rejects_stale_copies(store: Store) -> None:
    first = store.create_workflow(wf("upd"))
    first["status"] = {"phase": "Running"}
    second = store.update_workflow(first)
    assert second["metadata"]["resourceVersion"] == "2"
    assert first["metadata"]["resourceVersion"] == "1", "caller's dict must not change"
    with pytest.raises(ConflictError, match="modified"):
        store.update_workflow(first)  # still at version 1
    assert isinstance(ConflictError("x"), StateError)
    forced = store.update_workflow({**first, "status": {"phase": "Failed"}}, check_version=False)
    assert forced["metadata"]["resourceVersion"] == "3"
    assert store.get_workflow("upd")["status"] == {"phase": "Failed"}


def test_update_keeps_identity_fields(store: Store) -> None:
    created = store.create_workflow(wf("ident"))
    tampered = {**created, "metadata": {**created["metadata"], "uid": "forged", "creationTimestamp": "x"}}
    out = store.update_workflow(tampered)
    assert out["metadata"]["uid"] == created["metadata"]["uid"]
    assert out["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    assert store.get_workflow("ident") == out


def test_update_unknown_workflow(store: Store) -> None:
    with pytest.raises(WorkflowNotFound):
        store.update_workflow(wf("ghost", metadata={"resourceVersion": "1"}))


def test_modify_applies_patch_to_latest_copy(store: Store) -> None:
    created = store.create_workflow(wf("mod"))
    store.update_workflow({**created, "status": {"phase": "Running"}})

    def shutdown(d: dict[str, Any]) -> None:
        d["spec"]["shutdown"] = "Stop"

    out = store.modify_workflow("mod", shutdown)
    assert out["spec"]["shutdown"] == "Stop" and out["status"] == {"phase": "Running"}
    assert out["metadata"]["resourceVersion"] == "3"
    with pytest.raises(WorkflowNotFound):
        store.modify_workflow("ghost", shutdown)


# -- list -------------------------------------------------------------------------------------


def _seed(store: Store) -> None:
    specs = [
        ("a1", "default", "Succeeded", {"team": "a", "tier": "gold"}),
        ("a2", "default", "Running", {"team": "a"}),
        ("b1", "default", "Failed", {"team": "b", "tier": "silver"}),
        ("b2", "argo", None, {"team": "b"}),
        ("c1", "argo", "Error", {}),
    ]
    for name, ns, phase, labels in specs:
        created = store.create_workflow(wf(name, metadata={"namespace": ns, "labels": labels}))
        if phase:
            store.update_workflow({**created, "status": {"phase": phase, "nodes": {"n": {"id": "n"}}}})


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["metadata"]["name"] for i in items]


def test_list_newest_first_with_filters(store: Store) -> None:
    _seed(store)
    assert names(store.list_workflows()) == ["c1", "b2", "b1", "a2", "a1"]
    assert names(store.list_workflows("argo")) == ["c1", "b2"]
    assert names(store.list_workflows(phases=["Failed", "Error"])) == ["c1", "b1"]
    assert names(store.list_workflows(phases=["Pending"])) == ["b2"], "no phase yet counts as Pending"
    assert names(store.list_workflows(phases=[])) == []
    assert names(store.list_workflows(prefix="b")) == ["b2", "b1"]
    assert names(store.list_workflows(limit=2)) == ["c1", "b2"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("team=a", ["a2", "a1"]),
        ("team==b", ["b2", "b1"]),
        ("team!=a", ["c1", "b2", "b1"]),
        ("tier", ["b1", "a1"]),
        ("!tier", ["c1", "b2", "a2"]),
        ("team=a,tier=gold", ["a1"]),
        ("team in (a, b),!tier", ["b2", "a2"]),
        ("tier notin (gold)", ["c1", "b2", "b1", "a2"]),
        ("", ["c1", "b2", "b1", "a2", "a1"]),
    ],
)
def test_list_label_selector(store: Store, selector: str, expected: list[str]) -> None:
    _seed(store)
    assert names(store.list_workflows(label_selector=selector)) == expected


def test_label_selector_with_limit_and_errors(store: Store) -> None:
    _seed(store)
    assert names(store.list_workflows(label_selector="team", limit=3)) == ["b2", "b1", "a2"]
    for bad in ("team=a,,x", "te am=a", "a=(b"):
        with pytest.raises(SpecError, match="label selector"):
            store.list_workflows(label_selector=bad)


def test_list_items_are_summaries_unless_full(store: Store) -> None:
    _seed(store)
    summary = store.list_workflows(prefix="a1")[0]
    assert summary["status"] == {"phase": "Succeeded"} and "nodes" not in summary["status"]
    assert summary["metadata"]["labels"] == {"team": "a", "tier": "gold"}
    full = store.list_workflows(prefix="a1", full=True)[0]
    assert full == store.get_workflow("a1") and full["status"]["nodes"] == {"n": {"id": "n"}}


def test_list_reflects_updates(store: Store) -> None:
    created = store.create_workflow(wf("moving"))
    assert names(store.list_workflows(phases=["Running"])) == []
    store.update_workflow({**created, "status": {"phase": "Running"}})
    store.modify_workflow("moving", lambda d: d["metadata"].setdefault("labels", {}).update(x="y"))
    assert names(store.list_workflows(phases=["Running"], label_selector="x=y")) == ["moving"]


# -- delete -----------------------------------------------------------------------------------


def test_delete_removes_record_events_logs_and_lease(store: Store) -> None:
    store.create_workflow(wf("gone"))
    store.create_workflow(wf("stays"))
    store.add_event("gone", "Normal", "WorkflowRunning", "Workflow Running")
    store.add_event("stays", "Normal", "WorkflowRunning", "Workflow Running")
    store.log_path("gone", "gone-1").write_text("hello\n")
    assert store.acquire_lease("gone")
    store.delete_workflow("gone")
    with pytest.raises(WorkflowNotFound):
        store.get_workflow("gone")
    assert names(store.list_workflows()) == ["stays"]
    assert store.list_events("gone") == [] and len(store.list_events("stays")) == 1
    assert not (store.logs_dir / "gone").exists()
    assert store.lease_info("gone") is None
    with pytest.raises(WorkflowNotFound):
        store.delete_workflow("gone")


def test_delete_keeps_logs_of_same_named_workflow_in_other_namespace(store: Store) -> None:
    store.create_workflow(wf("same", metadata={"namespace": "a"}))
    store.create_workflow(wf("same", metadata={"namespace": "b"}))
    store.log_path("same", "pod").write_text("b's log")
    store.delete_workflow("same", "a")
    assert store.get_workflow("same")["metadata"]["namespace"] == "b"
    assert (store.logs_dir / "same" / "pod.log").read_text() == "b's log"


# -- threads ----------------------------------------------------------------------------------


def test_one_store_shared_by_threads(store: Store) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                created = store.create_workflow(wf(generate="t-"))
                store.modify_workflow(
                    created["metadata"]["name"], lambda d: d.update(status={"phase": "Running"})
                )
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.list_workflows(phases=["Running"])) == 160
