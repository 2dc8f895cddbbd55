"""Resource templates: ``create|apply|delete|replace|patch|get`` a manifest through the API (no kubectl).

Argo runs ``kubectl`` in the pod; this runs the same actions with the official client's dynamic
client (``kubernetes.dynamic``: discovery finds any kind, custom resources included) from
``argosy exec resource``, so RBAC is the workflow service account's, as in Argo. After the action,
``successCondition``/``failureCondition`` are evaluated on every change of the object (a watch,
not Argo's 5 s polling), in Argo's syntax: Kubernetes label-selector requirements over JSON paths
(``status.succeeded > 0,status.phase in (Running,Done)``; comma = AND). Output parameters come
from ``jsonPath`` (``{.metadata.name}``, kubectl's template syntax) or ``jqFilter`` (a jq subset).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from argosy.errors import ArgosyError
from argosy.pipeline.kube.client import (
    Gone,
    Invalid,
    KubeApiError,
    KubeClient,
    KubeError,
    NotFound,
    api_error,
)
from argosy.pipeline.kube.objects import set_owner_reference
from argosy.pipeline.model import Template

__all__ = [
    "ConditionError",
    "Requirement",
    "ResourceResult",
    "evaluate_conditions",
    "jq_filter",
    "kube_jsonpath",
    "parse_condition",
    "run_resource",
]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class ConditionError(ArgosyError):
    """A success/failure condition that does not parse."""


# ------------------------------------------------------------------------------------ conditions


def _lookup(obj: Any, path: str) -> tuple[bool, str]:
    """gjson's ``Get(path)``: (exists, string form); numbers as in JSON, objects as compact JSON."""
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return False, ""
    if cur is None:
        return True, ""
    if isinstance(cur, bool):
        return True, "true" if cur else "false"
    if isinstance(cur, str):
        return True, cur
    if isinstance(cur, float) and cur.is_integer():
        return True, str(int(cur))
    if isinstance(cur, int | float):
        return True, str(cur)
    return True, json.dumps(cur, separators=(",", ":"))


@dataclass(frozen=True)
class Requirement:
    """One Kubernetes label requirement (``labels.Requirement``) applied to a JSON path."""

    key: str
    op: str  # = == != in notin exists !exists > <
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        """Kubernetes' ``Requirement.String()`` (used verbatim in Argo's messages)."""
        if self.op == "exists":
            return self.key
        if self.op == "!exists":
            return f"!{self.key}"
        sep = {"in": " in ", "notin": " notin "}.get(self.op, self.op)
        vals = ",".join(sorted(self.values)) if len(self.values) > 1 else (self.values[0] if self.values else "")
        return f"{self.key}{sep}({vals})" if self.op in ("in", "notin") else f"{self.key}{sep}{vals}"

    def matches(self, obj: Any) -> bool:
        has, value = _lookup(obj, self.key)
        if self.op in ("=", "==", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        if self.op == "exists":
            return has
        if self.op == "!exists":
            return not has
        if not has:
            return False
        try:
            actual = int(value)
        except ValueError:
            return False
        limit = int(self.values[0])
        return actual > limit if self.op == ">" else actual < limit


_KEY = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _split_terms(text: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    return terms


def parse_condition(text: str) -> list[Requirement]:
    """Parse Argo's condition syntax (``labels.Parse``); raises ConditionError with Kubernetes' wording."""
    reqs: list[Requirement] = []
    for raw in _split_terms(text):
        term = raw.strip()
        if not term:
            raise ConditionError("found ',', expected: !, identifier, or 'end of string'")
        m = re.match(r"^(\S+?)\s*(==|!=|=|>|<|\s+in\s+|\s+notin\s+)\s*(.*)$", term)
        vals: tuple[str, ...]
        if term.startswith("!"):
            key, op, vals = term[1:].strip(), "!exists", ()
        elif m is None:
            key, op, vals = term, "exists", ()
        else:
            key, op, rest = m.group(1), m.group(2).strip(), m.group(3).strip()
            if op in ("in", "notin"):
                if not (rest.startswith("(") and rest.endswith(")")):
                    raise ConditionError(f"found '{rest[:1] or 'end of string'}', expected: '('")
                vals = tuple(v.strip() for v in rest[1:-1].split(",") if v.strip())
                if not vals:
                    raise ConditionError(f"for 'in', 'notin' operators, values set can't be empty ({term})")
            else:
                vals = (rest,)
                if op in (">", "<"):
                    try:
                        int(rest)
                    except ValueError:
                        raise ConditionError(f"for 'Gt', 'Lt' operators, the value must be an integer ({term})") from None
        if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
            raise ConditionError(f"invalid label key \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.'")
        for v in vals:
            if op not in (">", "<") and (len(v) > 63 or not _VALUE.match(v)):
                raise ConditionError(f"invalid label value: \"{v}\": must be 63 characters or less and consist of alphanumeric characters, '-', '_' or '.'")
        reqs.append(Requirement(key, op, vals))
    return reqs


def evaluate_conditions(obj: dict[str, Any], success: list[Requirement], failure: list[Requirement]) -> tuple[str | None, str | None]:
    """Argo's ``matchConditions``: ("Failed", msg) when a failure requirement holds, ("Succeeded", None)
    when all success requirements hold, else (None, None) to keep waiting."""
    for req in failure:
        if req.matches(obj):
            return "Failed", f"failure condition '{req}' evaluated true"
    if all(req.matches(obj) for req in success):
        return "Succeeded", None
    return None, None


# ------------------------------------------------------------------------------------ jsonPath (kubectl) and jq


def _jp_steps(expr: str) -> list[Any]:
    steps: list[Any] = []
    i = 0
    while i < len(expr):
        ch = expr[i]
        if ch == ".":
            m = re.match(r"\.([A-Za-z0-9_\-$@*]+)", expr[i:])
            if not m:
                i += 1
                continue
            steps.append("*" if m.group(1) == "*" else m.group(1))
            i += m.end()
        elif ch == "[":
            end = expr.index("]", i)
            inner = expr[i + 1:end].strip()
            if inner in ("*", ""):
                steps.append("*")
            elif inner[:1] in ("'", '"'):
                steps.append(inner[1:-1])
            else:
                steps.append(int(inner))
            i = end + 1
        else:
            raise ArgosyError(f"unrecognized character in jsonpath {expr!r}: {ch!r}")
    return steps


def _jp_eval(obj: Any, steps: list[Any]) -> list[Any]:
    values = [obj]
    for step in steps:
        nxt: list[Any] = []
        for v in values:
            if step == "*":
                nxt.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [])
            elif isinstance(step, int):
                if isinstance(v, list) and -len(v) <= step < len(v):
                    nxt.append(v[step])
            elif isinstance(v, dict) and step in v:
                nxt.append(v[step])
        values = nxt
    return values


def _jp_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def kube_jsonpath(obj: Any, template: str) -> str:
    """kubectl's ``-o jsonpath=TEMPLATE`` for the common forms: ``{.a.b}``, ``{.items[0].x}``, ``{.a[*].b}``."""
    if "{" not in template:
        template = "{" + template + "}"
    out = []
    pos = 0
    for m in re.finditer(r"\{([^{}]*)\}", template):
        out.append(template[pos:m.start()])
        expr = m.group(1).strip()
        if expr.startswith("$"):
            expr = expr[1:]
        values = _jp_eval(obj, _jp_steps(expr))
        if not values and expr:
            raise ArgosyError(f"jsonpath {template!r}: {expr} is not found")
        out.append(" ".join(_jp_text(v) for v in values))
        pos = m.end()
    out.append(template[pos:])
    return "".join(out)


class _Jq:
    """A jq subset: ``.``, ``.a.b``, ``.a?``, ``.["k"]``, ``.[0]``, ``.[]``, ``|``, ``,``, ``keys``, ``length``, ``tostring``, ``select(.a == "x")``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def run(self, value: Any) -> Iterator[Any]:
        yield from self._pipe(self.text.strip(), value)

    def _split(self, text: str, sep: str) -> list[str]:
        parts, depth, cur, quote = [], 0, "", False
        for ch in text:
            if ch == '"':
                quote = not quote
            if not quote:
                depth += ch in "([{"
                depth -= ch in ")]}"
            if ch == sep and depth == 0 and not quote:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        return parts

    def _pipe(self, text: str, value: Any) -> Iterator[Any]:
        stages = self._split(text, "|")
        values = [value]
        for stage in stages:
            nxt: list[Any] = []
            for v in values:
                for alt in self._split(stage.strip(), ","):
                    nxt.extend(self._term(alt.strip(), v))
            values = nxt
        yield from values

    def _term(self, text: str, value: Any) -> Iterator[Any]:
        if text in ("", "."):
            yield value
            return
        if text == "keys":
            yield sorted(value) if isinstance(value, dict) else list(range(len(value)))
            return
        if text == "length":
            yield len(value) if value is not None else 0
            return
        if text == "tostring":
            yield value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            return
        m = re.match(r"^select\((.*)\)$", text)
        if m:
            cond = m.group(1)
            cm = re.match(r"^(.*?)\s*(==|!=)\s*(.*)$", cond)
            if cm:
                left = list(self._pipe(cm.group(1), value))
                right = json.loads(cm.group(3))
                ok = (left[:1] == [right]) if cm.group(2) == "==" else (left[:1] != [right])
            else:
                ok = any(v not in (None, False) for v in self._pipe(cond, value))
            if ok:
                yield value
            return
        if text.startswith('"') and text.endswith('"'):
            yield json.loads(text)
            return
        if re.match(r"^-?\d+(\.\d+)?$", text):
            yield json.loads(text)
            return
        if not text.startswith("."):
            raise ArgosyError(f"jqFilter {self.text!r}: unsupported expression {text!r} (argosy implements a jq subset)")
        yield from self._path(text, value)

    def _path(self, text: str, value: Any) -> Iterator[Any]:
        tokens = re.findall(r'\.\[\]|\.\[\s*-?\d+\s*\]|\.\[\s*"[^"]*"\s*\]|\[\]|\[\s*-?\d+\s*\]|\[\s*"[^"]*"\s*\]|\.[A-Za-z_][A-Za-z0-9_\-]*\??|\.', text)
        if "".join(tokens).replace(" ", "") != text.replace(" ", ""):
            raise ArgosyError(f"jqFilter {self.text!r}: cannot parse {text!r}")
        values = [value]
        for tok in tokens:
            tok = tok.lstrip(".") if tok != "." else ""
            if not tok:
                continue
            nxt: list[Any] = []
            for v in values:
                if tok == "[]":
                    nxt.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [])
                elif tok.startswith("["):
                    inner = tok[1:-1].strip()
                    if inner.startswith('"'):
                        nxt.append(v.get(json.loads(inner)) if isinstance(v, dict) else None)
                    else:
                        idx = int(inner)
                        nxt.append(v[idx] if isinstance(v, list) and -len(v) <= idx < len(v) else None)
                else:
                    optional = tok.endswith("?")
                    key = tok.rstrip("?")
                    if isinstance(v, dict) or v is None:
                        nxt.append((v or {}).get(key))
                    elif not optional:
                        raise ArgosyError(f"jqFilter {self.text!r}: cannot index {type(v).__name__} with \"{key}\"")
            values = nxt
        yield from values


def jq_filter(obj: Any, text: str) -> str:
    """Argo's ``jqFilter`` output: strings raw, other values as compact JSON, one per line, trimmed."""
    lines = []
    for v in _Jq(text).run(obj):
        lines.append(v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), sort_keys=True))
    return "\n".join(lines).strip()


# ------------------------------------------------------------------------------------ actions


@dataclass
class ResourceResult:
    phase: str
    message: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    object: dict[str, Any] | None = None


def _load_manifest(text: str) -> Any:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ArgosyError(f"the manifest is not valid YAML: {exc}") from None
    if not docs:
        raise ArgosyError("Must provide at least one of flags or manifest.")
    if len(docs) > 1:
        raise ArgosyError("a resource template manifest must hold exactly one object")
    return docs[0]


class _Dynamic:
    """``kubernetes.dynamic.DynamicClient`` (discovery-driven, any kind) with plain dicts in and out and
    Argosy's API errors, so the actions below read like the rest of the package."""

    def __init__(self, api: KubeClient) -> None:
        from kubernetes.dynamic import DynamicClient

        self.dyn = DynamicClient(api.api_client)

    @staticmethod
    def _dict(value: Any) -> dict[str, Any]:
        out = value.to_dict() if hasattr(value, "to_dict") else value
        return dict(out) if isinstance(out, dict) else {}

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._dict(fn(*args, **kwargs))
        except ApiException as exc:
            raise api_error(int(exc.status or 0), exc.body, str(exc.reason or "")) from None

    def resource(self, api_version: str, kind: str) -> Any:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError

        try:
            return self.dyn.resources.get(api_version=api_version, kind=kind)
        except (ResourceNotFoundError, ResourceNotUniqueError):
            raise KubeError(f'no matches for kind "{kind}" in version "{api_version}"') from None

    def by_name(self, word: str) -> Any:
        """A resource by kubectl's names (``pvc``, ``jobs``, ``job.batch``, ``Job``), preferred versions first."""
        from kubernetes.dynamic.resource import ResourceList

        word, _, group = word.partition(".")
        word = word.lower()
        found = []
        for item in self.dyn.resources:
            for res in item if isinstance(item, list) else [item]:
                if isinstance(res, ResourceList) or (group and res.group != group):
                    continue
                names = {res.name, res.singular_name, str(res.kind).lower(), *(res.short_names or [])}
                if word in names:
                    found.append(res)
        if not found:
            raise ArgosyError(f'the server doesn\'t have a resource type "{word}"')
        return sorted(found, key=lambda r: not r.preferred)[0]

    def get(self, res: Any, name: str, ns: str | None) -> dict[str, Any]:
        return self._call(self.dyn.get, res, name=name, namespace=ns)

    def create(self, res: Any, body: dict[str, Any], ns: str | None) -> dict[str, Any]:
        return self._call(self.dyn.create, res, body=body, namespace=ns)

    def replace(self, res: Any, body: dict[str, Any], ns: str | None) -> dict[str, Any]:
        return self._call(self.dyn.replace, res, body=body, namespace=ns)

    def patch(self, res: Any, name: str, body: Any, ns: str | None, patch_type: str) -> dict[str, Any]:
        ctype = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
                 "json": "application/json-patch+json"}[patch_type]
        return self._call(self.dyn.patch, res, body=body, name=name, namespace=ns, content_type=ctype)

    def delete(self, res: Any, name: str, ns: str | None) -> None:
        try:
            self._call(self.dyn.delete, res, name=name, namespace=ns, body={"propagationPolicy": "Background"})
        except NotFound:
            return

    def watch(self, res: Any, name: str, ns: str | None, rv: str | None, timeout: int) -> Iterator[tuple[str, dict[str, Any]]]:
        from kubernetes.client.exceptions import ApiException

        try:
            for event in self.dyn.watch(res, namespace=ns, name=name, resource_version=rv, timeout=timeout):
                yield str(event.get("type")), dict(event.get("raw_object") or {})
        except ApiException as exc:
            raise api_error(int(exc.status or 0), exc.body, str(exc.reason or "")) from None


def _target_from_flags(dyn: _Dynamic, flags: list[str]) -> tuple[Any, str]:
    args = [f for f in flags if not f.startswith("-")]
    if len(args) == 1 and "/" in args[0]:
        kind, name = args[0].split("/", 1)
    elif len(args) >= 2:
        kind, name = args[0], args[1]
    else:
        raise ArgosyError("a json patch needs the target in flags, e.g. flags: [persistentvolumeclaim, my-pvc]")
    return dyn.by_name(kind), name


def _describe(exc: KubeApiError, verb: str) -> str:
    return f"Error from server ({exc.reason or exc.status}): error when {verb}: {exc.message}"


def run_resource(
    api: KubeClient,
    tmpl: Template,
    manifest: str,
    namespace: str,
    *,
    owner: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
    watch_timeout: int = 60,
) -> ResourceResult:
    """Do the template's action, wait for its conditions, compute its output parameters."""
    emit = log or (lambda _line: None)
    res = tmpl.resource
    assert res is not None
    action = res.action
    try:
        success = parse_condition(res.success_condition) if res.success_condition else []
    except ConditionError as exc:
        return ResourceResult("Failed", f"success condition '{res.success_condition}' failed to parse: {exc}")
    try:
        failure = parse_condition(res.failure_condition) if res.failure_condition else []
    except ConditionError as exc:
        return ResourceResult("Failed", f"fail condition '{res.failure_condition}' failed to parse: {exc}")
    dyn = _Dynamic(api)
    strategy = res.merge_strategy or "strategic"
    body = _load_manifest(manifest) if (manifest.strip() or action != "patch") else None
    flags = list(res.flags or [])
    if action == "patch" and strategy == "json":
        rt, name = _target_from_flags(dyn, flags)
        try:
            obj = dyn.patch(rt, name, body, namespace if rt.namespaced else None, "json")
        except KubeApiError as exc:
            return ResourceResult("Failed", _describe(exc, "patching"))
    else:
        if not isinstance(body, dict):
            return ResourceResult("Failed", "the manifest must be an object with apiVersion and kind")
        api_version, kind = str(body.get("apiVersion") or ""), str(body.get("kind") or "")
        target = ""
        if api_version and kind:
            rt = dyn.resource(api_version, kind)
        elif action == "patch" and flags:
            rt, target = _target_from_flags(dyn, flags)
        else:
            return ResourceResult("Failed", "Kind and name are both required but at least one of them is missing from the manifest")
        meta = body.setdefault("metadata", {})
        ns = str(meta.get("namespace") or namespace)
        if res.set_owner_reference and owner and action in ("create", "apply", "replace", "patch"):
            body = set_owner_reference(body, owner)
            meta = body["metadata"]
        if rt.namespaced:
            meta["namespace"] = ns
        name = target or str(meta.get("name") or "")
        scope = ns if rt.namespaced else None
        try:
            if action == "create":
                obj = dyn.create(rt, body, scope)
            elif action == "apply":
                obj = _apply(dyn, rt, body, scope)
            elif action == "replace":
                if not name:
                    return ResourceResult("Failed", "Kind and name are both required but at least one of them is missing from the manifest")
                obj = dyn.replace(rt, body, scope)
            elif action == "delete":
                if not name:
                    return ResourceResult("Failed", "resource name may not be empty")
                dyn.delete(rt, name, scope)
                emit(f"deleted {rt.name}/{name} (if it existed)")
                return ResourceResult("Succeeded", outputs=_outputs(api, tmpl, None))
            elif action == "patch":
                patch_body = {k: v for k, v in body.items() if k not in ("apiVersion", "kind")} if api_version else body
                obj = _patch(dyn, rt, name, patch_body, scope, strategy)
            elif action == "get":
                obj = dyn.get(rt, name, scope)
            else:
                return ResourceResult("Failed", f"unknown resource action '{action}'")
        except KubeApiError as exc:
            verb = {"create": "creating", "apply": "applying", "replace": "replacing", "patch": "patching", "get": "getting"}.get(action, action)
            return ResourceResult("Failed", _describe(exc, f"{verb} {rt.name}"))
    meta = obj.get("metadata") or {}
    name, ns = str(meta.get("name") or ""), str(meta.get("namespace") or namespace)
    scope = ns if rt.namespaced else None
    emit(f"{action}: {rt.name}.{rt.group or 'core'}/{name}" + (f" in {ns}" if rt.namespaced else ""))
    if success or failure:
        try:
            phase, message, obj = _wait_conditions(dyn, rt, name, scope, success, failure, watch_timeout, emit)
        except NotFound as exc:
            return ResourceResult("Failed", f"The resource has been deleted while its status was still being checked. Will not be retried: {exc}")
        if phase != "Succeeded":
            return ResourceResult(phase, message, _outputs(api, tmpl, obj, fallback=True), obj)
    try:
        outputs = _outputs(api, tmpl, dyn.get(rt, name, scope) if name else obj)
    except ArgosyError as exc:
        return ResourceResult("Failed", str(exc), object=obj)
    return ResourceResult("Succeeded", None, outputs, obj)


def _apply(dyn: _Dynamic, rt: Any, body: dict[str, Any], ns: str | None) -> dict[str, Any]:
    """Client-side apply: create, or merge the manifest into the live object (recording last-applied)."""
    body = json.loads(json.dumps(body))
    last = json.dumps(body, separators=(",", ":"), sort_keys=True)
    body.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = last
    name = body["metadata"].get("name")
    if not name:
        return dyn.create(rt, body, ns)
    try:
        dyn.get(rt, name, ns)
    except NotFound:
        return dyn.create(rt, body, ns)
    patch = {k: v for k, v in body.items() if k not in ("apiVersion", "kind")}
    return _patch(dyn, rt, name, patch, ns, "strategic", fallback=True)


def _patch(dyn: _Dynamic, rt: Any, name: str, patch: Any, ns: str | None, strategy: str,
           *, fallback: bool = False) -> dict[str, Any]:
    if strategy == "strategic":
        try:
            return dyn.patch(rt, name, patch, ns, "strategic")
        except Invalid as exc:
            if exc.status != 415 or not fallback:
                raise
            # Custom resources have no strategic merge: apply merges them instead, as kubectl does.
            return dyn.patch(rt, name, patch, ns, "merge")
    return dyn.patch(rt, name, patch, ns, "merge" if strategy == "merge" else "json")


def _wait_conditions(
    dyn: _Dynamic, rt: Any, name: str, ns: str | None,
    success: list[Requirement], failure: list[Requirement], watch_timeout: int, emit: Callable[[str], None],
) -> tuple[str, str | None, dict[str, Any]]:
    """Evaluate on the current object, then on every change (re-reading when the watch ends)."""
    current = dyn.get(rt, name, ns)
    while True:
        phase, message = evaluate_conditions(current, success, failure)
        if phase is not None:
            emit(f"conditions: {phase}{': ' + message if message else ''}")
            return phase, message, current
        rv = (current.get("metadata") or {}).get("resourceVersion")
        try:
            for etype, event_obj in dyn.watch(rt, name, ns, rv, watch_timeout):
                if etype in ("BOOKMARK", "ERROR"):
                    continue
                if etype == "DELETED":
                    raise NotFound(404, "NotFound", f'{rt.name} "{name}" not found')
                current = event_obj
                phase, message = evaluate_conditions(current, success, failure)
                if phase is not None:
                    emit(f"conditions: {phase}{': ' + message if message else ''}")
                    return phase, message, current
        except Gone:
            pass
        current = dyn.get(rt, name, ns)


def _outputs(api: KubeClient, tmpl: Template, obj: dict[str, Any] | None, *, fallback: bool = False) -> dict[str, Any]:
    params = []
    for p in (tmpl.outputs.parameters if tmpl.outputs else None) or []:
        vf = p.value_from
        if vf is None:
            continue
        if obj is None:
            params.append({"name": p.name, "value": vf.default or ""})
            continue
        try:
            if vf.json_path:
                value = kube_jsonpath(obj, vf.json_path)
            elif vf.jq_filter:
                value = jq_filter(obj, vf.jq_filter)
            else:
                continue
        except ArgosyError:
            if fallback or vf.default is not None:
                value = vf.default or ""
            else:
                raise
        item = {"name": p.name, "value": value}
        if p.global_name:
            item["globalName"] = p.global_name
        params.append(item)
    return {"parameters": params} if params else {}
