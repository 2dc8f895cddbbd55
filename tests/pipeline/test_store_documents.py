"""Documents stored by `argosy apply -f`: kubectl's created / configured / unchanged behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.errors import SpecError, StateError
from argosy.pipeline.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path) as s:
        yield s


def cm(name: str, data: dict[str, str], namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def test_apply_created_unchanged_configured(store: Store) -> None:
    assert store.apply_document(cm("settings", {"a": "1"})) == "created"
    first = store.get_document("ConfigMap", "settings")
    assert first is not None
    assert first["metadata"]["namespace"] == "default" and first["metadata"]["resourceVersion"] == "1"
    assert first["metadata"]["uid"] and first["metadata"]["creationTimestamp"]

    assert store.apply_document(cm("settings", {"a": "1"})) == "unchanged"
    assert store.get_document("ConfigMap", "settings") == first

    assert store.apply_document(cm("settings", {"a": "2"})) == "configured"
    second = store.get_document("ConfigMap", "settings")
    assert second is not None and second["data"] == {"a": "2"}
    assert second["metadata"]["resourceVersion"] == "2"
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert second["metadata"]["creationTimestamp"] == first["metadata"]["creationTimestamp"]


def test_reapplying_a_fetched_copy_is_unchanged(store: Store) -> None:
    store.apply_document(cm("c", {"k": "v"}))
    fetched = store.get_document("ConfigMap", "c")
    assert fetched is not None
    assert store.apply_document(fetched) == "unchanged"


def test_namespaces_are_separate(store: Store) -> None:
    assert store.apply_document(cm("c", {"k": "dev"}, "dev")) == "created"
    assert store.apply_document(cm("c", {"k": "prod"}, "prod")) == "created"
    assert store.get_document("ConfigMap", "c", "prod")["data"] == {"k": "prod"}  # type: ignore[index]
    assert store.get_document("ConfigMap", "c", "default") is None
    with pytest.raises(StateError, match="several namespaces"):
        store.get_document("ConfigMap", "c")
    assert [d["metadata"]["namespace"] for d in store.list_documents("ConfigMap")] == ["dev", "prod"]
    assert [d["data"]["k"] for d in store.list_documents("ConfigMap", "dev")] == ["dev"]


def test_cluster_scoped_kinds_ignore_namespace(store: Store) -> None:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ClusterWorkflowTemplate",
        "metadata": {"name": "shared", "namespace": "ignored"},
        "spec": {"templates": [{"name": "main", "container": {"image": "alpine"}}]},
    }
    assert store.apply_document(doc) == "created"
    assert store.apply_document({**doc, "metadata": {"name": "shared", "namespace": "other"}}) == "unchanged"
    stored = store.get_document("ClusterWorkflowTemplate", "shared", "whatever")
    assert stored is not None and "namespace" not in stored["metadata"]
    assert len(store.list_documents("ClusterWorkflowTemplate", "any")) == 1
    assert store.delete_document("ClusterWorkflowTemplate", "shared", "elsewhere")


def test_kinds_are_separate_and_case_insensitive(store: Store) -> None:
    store.apply_document(cm("x", {}))
    store.apply_document(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"p": "s"}}
    )
    assert store.get_document("configmap", "x") is not None
    assert store.get_document("Secret", "x")["stringData"] == {"p": "s"}  # type: ignore[index]
    assert store.list_documents("WorkflowTemplate") == []


def test_generate_name_and_create(store: Store) -> None:
    tmpl = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"generateName": "t-"},
    }
    assert store.apply_document(tmpl) == "created"
    made = store.create_document(tmpl)
    assert made["metadata"]["name"].startswith("t-") and len(made["metadata"]["name"]) == 7
    assert len(store.list_documents("WorkflowTemplate")) == 2
    with pytest.raises(StateError, match=r'^workflowtemplates.argoproj.io "' + made["metadata"]["name"]):
        store.create_document({**tmpl, "metadata": {"name": made["metadata"]["name"]}})


def test_delete_document(store: Store) -> None:
    store.apply_document(cm("bye", {}))
    assert store.delete_document("ConfigMap", "bye") is True
    assert store.get_document("ConfigMap", "bye") is None
    assert store.delete_document("ConfigMap", "bye") is False


def test_bad_documents(store: Store) -> None:
    with pytest.raises(SpecError):
        store.apply_document({"metadata": {"name": "kindless"}})
    with pytest.raises(SpecError):
        store.apply_document({"kind": "ConfigMap", "metadata": {}})
    with pytest.raises(SpecError, match="submit"):
        store.apply_document({"kind": "Workflow", "metadata": {"name": "w"}})
