"""Orphan sweep (beyond Argo): objects in a repository that no workflow record references.

Orphans appear when a workflow is deleted with ``--force`` or ``forceFinalizerRemoval`` after GC
failed, when GC was never configured, or when a run crashed mid-upload. Argo has no answer; here
a sweep lists the repository's key prefixes and reports (dry run, the default) or deletes what no
record references.

Safety rules, each conservative:

* every key found anywhere in any stored workflow (outputs, inputs, templates, global outputs,
  already-``deleted`` ones) protects the object at that key and everything under ``key/``;
* an object written after the sweep started, or after the oldest still-running workflow was
  created (its outputs may not be recorded yet), is never an orphan; timestamps are compared
  with ``mtime_precision`` slack because S3 reports LastModified in whole seconds;
* references are read again right before deleting, so a workflow that appeared meanwhile wins.

Note that objects kept with strategy ``Never`` become unreferenced once their workflow record is
deleted, so a sweep lists them too: review the dry run before ``delete=True``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from argosy.pipeline.status import parse_time
from argosy.storage.drivers.base import ObjectInfo

__all__ = ["OrphanReport", "References", "find_orphans", "references", "repository_prefixes", "sweep"]

_TERMINAL = ("Succeeded", "Failed", "Error")
_LOCATION_KINDS = ("s3", "local", "gcs", "oss", "azure", "hdfs")


@dataclass
class References:
    """Keys the store's workflows name, and the time before which unrecorded writes cannot be pending."""

    keys: set[str] = field(default_factory=set)
    live_since: float | None = None

    def protects(self, key: str) -> bool:
        """True when ``key`` or one of its parent prefixes is referenced."""
        norm = key.strip("/")
        if norm in self.keys:
            return True
        parts = norm.split("/")
        return any("/".join(parts[:i]) in self.keys for i in range(1, len(parts)))


def _walk_keys(value: Any) -> Iterator[str]:
    """Literal keys of every artifact location anywhere in a document."""
    if isinstance(value, dict):
        for kind in _LOCATION_KINDS:
            loc = value.get(kind)
            if isinstance(loc, dict):
                key = loc.get("key") or loc.get("blob") or loc.get("path")
                if isinstance(key, str) and key.strip("/") and "{{" not in key:
                    yield key.strip("/")
        for child in value.values():
            yield from _walk_keys(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk_keys(child)


def references(store: Any) -> References:
    """Everything every stored workflow references, plus the creation time of the oldest unfinished one."""
    refs = References()
    for wf in store.list_workflows(full=True):
        refs.keys.update(_walk_keys({"spec": wf.get("spec"), "status": wf.get("status")}))
        if (wf.get("status") or {}).get("phase") not in _TERMINAL:
            created = parse_time((wf.get("metadata") or {}).get("creationTimestamp"))
            if created is not None:
                stamp = created.timestamp()
                refs.live_since = stamp if refs.live_since is None else min(refs.live_since, stamp)
    return refs


def repository_prefixes(repo_spec: dict[str, Any]) -> list[str]:
    """The fixed leading directory of the repository's key format (``""`` = the whole repository)."""
    from argosy.pipeline.artifacts import Repository

    fmt = Repository(repo_spec, "").key_format
    static = fmt.split("{{", 1)[0]
    return [static.rsplit("/", 1)[0].strip("/") if "/" in static else ""]


def _list(driver: Any, prefixes: Iterable[str]) -> Iterator[ObjectInfo]:
    seen: set[str] = set()
    for prefix in prefixes or [""]:
        for info in driver.list(prefix.strip("/"), recursive=True):
            if not info.is_dir and info.key not in seen:
                seen.add(info.key)
                yield info


def find_orphans(
    store: Any,
    driver: Any,
    prefixes: Iterable[str],
    older_than_seconds: float,
    started_at: float | None = None,
    *,
    mtime_precision: float = 1.0,
) -> list[ObjectInfo]:
    """Objects under ``prefixes`` no workflow references, older than ``older_than_seconds`` at ``started_at``."""
    start = time.time() if started_at is None else started_at
    refs = references(store)
    cutoff = start if refs.live_since is None else min(start, refs.live_since)
    out: list[ObjectInfo] = []
    for info in _list(driver, prefixes):
        if info.mtime > cutoff - mtime_precision:  # written during the sweep or by a running workflow
            continue
        if start - info.mtime < older_than_seconds:
            continue
        if refs.protects(info.key):
            continue
        out.append(info)
    return sorted(out, key=lambda i: i.key)


@dataclass
class OrphanReport:
    """What a sweep found (and deleted): objects with sizes and their total."""

    repository: str
    prefixes: list[str]
    objects: list[ObjectInfo]
    dry_run: bool
    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(o.size for o in self.objects)


def sweep(
    store: Any,
    driver: Any,
    prefixes: Iterable[str] | None = None,
    older_than_seconds: float = 7 * 86400.0,
    started_at: float | None = None,
    *,
    delete: bool = False,
    mtime_precision: float = 1.0,
) -> OrphanReport:
    """Find orphans and, with ``delete``, remove them (batched); a dry run by default."""
    chosen = list(prefixes) if prefixes is not None else [""]
    start = time.time() if started_at is None else started_at
    found = find_orphans(store, driver, chosen, older_than_seconds, start, mtime_precision=mtime_precision)
    report = OrphanReport(driver.describe(), chosen, found, dry_run=not delete)
    if not delete or not found:
        return report
    fresh = references(store)  # a workflow stored meanwhile keeps what it references
    doomed = [o.key for o in found if not fresh.protects(o.key)]
    try:
        driver.delete_many(doomed)
        report.deleted = doomed
    except Exception as exc:  # fall back to one by one so one bad key does not keep the rest
        report.errors.append(f"batch delete failed: {exc}")
        for key in doomed:
            try:
                driver.delete(key)
                report.deleted.append(key)
            except Exception as one:
                report.errors.append(f"{key}: {one}")
    return report
