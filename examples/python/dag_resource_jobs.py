"""Seed 000's Argo Go client example in Python: a DAG where task B runs after task A, each
creating a Kubernetes Job from a resource template with its own message.

The Go version builds ``wfv1.Workflow{...}`` and calls ``wfClient.Create``; here the same
workflow is built with the builder and submitted with ``Client(url).submit(workflow)`` (or
``argosy submit`` of its YAML). Resource templates need a cluster: the local executor reports
them as needing Kubernetes, so this example is built and linted locally, and run on a cluster.
"""

from __future__ import annotations

from argosy.sdk import DAG, Parameter, Resource, Workflow

# The Job each task creates; the name is generated because both tasks use this template.
JOB_MANIFEST = """\
apiVersion: batch/v1
kind: Job
metadata:
  generateName: myworkflows-job-
  namespace: default
spec:
  template:
    spec:
      containers:
      - name: my-container
        image: busybox
        command: ["echo"]
        args: ["{{inputs.parameters.message}}"]
      restartPolicy: Never
"""

job = Resource(
    name="job",
    action="create",
    set_owner_reference=True,
    manifest=JOB_MANIFEST,
    inputs=[Parameter("message")],
)

with Workflow(generate_name="dag-", entrypoint="root", service_account_name="argo-workflow-account") as workflow, DAG(name="root"):
    a = job(name="A", arguments=[Parameter("message", value="my name is A")])
    b = job(name="B", arguments=[Parameter("message", value="my name is B")])
    a >> b

if __name__ == "__main__":
    import sys

    from argosy.sdk import Client

    if len(sys.argv) > 1:  # an Argo server URL: submit there, as the Go program does
        print(Client(sys.argv[1]).submit(workflow).name)
    else:
        print(workflow.to_yaml(), end="")
