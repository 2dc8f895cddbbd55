"""The Python examples: each builds the golden YAML, lints clean, matches its seed, and runs."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
import yaml

from argosy.errors import LintError
from argosy.pipeline.loader import load_file
from argosy.pipeline.model import Workflow as WorkflowModel
from argosy.pipeline.validate import lint_paths, validate_workflow
from argosy.sdk import DAG, Client, WiringError, Workflow

from .conftest import EXAMPLES, SEEDS, example

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.py"))


def test_every_example_has_a_golden_file() -> None:
    if os.environ.get("ARGOSY_REGENERATE"):
        pytest.skip("regenerating")
    assert sorted(p.stem for p in EXAMPLES.glob("*.yaml")) == NAMES
    assert {"producer_consumer", "artifact_passing", "dag_resource_jobs", "ml_pipeline"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_yaml_is_the_golden_file(name: str) -> None:
    workflow = example(name)["workflow"]
    text = workflow.to_yaml()
    golden = EXAMPLES / f"{name}.yaml"
    if os.environ.get("ARGOSY_REGENERATE"):
        golden.write_text(text)
    assert golden.exists(), f"{golden} is missing: run the tests with ARGOSY_REGENERATE=1"
    assert text == golden.read_text(), f"{name}.py no longer builds {golden.name}; regenerate with ARGOSY_REGENERATE=1 if intended"
    # the golden file loads to the very model the builder produced, and passes lint
    (loaded,) = load_file(golden)
    assert loaded.doc == workflow.build()
    assert [r.errors for r in lint_paths([golden])] == [[]]


def _seed(name: str) -> dict[str, Any]:
    return WorkflowModel.model_validate(yaml.safe_load((SEEDS / f"{name}.yaml").read_text())).to_dict()


def test_producer_consumer_is_seed_000() -> None:
    assert example("producer_consumer")["workflow"].to_dict() == _seed("000-producer-consumer")


def test_artifact_passing_is_seed_002_with_a_runnable_echo() -> None:
    seed = _seed("002-artifact-passing")
    seed["spec"]["templates"][1]["container"]["args"] = ["echo 'hello world' | tee /tmp/hello_world.txt"]
    assert example("artifact_passing")["workflow"].to_dict() == seed


def test_dag_resource_jobs_is_the_go_client_workflow() -> None:
    doc = example("dag_resource_jobs")["workflow"].to_dict()
    assert doc["metadata"] == {"generateName": "dag-"}
    spec = doc["spec"]
    assert (spec["entrypoint"], spec["serviceAccountName"]) == ("root", "argo-workflow-account")
    root, job = spec["templates"]
    assert root["dag"]["tasks"] == [
        {"name": "A", "template": "job", "arguments": {"parameters": [{"name": "message", "value": "my name is A"}]}},
        {"name": "B", "template": "job", "arguments": {"parameters": [{"name": "message", "value": "my name is B"}]}, "dependencies": ["A"]},
    ]
    assert job["inputs"] == {"parameters": [{"name": "message"}]}
    assert job["resource"]["action"] == "create" and job["resource"]["setOwnerReference"] is True
    manifest = yaml.safe_load(job["resource"]["manifest"])
    assert manifest["kind"] == "Job" and manifest["metadata"]["generateName"] == "myworkflows-job-"
    assert manifest["spec"]["template"]["spec"]["containers"][0]["args"] == ["{{inputs.parameters.message}}"]


# ----------------------------------------------------------------------------------------- runs


def test_producer_consumer_runs_locally(client: Client) -> None:
    run = example("producer_consumer")["workflow"].run(client=client)
    assert run.phase == "Succeeded"
    assert run.parameters == {"producer-message": {"message": "hello world"}}
    assert [line.line for line in client.logs(run.name, step="consumer-message")] == ["hello world"]


def test_artifact_passing_runs_locally(client: Client) -> None:
    run = example("artifact_passing")["workflow"].run(client=client)
    assert run.phase == "Succeeded"
    assert run.result("consume-artifact") == "hello world"
    assert run.artifact("generate-artifact", "hello-art").read_text() == "hello world\n"
    assert run.artifact("consume-artifact", "message", io="inputs").read_text() == "hello world\n"


def test_ml_pipeline_runs_locally_with_typed_artifacts(client: Client) -> None:
    run = example("ml_pipeline")["workflow"].run(client=client).raise_for_status()
    assert run.parameter("prepare", "return") == "200"
    assert abs(float(run.parameter("train", "return") or 0) - 3.0) < 0.1
    assert float(run.parameter("evaluate", "return") or 0) > 0.95
    data = run.artifact("prepare", "data")
    assert (data.type, data.format) == ("Dataset", "csv")
    rows = data.load()
    assert len(rows) == 200 and set(rows[0]) == {"x", "y"}
    model = run.artifact("train", "model").load()
    assert abs(model["slope"] - 3.0) < 0.1 and abs(model["intercept"] - 2.0) < 0.3
    metrics = run.artifacts["evaluate"]["metrics"]
    assert metrics.type == "Metrics" and set(metrics.load()) == {"mse", "r2"}
    assert "trained on 200 rows" in [line.line for line in client.logs(run.name, step="train")][0]


# ----------------------------------------------------------------------------------------- wiring mistakes

MISMATCH = (
    "templates.main.tasks.retrain.arguments.artifacts.data: artifact type mismatch: "
    "tasks.train.outputs.artifacts.model is 'Model' but templates.train.inputs.artifacts.data expects 'Dataset'"
)


def test_model_into_dataset_input_fails_on_the_line_that_wires_it() -> None:
    ns = example("ml_pipeline")
    prepare, train = ns["prepare"], ns["train"]
    with pytest.raises(WiringError) as caught, Workflow(generate_name="bad-"), DAG(name="main"):
        prepared = prepare(rows=10, slope=1.0, intercept=0.0, seed=1)
        trained = train(data=prepared.artifact("data"))
        train(name="retrain", data=trained.artifact("model"))
    assert str(caught.value) == MISMATCH


def test_model_into_dataset_input_is_caught_by_lint_naming_both_ends(client: Client) -> None:
    doc = copy.deepcopy(example("ml_pipeline")["workflow"].to_dict())
    tasks = doc["spec"]["templates"][0]["dag"]["tasks"]
    evaluate = next(t for t in tasks if t["name"] == "evaluate")
    for arg in evaluate["arguments"]["artifacts"]:
        if arg["name"] == "data":
            arg["from"] = "{{tasks.train.outputs.artifacts.model}}"
    errors = validate_workflow(WorkflowModel.model_validate(doc))
    assert (
        "templates.main.tasks.evaluate.arguments.artifacts.data: artifact type mismatch: "
        "tasks.train.outputs.artifacts.model is 'Model' but templates.evaluate.inputs.artifacts.data expects 'Dataset'"
    ) in errors
    assert any("artifact format mismatch" in e and "'json'" in e and "'csv'" in e for e in errors)
    with pytest.raises(LintError, match="artifact type mismatch: tasks.train.outputs.artifacts.model is 'Model'"):
        client.submit(doc)
    assert client.list() == []
