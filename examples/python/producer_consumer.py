"""Seed 000's producer/consumer DAG: the consumer prints what the producer wrote.

The producer writes ``/tmp/hello_world.txt`` and exposes it as the output parameter
``message``; the consumer depends on it and echoes the parameter. Run it with
``python examples/python/producer_consumer.py`` (or ``argosy export --argo`` it).
"""

from __future__ import annotations

from argosy.sdk import DAG, Container, Parameter, ValueFrom, Workflow

producer = Container(
    name="producer",
    image="busybox",
    command=["sh", "-c"],
    args=["echo -n hello world > /tmp/hello_world.txt"],
    outputs=[Parameter("message", value_from=ValueFrom(path="/tmp/hello_world.txt"))],
)

consumer = Container(
    name="consumer",
    image="busybox",
    command=["echo"],
    args=["{{inputs.parameters.message}}"],
    inputs=[Parameter("message")],
)

with (
    Workflow(generate_name="producer-consumer-", entrypoint="producer-consumer", service_account_name="argo-workflow-account") as workflow,
    DAG(name="producer-consumer"),
):
    produce = producer(name="producer-message")
    consume = consumer(name="consumer-message", message=produce.parameter("message"))
    produce >> consume

if __name__ == "__main__":
    run = workflow.run()
    print(run.phase, run.client.logs(run.name, step="consumer-message") if run.client else "")
