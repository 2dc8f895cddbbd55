"""A small ML pipeline with typed artifacts, standard library only.

``prepare`` generates a noisy linear data set as CSV (a ``Dataset``), ``train`` fits a line by
least squares and saves it as JSON (a ``Model``), ``evaluate`` scores the model on the data
(``Metrics``) and returns R². The declared kinds and formats travel into the spec: wiring the
``Model`` into ``train``'s ``Dataset`` input fails when building and in ``argosy lint``, and
each step checks that it wrote what it declared.

Run it with ``python examples/python/ml_pipeline.py``.
"""

from __future__ import annotations

from typing import Annotated

from argosy.sdk import DAG, Dataset, Format, Input, Metrics, Model, Output, Workflow, script


@script
def prepare(rows: int, slope: float, intercept: float, seed: int, data: Annotated[Output[Dataset], Format("csv")]) -> int:
    """Write ``rows`` points of y = slope*x + intercept + noise."""
    import random

    rng = random.Random(seed)
    points = []
    for _ in range(rows):
        x = rng.uniform(0.0, 10.0)
        points.append({"x": f"{x:.6f}", "y": f"{slope * x + intercept + rng.gauss(0.0, 0.5):.6f}"})
    data.save(points)
    return len(points)


@script
def train(data: Annotated[Input[Dataset], Format("csv")], model: Annotated[Output[Model], Format("json")]) -> float:
    """Fit y = a*x + b by ordinary least squares; returns the slope."""
    rows = data.load()
    xs = [float(r["x"]) for r in rows]
    ys = [float(r["y"]) for r in rows]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    model.save({"slope": slope, "intercept": mean_y - slope * mean_x})
    print(f"trained on {n} rows: slope {slope:.3f}")
    return round(slope, 6)


@script
def evaluate(data: Annotated[Input[Dataset], Format("csv")], model: Annotated[Input[Model], Format("json")], metrics: Output[Metrics]) -> float:
    """Score the model on the data: mean squared error and R²."""
    params = model.load()
    rows = data.load()
    ys = [float(r["y"]) for r in rows]
    predictions = [params["slope"] * float(r["x"]) + params["intercept"] for r in rows]
    mean_y = sum(ys) / len(ys)
    residual = sum((y - p) ** 2 for y, p in zip(ys, predictions, strict=True))
    total = sum((y - mean_y) ** 2 for y in ys)
    r2 = 1.0 - residual / total
    metrics.log_metric("mse", round(residual / len(ys), 6))
    metrics.log_metric("r2", round(r2, 6))
    return round(r2, 6)


with Workflow(generate_name="ml-pipeline-", entrypoint="main", arguments={"rows": 200}) as workflow, DAG(name="main"):
    prepared = prepare(rows=workflow.parameter("rows"), slope=3.0, intercept=2.0, seed=7)
    trained = train(data=prepared.artifact("data"))
    evaluated = evaluate(data=prepared.artifact("data"), model=trained.artifact("model"))
    prepared >> trained >> evaluated

if __name__ == "__main__":
    run = workflow.run().raise_for_status()
    print("slope", run.parameter("train", "return"), "r2", run.parameter("evaluate", "return"))
    print("metrics", run.artifact("evaluate", "metrics").load())
