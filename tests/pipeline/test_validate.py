"""Argo's validation rules: for each, a document Argo rejects (with Argo's exact message) and one
it accepts. Messages come from ``workflow/validate/validate.go`` (v4) and its tests."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from argosy.errors import LintError
from argosy.pipeline.loader import load_text
from argosy.pipeline.model import ClusterWorkflowTemplate, CronWorkflow, Workflow, WorkflowTemplate
from argosy.pipeline.validate import (
    ensure_valid,
    lint_documents,
    validate_cron,
    validate_template,
    validate_workflow,
)


def lint(text: str, *, lint: bool = True) -> list[str]:
    """All messages for the Argo documents in ``text`` (linted together)."""
    loaded = load_text(textwrap.dedent(text))
    if not lint:
        docs = [d.doc for d in loaded]
        return [e for d in docs if isinstance(d, Workflow) for e in validate_workflow(d, documents=docs, lint=False)]
    return [e for r in lint_documents(loaded) for e in r.errors]


HEAD = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: rule-
spec:
"""


def wf(body: str) -> str:
    """A Workflow whose ``spec`` is ``body`` (indented two spaces)."""
    return HEAD + textwrap.indent(textwrap.dedent(body), "  ")


ECHO = [
    {"name": "echo", "container": {"image": "alpine", "command": ["echo", "hi"]}},
    {
        "name": "say",
        "inputs": {"parameters": [{"name": "m"}]},
        "container": {"image": "alpine", "command": ["echo", "{{inputs.parameters.m}}"]},
    },
]


def with_echo(body: str) -> str:
    """``wf(body)`` plus two helper templates: ``echo`` and ``say`` (input ``m``)."""
    doc = yaml.safe_load(wf(body))
    doc["spec"]["templates"] = list(doc["spec"].get("templates") or []) + ECHO
    return yaml.safe_dump(doc, sort_keys=False)


# ------------------------------------------------------------------------------------------- table

FAILING = [
    pytest.param(
        wf("""
        templates:
        - name: main
          container: {image: alpine}
        """),
        "spec.entrypoint is required",
        id="entrypoint-required",
    ),
    pytest.param(
        wf("""
        entrypoint: nope
        templates:
        - name: main
          container: {image: alpine}
        """),
        "template name 'nope' undefined",
        id="entrypoint-undefined",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: a
              template: nope
        """),
        "templates.main.steps[0].a template name 'nope' undefined",
        id="step-template-undefined",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: nope}
        """),
        "templates.main.tasks.A template name 'nope' undefined",
        id="task-template-undefined",
    ),
    pytest.param(
        with_echo("""
        entrypoint: echo
        onExit: gone
        templates: []
        """),
        "template name 'gone' undefined",
        id="onexit-template-undefined",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: echo}
          - - {name: a, template: echo}
        """),
        "templates.main.steps[1].name 'a' is not unique",
        id="step-name-not-unique",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, dependencies: [C], template: echo}
            - {name: B, dependencies: [A], template: echo}
            - {name: C, dependencies: [A], template: echo}
        """),
        "templates.main.tasks dependency cycle detected: C->A->C",
        id="dag-cycle",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: echo}
            - {name: B, dependencies: [Z], template: echo}
        """),
        "templates.main.tasks.B dependency 'Z' not defined",
        id="dag-dependency-undefined",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: echo}
            - {name: B, dependencies: [A], template: echo}
            - {name: C, depends: B, template: echo}
        """),
        "templates.main cannot use both 'depends' and 'dependencies' in the same DAG template",
        id="dag-depends-and-dependencies",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: echo}
            - {name: B, template: echo, continueOn: {failed: true}}
            - {name: C, depends: B, template: echo}
        """),
        "templates.main cannot use 'continueOn' when using 'depends'. Instead use 'dep-task.Failed'/'dep-task.Errored'",
        id="dag-continueon-with-depends",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: echo}
            - {name: B, depends: A.Finished, template: echo}
        """),
        "templates.main.tasks.B task result 'Finished' for task 'A' is invalid",
        id="dag-task-result-invalid",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            target: Z
            tasks:
            - {name: A, template: echo}
        """),
        "templates.main.targets: target 'Z' is not defined",
        id="dag-target-undefined",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: 1a, template: echo}
            - {name: b, depends: 1a, template: echo}
        """),
        "templates.main.tasks.1a name cannot begin with a digit when using either 'depends' or 'dependencies'",
        id="dag-task-name-digit",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: echo}
            - {name: B, depends: A.AnySucceeded, template: echo}
        """),
        "templates.main.tasks.A dependency 'A' uses an items-based condition such as .AnySucceeded or .AllFailed"
        " but does not contain any items",
        id="dag-items-condition-without-items",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: echo}
            - {name: B, template: say, arguments: {parameters: [{name: m, value: "{{tasks.A.outputs.result}}"}]}}
        """),
        "templates.main.tasks.B missing dependency 'A' for parameter 'm'",
        id="dag-missing-dependency",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks: []
        """),
        "templates.main must have at least one task",
        id="dag-no-tasks",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: blank}
        - name: blank
          inputs: {parameters: [{name: x, value: "1"}]}
        """),
        "templates.main.steps[0].a template 'blank' type is unknown",
        id="template-type-unknown",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          container: {image: alpine}
          script: {image: python, source: "print(1)"}
        """),
        "templates.main multiple template types specified. choose one of: container, containerSet, steps, script,"
        " resource, dag, suspend, template, template ref",
        id="multiple-template-types",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          container: {image: "alpine:{{inputs.parameters.tag}}"}
        """),
        "templates.main: failed to resolve {{inputs.parameters.tag}}",
        id="unresolved-input",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: one, template: say, arguments: {parameters: [{name: m, value: "{{steps.two.status}}"}]}}
          - - {name: two, template: echo}
        """),
        "templates.main.steps failed to resolve {{steps.two.status}}",
        id="future-step-reference",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: one, template: say, arguments: {parameters: [{name: m, value: "{{item.x}}"}]}}
        """),
        "templates.main.steps failed to resolve {{item.x}}",
        id="item-outside-loop",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: one
              template: say
              arguments: {parameters: [{name: m, value: "{{item.y}}"}]}
              withItems: [{x: 1}]
        """),
        "templates.main.steps failed to resolve {{item.y}}",
        id="item-key-not-in-items",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          container: {image: alpine, args: ["{{workflow.failures}}"]}
        """),
        "templates.main: failed to resolve {{workflow.failures}}",
        id="failures-outside-exit-handler",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: A, template: echo}
            - {name: B, depends: A, template: echo}
            - {name: C, depends: A, template: say, arguments: {parameters: [{name: m, value: "x {{tasks.B.status}}"}]}}
        """),
        "templates.main.tasks.C failed to resolve {{tasks.B.status}}",
        id="status-of-non-ancestor",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: echo}
          outputs:
            parameters:
            - name: p
              valueFrom: {parameter: "{{steps.a.outputs.parameters.nope}}"}
        """),
        "templates.main.outputs failed to resolve {{steps.a.outputs.parameters.nope}}",
        id="unresolved-output",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: main2}
        - name: main2
          steps:
          - - {name: b, template: echo}
          - - {name: c, template: say, arguments: {parameters: [{name: m, value: "{{steps.b.outputs.result}}-{{workflow.nope}}"}]}}
        """),
        "templates.main.steps[0].a templates.main2.steps failed to resolve {{workflow.nope}}",
        id="unknown-global",
    ),
    pytest.param(
        wf("""
        entrypoint: abc
        templates:
        - name: abc
          steps:
          - - name: a
              template: whalesay
        - name: whalesay
          inputs: {parameters: [{name: message}]}
          container: {image: docker/whalesay, command: [cowsay], args: ["{{inputs.parameters.message}}"]}
        """),
        "templates.abc.steps[0].a templates.whalesay inputs.parameters.message was not supplied",
        id="input-not-supplied",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          inputs: {parameters: [{name: message}]}
          container: {image: alpine}
        """),
        "templates.main inputs.parameters.message was not supplied",
        id="entrypoint-input-not-supplied",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: consume}
        - name: consume
          inputs: {artifacts: [{name: data, path: /tmp/data}]}
          container: {image: alpine}
        """),
        "templates.main.steps[0].a templates.consume inputs.artifacts.data was not supplied",
        id="artifact-not-supplied",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: say, arguments: {parameters: [{name: m}]}}
        """),
        "templates.main.steps[0].a.arguments.m.value or templates.main.steps[0].a.arguments.m.valueFrom is required",
        id="step-argument-without-value",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: a, template: consume, arguments: {artifacts: [{name: data}]}}
        - name: consume
          inputs: {artifacts: [{name: data, path: /tmp/data}]}
          container: {image: alpine}
        """),
        "templates.main.steps[0].a.arguments.data.from, artifact location, or key is required",
        id="argument-artifact-without-source",
    ),
    pytest.param(
        with_echo("""
        entrypoint: echo
        templates:
        - name: Bad_Name
          container: {image: alpine}
        """),
        "spec.templates[0].name: 'Bad_Name' is invalid: name must consist of alpha-numeric characters or '-',"
        " and must start with an alpha-numeric character (e.g. My-name1-2, 123-NAME)",
        id="template-name-invalid",
    ),
    pytest.param(
        with_echo("""
        entrypoint: echo
        templates:
        - name: echo
          container: {image: alpine}
        """),
        "spec.templates[1].name 'echo' is not unique",
        id="template-name-not-unique",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: hello1.blah, template: echo}
        """),
        "templates.main.steps[0].name 'hello1.blah' is invalid: name must consist of alpha-numeric characters or '-',"
        " and must start with an alpha-numeric character (e.g. My-name1-2, 123-NAME)",
        id="step-name-invalid",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          inputs: {parameters: [{name: "message+123", default: abc}]}
          container: {image: alpine}
        """),
        "templates.main.inputs.parameters[0].name: 'message+123' is invalid: Parameter/Artifact name must consist of"
        " alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1",
        id="parameter-name-invalid",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        arguments:
          artifacts:
          - {name: "&-kubectl", http: {url: "https://example.com/kubectl"}}
        templates:
        - name: main
          container: {image: alpine}
        """),
        "spec.arguments.artifacts[0].name: '&-kubectl' is invalid: Parameter/Artifact name must consist of"
        " alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1",
        id="artifact-name-invalid",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          container: {command: [cowsay]}
        """),
        "templates.main.container.image may not be empty",
        id="container-image-empty",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          script: {source: "print(1)", command: [python]}
        """),
        "templates.main.script.image may not be empty",
        id="script-image-empty",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          activeDeadlineSeconds: 10
          steps:
          - - {name: a, template: echo}
        """),
        "templates.main.activeDeadlineSeconds is only valid for leaf templates",
        id="deadline-on-steps",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          activeDeadlineSeconds: -1
          container: {image: alpine}
        """),
        "templates.main.activeDeadlineSeconds must be a positive integer > 0 or an argo variable",
        id="deadline-negative",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          timeout: 10s
          steps:
          - - {name: a, template: echo}
        """),
        "Steps template doesn't support timeout field",
        id="timeout-on-steps",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          timeout: "30"
          container: {image: alpine}
        """),
        "main has invalid duration format in timeout",
        id="timeout-whole-number",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          retryStrategy: {retryPolicy: Sometimes}
          container: {image: alpine}
        """),
        "Sometimes is not a valid RetryPolicy",
        id="retry-policy",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: a
              template: say
              arguments: {parameters: [{name: m, value: "{{item}}"}]}
              withItems: [1, 2]
              withParam: "[1, 2]"
        """),
        "templates.main.steps[0].a only one of withItems, withParam, withSequence can be specified",
        id="loop-sources",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: a
              template: say
              arguments: {parameters: [{name: m, value: "{{item}}"}]}
              withSequence: {count: "3", end: "5"}
        """),
        "templates.main.steps[0].a only one of count or end can be defined in withSequence",
        id="sequence-count-and-end",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        podGC: {strategy: Foo}
        templates:
        - name: main
          container: {image: alpine}
        """),
        "podGC.strategy unknown strategy 'Foo'",
        id="podgc-strategy",
    ),
    pytest.param(
        """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        spec:
          entrypoint: main
          templates:
          - name: main
            container: {image: alpine}
        """,
        'workflow name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" must not be more than'
        " 63 characters long (currently 70)",
        id="workflow-name-length",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          resource: {action: foo, manifest: "kind: ConfigMap"}
        """),
        "templates.main.resource.action must be one of: get, create, apply, delete, replace, patch",
        id="resource-action",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          resource: {action: create}
        """),
        "either templates.main.resource.manifest or templates.main.resource.manifestFrom must be specified",
        id="resource-manifest-missing",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          resource:
            action: apply
            manifest: |
              invalid-yaml-line
              kind: ConfigMap
        """),
        "templates.main.resource.manifest must be a valid yaml",
        id="resource-manifest-yaml",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          parallelism: 2
          container: {image: alpine}
        """),
        "templates.main.parallelism is only valid for steps and dag templates",
        id="parallelism-on-leaf",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          container: {image: alpine}
          outputs: {parameters: [{name: p}]}
        """),
        "templates.main.outputs.parameters.p does not have valueFrom or value specified",
        id="output-parameter-source",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          container: {image: alpine}
          outputs: {parameters: [{name: p, valueFrom: {parameter: abc}}]}
        """),
        "templates.main.outputs.parameters.p.path must be specified for Container templates",
        id="output-parameter-path",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: a
              template: echo
              hooks:
                running: {template: echo}
        """),
        "templates.main.steps[0].a.running Expression required",
        id="hook-expression",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          containerSet:
            containers:
            - {name: a, image: alpine}
            - {name: b, image: alpine, dependencies: [c]}
        """),
        "templates.main.containerSet.containers.b dependency 'c' not defined",
        id="container-set-dependency",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          inputs: {artifacts: [{name: message, path: /tmp/message, raw: {data: hi}}]}
          containerSet:
            containers:
            - {name: a, image: alpine}
        """),
        'templates.main.containerSet.containers must have a container named "main" for input or output',
        id="container-set-main",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            tasks:
            - {name: spurious, template: spurious}
        - name: spurious
          initContainers: [{image: alpine, command: [sleep, "1"]}]
          container: {image: alpine}
        """),
        "templates.main.tasks.spurious initContainers must all have container name",
        id="init-container-name",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          inputs: {artifacts: [{name: src, path: /src, git: {repo: "https://example.com/x.git"}}]}
          container:
            image: alpine
            volumeMounts: [{name: workdir, mountPath: /src}]
        """),
        "templates.main.inputs.artifacts[0].path '/src' already mounted in container.volumeMounts.workdir",
        id="artifact-path-collision",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        arguments:
          parameters:
          - {name: message, value: one, enum: [two, three]}
        templates:
        - name: main
          container: {image: alpine}
        """),
        "spec.arguments.message.value should be present in spec.arguments.message.enum list",
        id="argument-enum",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        workflowTemplateRef: {name: lib}
        templates:
        - name: main
          container: {image: alpine}
        """),
        "Templates is invalid field in spec if workflow referred WorkflowTemplate reference",
        id="template-ref-with-templates",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          metrics:
            prometheus:
            - {name: invalid.metric.name, help: invalid, gauge: {value: "1"}}
          container: {image: alpine}
        """),
        "templates.main metric name 'invalid.metric.name' is invalid. Metric names must contain alphanumeric"
        " characters or '_'",
        id="metric-name",
    ),
]


PASSING = [
    pytest.param(
        wf("""
        workflowTemplateRef: {name: not-linted-here}
        """),
        id="template-ref-without-entrypoint",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        onExit: exit
        templates:
        - name: main
          steps:
          - - {name: flip, template: echo}
          - - {name: again, template: main, when: "{{steps.flip.outputs.result}} == tails"}
        - name: exit
          container: {image: alpine, args: ["{{workflow.status}} {{workflow.failures}} {{workflow.duration}}"]}
        """),
        id="recursion-and-exit-handler",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        arguments: {parameters: [{name: p, value: v}]}
        templates:
        - name: main
          steps:
          - - name: loop
              template: say
              arguments: {parameters: [{name: m, value: "{{item.os}} {{workflow.parameters.p}}"}]}
              withItems: [{os: debian}, {os: alpine}]
          - - name: param
              template: say
              arguments: {parameters: [{name: m, value: "{{item.anything}} {{steps.loop.outputs.parameters}}"}]}
              withParam: "{{steps.loop.outputs.parameters}}"
          - - name: seq
              template: say
              arguments: {parameters: [{name: m, value: "{{item}}"}]}
              withSequence: {count: "3"}
        """),
        id="loop-items",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templates:
        - name: main
          retryStrategy: {limit: 2, retryPolicy: OnError}
          inputs:
            artifacts: [{name: text, path: /in/text, raw: {data: hello}}]
          outputs:
            parameters: [{name: n, valueFrom: {path: /out/n}}]
            artifacts: [{name: out, path: /out/a}]
          container:
            image: alpine
            args: ["{{pod.name}} {{retries}} {{inputs.artifacts.text.path}} {{outputs.parameters.n.path}}",
                   "{{outputs.artifacts.out.path}} {{node.name}} {{workflow.creationTimestamp.Y}} {{user.custom}}"]
        """),
        id="template-locals",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          dag:
            target: C
            tasks:
            - {name: A, template: echo}
            - {name: B, depends: A.Succeeded || A.Failed, template: echo}
            - name: C
              depends: B
              template: say
              arguments: {parameters: [{name: m, value: "{{tasks.A.outputs.result}} {{tasks.A.status}}"}]}
        """),
        id="dag-depends-and-ancestors",
    ),
    pytest.param(
        with_echo("""
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: gen, template: gen}
          - - {name: use, template: say, arguments: {parameters: [{name: m, value: "{{workflow.outputs.parameters.g}}"}]}}
        - name: gen
          container: {image: alpine}
          outputs: {parameters: [{name: p, globalName: g, valueFrom: {path: /tmp/p}}]}
        """),
        id="global-outputs",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        templateDefaults:
          container: {image: alpine}
        templates:
        - name: main
          container: {command: [echo, hi]}
        """),
        id="image-from-template-defaults",
    ),
    pytest.param(
        wf("""
        entrypoint: main
        arguments: {parameters: [{name: action, value: apply}, {name: seconds, value: "30"}]}
        templates:
        - name: main
          timeout: 10s
          activeDeadlineSeconds: "{{=asInt(workflow.parameters.seconds)}}"
          resource:
            action: "{{workflow.parameters.action}}"
            manifest: |
              apiVersion: v1
              kind: ConfigMap
              metadata: {name: "{{workflow.name}}", labels: {n: "{{=asInt(workflow.parameters.action)}}"}}
        """),
        id="resource-with-placeholders",
    ),
]


# Documents from Argo's own validate tests that Argo accepts.
PASSING += [
    pytest.param(
        wf("""
        entrypoint: plan
        templates:
        - name: plan
          steps:
          - - name: pass-parameter
              template: global-parameter-passing
              arguments:
                parameters:
                - {name: global-parameter-name, value: key}
                - {name: global-parameter-value, value: value}
          - - name: print-parameter
              template: parameter-printing
              arguments:
                parameters: [{name: parameter, value: "{{workflow.outputs.parameters.key}}"}]
        - name: global-parameter-passing
          inputs:
            parameters: [{name: global-parameter-name}, {name: global-parameter-value}]
          container: {image: alpine:3.11, command: [sh, -c], args: ["exit 0"]}
          outputs:
            parameters:
            - name: global-parameter
              value: "{{inputs.parameters.global-parameter-value}}"
              globalName: "{{inputs.parameters.global-parameter-name}}"
        - name: parameter-printing
          inputs: {parameters: [{name: parameter}]}
          container: {image: alpine:3.11, command: [sh, -c], args: ["echo {{inputs.parameters.parameter}}"]}
        """),
        id="argo-runtime-global-names",
    ),
    pytest.param(
        wf("""
        entrypoint: unresolved
        templates:
        - name: first
          container: {image: alpine:3.23}
          outputs:
            parameters: [{name: hosts, valueFrom: {path: /etc/hosts}, globalName: global}]
        - name: second
          container: {image: alpine:3.23, command: [echo, "{{workflow.outputs.parameters.global}}"]}
        - name: unresolved
          dag:
            tasks:
            - {name: B, dependencies: [A], template: second}
            - {name: A, template: first}
        """),
        id="argo-global-output-from-earlier-task",
    ),
    pytest.param(
        wf("""
        entrypoint: dag
        templates:
        - name: dag
          dag:
            tasks:
            - name: fanout
              template: fanout
              arguments: {parameters: [{name: input, value: "[1, 2]"}]}
            - name: dag-process
              template: sub-dag
              depends: fanout
              arguments:
                parameters:
                - {name: item, value: "{{item}}"}
                - {name: input, value: "{{tasks.fanout.outputs.parameters.output}}"}
              withParam: "{{tasks.fanout.outputs.parameters.output}}"
        - name: sub-dag
          inputs: {parameters: [{name: input}, {name: item}]}
          outputs:
            parameters: [{name: output, valueFrom: {parameter: "{{tasks.process.outputs.parameters}}"}}]
          dag:
            tasks:
            - name: fanout
              template: fanout
              arguments: {parameters: [{name: input, value: "{{inputs.parameters.input}}"}]}
            - name: process
              template: fanout
              depends: fanout
              arguments: {parameters: [{name: input, value: "{{item}}"}]}
              withParam: "{{tasks.fanout.outputs.parameters.output}}"
        - name: fanout
          inputs: {parameters: [{name: input}]}
          container: {image: alpine, command: [sh, -c], args: ["echo {{inputs.parameters.input}} | tee /tmp/output"]}
          outputs: {parameters: [{name: output, valueFrom: {path: /tmp/output}}]}
        """),
        id="argo-aggregated-task-outputs",
    ),
]


@pytest.mark.parametrize(("text", "message"), FAILING)
def test_rule_rejects(text: str, message: str) -> None:
    assert message in lint(text)


@pytest.mark.parametrize("text", PASSING)
def test_rule_accepts(text: str) -> None:
    assert lint(text) == []


# ------------------------------------------------------------------------------------------- modes


SPEC_ARG_WITHOUT_VALUE = wf("""
entrypoint: main
arguments: {parameters: [{name: required-param}]}
templates:
- name: main
  container: {image: alpine}
""")


def test_spec_arguments_may_lack_values_when_linting() -> None:
    assert lint(SPEC_ARG_WITHOUT_VALUE) == []


def test_spec_arguments_need_values_at_submission() -> None:
    assert lint(SPEC_ARG_WITHOUT_VALUE, lint=False) == [
        "spec.arguments.required-param.value or spec.arguments.required-param.valueFrom is required"
    ]


def test_each_broken_template_is_reported_once() -> None:
    errors = lint(
        wf("""
        entrypoint: main
        templates:
        - name: main
          container: {image: alpine}
        - name: a
          container: {command: [x]}
        - name: b
          script: {source: x}
        """)
    )
    assert errors == [
        "templates.a templates.a.container.image may not be empty",
        "templates.b templates.b.script.image may not be empty",
    ]


def test_ensure_valid_raises_lint_error_with_every_message() -> None:
    doc = load_text(wf("""
    templates:
    - name: main
      retryStrategy: {retryPolicy: Sometimes}
      container: {image: alpine}
    """))[0].doc
    assert isinstance(doc, Workflow)
    with pytest.raises(LintError) as info:
        ensure_valid(doc)
    assert info.value.errors == ["spec.entrypoint is required", "templates.main Sometimes is not a valid RetryPolicy"]
    assert "spec.entrypoint is required" in str(info.value)


def test_valid_document_passes_ensure_valid() -> None:
    doc = load_text(wf("""
    entrypoint: main
    templates:
    - name: main
      container: {image: alpine}
    """))[0].doc
    assert isinstance(doc, Workflow)
    ensure_valid(doc)


# ------------------------------------------------------------------------------------------- references

LIBRARY = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: lib
spec:
  entrypoint: print
  arguments: {parameters: [{name: message, value: hello}]}
  templates:
  - name: print
    inputs: {parameters: [{name: message}]}
    container: {image: busybox, args: ["{{inputs.parameters.message}}"]}
    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out}}]}
"""

USES_LIBRARY = wf("""
entrypoint: main
templates:
- name: main
  steps:
  - - name: a
      templateRef: {name: lib, template: print}
      arguments: {parameters: [{name: message, value: hi}]}
  - - name: b
      templateRef: {name: lib, template: %s}
      arguments: {parameters: [{name: message, value: "{{steps.a.outputs.parameters.out}}"}]}
""")


class Store:
    """A TemplateLookup backed by a dict."""

    def __init__(self, *docs: WorkflowTemplate | ClusterWorkflowTemplate) -> None:
        self.docs = docs

    def get_workflow_template(self, name: str) -> WorkflowTemplate | None:
        return next((d for d in self.docs if isinstance(d, WorkflowTemplate) and d.metadata.name == name), None)

    def get_cluster_workflow_template(self, name: str) -> ClusterWorkflowTemplate | None:
        return next((d for d in self.docs if isinstance(d, ClusterWorkflowTemplate) and d.metadata.name == name), None)


def _doc(text: str) -> Workflow:
    doc = load_text(textwrap.dedent(text))[0].doc
    assert isinstance(doc, Workflow)
    return doc


def _library() -> WorkflowTemplate:
    doc = load_text(LIBRARY)[0].doc
    assert isinstance(doc, WorkflowTemplate)
    return doc


def test_template_ref_resolved_among_linted_documents() -> None:
    assert lint(USES_LIBRARY % "print" + "---\n" + LIBRARY) == []


def test_template_ref_missing_template_in_linted_document() -> None:
    assert lint(USES_LIBRARY % "nope" + "---\n" + LIBRARY) == ["templates.main.steps[1].b template reference lib.nope not found"]


def test_template_ref_unknown_without_store_is_not_reported() -> None:
    assert validate_workflow(_doc(USES_LIBRARY % "nope")) == []


def test_template_ref_missing_from_store() -> None:
    errors = validate_workflow(_doc(USES_LIBRARY % "print"), templates=Store())
    assert errors == ["templates.main.steps[0].a template reference lib.print not found"]


def test_template_ref_found_in_store() -> None:
    assert validate_workflow(_doc(USES_LIBRARY % "print"), templates=Store(_library())) == []


def test_template_ref_arguments_are_checked_against_the_referenced_template() -> None:
    text = wf("""
    entrypoint: main
    templates:
    - name: main
      steps:
      - - name: a
          templateRef: {name: lib, template: print}
    """)
    assert validate_workflow(_doc(text), templates=Store(_library())) == [
        "templates.main.steps[0].a templates.print inputs.parameters.message was not supplied"
    ]


def test_workflow_template_ref() -> None:
    good = wf("""
    workflowTemplateRef: {name: lib}
    """)
    bad = wf("""
    entrypoint: nope
    workflowTemplateRef: {name: lib}
    """)
    assert validate_workflow(_doc(good), templates=Store(_library())) == []
    assert validate_workflow(_doc(bad), templates=Store(_library())) == ["template reference lib.nope not found"]
    assert validate_workflow(_doc(good), templates=Store()) == ['workflowtemplates.argoproj.io "lib" not found']


def test_cluster_template_ref() -> None:
    cluster = load_text(LIBRARY.replace("kind: WorkflowTemplate", "kind: ClusterWorkflowTemplate"))[0].doc
    assert isinstance(cluster, ClusterWorkflowTemplate)
    text = wf("""
    entrypoint: main
    templates:
    - name: main
      steps:
      - - name: a
          templateRef: {name: lib, template: print, clusterScope: true}
          arguments: {parameters: [{name: message, value: hi}]}
    """)
    assert validate_workflow(_doc(text), templates=Store(cluster)) == []
    assert validate_workflow(_doc(text), templates=Store(_library())) == [
        "templates.main.steps[0].a template reference lib.print not found"
    ]


# ------------------------------------------------------------------------------------------- templates & cron


def _template(text: str) -> WorkflowTemplate:
    doc = load_text(textwrap.dedent(text))[0].doc
    assert isinstance(doc, WorkflowTemplate)
    return doc


def test_workflow_template_may_use_workflow_parameters_and_omit_entrypoint() -> None:
    doc = _template("""
    apiVersion: argoproj.io/v1alpha1
    kind: WorkflowTemplate
    metadata: {name: t}
    spec:
      templates:
      - name: a
        inputs: {parameters: [{name: m}]}
        container: {image: alpine, args: ["{{workflow.parameters.something}} {{inputs.parameters.m}}"]}
    """)
    assert validate_template(doc) == []


def test_workflow_template_name_length() -> None:
    doc = _template(f"""
    apiVersion: argoproj.io/v1alpha1
    kind: WorkflowTemplate
    metadata: {{name: {"a" * 70}}}
    spec:
      templates:
      - name: a
        container: {{image: alpine}}
    """)
    assert validate_template(doc) == [
        f'workflow template name "{"a" * 70}" must not be more than 63 characters long (currently 70)'
    ]


def test_workflow_template_still_checks_its_templates() -> None:
    doc = _template("""
    apiVersion: argoproj.io/v1alpha1
    kind: WorkflowTemplate
    metadata: {name: t}
    spec:
      templates:
      - name: a
        container: {image: alpine, args: ["{{inputs.parameters.m}}"]}
    """)
    assert validate_template(doc) == ["templates.a templates.a: failed to resolve {{inputs.parameters.m}}"]


CRON = """
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: {name}
spec:
  schedules: {schedules}
  {extra}
  workflowSpec:
    entrypoint: main
    {arguments}
    templates:
    - name: main
      container: {{image: alpine, args: ["{{{{workflow.scheduledTime}}}}"]}}
"""


def _cron(name: str = "nightly", schedules: str = '["0 3 * * *"]', extra: str = "", arguments: str = "") -> CronWorkflow:
    text = CRON.format(name=name, schedules=schedules, extra=extra, arguments=arguments)
    doc = load_text(text)[0].doc
    assert isinstance(doc, CronWorkflow)
    return doc


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"schedules": "[]"}, "cron workflow must have at least one schedule", id="no-schedule"),
        pytest.param(
            {"schedules": '["0 3 * *"]'}, "cron schedule 0 3 * * is malformed: expected exactly 5 fields, found 4: [0 3 * *]", id="fields"
        ),
        pytest.param(
            {"schedules": '["61 * * * *"]'},
            "cron schedule 61 * * * * is malformed: end of range (61) above maximum (59): 61",
            id="range",
        ),
        pytest.param(
            {"schedules": '["@fortnightly"]'}, "cron schedule @fortnightly is malformed: unrecognized descriptor: @fortnightly", id="descriptor"
        ),
        pytest.param({"extra": "concurrencyPolicy: Sometimes"}, "'Sometimes' is not a valid concurrencyPolicy", id="concurrency"),
        pytest.param({"extra": "startingDeadlineSeconds: -1"}, "startingDeadlineSeconds must be positive", id="deadline"),
        pytest.param({"extra": "timezone: Mars/Olympus"}, 'invalid timezone "Mars/Olympus": unknown time zone Mars/Olympus', id="timezone"),
        pytest.param(
            {"name": "c" * 60}, f'cron workflow name "{"c" * 60}" must not be more than 52 characters long (currently 60)', id="name"
        ),
        pytest.param(
            {"arguments": "arguments: {parameters: [{name: p}]}"},
            "cannot validate Workflow: spec.arguments.p.value or spec.arguments.p.valueFrom is required",
            id="workflow-arguments",
        ),
    ],
)
def test_cron_rule_rejects(kwargs: dict[str, str], message: str) -> None:
    assert message in validate_cron(_cron(**kwargs))


@pytest.mark.parametrize(
    "schedules",
    ['["0 3 * * *"]', '["*/5 0-6 1,15 jan-jun mon-fri", "@daily"]', '["@every 1h30m"]', '["CRON_TZ=Europe/Paris 0 9 * * *"]'],
)
def test_cron_accepts(schedules: str) -> None:
    assert validate_cron(_cron(schedules=schedules, extra="timezone: America/New_York")) == []
