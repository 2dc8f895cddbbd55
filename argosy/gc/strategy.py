"""Which artifacts artifact GC may delete, and when: pure functions over Argo-shaped workflow dicts.

Argo's rules (``workflow/controller/artifact_gc.go``): an artifact's strategy is its own
``artifactGC.strategy``, else the workflow's ``spec.artifactGC.strategy``, else ``Never``. Only
``outputs.artifacts`` of ``Pod`` nodes that were actually saved are eligible (so ``main-logs`` and
the outputs of failed steps are, inputs and steps/DAG-level outputs never are), and each strategy
runs once (``status.artifactGCStatus.strategiesProcessed``).

Beyond Argo: an object that another live workflow still references (the same key, or a key
inside a directory artifact's prefix) is never deleted; :func:`sharing` finds that reference so
the caller can keep the object and say why.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argosy.gc.finalizers import is_deleting

__all__ = [
    "COMPLETED_LABEL",
    "GC_STRATEGIES",
    "ArtifactRef",
    "Strategy",
    "artifact_refs",
    "blocks_deletion",
    "collectable",
    "conflicts",
    "declares_gc",
    "effective_strategy",
    "execution_spec",
    "gc_status",
    "is_completed",
    "location",
    "parse_strategy",
    "pending",
    "pod_access",
    "repository_id",
    "sharing",
    "strategies_ready",
    "template_definitions",
    "workflow_gc",
    "workflow_strategy",
]

COMPLETED_LABEL = "workflows.argoproj.io/completed"
_TERMINAL = ("Succeeded", "Failed", "Error")
_OTHER_LOCATIONS = ("gcs", "oss", "azure", "hdfs", "artifactory", "http", "git", "raw", "plugin")


class Strategy(StrEnum):
    """Argo's ``ArtifactGCStrategy`` values (``""`` is read as unset)."""

    ON_WORKFLOW_COMPLETION = "OnWorkflowCompletion"
    ON_WORKFLOW_DELETION = "OnWorkflowDeletion"
    NEVER = "Never"

    @property
    def abbreviation(self) -> str:
        """The part of GC pod and task names Argo derives from the strategy."""
        return {"OnWorkflowCompletion": "wfcomp", "OnWorkflowDeletion": "wfdel"}.get(self.value, "never")


#: The strategies that delete something, in the order they are processed.
GC_STRATEGIES: tuple[Strategy, ...] = (Strategy.ON_WORKFLOW_COMPLETION, Strategy.ON_WORKFLOW_DELETION)


def parse_strategy(value: Any) -> Strategy | None:
    """A strategy from a spec value; ``None``/``""`` mean "not set here"."""
    if value in (None, ""):
        return None
    try:
        return Strategy(str(value))
    except ValueError:
        return None


# ------------------------------------------------------------------------------ spec side


def execution_spec(wf: dict[str, Any]) -> dict[str, Any]:
    """The spec the workflow ran with: ``status.storedWorkflowTemplateSpec`` (workflowTemplateRef), else ``spec``."""
    stored = (wf.get("status") or {}).get("storedWorkflowTemplateSpec")
    return stored if isinstance(stored, dict) and stored else (wf.get("spec") or {})


def workflow_gc(wf: dict[str, Any], exec_spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """``spec.artifactGC`` of the workflow, falling back to the one of its WorkflowTemplate."""
    own = (wf.get("spec") or {}).get("artifactGC")
    if isinstance(own, dict) and own:
        return own
    spec = exec_spec if exec_spec is not None else execution_spec(wf)
    return spec.get("artifactGC") or {}


def workflow_strategy(wf: dict[str, Any], exec_spec: dict[str, Any] | None = None) -> Strategy:
    return parse_strategy(workflow_gc(wf, exec_spec).get("strategy")) or Strategy.NEVER


def effective_strategy(
    artifact: dict[str, Any], wf_strategy: Strategy | str | None, template_artifact: dict[str, Any] | None = None
) -> Strategy:
    """The artifact's own strategy, else its template definition's, else the workflow's, else Never."""
    for source in (artifact, template_artifact or {}):
        own = parse_strategy((source.get("artifactGC") or {}).get("strategy"))
        if own is not None:
            return own
    return parse_strategy(wf_strategy) or Strategy.NEVER


def template_definitions(
    wf: dict[str, Any], exec_spec: dict[str, Any] | None = None, extra: Iterable[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Every template the workflow may run: its own, its WorkflowTemplate's, stored ones, ``extra``."""
    spec = wf.get("spec") or {}
    out: list[dict[str, Any]] = []
    seen: set[int] = set()

    def add(items: Any) -> None:
        for t in items or []:
            if isinstance(t, dict) and id(t) not in seen:
                seen.add(id(t))
                out.append(t)

    add(spec.get("templates"))
    add((exec_spec if exec_spec is not None else execution_spec(wf)).get("templates"))
    status = wf.get("status") or {}
    add((status.get("storedWorkflowTemplateSpec") or {}).get("templates"))
    stored = status.get("storedTemplates")
    add(stored.values() if isinstance(stored, dict) else stored)
    add(extra)
    return out


def declares_gc(
    wf: dict[str, Any],
    exec_spec: dict[str, Any] | None = None,
    extra_templates: Iterable[dict[str, Any]] = (),
    archive_logs: bool = False,
) -> bool:
    """Does anything in the workflow need collecting (Argo's ``HasArtifactGC``)?

    True when some template output's effective strategy is not Never; also (beyond Argo, whose
    archived logs were never collected without another collected output, #13421) when logs are
    archived and the workflow-level strategy is not Never.
    """
    wf_strategy = workflow_strategy(wf, exec_spec)
    for tmpl in template_definitions(wf, exec_spec, extra_templates):
        for art in ((tmpl.get("outputs") or {}).get("artifacts")) or []:
            if isinstance(art, dict) and effective_strategy(art, wf_strategy) != Strategy.NEVER:
                return True
    if wf_strategy == Strategy.NEVER:
        return False
    spec = exec_spec if exec_spec is not None else execution_spec(wf)
    logs = archive_logs or bool(spec.get("archiveLogs")) or bool((wf.get("spec") or {}).get("archiveLogs"))
    logs = logs or any(
        bool((t.get("archiveLocation") or {}).get("archiveLogs")) for t in template_definitions(wf, exec_spec)
    )
    return logs


def pod_access(wf_gc: dict[str, Any], artifact_gc: dict[str, Any] | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """(service account, labels, annotations) for deleting an artifact: the workflow's, overridden per artifact."""
    sa = ""
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for gc in (wf_gc or {}, artifact_gc or {}):
        if gc.get("serviceAccountName"):
            sa = str(gc["serviceAccountName"])
        meta = gc.get("podMetadata") or {}
        labels.update({str(k): str(v) for k, v in (meta.get("labels") or {}).items()})
        annotations.update({str(k): str(v) for k, v in (meta.get("annotations") or {}).items()})
    return sa, labels, annotations


# ------------------------------------------------------------------------------ status side


def gc_status(wf: dict[str, Any]) -> dict[str, Any]:
    """``status.artifactGCStatus`` (empty dict when absent; never created here)."""
    return ((wf.get("status") or {}).get("artifactGCStatus")) or {}


def is_completed(wf: dict[str, Any]) -> bool:
    """The engine finished with the workflow (label ``completed=true`` or a terminal phase)."""
    labels = (wf.get("metadata") or {}).get("labels") or {}
    return labels.get(COMPLETED_LABEL) == "true" or (wf.get("status") or {}).get("phase") in _TERMINAL


def strategies_ready(wf: dict[str, Any]) -> list[Strategy]:
    """Strategies whose time has come and that were not processed yet (Argo's ``artifactGCStrategiesReady``)."""
    processed = gc_status(wf).get("strategiesProcessed") or {}
    deleting = is_deleting(wf)
    ready: list[Strategy] = []
    if (is_completed(wf) or deleting) and not processed.get(Strategy.ON_WORKFLOW_COMPLETION.value):
        ready.append(Strategy.ON_WORKFLOW_COMPLETION)
    if deleting and not processed.get(Strategy.ON_WORKFLOW_DELETION.value):
        ready.append(Strategy.ON_WORKFLOW_DELETION)
    return ready


# ------------------------------------------------------------------------------ locations


def _endpoint(text: Any) -> str:
    value = str(text or "")
    for scheme in ("https://", "http://"):
        value = value.removeprefix(scheme)
    return value.rstrip("/")


def _s3_id(bucket: dict[str, Any]) -> str:
    return f"s3://{bucket.get('bucket') or ''}@{_endpoint(bucket.get('endpoint'))}"


def repository_id(repo_spec: dict[str, Any]) -> str:
    """A stable name for a repository (``s3://bucket@endpoint``, ``local:/path``), for comparing locations."""
    if "s3" in repo_spec:
        return _s3_id(repo_spec.get("s3") or {})
    if "local" in repo_spec:
        return f"local:{(repo_spec.get('local') or {}).get('path') or ''}"
    if "fsspec" in repo_spec:
        return f"fsspec:{(repo_spec.get('fsspec') or {}).get('url') or ''}"
    return "repo:" + json.dumps(repo_spec, sort_keys=True, default=str)


def location(artifact: dict[str, Any], repo_spec: dict[str, Any]) -> tuple[str, str, bool] | None:
    """(repository id, key, may be a directory prefix) of a saved artifact, or None without a location.

    Key-only locations use the workflow's repository (as ``ArtifactManager.driver_for`` does). An
    ``archive: none`` artifact, or a key ending in ``/``, may be a directory: a key prefix.
    """
    dirish = "none" in (artifact.get("archive") or {})
    s3 = artifact.get("s3")
    if isinstance(s3, dict):
        key = str(s3.get("key") or "")
        if not key.strip("/"):
            return None
        if s3.get("bucket"):
            rid = _s3_id(s3)
        elif isinstance(repo_spec.get("s3"), dict):
            rid = _s3_id(repo_spec["s3"])
        else:
            rid = repository_id(repo_spec)
        return rid, key.strip("/"), dirish or key.endswith("/")
    local = artifact.get("local")
    if isinstance(local, dict):
        key = str(local.get("key") or "")
        if not key.strip("/"):
            return None
        return repository_id(repo_spec), key.strip("/"), dirish or key.endswith("/")
    for kind in _OTHER_LOCATIONS:
        loc = artifact.get(kind)
        if isinstance(loc, dict) and loc:
            key = str(loc.get("key") or loc.get("blob") or loc.get("path") or loc.get("url") or loc.get("repo") or "")
            rest = {k: v for k, v in loc.items() if k not in ("key", "blob", "path")}
            return f"{kind}:{json.dumps(rest, sort_keys=True, default=str)}", key.strip("/"), dirish
    return None


@dataclass(frozen=True)
class ArtifactRef:
    """One use of a stored object by a workflow (an output it saved, or an input a live one will read)."""

    workflow: str
    namespace: str
    uid: str
    node_id: str
    name: str
    strategy: Strategy
    repo: str
    key: str
    is_dir: bool
    deleted: bool = False
    kept: bool = False
    is_input: bool = False
    workflow_deleting: bool = False

    @property
    def ident(self) -> tuple[str, str, str, str]:
        """Which artifact this is: (namespace, workflow uid, node id, artifact name)."""
        return self.namespace, self.uid, self.node_id, self.name

    def describe(self) -> str:
        what = "input" if self.is_input else "artifact"
        return f"workflow '{self.workflow}' ({what} '{self.name}' of node {self.node_id})"


def _find_template(templates: list[dict[str, Any]], node: dict[str, Any]) -> dict[str, Any] | None:
    name = node.get("templateName") or (node.get("templateRef") or {}).get("template")
    for tmpl in templates:
        if tmpl.get("name") == name:
            return tmpl
    return None


def _template_artifact(tmpl: dict[str, Any] | None, name: str, kind: str = "outputs") -> dict[str, Any] | None:
    for art in (((tmpl or {}).get(kind) or {}).get("artifacts")) or []:
        if isinstance(art, dict) and art.get("name") == name:
            return art
    return None


def artifact_refs(
    wf: dict[str, Any],
    repo_spec: dict[str, Any],
    exec_spec: dict[str, Any] | None = None,
    *,
    inputs: bool = False,
) -> Iterator[ArtifactRef]:
    """Saved outputs of the workflow's Pod nodes; with ``inputs``, also what an unfinished workflow reads."""
    meta = wf.get("metadata") or {}
    status = wf.get("status") or {}
    kept = gc_status(wf).get("keptShared") or {}
    wf_strategy = workflow_strategy(wf, exec_spec)
    templates = template_definitions(wf, exec_spec)
    deleting = is_deleting(wf)
    wf_name, wf_ns, wf_uid = str(meta.get("name") or ""), str(meta.get("namespace") or ""), str(meta.get("uid") or "")
    for node_id, node in (status.get("nodes") or {}).items():
        if not isinstance(node, dict) or node.get("type") != "Pod":
            continue
        # Inputs matter only while the workflow may still read them (a finished one is done with them).
        kinds = ("outputs", "inputs") if inputs and not is_completed(wf) else ("outputs",)
        for kind in kinds:
            for art in ((node.get(kind) or {}).get("artifacts")) or []:
                if not isinstance(art, dict) or not art.get("name"):
                    continue
                loc = location(art, repo_spec)
                if loc is None:
                    continue
                name = str(art["name"])
                if kind == "outputs":
                    tmpl_art = _template_artifact(_find_template(templates, node), name)
                    strategy = effective_strategy(art, wf_strategy, tmpl_art)
                else:
                    strategy = Strategy.NEVER
                yield ArtifactRef(
                    wf_name, wf_ns, wf_uid,
                    workflow_deleting=deleting,
                    node_id=str(node_id),
                    name=name,
                    strategy=strategy,
                    repo=loc[0],
                    key=loc[1],
                    is_dir=loc[2] or kind == "inputs",  # an input may be read as a whole prefix
                    deleted=bool(art.get("deleted")) if kind == "outputs" else False,
                    kept=kind == "outputs" and name in (kept.get(node_id) or {}),
                    is_input=kind == "inputs",
                )
    if inputs and not is_completed(wf):
        # Literal input keys of steps that have not run yet (templated keys cannot be known now).
        for tmpl in templates:
            for art in ((tmpl.get("inputs") or {}).get("artifacts")) or []:
                if isinstance(art, dict) and art.get("name") and "{{" not in json.dumps(art.get("s3") or art.get("local") or {}):
                    loc = location(art, repo_spec)
                    if loc is not None:
                        yield ArtifactRef(wf_name, wf_ns, wf_uid, node_id="", name=str(art["name"]),
                                          strategy=Strategy.NEVER, repo=loc[0], key=loc[1], is_dir=True,
                                          is_input=True, workflow_deleting=deleting)


def collectable(refs: Iterable[ArtifactRef], strategy: Strategy) -> list[ArtifactRef]:
    """Outputs to delete for ``strategy``: matching effective strategy, not yet deleted or released."""
    return [r for r in refs if not r.is_input and r.strategy == strategy and not r.deleted and not r.kept]


def pending(refs: Iterable[ArtifactRef]) -> list[ArtifactRef]:
    """Outputs GC still owes: a non-Never strategy and neither deleted nor released as shared."""
    return [r for r in refs if not r.is_input and r.strategy != Strategy.NEVER and not r.deleted and not r.kept]


def conflicts(a: ArtifactRef, b: ArtifactRef) -> bool:
    """Would deleting ``a`` remove (part of) what ``b`` names? Same repository and same key or nested prefix."""
    if a.repo != b.repo:
        return False
    if a.key == b.key:
        return True
    if a.is_dir and b.key.startswith(a.key + "/"):
        return True
    return b.is_dir and a.key.startswith(b.key + "/")


def blocks_deletion(ref: ArtifactRef) -> bool:
    """Does this reference keep its object alive?

    Every undeleted reference does, except outputs whose own GC already let go of them (``kept``
    because they were shared: the last user deletes the object), and outputs of a workflow that
    is itself being deleted and whose strategy would delete them anyway (two workflows deleted
    together must not keep each other's shared objects forever).
    """
    if ref.deleted or ref.kept:
        return False
    return not (ref.workflow_deleting and not ref.is_input and ref.strategy != Strategy.NEVER)


def sharing(target: ArtifactRef, others: Iterable[ArtifactRef], batch: Iterable[ArtifactRef] = ()) -> ArtifactRef | None:
    """The first reference outside ``batch`` that keeps ``target``'s object alive, if any.

    One-off form of :class:`SharingIndex`; to check many targets against the same references,
    build the index once (this scans every reference on each call).
    """
    return SharingIndex(others, batch).holder(target)


class SharingIndex:
    """Answers :func:`sharing` for many targets in O(depth of the key + log N) each.

    A GC task checks each of its N artifacts against every reference in the store; scanning them
    all per artifact made a task quadratic (4,000 artifacts took 7–28 s, bench/gc.py).  The
    references that block deletion are indexed by (repository, key) for equal keys, by
    (repository, prefix) for directory references that contain a key, and as a sorted key list
    per repository for keys nested under a directory target.  Among several holders the one that
    comes first in ``others`` is returned, as the linear scan did.
    """

    def __init__(self, others: Iterable[ArtifactRef], batch: Iterable[ArtifactRef] = ()) -> None:
        skip = {r.ident for r in batch}
        self._exact: dict[tuple[str, str], list[tuple[int, ArtifactRef]]] = {}
        self._dirs: dict[tuple[str, str], list[tuple[int, ArtifactRef]]] = {}
        by_repo: dict[str, list[tuple[str, int, ArtifactRef]]] = {}
        for pos, other in enumerate(others):
            if other.ident in skip or not blocks_deletion(other):
                continue
            entry = (pos, other)
            self._exact.setdefault((other.repo, other.key), []).append(entry)
            if other.is_dir:
                self._dirs.setdefault((other.repo, other.key), []).append(entry)
            by_repo.setdefault(other.repo, []).append((other.key, pos, other))
        self._sorted: dict[str, tuple[list[str], list[tuple[int, ArtifactRef]]]] = {}
        for repo, items in by_repo.items():
            items.sort(key=lambda item: (item[0], item[1]))
            self._sorted[repo] = ([key for key, _, _ in items], [(pos, ref) for _, pos, ref in items])

    def holder(self, target: ArtifactRef) -> ArtifactRef | None:
        """The first indexed reference (other than ``target`` itself) that keeps its object alive."""
        best: tuple[int, ArtifactRef] | None = None

        def consider(entries: Iterable[tuple[int, ArtifactRef]]) -> None:
            nonlocal best
            for entry in entries:
                if entry[1].ident != target.ident and (best is None or entry[0] < best[0]):
                    best = entry
                    break  # entries are in ``others`` order: the first eligible one is the earliest

        repo, key = target.repo, target.key
        consider(self._exact.get((repo, key), ()))
        # directory references that contain the key (``a/b`` is inside a directory ``a``)
        cut = key.rfind("/")
        while cut >= 0:
            consider(self._dirs.get((repo, key[:cut]), ()))
            cut = key.rfind("/", 0, cut)
        if target.is_dir and repo in self._sorted:
            # anything stored under the directory target's prefix: keys in [key + "/", key + "0")
            keys, entries = self._sorted[repo]
            lo = bisect.bisect_left(keys, key + "/")
            hi = bisect.bisect_left(keys, key + "0")  # "0" is the character after "/"
            if lo < hi:
                consider(sorted(entries[lo:hi], key=lambda entry: entry[0]))
        return best[1] if best is not None else None
