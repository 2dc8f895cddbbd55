"""Argosy's lint rules beyond Argo's validator: typed artifacts, archive levels, artifact GC
strategies, exit-handler/hook templates, and expression syntax."""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import pytest

from argosy.pipeline.loader import load_text
from argosy.pipeline.validate import lint_documents, lint_paths


def lint(text: str) -> list[str]:
    return [e for r in lint_documents(load_text(textwrap.dedent(text))) for e in r.errors]


# ------------------------------------------------------------------------------------------- typed artifacts

TYPED_DAG = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: typed-
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: prepare
        template: prepare
      - name: train
        depends: prepare
        template: train
        arguments:
          artifacts:
          - name: data
            from: "{{tasks.prepare.outputs.artifacts.model}}"
  - name: prepare
    container: {image: alpine}
    outputs:
      artifacts:
      - {name: model, path: /tmp/out, type: %s, format: %s}
  - name: train
    inputs:
      artifacts:
      - {name: data, path: /tmp/in, type: Dataset, format: parquet}
    container: {image: alpine}
"""

TYPED_STEPS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: typed-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: prepare
        template: prepare
    - - name: train
        template: train
        arguments:
          artifacts:
          - name: data
            from: "{{steps.prepare.outputs.artifacts.model}}"
  - name: prepare
    container: {image: alpine}
    outputs:
      artifacts:
      - {name: model, path: /tmp/out, type: Model}
  - name: train
    inputs:
      artifacts:
      - {name: data, path: /tmp/in, type: %s}
    container: {image: alpine}
"""


def test_typed_artifact_type_mismatch_in_dag() -> None:
    assert lint(TYPED_DAG % ("Model", "parquet")) == [
        "templates.main.tasks.train.arguments.artifacts.data: artifact type mismatch:"
        " tasks.prepare.outputs.artifacts.model is 'Model' but templates.train.inputs.artifacts.data expects 'Dataset'"
    ]


def test_typed_artifact_format_mismatch() -> None:
    assert lint(TYPED_DAG % ("Dataset", "csv")) == [
        "templates.main.tasks.train.arguments.artifacts.data: artifact format mismatch:"
        " tasks.prepare.outputs.artifacts.model is 'csv' but templates.train.inputs.artifacts.data expects 'parquet'"
    ]


def test_typed_artifact_same_type_and_format() -> None:
    assert lint(TYPED_DAG % ("Dataset", "parquet")) == []


def test_typed_artifact_mismatch_in_steps() -> None:
    assert lint(TYPED_STEPS % "Directory") == [
        "templates.main.steps[1].train.arguments.artifacts.data: artifact type mismatch:"
        " steps.prepare.outputs.artifacts.model is 'Model' but templates.train.inputs.artifacts.data expects 'Directory'"
    ]


def test_untyped_side_is_compatible() -> None:
    untyped_consumer = TYPED_STEPS.replace(", type: %s", "")
    assert lint(untyped_consumer) == []
    assert lint(TYPED_STEPS % "Model") == []


# ------------------------------------------------------------------------------------------- archive & GC

ARCHIVE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: archive-
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine}
    outputs:
      artifacts:
      - {name: gz, path: /tmp/a, archive: {tar: {compressionLevel: %d}}}
      - {name: zs, path: /tmp/b, archive: {zstd: {level: %d}}}
"""


def test_archive_levels_out_of_range() -> None:
    assert lint(ARCHIVE % (12, 30)) == [
        "templates.main.outputs.artifacts.gz.archive.tar.compressionLevel must be between 0 and 9 (got 12)",
        "templates.main.outputs.artifacts.zs.archive.zstd.level must be between 1 and 22 (got 30)",
    ]


def test_archive_levels_in_range() -> None:
    assert lint(ARCHIVE % (0, 22)) == []
    assert lint(ARCHIVE % (9, 1)) == []


GC = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: gc-
spec:
  entrypoint: main
  artifactGC: {strategy: %s}
  templates:
  - name: main
    container: {image: alpine}
"""


def test_artifact_gc_strategy_unknown(tmp_path: Path) -> None:
    path = tmp_path / "gc.yaml"
    path.write_text(GC % "Sometimes")
    [result] = lint_paths([path])
    assert result.kind == ""
    assert "spec.artifactGC.strategy" in result.errors[0]
    assert "'OnWorkflowCompletion', 'OnWorkflowDeletion', 'Never'" in result.errors[0]


@pytest.mark.parametrize("strategy", ["OnWorkflowCompletion", "OnWorkflowDeletion", "Never", '""'])
def test_artifact_gc_strategy_known(strategy: str) -> None:
    assert lint(GC % strategy) == []


# ------------------------------------------------------------------------------------------- exit handlers and hooks

HANDLERS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: handlers-
spec:
  entrypoint: main
  hooks:
    exit: {template: %s}
  templates:
  - name: main
    dag:
      tasks:
      - name: a
        template: echo
        onExit: %s
        hooks:
          running: {expression: "tasks.a.status == 'Running'", template: %s}
  - name: echo
    container: {image: alpine}
"""


def test_handler_templates_must_exist() -> None:
    assert lint(HANDLERS % ("bye", "echo", "echo")) == ["hooks.exit template name 'bye' undefined"]
    assert lint(HANDLERS % ("echo", "cleanup", "echo")) == ["templates.main.tasks.a.onExit template name 'cleanup' undefined"]
    assert lint(HANDLERS % ("echo", "echo", "watch")) == ["templates.main.tasks.a.hooks.running template name 'watch' undefined"]


def test_handler_templates_exist() -> None:
    assert lint(HANDLERS % ("echo", "echo", "echo")) == []


# ------------------------------------------------------------------------------------------- expressions

EXPRESSION = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: expr-
spec:
  entrypoint: main
  arguments: {parameters: [{name: n, value: "3"}]}
  templates:
  - name: main
    container: {image: alpine, args: ["{{=%s}}"]}
"""


def _expr_has(*names: str) -> bool:
    module = importlib.import_module("argosy.pipeline.expr")
    return any(hasattr(module, name) for name in names)


def test_expression_tag_that_cannot_parse() -> None:
    if not _expr_has("compile_expression"):
        pytest.skip("argosy.pipeline.expr.compile_expression is not available yet")
    errors = lint(EXPRESSION % "asInt(workflow.parameters.n) *")
    assert len(errors) == 1
    assert errors[0].startswith("templates.main: failed to parse expression {{=asInt(workflow.parameters.n) *}}: ")


def test_expression_tag_that_parses() -> None:
    assert lint(EXPRESSION % "asInt(workflow.parameters.n) * 10") == []


WHEN = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: when-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: flip
        template: echo
    - - name: heads
        template: echo
        when: "%s"
  - name: echo
    container: {image: alpine}
"""


def test_when_that_cannot_parse() -> None:
    if not _expr_has("parse_when", "compile_when", "evaluate_when"):
        pytest.skip("argosy.pipeline.expr has no govaluate parser yet")
    errors = lint(WHEN % "({{steps.flip.outputs.result}} == heads")
    assert len(errors) == 1
    assert errors[0].startswith(
        "templates.main.steps[1].heads Invalid 'when' expression '({{steps.flip.outputs.result}} == heads': "
    )


def test_when_that_parses() -> None:
    assert lint(WHEN % "{{steps.flip.outputs.result}} == heads && {{steps.flip.exitCode}} < 2") == []
