"""Property tests: whatever a user feeds ``load_text``/``load_file`` and lint — random bytes,
random YAML values, or a real workflow with a key deleted, replaced, duplicated or of the wrong
type — the answer is a result or a :class:`SpecError`/:class:`LintError` with a message, never a
traceback."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argosy.errors import LintError, SpecError
from argosy.pipeline.loader import load_file, load_text
from argosy.pipeline.validate import ARGO_KINDS, ensure_valid

CONFORMANCE_DIR = Path("/work/shared/conformance/argo")
SEEDS_DIR = Path(__file__).resolve().parent.parent / "data" / "seeds"

SAMPLE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: sample-
spec:
  entrypoint: main
  arguments: {parameters: [{name: n, value: "3"}]}
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: gen}
      - name: b
        depends: a
        template: use
        arguments:
          parameters: [{name: m, value: "{{tasks.a.outputs.result}}"}]
          artifacts: [{name: f, from: "{{tasks.a.outputs.artifacts.out}}"}]
        withItems: [1, {k: v}]
        when: "{{tasks.a.outputs.result}} == x"
  - name: gen
    retryStrategy: {limit: 2}
    script: {image: python, command: [python], source: "print({{workflow.parameters.n}})"}
    outputs: {artifacts: [{name: out, path: /tmp/out, archive: {tar: {compressionLevel: 1}}}]}
  - name: use
    inputs:
      parameters: [{name: m}]
      artifacts: [{name: f, path: /tmp/f}]
    container: {image: alpine, args: ["{{inputs.parameters.m}} {{=asInt(inputs.parameters.m) + 1}}"]}
"""


def _valid_documents() -> list[Any]:
    paths = sorted(SEEDS_DIR.glob("*.yaml"))
    if CONFORMANCE_DIR.is_dir():
        paths += sorted(CONFORMANCE_DIR.rglob("*.yaml"))
    texts = [SAMPLE] + [p.read_text() for p in paths]
    docs: list[Any] = []
    for text in texts:
        docs.extend(d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind") in ARGO_KINDS)
    return docs


VALID = _valid_documents()



def check(text: str) -> None:
    """Load and lint ``text``; only our own errors, always with a message, may come out."""
    try:
        loaded = load_text(text, source="prop.yaml")
    except SpecError as exc:
        assert str(exc).strip()
        return
    docs = [item.doc for item in loaded]
    for doc in docs:
        if doc.kind not in ARGO_KINDS:
            continue
        try:
            ensure_valid(doc, documents=docs)  # type: ignore[arg-type]
        except LintError as exc:
            assert str(exc).strip()
            assert exc.errors
            assert all(isinstance(e, str) and e.strip() for e in exc.errors)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------------- raw input


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_from_a_file(data: bytes) -> None:
    fd, name = tempfile.mkstemp(suffix=".yaml")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            load_file(name)
        except SpecError as exc:
            assert str(exc).strip()
    finally:
        os.unlink(name)


@FAST
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    check(text)


# ------------------------------------------------------------------------------------------- random YAML values

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["name", "template", "templates", "steps", "dag", "tasks", "container", "image", "inputs", "outputs",
     "parameters", "artifacts", "arguments", "value", "from", "depends", "when", "withItems", "entrypoint"]
)
ARGO_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)


@FAST
@given(VALUES)
def test_random_yaml_values(value: Any) -> None:
    check(_dump(value))


METADATA = st.none() | st.dictionaries(st.sampled_from(["name", "generateName", "labels", "namespace"]), VALUES, max_size=3)


@FAST
@given(st.sampled_from([*ARGO_KINDS, "ConfigMap", "Secret", "Pod", ""]), METADATA, ARGO_LIKE)
def test_random_documents_of_each_kind(kind: str, metadata: Any, spec: Any) -> None:
    check(_dump({"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}))


# ------------------------------------------------------------------------------------------- mutations


def _containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every dict and list inside ``value``."""
    out = []
    if isinstance(value, dict | list):
        out.append(path)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            out.extend(_containers(child, (*path, key)))
    return out


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _retyped(value: Any) -> list[Any]:
    """Values of other JSON types than ``value`` (the "wrong type" mutations)."""
    options: list[Any] = [None, 7, -1, True, 2.5, "text", "{{", "{{inputs.parameters.x}}", [], {}, [value], {"k": value}]
    return [o for o in options if type(o) is not type(value)]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    doc = yaml.safe_load(_dump(draw(st.sampled_from(VALID))))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        paths = _containers(doc)
        target = _at(doc, draw(st.sampled_from(paths)))
        keys = list(target.keys()) if isinstance(target, dict) else list(range(len(target)))
        action = draw(st.sampled_from(["delete", "replace", "retype", "duplicate", "add"]))
        if action == "add" or not keys:
            if isinstance(target, dict):
                target[draw(KEYS | st.text(max_size=8))] = draw(ARGO_LIKE)
            else:
                target.append(draw(ARGO_LIKE))
            continue
        key = draw(st.sampled_from(keys))
        if action == "delete":
            del target[key]
        elif action == "replace":
            target[key] = draw(ARGO_LIKE)
        elif action == "retype":
            target[key] = draw(st.sampled_from(_retyped(target[key])))
        elif isinstance(target, list):
            target.insert(key, target[key])
        else:
            target[f"{key}"] = target[key]
    text = _dump(doc)
    if draw(st.booleans()):
        # duplicate one line: repeats a mapping key or a list entry in the YAML text itself
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
        text = "".join(lines)
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutated_workflows(text: str) -> None:
    check(text)


def test_unmutated_workflows_load_and_lint() -> None:
    for doc in VALID:
        check(_dump(doc))


@pytest.mark.parametrize("metadata", ["7", "true", "[a]", "text"])
def test_non_mapping_metadata_is_a_spec_error(metadata: str) -> None:
    text = f"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {metadata}\nspec: {{entrypoint: x}}\n"
    try:
        load_text(text)
    except SpecError as exc:
        assert "metadata" in str(exc)
    else:
        raise AssertionError("a Workflow whose metadata is not a mapping loaded")
