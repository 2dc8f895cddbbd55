"""Argo's two expression languages, interpreted safely (no ``eval`` of user text).

* expr-lang (``{{= ...}}`` tags, ``depends``, ``retryStrategy.expression``, hook
  expressions, ``valueFrom.expression``): :func:`compile_expression` / :func:`evaluate`,
  with Argo's additions (``asInt``, ``asFloat``, ``jsonpath``, ``toJson``, ``sprig.*``).
* govaluate (``when:``): :func:`evaluate_when`, exactly as Argo's ``shouldExecute``.

Every failure is an :class:`argosy.errors.ExpressionError` whose text names the
expression and, for expr-lang, the line and column: ``unexpected token ')' (1:6) in
expression 'a == )'``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from argosy.errors import ExpressionError

from . import parser as _parser
from .evaluator import Frame, compile_node, free_names
from .functions import BUILTINS, GoFunc, go_float, go_int
from .gofmt import GoError, to_json
from .govaluate import evaluate_when
from .jsonpath import query_json
from .parser import ParseError, parse
from .runtime import Fault
from .sprig import SPRIG

_parser.BUILTIN_NAMES.update(BUILTINS)


def _json_path(json_text: str, path: str) -> Any:
    return query_json(json_text, path)


#: What Argo's ``GetFuncMap`` adds on top of the workflow variables (and lets win over them).
ARGO_FUNCTIONS: Mapping[str, Any] = {
    "asInt": GoFunc("asInt", go_int, ["any"], static=True),
    "asFloat": GoFunc("asFloat", go_float, ["any"], static=True),
    "jsonpath": GoFunc("jsonpath", _json_path, ["string", "string"], static=True),
    "toJson": GoFunc("toJson", to_json, ["any"], static=True),
    "sprig": SPRIG,
}


def _position(source: str, pos: int) -> str:
    pos = max(0, min(pos, len(source)))
    line = source.count("\n", 0, pos) + 1
    column = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return f"({line}:{column})"


def _error(message: str, source: str, pos: int | None) -> ExpressionError:
    where = f" {_position(source, pos)}" if pos is not None else ""
    return ExpressionError(f"{message}{where} in expression '{source}'")


class Program:
    """A parsed and compiled expr-lang expression; :meth:`run` it against many environments."""

    __slots__ = ("_fn", "_names", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            tree = parse(source)
            self._fn = compile_node(tree)
            self._names = frozenset(free_names(tree))
        except ParseError as exc:
            raise _error(exc.message, source, exc.pos) from None
        except RecursionError:
            raise _error("expression is too deeply nested", source, None) from None

    def __repr__(self) -> str:
        return f"Program({self.source!r})"

    @property
    def identifiers(self) -> frozenset[str]:
        """Top-level names the expression reads (Argo's own functions excluded)."""
        return self._names - ARGO_FUNCTIONS.keys()

    def run(self, env: Mapping[str, Any]) -> Any:
        """Evaluate against ``env`` (nested maps, see :func:`expand_env`)."""
        frame = Frame(env, ARGO_FUNCTIONS)
        try:
            return self._fn(frame)
        except Fault as exc:
            raise _error(exc.message, self.source, exc.pos) from None
        except GoError as exc:
            raise _error(str(exc), self.source, None) from None
        except RecursionError:
            raise _error("expression is too deeply nested", self.source, None) from None
        except ExpressionError:
            raise
        except Exception as exc:  # defensive: a host object in env misbehaved
            raise _error(f"{type(exc).__name__}: {exc}", self.source, None) from None


@functools.lru_cache(maxsize=4096)
def compile_expression(expression: str) -> Program:
    """Parse and compile once (cached); raises :class:`ExpressionError` on syntax errors."""
    return Program(expression)


def evaluate(expression: str, env: Mapping[str, Any]) -> Any:
    """Evaluate an expr-lang expression against ``env`` with Argo's functions available."""
    return compile_expression(expression).run(env)


def identifiers(expression: str) -> set[str]:
    """Top-level names used, e.g. ``{'tasks', 'inputs'}``; lets a caller wait for them."""
    return set(compile_expression(expression).identifiers)


def expand_env(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Argo's ``util/expand``: ``{"a.b": 1}`` -> ``{"a": {"b": 1}}``.

    A key that is also the dotted prefix of the key sorted right after it (``workflow.parameters``
    next to ``workflow.parameters.x``) is dropped so the nested map wins, as in Argo.
    """
    keys = sorted(flat)
    kept = dict(flat)
    for current, following in zip(keys, keys[1:], strict=False):
        if following.startswith(current + "."):
            kept.pop(current, None)
    result: dict[str, Any] = {}
    for key in sorted(kept, key=lambda k: k.count(".")):
        parts = key.split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if isinstance(node.get(parts[-1]), dict):
            continue  # a nested map already claimed this name; Argo keeps the map too
        node[parts[-1]] = kept[key]
    return result


def format_result(value: Any, expression: str = "") -> str:
    """How Argo writes a ``{{= }}`` result into the template (``expressionReplace``).

    Current Argo marshals the result with ``encoding/json`` and trims the quotes of a string:
    strings go in raw, everything else as compact JSON (sorted keys, ``3`` not ``3.0``,
    ``1e+21``, ``\u003c`` for ``<``). A nil result is an error, as it is in Argo.
    Older Argo releases used ``%v`` (``map[a:1]``); :func:`gofmt.sprint` gives that form.
    """
    if value is None:
        raise ExpressionError(f'failed to evaluate expression "{expression}"')
    if isinstance(value, str):
        return value
    try:
        return to_json(value)
    except GoError as exc:
        raise ExpressionError(f"failed to marshal evaluated expression: {exc}") from None


__all__ = [
    "ARGO_FUNCTIONS",
    "Program",
    "compile_expression",
    "evaluate",
    "evaluate_when",
    "expand_env",
    "format_result",
    "identifiers",
    "to_json",
]
