"""Argosy's Python API: build workflows in Python, type-check their wiring, run and inspect them.

Everything here produces or reads the same Argo spec as the YAML path: ``Workflow.build()``
gives the ``argosy.pipeline.model.Workflow`` that loading the YAML gives, ``to_yaml()`` the
YAML, and ``Client`` submits to the local store or an Argo-shaped server::

    from argosy.sdk import DAG, Input, Output, Dataset, Model, Workflow, script

    @script
    def prepare(rows: int, data: Output[Dataset]) -> None: ...

    @script
    def train(data: Input[Dataset], model: Output[Model]) -> float: ...

    with Workflow(generate_name="ml-", entrypoint="main") as w:
        with DAG(name="main"):
            p = prepare(rows=100)
            t = train(data=p.artifact("data"))
            p >> t

    run = w.run()
    run.artifact("train", "model").load()
"""

from __future__ import annotations

from argosy.sdk.artifacts import (
    Dataset,
    Directory,
    File,
    Format,
    Input,
    Metrics,
    Model,
    Output,
    TypedArtifact,
)
from argosy.sdk.builder import DAG, Container, Resource, Script, Step, Steps, Suspend, Task, Template
from argosy.sdk.client import ArtifactHandle, Client, LogLine, WorkflowHandle, WorkflowRun
from argosy.sdk.errors import ServerError, WiringError, WorkflowFailed
from argosy.sdk.export import export_argo, to_argo
from argosy.sdk.io import (
    Artifact,
    ArtifactRef,
    GitLocation,
    HTTPLocation,
    LocalLocation,
    NoArchive,
    Parameter,
    RawLocation,
    S3Location,
    TarArchive,
    ValueFrom,
    ZipArchive,
    ZstdArchive,
)
from argosy.sdk.loaders import register_format
from argosy.sdk.script import FunctionScript, script
from argosy.sdk.workflow import Workflow, WorkflowTemplate

__all__ = [
    "DAG",
    "Artifact",
    "ArtifactHandle",
    "ArtifactRef",
    "Client",
    "Container",
    "Dataset",
    "Directory",
    "File",
    "Format",
    "FunctionScript",
    "GitLocation",
    "HTTPLocation",
    "Input",
    "LocalLocation",
    "LogLine",
    "Metrics",
    "Model",
    "NoArchive",
    "Output",
    "Parameter",
    "RawLocation",
    "Resource",
    "S3Location",
    "Script",
    "ServerError",
    "Step",
    "Steps",
    "Suspend",
    "TarArchive",
    "Task",
    "Template",
    "TypedArtifact",
    "ValueFrom",
    "WiringError",
    "Workflow",
    "WorkflowFailed",
    "WorkflowHandle",
    "WorkflowRun",
    "WorkflowTemplate",
    "ZipArchive",
    "ZstdArchive",
    "export_argo",
    "register_format",
    "script",
    "to_argo",
]
