"""Seed 002's artifact passing: one step writes a file, the next step receives it as an artifact.

``generate-artifact`` saves ``/tmp/hello_world.txt`` as the output artifact ``hello-art``;
``consume-artifact`` gets it unpacked at ``/tmp/message`` and prints it. The seed's
``/usr/local/bin/argosay echo`` is written as plain ``echo`` so the step also produces
``hello world`` on a machine without the argosay image (locally, commands run on the host).
"""

from __future__ import annotations

from argosy.sdk import Artifact, Container, Steps, Workflow

argosay = Container(
    name="argosay",
    image="yky8/argosay:v2",
    command=["sh", "-c"],
    args=["echo 'hello world' | tee /tmp/hello_world.txt"],
    outputs=[Artifact("hello-art", path="/tmp/hello_world.txt")],
)

print_message = Container(
    name="print-message",
    image="alpine:latest",
    command=["sh", "-c"],
    args=["cat /tmp/message"],
    inputs=[Artifact("message", path="/tmp/message")],
)

with Workflow(generate_name="artifact-passing-", entrypoint="artifact-example") as workflow, Steps(name="artifact-example"):
    generate = argosay(name="generate-artifact")
    print_message(name="consume-artifact", message=generate.artifact("hello-art"))

if __name__ == "__main__":
    run = workflow.run()
    print(run.phase, run.result("consume-artifact"))
