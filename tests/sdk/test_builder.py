"""The builder: both styles give the spec that loading the equivalent YAML gives, and wiring
mistakes fail where they are written."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from argosy.pipeline.loader import load_text
from argosy.sdk import (
    DAG,
    Artifact,
    Container,
    Dataset,
    HTTPLocation,
    LocalLocation,
    Model,
    NoArchive,
    Parameter,
    Resource,
    S3Location,
    Script,
    Step,
    Steps,
    TarArchive,
    Task,
    WiringError,
    Workflow,
    WorkflowTemplate,
    ZstdArchive,
)

echo = Container(name="echo", image="alpine", command=["echo"], args=["{{inputs.parameters.message}}"], inputs=[Parameter("message")])


def _model(text: str) -> object:
    (doc,) = load_text(textwrap.dedent(text))
    return doc.doc


def test_context_style_diamond_is_the_yaml_diamond() -> None:
    with Workflow(generate_name="dag-diamond-", entrypoint="diamond") as w, DAG(name="diamond"):
        a = echo(name="A", message="A")
        b = echo(name="B", message="B")
        c = echo(name="C", message="C")
        d = echo(name="D", message="D")
        a >> [b, c]
        [b, c] >> d
    expected = _model("""
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: dag-diamond-}
        spec:
          entrypoint: diamond
          templates:
          - name: diamond
            dag:
              tasks:
              - {name: A, template: echo, arguments: {parameters: [{name: message, value: A}]}}
              - {name: B, dependencies: [A], template: echo, arguments: {parameters: [{name: message, value: B}]}}
              - {name: C, dependencies: [A], template: echo, arguments: {parameters: [{name: message, value: C}]}}
              - {name: D, dependencies: [B, C], template: echo, arguments: {parameters: [{name: message, value: D}]}}
          - name: echo
            inputs: {parameters: [{name: message}]}
            container: {image: alpine, command: [echo], args: ["{{inputs.parameters.message}}"]}
    """)
    assert w.build() == expected
    assert w.lint() == []


def test_function_style_builds_the_same_spec() -> None:
    with Workflow(generate_name="x-") as ctx, DAG(name="main"):
        a = echo(name="a", message="1")
        echo(name="b", message="2", when="{{tasks.a.outputs.result}} == hello").after(a)
    a2 = Task(name="a", template=echo, arguments={"message": "1"})
    b2 = Task(name="b", template=echo, arguments=[Parameter("message", value="2")], when="{{tasks.a.outputs.result}} == hello", dependencies=[a2])
    func = Workflow(generate_name="x-", templates=[DAG(name="main", tasks=[a2, b2])])
    assert ctx.to_dict() == func.to_dict()
    assert ctx.to_dict()["spec"]["entrypoint"] == "main"


def test_yaml_output_is_argo_yaml_without_nulls() -> None:
    with Workflow(generate_name="s-") as w, Steps(name="main") as s:
        echo(name="one", message="x")
        with s.parallel():
            echo(name="two", message=3)
            echo(name="three", message=True, with_items=[1, 2])
    text = w.to_yaml()
    assert "null" not in text
    data = yaml.safe_load(text)
    groups = data["spec"]["templates"][0]["steps"]
    assert [[st["name"] for st in g] for g in groups] == [["one"], ["two", "three"]]
    assert groups[1][0]["arguments"]["parameters"] == [{"name": "message", "value": "3"}]
    assert groups[1][1]["withItems"] == [1, 2]
    assert groups[1][1]["arguments"]["parameters"][0]["value"] == "true"
    (loaded,) = load_text(text)
    assert loaded.doc == w.build()


def test_loops_template_refs_and_workflow_arguments() -> None:
    with Workflow(name="loops", arguments={"items": ["a", "b"]}) as w, DAG(name="main"):
        Task(name="ref", template_ref=("shared", "say"), arguments={"text": w.parameter("items")}, with_param=w.parameter("items"))
        echo(name="seq", message="{{item}}", with_sequence={"count": "3"})
    spec = w.to_dict()["spec"]
    assert spec["arguments"] == {"parameters": [{"name": "items", "value": '["a", "b"]'}]}
    ref, seq = spec["templates"][0]["dag"]["tasks"]
    assert ref["templateRef"] == {"name": "shared", "template": "say"}
    assert ref["withParam"] == "{{workflow.parameters.items}}"
    assert seq["withSequence"] == {"count": "3"}
    assert [t["name"] for t in spec["templates"]] == ["main", "echo"]


def test_resource_script_and_template_fields() -> None:
    job = Resource(name="job", action="create", manifest="kind: Job\n", set_owner_reference=True, success_condition="status.succeeded > 0")
    run = Script(name="py", image="python:3.11", command=["python"], source="print(1)\n", retry_strategy={"limit": "2"}, working_dir="/w", env={"A": 1})
    w = Workflow(name="x", templates=[job, run], entrypoint=job)
    job_t, py_t = w.to_dict()["spec"]["templates"]
    assert job_t["resource"] == {"action": "create", "manifest": "kind: Job\n", "setOwnerReference": True, "successCondition": "status.succeeded > 0"}
    assert py_t["retryStrategy"] == {"limit": "2"}
    assert py_t["script"] == {"image": "python:3.11", "command": ["python"], "workingDir": "/w", "env": [{"name": "A", "value": "1"}], "source": "print(1)\n"}
    assert "manifest: |" in w.to_yaml()
    with pytest.raises(TypeError, match="unexpected keyword argument 'imag'"):
        Container(name="c", imag="typo")


def test_artifact_locations_archives_and_types() -> None:
    art = Artifact("data", path="/tmp/d", type=Dataset, format="csv", location=S3Location(key="k", bucket="b"), archive=TarArchive(compression_level=0))
    assert art.to_wire() == {"name": "data", "path": "/tmp/d", "archive": {"tar": {"compressionLevel": 0}}, "s3": {"key": "k", "bucket": "b"}, "type": "Dataset", "format": "csv"}
    assert Artifact("x", location=HTTPLocation(url="https://e/x"), archive=NoArchive()).to_wire() == {"name": "x", "archive": {"none": {}}, "http": {"url": "https://e/x"}}
    assert Artifact("z", archive=ZstdArchive(level=5), location=LocalLocation(key="a/b")).to_wire() == {"name": "z", "archive": {"zstd": {"level": 5}}, "local": {"key": "a/b"}}


producer = Container(name="producer", image="alpine", command=["sh", "-c"], args=["echo m > /tmp/m"],
                     outputs=[Artifact("model", path="/tmp/m", type=Model), Parameter("p", value_from={"path": "/tmp/m"})])
consumer = Container(name="consumer", image="alpine", command=["cat", "/tmp/d"], inputs=[Artifact("data", path="/tmp/d", type=Dataset)])


def test_artifact_type_mismatch_names_both_ends_in_lints_words() -> None:
    with pytest.raises(WiringError) as caught, Workflow(generate_name="w-"), Steps(name="main"):
        p = producer(name="make")
        consumer(name="use", data=p.artifact("model"))
    assert str(caught.value) == (
        "templates.main.steps[1].use.arguments.artifacts.data: artifact type mismatch: "
        "steps.make.outputs.artifacts.model is 'Model' but templates.consumer.inputs.artifacts.data expects 'Dataset'"
    )


def test_unknown_inputs_and_outputs_fail_where_written() -> None:
    with Workflow(generate_name="w-"), DAG(name="main"):
        p = producer(name="make")
        with pytest.raises(WiringError, match=r"tasks.make has no output artifact 'modle': template 'producer' declares model"):
            p.artifact("modle")
        with pytest.raises(WiringError, match=r"tasks.make has no output parameter 'q'"):
            p.parameter("q")
        with pytest.raises(WiringError, match=r"template 'consumer' has no input 'dat' \(inputs: data\)"):
            consumer(name="use", dat=p.artifact("model"))
        with pytest.raises(WiringError, match="a task named 'make' already exists"):
            producer(name="make")
        assert p.parameter("p") == "{{tasks.make.outputs.parameters.p}}"
        assert p.result == "{{tasks.make.outputs.result}}"


def test_untyped_and_literal_artifact_arguments() -> None:
    with Workflow(generate_name="w-") as w, DAG(name="main"):
        consumer(name="raw", data="inline text")
        consumer(name="expr", data="{{workflow.artifacts.x}}")
    raw, expr = w.to_dict()["spec"]["templates"][0]["dag"]["tasks"]
    assert raw["arguments"]["artifacts"] == [{"name": "data", "raw": {"data": "inline text"}}]
    assert expr["arguments"]["artifacts"] == [{"name": "data", "from": "{{workflow.artifacts.x}}"}]


def test_calling_a_template_outside_a_dag_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="outside `with DAG"):
        echo(name="x")
    with pytest.raises(TypeError, match=">> links DAG tasks"):
        Task(name="a", template=echo) >> "b"  # type: ignore[operator]
    with pytest.raises(TypeError, match="exactly one of"):
        Step(name="a")


def test_workflow_template_and_duplicate_names() -> None:
    wt = WorkflowTemplate("shared", templates=[echo])
    assert wt.to_dict()["kind"] == "WorkflowTemplate" and "entrypoint" not in wt.to_dict()["spec"]
    other = Container(name="echo", image="busybox")
    with pytest.raises(Exception, match="two different templates are named 'echo'"):
        Workflow(name="dup", templates=[echo, other]).to_dict()
