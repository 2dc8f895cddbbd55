"""``@script``: a typed Python function as a script template.

Annotations decide the interface, as in KFP v2 and Hera:

* ``str``/``int``/``float``/``bool``/``list``/``dict`` parameters become input parameters
  (lists and dicts travel as JSON; a default becomes the parameter's default);
* ``Input[Dataset]``, ``Output[Model]``, ``Path`` (an input file), ``Output[Path]`` become
  artifacts whose declared ``type``/``format`` go into the spec, so ``lint`` and the builder can
  reject incompatible wiring; ``Annotated[Output[Dataset], Format("csv")]`` sets the format;
* the return value becomes the output parameter ``return`` (a ``NamedTuple`` gives one output
  parameter per field), or, with ``result=True``, the step's ``outputs.result``.

The generated ``source`` is the function's own source after a stdlib-only prelude (the module
``argosy.sdk._runtime``) that parses parameters, hands the function artifact objects at their
paths, then checks what it produced (an ``Output[Dataset]`` of format ``csv`` must be one file;
``json`` must parse) and writes the outputs. So the function must import what it uses inside
its body, and must not contain ``{{`` (Argo would read it as a placeholder).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import PurePath
from typing import Any, overload

from argosy.sdk import _runtime
from argosy.sdk._context import innermost
from argosy.sdk._runtime import INPUTS_DIR, OUTPUTS_DIR, PARAM_ENV, TypedArtifact
from argosy.sdk.artifacts import INPUT, OUTPUT, Format
from argosy.sdk.builder import DAG, Script, Steps, _Parallel
from argosy.sdk.io import Artifact, Parameter, param_text

__all__ = ["DEFAULT_IMAGE", "FunctionScript", "script"]

#: The image a ``@script`` runs in on a cluster (locally the host's ``python`` runs it).
DEFAULT_IMAGE = "python:3.11"

_SCALARS = {str: "str", int: "int", float: "float", bool: "bool"}


@lru_cache(maxsize=1)
def runtime_source() -> str:
    """The prelude: ``_runtime``'s source without docstrings, comments and its future import."""
    text = inspect.getsource(_runtime)
    tree = ast.parse(text)
    drop: set[int] = set()
    keep: dict[int, str] = {}  # a docstring that is a whole body becomes `pass`
    lines = text.splitlines()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first_stmt = body[0] if isinstance(body, list) and body else None
        if isinstance(first_stmt, ast.Expr) and isinstance(first_stmt.value, ast.Constant) and isinstance(first_stmt.value.value, str):
            first, last = first_stmt.lineno, first_stmt.end_lineno or first_stmt.lineno
            drop.update(range(first, last + 1))
            if len(getattr(node, "body", ())) == 1:
                keep[first] = lines[first - 1][: first_stmt.col_offset] + "pass"
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if number in keep:
            out.append(keep[number])
            continue
        if number in drop or stripped.startswith("#") or stripped == "from __future__ import annotations":
            continue
        if not stripped:
            continue
        if not line.startswith((" ", ")", "]", "}")) and out and out[-1].startswith(" "):
            out.append("")  # one blank line between top-level definitions
        out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"


def _function_source(fn: Callable[..., Any]) -> str:
    """The ``def`` of ``fn`` without its decorators, dedented."""
    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise TypeError(f"@script needs a function defined in a source file: {exc}") from None
    tree = ast.parse(text)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise TypeError(f"@script takes a plain `def` function, not {type(node).__name__}")
    return "\n".join(text.splitlines()[node.lineno - 1 :]).rstrip() + "\n"


def _class_source(cls: type) -> str:
    """The source of a class the function needs (a NamedTuple it returns), dedented."""
    try:
        return textwrap.dedent(inspect.getsource(cls)).rstrip() + "\n"
    except (OSError, TypeError) as exc:
        raise TypeError(f"@script needs the source of {cls.__name__}: {exc}") from None


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...], bool]:
    """(base type, Annotated metadata, optional) of an annotation."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            annotation = args[0]
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        return base, tuple(meta), optional
    return annotation, (), optional


def _param_kind(base: Any) -> str:
    if base in _SCALARS:
        return _SCALARS[base]
    return "json"


class FunctionScript(Script):
    """The script template made by :func:`script`. Called inside ``with DAG``/``with Steps`` it
    adds a task whose keyword arguments are the function's parameters; called anywhere else it
    is the plain function (handy in unit tests)."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None, image: str = DEFAULT_IMAGE, command: Sequence[str] = ("python",), env: Mapping[str, Any] | Sequence[Any] | None = None, result: bool = False, output_name: str = "return", **fields: Any) -> None:
        self.fn = fn
        self.result_to_stdout = result
        self.spec: dict[str, Any] = {"parameters": {}, "inputs": {}, "outputs": {}, "returns": [], "result": result}
        inputs: list[Any] = []
        outputs: list[Any] = []
        env_items: list[Any] = []
        self._kinds: dict[str, str] = {}
        prelude: list[str] = []
        hints = typing.get_type_hints(fn, include_extras=True)
        for pname, param in inspect.signature(fn).parameters.items():
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise TypeError(f"@script {fn.__name__}: *args/**kwargs cannot become template inputs")
            base, meta, optional = _unwrap(hints.get(pname, str))
            direction = next((m for m in meta if m is INPUT or m is OUTPUT), None)
            fmt = next((m.name for m in meta if isinstance(m, Format)), None)
            is_path = isinstance(base, type) and issubclass(base, PurePath)
            is_typed = isinstance(base, type) and issubclass(base, TypedArtifact)
            if direction is not None or is_path or is_typed:
                if not (is_path or is_typed):
                    raise TypeError(f"@script {fn.__name__}: {pname}: Input/Output take a TypedArtifact subclass or Path, not {base!r}")
                kind = "Path" if is_path else (base.type_name or base.__name__)
                fmt = fmt or (None if is_path else base.default_format)
                optional = optional or param.default is None
                out = direction is OUTPUT
                path = f"{OUTPUTS_DIR if out else INPUTS_DIR}/artifacts/{pname}"
                art = Artifact(pname, path=path, type=None if is_path else kind, format=fmt, optional=True if optional else None)
                (outputs if out else inputs).append(art)
                self.spec["outputs" if out else "inputs"][pname] = [kind, fmt, path, optional]
            else:
                kind = _param_kind(base)
                default = None if param.default is inspect.Parameter.empty else param.default
                if param.default is None:
                    if kind != "json":
                        raise TypeError(f"@script {fn.__name__}: parameter '{pname}' ({kind}) cannot default to None (Argo parameters are text)")
                    default = "null"
                inputs.append(Parameter(pname, default=default))
                self.spec["parameters"][pname] = kind
                self._kinds[pname] = kind
                env_items.append({"name": PARAM_ENV + pname, "value": "{{inputs.parameters." + pname + "}}"})
        returns = hints.get("return", inspect.Signature.empty)
        if returns not in (inspect.Signature.empty, None, type(None)):
            if isinstance(returns, type) and issubclass(returns, tuple) and hasattr(returns, "_fields"):
                pairs = [(n, _param_kind(t)) for n, t in typing.get_type_hints(returns).items()]
                prelude += ["from typing import NamedTuple\n", _class_source(returns)]
            else:
                pairs = [(output_name, _param_kind(_unwrap(returns)[0]))]
            if not result:
                for pname, _kind in pairs:
                    outputs.append(Parameter(pname, value_from={"path": f"{OUTPUTS_DIR}/parameters/{pname}"}))
            self.spec["returns"] = [list(p) for p in pairs]
        if isinstance(env, Mapping):
            env_items.extend({"name": str(k), "value": param_text(v)} for k, v in env.items())
        elif env is not None:
            env_items.extend(env)
        source = f"from __future__ import annotations\n\n{runtime_source()}\n\n{''.join(p + chr(10) for p in prelude)}{_function_source(fn)}\n\nif __name__ == \"__main__\":\n    _argosy_run({fn.__name__}, {self.spec!r})\n"
        super().__init__(
            name or fn.__name__.replace("_", "-"),
            source=source,
            image=image,
            command=list(command),
            env=env_items or None,
            inputs=inputs,
            outputs=outputs,
            **fields,
        )
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def param_kinds(self) -> dict[str, str]:
        return dict(self._kinds)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if innermost((DAG, Steps, _Parallel)) is None:
            return self.fn(*args, **kwargs)
        if args:
            raise TypeError(f"inside a DAG/Steps, pass {self.fn.__name__}'s arguments by keyword")
        return super().__call__(**kwargs)


@overload
def script(fn: Callable[..., Any], /) -> FunctionScript: ...


@overload
def script(
    *,
    name: str | None = None,
    image: str = DEFAULT_IMAGE,
    command: Sequence[str] = ("python",),
    env: Mapping[str, Any] | Sequence[Any] | None = None,
    result: bool = False,
    output_name: str = "return",
    **fields: Any,
) -> Callable[[Callable[..., Any]], FunctionScript]: ...


def script(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Turn a typed function into a script template (see the module docs for the mapping).

    ``image`` (default ``python:3.11``) is used on a cluster; locally ``command`` (``python``)
    runs from the host's PATH inside the sandbox. ``result=True`` sends the return value to
    ``outputs.result`` (the function's own prints then go to stderr); ``output_name`` renames
    the ``return`` output parameter. Other keywords are template or container fields.
    """
    if fn is not None:
        return FunctionScript(fn, **options)

    def wrap(func: Callable[..., Any]) -> FunctionScript:
        return FunctionScript(func, **options)

    return wrap

