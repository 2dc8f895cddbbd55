"""Checks beyond Argo's validator: CronWorkflow schedules, archive settings, artifact GC
strategies and Argosy's typed artifacts.

The cron checks follow ``validate.CronWorkflow`` and robfig/cron's ``ParseStandard`` messages;
the others are Argosy's own and name the offending field the way Argo's messages do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from argosy.pipeline.validate_argo import Obj, TemplateBase, TemplateFinder

__all__ = [
    "archive_errors",
    "artifact_gc_errors",
    "cron_schedule_error",
    "cron_spec_errors",
    "typed_artifact_errors",
]

ARTIFACT_GC_STRATEGIES = ("", "OnWorkflowCompletion", "OnWorkflowDeletion", "Never")
TAR_LEVELS = (0, 9)
ZSTD_LEVELS = (1, 22)

# ----------------------------------------------------------------------------------------- artifacts


def _artifact_sites(spec: Obj) -> Iterator[tuple[str, Obj]]:
    """Every artifact a spec declares, with the path Argo-style messages use for it."""
    for art in (spec.get("arguments") or {}).get("artifacts") or []:
        yield f"spec.arguments.artifacts.{art.get('name')}", art
    for tmpl in spec.get("templates") or []:
        yield from _template_artifact_sites(tmpl, f"templates.{tmpl.get('name') or ''}")


def _template_artifact_sites(tmpl: Obj, where: str) -> Iterator[tuple[str, Obj]]:
    for io in ("inputs", "outputs"):
        for art in (tmpl.get(io) or {}).get("artifacts") or []:
            yield f"{where}.{io}.artifacts.{art.get('name')}", art
    for inv_where, inv in _invocations(tmpl, where):
        for art in (inv.get("arguments") or {}).get("artifacts") or []:
            yield f"{inv_where}.arguments.artifacts.{art.get('name')}", art
        inline = inv.get("inline")
        if isinstance(inline, dict):
            yield from _template_artifact_sites(inline, f"{inv_where}.inline")


def _invocations(tmpl: Obj, where: str) -> Iterator[tuple[str, Obj]]:
    for i, group in enumerate(tmpl.get("steps") or []):
        for step in group or []:
            yield f"{where}.steps[{i}].{step.get('name')}", step
    for task in (tmpl.get("dag") or {}).get("tasks") or []:
        yield f"{where}.tasks.{task.get('name')}", task


def archive_errors(spec: Obj) -> list[str]:
    """``archive.tar.compressionLevel`` (gzip 0-9) and ``archive.zstd.level`` (1-22) ranges."""
    errors = []
    for where, art in _artifact_sites(spec):
        archive = art.get("archive")
        if not isinstance(archive, dict):
            continue
        level = (archive.get("tar") or {}).get("compressionLevel")
        if isinstance(level, int) and not TAR_LEVELS[0] <= level <= TAR_LEVELS[1]:
            errors.append(f"{where}.archive.tar.compressionLevel must be between {TAR_LEVELS[0]} and {TAR_LEVELS[1]} (got {level})")
        level = (archive.get("zstd") or {}).get("level")
        if isinstance(level, int) and not ZSTD_LEVELS[0] <= level <= ZSTD_LEVELS[1]:
            errors.append(f"{where}.archive.zstd.level must be between {ZSTD_LEVELS[0]} and {ZSTD_LEVELS[1]} (got {level})")
    return errors


def artifact_gc_errors(spec: Obj) -> list[str]:
    """Artifact GC strategies (the model already rejects other values when loading YAML)."""
    errors = []
    sites: list[tuple[str, Any]] = [("spec.artifactGC", spec.get("artifactGC"))]
    sites += [(f"{where}.artifactGC", art.get("artifactGC")) for where, art in _artifact_sites(spec)]
    for where, gc in sites:
        if isinstance(gc, dict):
            strategy = gc.get("strategy") or ""
            if strategy not in ARTIFACT_GC_STRATEGIES:
                errors.append(f"{where}.strategy unknown strategy '{strategy}'")
    return errors


# ----------------------------------------------------------------------------------------- typed artifacts

_FROM = re.compile(r"^\{\{\s*(steps|tasks)\.([-a-zA-Z0-9]+)\.outputs\.artifacts\.([-a-zA-Z0-9_]+)\s*\}\}$")


def _invoked(inv: Obj, base: TemplateBase, find: TemplateFinder) -> Obj | None:
    """The template a step/task runs, when it can be seen without running anything."""
    inline = inv.get("inline")
    if isinstance(inline, dict):
        return inline
    ref = inv.get("templateRef")
    if isinstance(ref, dict):
        name, template = ref.get("name"), ref.get("template")
        if not isinstance(name, str) or not isinstance(template, str) or "{{" in name + template:
            return None
        found = find(name, bool(ref.get("clusterScope")))
        return found.template(template) if isinstance(found, TemplateBase) else None
    name = inv.get("template")
    return base.template(name) if isinstance(name, str) and name else None


def _named(items: Any, name: str) -> Obj | None:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def typed_artifact_errors(spec: Obj, base: TemplateBase, find: TemplateFinder) -> list[str]:
    """A ``from: {{steps|tasks.X.outputs.artifacts.Y}}`` argument must not join different declared
    ``type``s (or ``format``s); an undeclared side is compatible with anything."""
    errors = []
    for tmpl in spec.get("templates") or []:
        errors.extend(_typed_in_template(tmpl, f"templates.{tmpl.get('name') or ''}", base, find))
    return errors


def _typed_in_template(tmpl: Obj, where: str, base: TemplateBase, find: TemplateFinder) -> list[str]:
    errors: list[str] = []
    kind = "steps" if tmpl.get("steps") is not None else "tasks"
    invocations = list(_invocations(tmpl, where))
    siblings = {inv.get("name"): inv for _, inv in invocations}
    for inv_where, inv in invocations:
        inline = inv.get("inline")
        if isinstance(inline, dict):
            errors.extend(_typed_in_template(inline, f"{inv_where}.inline", base, find))
        consumer: Obj | None = None
        for arg in (inv.get("arguments") or {}).get("artifacts") or []:
            source = arg.get("from")
            match = _FROM.match(source) if isinstance(source, str) else None
            if not match or match.group(1) != kind:
                continue
            producer_inv = siblings.get(match.group(2))
            producer = _invoked(producer_inv, base, find) if producer_inv else None
            produced = _named((producer.get("outputs") or {}).get("artifacts"), match.group(3)) if producer else None
            consumer = consumer or _invoked(inv, base, find)
            expected = _named(((consumer or {}).get("inputs") or {}).get("artifacts"), arg.get("name", "")) if consumer else None
            if produced is None or expected is None:
                continue
            here = f"{inv_where}.arguments.artifacts.{arg.get('name')}"
            producer_ref = f"{kind}.{match.group(2)}.outputs.artifacts.{match.group(3)}"
            consumer_ref = f"templates.{(consumer or {}).get('name') or 'inline'}.inputs.artifacts.{arg.get('name')}"
            for attr in ("type", "format"):
                have, want = produced.get(attr), expected.get(attr)
                if have and want and have != want:
                    errors.append(f"{here}: artifact {attr} mismatch: {producer_ref} is '{have}' but {consumer_ref} expects '{want}'")
    return errors


# ----------------------------------------------------------------------------------------- cron

_BOUNDS = {
    "minute": (0, 59, {}),
    "hour": (0, 23, {}),
    "dom": (1, 31, {}),
    "month": (1, 12, {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}),
    "dow": (0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}),
}
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_GO_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    num = int(text)
    if num < 0:
        raise ValueError(f"negative number ({num}) not allowed: {text}")
    return num


def _parse_range(expr: str, low: int, high: int, names: dict[str, int]) -> None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = names[low_and_high[0].lower()] if low_and_high[0].lower() in names else _parse_int(low_and_high[0])
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = names[low_and_high[1].lower()] if low_and_high[1].lower() in names else _parse_int(low_and_high[1])
        else:
            raise ValueError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        if single:
            end = high
    elif len(range_and_step) > 2:
        raise ValueError(f"too many slashes: {expr}")
    if start < low:
        raise ValueError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise ValueError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr}")


def cron_schedule_error(spec: str) -> str | None:
    """robfig/cron ``ParseStandard``: why ``spec`` is not a 5-field schedule or descriptor."""
    if not spec:
        return "empty spec string"
    text = spec
    if text.startswith(("TZ=", "CRON_TZ=")):
        head, _, text = text.partition(" ")
        zone = head.split("=", 1)[1]
        if _zone_error(zone):
            return f"provided bad location {zone}: unknown time zone {zone}"
    if text.startswith("@"):
        if text in _DESCRIPTORS:
            return None
        if text.startswith("@every "):
            duration = text[len("@every ") :]
            if not _GO_DURATION.match(duration):
                return f'failed to parse duration {text}: time: invalid duration "{duration}"'
            return None
        return f"unrecognized descriptor: {text}"
    fields = text.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    for value, key in zip(fields, ("minute", "hour", "dom", "month", "dow"), strict=True):
        low, high, names = _BOUNDS[key]
        try:
            for part in value.split(","):
                _parse_range(part, low, high, names)
        except ValueError as exc:
            return str(exc)
    return None


def _zone_error(zone: str) -> bool:
    import zoneinfo

    if zone in ("", "UTC", "Local"):
        return False
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return True
    return False


def cron_spec_errors(cron: Obj) -> list[str]:
    """``validate.CronWorkflow`` up to (not including) the workflow it creates."""
    errors = []
    name = (cron.get("metadata") or {}).get("name") or ""
    if len(name.encode()) > 52:
        errors.append(f'cron workflow name "{name}" must not be more than 52 characters long (currently {len(name.encode())})')
    spec = cron.get("spec") or {}
    schedules = spec.get("schedules") or []
    if not schedules:
        errors.append("cron workflow must have at least one schedule")
    for schedule in schedules:
        err = cron_schedule_error(schedule)
        if err:
            errors.append(f"cron schedule {schedule} is malformed: {err}")
    zone = spec.get("timezone") or ""
    if zone and _zone_error(zone):
        errors.append(f'invalid timezone "{zone}": unknown time zone {zone}')
    policy = spec.get("concurrencyPolicy") or ""
    if policy not in ("Allow", "Forbid", "Replace", ""):
        errors.append(f"'{policy}' is not a valid concurrencyPolicy")
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int) and deadline < 0:
        errors.append("startingDeadlineSeconds must be positive")
    return errors

