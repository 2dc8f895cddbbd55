"""The stack of open ``with`` blocks (Workflow, DAG, Steps, parallel groups), per thread, so a
template or task created inside one attaches itself to it."""

from __future__ import annotations

import threading
from typing import Any, TypeVar

__all__ = ["Context", "innermost"]

T = TypeVar("T")
_local = threading.local()


def _stack() -> list[Any]:
    stack: list[Any] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = []
        _local.stack = stack
    return stack


class Context:
    """Mixin: ``with obj:`` makes ``obj`` the innermost open context until the block ends."""

    def _enter(self) -> None:
        _stack().append(self)

    def _exit(self) -> None:
        stack = _stack()
        if stack and stack[-1] is self:
            stack.pop()
        elif self in stack:  # leave the stack consistent even after an error inside a block
            del stack[stack.index(self) :]


def innermost(kind: type[T] | tuple[type[Any], ...]) -> Any:
    """The innermost open context of ``kind``, else None."""
    for ctx in reversed(_stack()):
        if isinstance(ctx, kind):
            return ctx
    return None
