"""``@script``: the template it generates, the plain function, and the in-step runtime checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, NamedTuple

import pytest

from argosy.sdk import (
    DAG,
    Client,
    Dataset,
    Format,
    Input,
    Metrics,
    Model,
    Output,
    WiringError,
    Workflow,
    script,
)
from argosy.sdk._runtime import _argosy_run


@script(image="python:3.12", retry_strategy={"limit": "1"})
def fit(data: Annotated[Input[Dataset], Format("csv")], model: Output[Model], epochs: int = 3, tags: list[str] | None = None, note: Path | None = None) -> float:
    return 0.5


class Scores(NamedTuple):
    best: float
    name: str


@script
def score(ratio: float, verbose: bool) -> Scores:
    return Scores(ratio * 2, "x" if verbose else "y")


def test_signature_becomes_the_template_interface() -> None:
    def none_default(x: str | None = None) -> None:
        pass

    with pytest.raises(TypeError, match="parameter 'x' \\(str\\) cannot default to None"):
        script(none_default)
    t = fit.to_wire()
    assert t["name"] == "fit"
    assert t["inputs"]["parameters"] == [{"name": "epochs", "default": "3"}, {"name": "tags", "default": "null"}]
    assert t["inputs"]["artifacts"] == [
        {"name": "data", "path": "/tmp/argosy/inputs/artifacts/data", "type": "Dataset", "format": "csv"},
        {"name": "note", "path": "/tmp/argosy/inputs/artifacts/note", "optional": True},
    ]
    assert t["outputs"]["artifacts"] == [{"name": "model", "path": "/tmp/argosy/outputs/artifacts/model", "type": "Model"}]
    assert t["outputs"]["parameters"] == [{"name": "return", "valueFrom": {"path": "/tmp/argosy/outputs/parameters/return"}}]
    assert t["retryStrategy"] == {"limit": "1"}
    body = t["script"]
    assert (body["image"], body["command"]) == ("python:3.12", ["python"])
    assert body["env"] == [{"name": f"ARGOSY_PARAM_{n}", "value": "{{inputs.parameters." + n + "}}"} for n in ("epochs", "tags")]
    assert body["source"].startswith("from __future__ import annotations\n")
    assert "@script" not in body["source"] and "def fit(" in body["source"]
    assert "{{" not in body["source"]


def test_named_tuple_return_gives_one_output_per_field_and_plain_call_runs_the_function() -> None:
    outs = score.to_wire()["outputs"]["parameters"]
    assert [p["name"] for p in outs] == ["best", "name"]
    assert score(2.0, True) == Scores(4.0, "x")


def test_literal_arguments_are_checked_against_annotations() -> None:
    with Workflow(generate_name="w-"), DAG(name="main"):
        with pytest.raises(WiringError, match=r"tasks.score.arguments.parameters.ratio: template 'score' expects float, got 'lots'"):
            score(ratio="lots", verbose=True)
        t = score(ratio=0.5, verbose=False)
        with pytest.raises(WiringError, match="exactly one output parameter"):
            _ = t.output
        f = fit(data="{{workflow.artifacts.d}}")
        assert f.output == "{{tasks.fit.outputs.parameters.return}}"


def _spec(tmp_path: Path, **outputs: list[object]) -> dict[str, object]:
    return {"parameters": {}, "inputs": {}, "outputs": outputs, "returns": [], "result": False}


def test_runtime_rejects_an_output_of_the_wrong_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "data"

    def writes_a_directory(data: Dataset) -> None:
        data.path.mkdir(parents=True)

    with pytest.raises(SystemExit) as stopped:
        _argosy_run(writes_a_directory, _spec(tmp_path, data=["Dataset", "csv", str(target), False]))
    assert stopped.value.code == 1
    assert f"output artifact 'data' (Dataset, csv) at {target} is not a file (format csv is one file)" in capsys.readouterr().err

    def writes_bad_json(report: Dataset) -> None:
        report.write_text("{not json")

    with pytest.raises(SystemExit):
        _argosy_run(writes_bad_json, _spec(tmp_path, report=["Dataset", "json", str(tmp_path / "r.json"), False]))
    assert "is not valid JSON" in capsys.readouterr().err

    def forgets(model: Model) -> None:
        pass

    with pytest.raises(SystemExit):
        _argosy_run(forgets, _spec(tmp_path, model=["Model", None, str(tmp_path / "m"), False]))
    assert "output artifact 'model' (Model) at" in capsys.readouterr().err


def test_runtime_writes_metrics_and_return_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argosy.sdk._runtime as rt

    monkeypatch.setattr(rt, "OUTPUTS_DIR", str(tmp_path))
    monkeypatch.setenv("ARGOSY_PARAM_n", "4")

    def step(n: int, metrics: Metrics) -> dict[str, int]:
        metrics.log_metric("n", n)
        return {"double": n * 2}

    spec = {"parameters": {"n": "int"}, "inputs": {}, "outputs": {"metrics": ["Metrics", "json", str(tmp_path / "m.json"), False]}, "returns": [["return", "json"]], "result": False}
    _argosy_run(step, spec)
    assert json.loads((tmp_path / "m.json").read_text()) == {"n": 4}
    assert (tmp_path / "parameters" / "return").read_text() == '{"double": 8}'


def test_generated_source_runs_with_plain_python(tmp_path: Path) -> None:
    """The source needs nothing but the standard library (run outside the sandbox here)."""
    source = score.to_wire()["script"]["source"].replace("/tmp/argosy/outputs", str(tmp_path))
    env = {"ARGOSY_PARAM_ratio": "1.5", "ARGOSY_PARAM_verbose": "false", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-I", "-c", source], env=env, check=True)
    assert score.to_wire()["script"]["source"].count("class Scores(NamedTuple)") == 1
    assert (tmp_path / "parameters" / "best").read_text() == "3.0"
    assert (tmp_path / "parameters" / "name").read_text() == "y"


@script(result=True)
def shout(text: str) -> str:
    print("this goes to the log")
    return text.upper()


@script
def bad_dataset(data: Annotated[Output[Dataset], Format("csv")]) -> None:
    data.path.mkdir(parents=True)


def test_step_results_and_runtime_failures_in_a_real_run(client: Client) -> None:
    with Workflow(generate_name="script-") as w, DAG(name="main"):
        shout(text="hi")
    run = w.run(client=client)
    assert run.phase == "Succeeded" and run.result("shout") == "HI"
    assert "this goes to the log" in [ln.line for ln in client.logs(run.name)]

    with Workflow(generate_name="bad-") as w2, DAG(name="main"):
        bad_dataset()
    run = w2.run(client=client)
    assert run.phase in ("Failed", "Error")
    lines = [ln.line for ln in client.logs(run.name, step="bad-dataset")]
    assert "argosy: output artifact 'data' (Dataset, csv) at /tmp/argosy/outputs/artifacts/data is not a file (format csv is one file)" in lines
