"""``argosy export --argo``: Argosy-only fields are rewritten so a real Argo cluster accepts it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from argosy.pipeline.model import Workflow as WorkflowModel
from argosy.pipeline.validate import validate_workflow
from argosy.sdk import Artifact, Container, Dataset, LocalLocation, Workflow, ZstdArchive, to_argo
from argosy.sdk.cli import export

from .conftest import EXAMPLES


def _typed_workflow() -> Workflow:
    make = Container(name="make", image="alpine", command=["sh", "-c", "echo 1 > /tmp/d"],
                     outputs=[Artifact("d", path="/tmp/d", type=Dataset, format="csv", archive=ZstdArchive(level=3)),
                              Artifact("pinned", path="/tmp/d", location=LocalLocation(key="fixed/key.tgz"))])
    return Workflow(generate_name="typed-", templates=[make])


def test_to_argo_strips_and_rewrites_argosy_fields_with_notes() -> None:
    doc, notes = to_argo(_typed_workflow())
    d, pinned = doc["spec"]["templates"][0]["outputs"]["artifacts"]
    assert d == {"name": "d", "path": "/tmp/d", "archive": {"tar": {}}}
    assert pinned == {"name": "pinned", "path": "/tmp/d", "s3": {"key": "fixed/key.tgz"}}
    assert notes == [
        "Workflow typed-: removed Argosy's typed-artifact fields (type, format) from spec.templates.make.outputs.artifacts.d; argosy lint checks typed wiring",
        "Workflow typed-: spec.templates.make.outputs.artifacts.d: archive zstd became tar+gzip (Argo has no zstd)",
        "Workflow typed-: spec.templates.make.outputs.artifacts.pinned: local location became key-only s3 (key fixed/key.tgz), resolved against the cluster's default artifact repository",
    ]
    assert validate_workflow(WorkflowModel.model_validate(yaml.safe_load(yaml.safe_dump(doc)))) == []


def test_export_strips_a_stored_run_record() -> None:
    record = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
              "metadata": {"name": "r", "uid": "u", "resourceVersion": "3", "creationTimestamp": "t"},
              "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "a"}}]},
              "status": {"phase": "Succeeded"}}
    doc, notes = to_argo(record)
    assert doc["metadata"] == {"name": "r"} and "status" not in doc and notes == []


def test_cli_exports_python_objects_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    result = runner.invoke(export, ["--argo", f"{EXAMPLES / 'ml_pipeline.py'}:workflow"])
    assert result.exit_code == 0, result.output
    assert "type: Dataset" not in result.stdout and "format: csv" not in result.stdout
    assert "note: Workflow ml-pipeline-: removed Argosy's typed-artifact fields" in result.stderr
    assert validate_workflow(WorkflowModel.model_validate(yaml.safe_load(result.stdout))) == []

    plain = runner.invoke(export, [str(EXAMPLES / "ml_pipeline.yaml")])
    assert plain.exit_code == 0 and plain.stdout == (EXAMPLES / "ml_pipeline.yaml").read_text()

    (tmp_path / "mypipes.py").write_text(textwrap.dedent("""
        from argosy.sdk import Container, Workflow
        hello = Workflow(generate_name="hi-", templates=[Container(name="main", image="alpine", command=["echo", "hi"])])
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out.yaml"
    result = runner.invoke(export, ["--argo", "mypipes:hello", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["metadata"] == {"generateName": "hi-"}
    assert runner.invoke(export, ["mypipes:nothing"]).exit_code != 0
