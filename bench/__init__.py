"""Argosy's benchmark suite (issue 9): ``python -m bench`` or ``bench/run``.

Benchmarks are not tests: nothing here asserts a timing.  Each area module (``archive``,
``transfer``, ``e2e``, ``scheduling``, ``gc``) has ``bench(workspace, quick) -> Section`` and a
``child`` entry point for the operations it measures in a fresh process; ``common`` holds the
shared machinery.  See ``docs/performance.md`` for the latest results and their reading.
"""
