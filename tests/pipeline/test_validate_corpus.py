"""Lint over real documents: Argo's examples (conformance corpus), the blog-post seeds, the
invalid fixtures in ``tests/data/lint``, and how :func:`lint_paths` reads files and folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.pipeline.validate import lint_paths

CONFORMANCE_DIR = Path("/work/shared/conformance/argo")
CONFORMANCE_CASES = Path("/work/shared/conformance/cases.yaml")
SEED_SOURCES = Path("/work/shared/seeds")
DATA = Path(__file__).resolve().parent.parent / "data"
SEEDS_DIR = DATA / "seeds"
LINT_DIR = DATA / "lint"

# Seeds whose YAML Argo itself rejects (see the header comment of each file).
SEEDS_INVALID_ALONE = {
    "000-dag-diamond.yaml": ["templates.diamond.tasks.A template name 'echo' undefined"],
}
SEEDS_INVALID_TOGETHER = {
    **SEEDS_INVALID_ALONE,
    # the post's workflow-template-submittable has no entrypoint either
    "004-workflow-template-ref.yaml": ["spec.entrypoint is required"],
}


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))


def _lint_cases() -> dict[str, tuple[bool, list[str]]]:
    """``file -> (valid?, lint_contains)`` for the lint cases of the conformance corpus."""
    if not CONFORMANCE_CASES.is_file():
        return {}
    cases = yaml.safe_load(CONFORMANCE_CASES.read_text()) or []
    out = {}
    for case in cases:
        if isinstance(case, dict) and case.get("lint"):
            contains = case.get("lint_contains") or []
            out[case["file"]] = (bool(case.get("lint_valid")), [contains] if isinstance(contains, str) else list(contains))
    return out


def _conformance_files() -> list[Path]:
    return _yaml_files(CONFORMANCE_DIR) if CONFORMANCE_DIR.is_dir() else []


needs_corpus = pytest.mark.skipif(not CONFORMANCE_DIR.is_dir(), reason=f"{CONFORMANCE_DIR} is not available")


# ------------------------------------------------------------------------------------------- conformance


@needs_corpus
@pytest.mark.parametrize("path", _conformance_files(), ids=lambda p: str(p.relative_to(CONFORMANCE_DIR)))
def test_conformance_example_lints_as_expected(path: Path) -> None:
    valid, contains = _lint_cases().get(str(path.relative_to(CONFORMANCE_DIR)), (True, []))
    results = lint_paths([path])
    assert results, "nothing was linted"
    errors = [e for r in results for e in r.errors]
    if valid:
        assert errors == []
    else:
        assert errors
        for text in contains:
            assert any(text in e for e in errors)


@needs_corpus
def test_conformance_corpus_lints_clean_together() -> None:
    """Linted together, the workflow-template/ examples resolve their references."""
    invalid = {f for f, (valid, _) in _lint_cases().items() if not valid}
    results = lint_paths([CONFORMANCE_DIR])
    bad = {r.file: r.errors for r in results if r.errors and str(Path(r.file).relative_to(CONFORMANCE_DIR)) not in invalid}
    assert bad == {}
    kinds = {r.kind for r in results}
    assert {"Workflow", "WorkflowTemplate"} <= kinds


# ------------------------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("path", _yaml_files(SEEDS_DIR), ids=lambda p: p.name)
def test_seed_lints_alone(path: Path) -> None:
    errors = [e for r in lint_paths([path]) for e in r.errors]
    assert errors == SEEDS_INVALID_ALONE.get(path.name, [])


def test_seeds_lint_together() -> None:
    results = lint_paths([SEEDS_DIR])
    got = {Path(r.file).name: r.errors for r in results if r.errors}
    assert got == SEEDS_INVALID_TOGETHER
    assert len(results) == len(_yaml_files(SEEDS_DIR))  # one Argo document per file


@pytest.mark.parametrize("path", _yaml_files(SEEDS_DIR), ids=lambda p: p.name)
def test_seed_names_its_source(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# Seed: ")
    source = first.removeprefix("# Seed: ").split()[0]
    if SEED_SOURCES.is_dir():
        assert (SEED_SOURCES / source).is_file()


# ------------------------------------------------------------------------------------------- invalid fixtures


@pytest.mark.parametrize("path", _yaml_files(LINT_DIR), ids=lambda p: p.name)
def test_lint_fixture_reports_expected_errors(path: Path) -> None:
    expected = [line.removeprefix("# expect: ") for line in path.read_text().splitlines() if line.startswith("# expect: ")]
    assert expected, "fixture declares no '# expect:' line"
    assert [e for r in lint_paths([path]) for e in r.errors] == expected


# ------------------------------------------------------------------------------------------- lint_paths

HELLO: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "hello-"},
    "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "alpine"}}]},
}


def test_folders_recurse_and_other_kinds_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "wf.yml").write_text(yaml.safe_dump(HELLO))
    (tmp_path / "wf.json").write_text(json.dumps(HELLO))
    (tmp_path / "notes.txt").write_text("not yaml: [")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n")
    results = lint_paths([tmp_path])
    assert sorted(Path(r.file).name for r in results) == ["wf.json", "wf.yml"]
    assert all(r.ok and r.kind == "Workflow" and r.name == "hello-" for r in results)


def test_unreadable_files_give_one_error_each(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: Workflow\nspec: [\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({**HELLO, "spec": {**HELLO["spec"], "entrypont": "main"}}))
    missing = tmp_path / "missing.yaml"
    results = lint_paths([broken, unknown, missing])
    assert [(Path(r.file).name, r.kind, len(r.errors)) for r in results] == [
        ("broken.yaml", "", 1),
        ("unknown.yaml", "", 1),
        ("missing.yaml", "", 1),
    ]
    assert "invalid YAML" in results[0].errors[0]
    assert 'unknown field "entrypont"' in results[1].errors[0]
    assert "no such file" in results[2].errors[0]


def test_documents_in_separate_files_see_each_other(tmp_path: Path) -> None:
    library: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "library"},
        "spec": {"templates": [{"name": "print", "container": {"image": "alpine"}}]},
    }
    user: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "user-"},
        "spec": {"entrypoint": "print", "workflowTemplateRef": {"name": "library"}},
    }
    (tmp_path / "a-user.yaml").write_text(yaml.safe_dump(user))
    (tmp_path / "b-library.yaml").write_text(yaml.safe_dump(library))
    assert [r.errors for r in lint_paths([tmp_path])] == [[], []]
    user["spec"]["entrypoint"] = "shout"
    (tmp_path / "a-user.yaml").write_text(yaml.safe_dump(user))
    assert [r.errors for r in lint_paths([tmp_path])] == [["template reference library.shout not found"], []]


def test_unnamed_documents_are_numbered(tmp_path: Path) -> None:
    doc = {**HELLO, "metadata": {}}
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(doc) + "---\n" + yaml.safe_dump(doc))
    assert [r.name for r in lint_paths([path])] == ["object #1", "object #2"]
