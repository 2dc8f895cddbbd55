"""Kubernetes objects as pure functions over dicts: pods for nodes, owner references, patches, conditions.

Nothing here performs I/O, so every rule is table-tested without a cluster (kopf style). The
shapes follow Argo's controller (``workflow/controller/workflowpod.go``) so that ``kubectl`` users
see familiar pods: ``init``/``wait`` executor containers around ``main``, emptyDirs at
``/var/run/argo``, ``/argo/staging`` and ``/argo/inputs/artifacts``, the labels
``workflows.argoproj.io/workflow`` and ``workflows.argoproj.io/completed``, and pod names from
:func:`argosy.pipeline.names.pod_name`.

Argosy's executor containers run ``argosy exec init|wait`` (see :mod:`argosy.pipeline.executors.podexec`);
main's command is wrapped by a POSIX-shell shim (written by init) that records stdout for
``outputs.result``, the exit code, and copies output files to ``/var/run/argo/outputs`` for wait.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import yaml

from argosy.errors import ExecutorError
from argosy.pipeline.executors.base import PodRequest
from argosy.pipeline.names import fnv32a

__all__ = [
    "ANNOTATION_NODE_ID",
    "ANNOTATION_NODE_MESSAGE",
    "ANNOTATION_NODE_NAME",
    "ANNOTATION_OUTPUTS",
    "ANNOTATION_POD_UID",
    "ANNOTATION_SHIM",
    "LABEL_COMPLETED",
    "LABEL_COMPONENT",
    "LABEL_INSTANCE",
    "LABEL_WORKFLOW",
    "PodOutcome",
    "PodSettings",
    "build_pod",
    "combine_result",
    "explain_pending",
    "finalizer_patch",
    "infer_failed",
    "input_artifact_dest",
    "is_deleting",
    "label_selector_matches",
    "label_selector_string",
    "owner_reference",
    "parse_pod_spec_patch",
    "pod_outcome",
    "pod_gc_due_at",
    "pods_to_collect",
    "secret_refs",
    "set_owner_reference",
    "strategic_merge",
    "task_result",
    "ttl_due",
    "ttl_due_at",
]

LABEL_WORKFLOW = "workflows.argoproj.io/workflow"
LABEL_COMPLETED = "workflows.argoproj.io/completed"
LABEL_INSTANCE = "workflows.argoproj.io/controller-instanceid"
LABEL_COMPONENT = "workflows.argoproj.io/component"
LABEL_PHASE = "workflows.argoproj.io/phase"
LABEL_REPORT_COMPLETED = "workflows.argoproj.io/report-outputs-completed"
ANNOTATION_NODE_NAME = "workflows.argoproj.io/node-name"
ANNOTATION_NODE_ID = "workflows.argoproj.io/node-id"
ANNOTATION_OUTPUTS = "workflows.argoproj.io/outputs"
ANNOTATION_NODE_MESSAGE = "workflows.argoproj.io/node-message"
ANNOTATION_POD_UID = "argosy.io/pod-uid"
#: ``"false"`` on a template's (or podMetadata's) annotations: run main's command as is (images without /bin/sh)
ANNOTATION_SHIM = "argosy.io/shim"
ARGO_API_VERSION = "argoproj.io/v1alpha1"

VAR_RUN_ARGO = "/var/run/argo"
STAGING_DIR = "/argo/staging"
SCRIPT_PATH = "/argo/staging/script"
INPUTS_DIR = "/argo/inputs/artifacts"
SECRETS_DIR = "/argo/secret"
MAIN_FS = "/mainctrfs"
SHIM_PATH = "/var/run/argo/argosy-shim"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"

_CONTROLLER_KEYS = ("container", "script", "resource", "containerSet", "data", "http", "plugin")


# ------------------------------------------------------------------------------------ owners


def owner_reference(obj: dict[str, Any], *, controller: bool = True) -> dict[str, Any]:
    """A controller owner reference to ``obj`` (Argo's ``metav1.NewControllerRef``)."""
    meta = obj.get("metadata") or {}
    return {
        "apiVersion": obj.get("apiVersion") or ARGO_API_VERSION,
        "kind": obj.get("kind") or "Workflow",
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def set_owner_reference(obj: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` owned by ``ref`` (added once; a second controller reference is not added)."""
    out = copy.deepcopy(obj)
    refs = out.setdefault("metadata", {}).setdefault("ownerReferences", [])
    if any(r.get("uid") == ref.get("uid") for r in refs):
        return out
    if ref.get("controller") and any(r.get("controller") for r in refs):
        ref = {**ref, "controller": False}
    refs.append(ref)
    return out


# ------------------------------------------------------------------------------------ finalizers and deletion


def is_deleting(obj: dict[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def finalizer_patch(obj: dict[str, Any], *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[dict[str, Any]]:
    """A JSON patch setting the finalizers, guarded by a ``test`` of the resourceVersion.

    The guard makes a concurrent change fail with 422 instead of silently dropping another
    controller's finalizer; the caller re-reads and retries. Empty when nothing changes.
    """
    meta = obj.get("metadata") or {}
    current = list(meta.get("finalizers") or [])
    wanted = [f for f in current if f not in set(remove)]
    wanted += [f for f in add if f not in wanted]
    if wanted == current:
        return []
    ops: list[dict[str, Any]] = []
    if meta.get("resourceVersion"):
        ops.append({"op": "test", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]})
    if "finalizers" in meta:
        ops.append({"op": "replace", "path": "/metadata/finalizers", "value": wanted})
    else:
        ops.append({"op": "add", "path": "/metadata/finalizers", "value": wanted})
    return ops


# ------------------------------------------------------------------------------------ strategic merge

#: list fields merged element-wise by a key, as Kubernetes' strategic merge patch does for pods
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}


def strategic_merge(base: Any, patch: Any, field_name: str | None = None) -> Any:
    """Kubernetes strategic merge for pod-shaped objects: maps merge, keyed lists merge by key.

    Supports ``null`` (delete a key) and the ``$patch: replace|delete`` directives; other lists
    are replaced, as for fields without a patch strategy.
    """
    if isinstance(patch, dict):
        directive = patch.get("$patch")
        if directive == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if directive == "delete":
            return None
        out = copy.deepcopy(base) if isinstance(base, dict) else {}
        for key, value in patch.items():
            if key.startswith("$"):
                continue
            if value is None:
                out.pop(key, None)
                continue
            merged = strategic_merge(out.get(key), value, key)
            if merged is None and isinstance(value, dict) and value.get("$patch") == "delete":
                out.pop(key, None)
            else:
                out[key] = merged
        return out
    if isinstance(patch, list) and field_name in MERGE_KEYS and isinstance(base, list):
        key = MERGE_KEYS[field_name]
        out_list = copy.deepcopy(base)
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                out_list.append(copy.deepcopy(item))
                continue
            idx = next((i for i, cur in enumerate(out_list) if isinstance(cur, dict) and cur.get(key) == item[key]), None)
            if item.get("$patch") == "delete":
                if idx is not None:
                    out_list.pop(idx)
                continue
            if idx is None:
                out_list.append(strategic_merge({}, item))
            else:
                out_list[idx] = strategic_merge(out_list[idx], item)
        return out_list
    return copy.deepcopy(patch)


def parse_pod_spec_patch(text: str | dict[str, Any] | None, where: str = "podSpecPatch") -> dict[str, Any]:
    """``podSpecPatch`` is JSON or YAML text (already templated); an empty patch is ``{}``."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        return text
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ExecutorError(f"Error applying PodSpecPatch: {where} is not valid JSON or YAML: {exc}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise ExecutorError(f"Error applying PodSpecPatch: {where} must be an object, not {type(parsed).__name__}")
    return parsed


# ------------------------------------------------------------------------------------ label selectors


def label_selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """``metav1.LabelSelector`` (matchLabels + matchExpressions); an empty selector matches everything."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        present = key in labels
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and present and labels.get(key) in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def label_selector_string(selector: dict[str, Any] | None) -> str:
    """The ``labelSelector`` query text of a LabelSelector object."""
    parts = [f"{k}={v}" for k, v in sorted(((selector or {}).get("matchLabels") or {}).items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), ",".join(str(v) for v in expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": str(key), "DoesNotExist": f"!{key}"}.get(str(op), ""))
    return ",".join(p for p in parts if p)


# ------------------------------------------------------------------------------------ pods


@dataclass
class PodSettings:
    """How the controller builds pods (the executor image runs ``argosy exec ...``)."""

    image: str = "ghcr.io/argosy/argosy:latest"
    image_pull_policy: str | None = None
    instance_id: str = "argosy"
    #: resources of the init/wait containers
    executor_resources: dict[str, Any] = field(default_factory=lambda: {
        "requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "512Mi"},
    })
    #: wrap main's command with the shell shim (off for images without /bin/sh)
    shim: bool = True
    #: the artifact repository (Argo's ArtifactRepository shape) given to init/wait
    repository: dict[str, Any] | None = None


def template_kind(tmpl: dict[str, Any]) -> str:
    for key in _CONTROLLER_KEYS:
        if tmpl.get(key) is not None:
            return key
    return "unknown"


def secret_refs(value: Any) -> set[str]:
    """Names of every Secret referenced by a SecretKeySelector inside ``value`` (``*Secret`` fields)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("Secret") and isinstance(item, dict) and item.get("name") and "key" in item:
                found.add(str(item["name"]))
            else:
                found |= secret_refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= secret_refs(item)
    return found


def _secret_volume_name(secret: str) -> str:
    base = re.sub(r"[^a-z0-9-]", "-", secret.lower()).strip("-")
    if len(base) <= 50:
        return f"secret-{base}"
    return f"secret-{fnv32a(secret)}"


def input_artifact_dest(path: str, name: str, main_mounts: list[dict[str, Any]]) -> str:
    """Where init writes an input artifact: under a user volume main mounts (seen at ``/mainctrfs``), else the
    ``input-artifacts`` emptyDir that main mounts at ``path`` with ``subPath: name``."""
    for mount in main_mounts:
        mp = str(mount.get("mountPath") or "").rstrip("/")
        if mp and (path == mp or path.startswith(mp + "/")):
            return MAIN_FS + path
    return f"{INPUTS_DIR}/{name}"


def _env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def _field_env(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def _user_container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    drop = {"source", "dependencies", "mirrorVolumeMounts"}
    out = {k: copy.deepcopy(v) for k, v in spec.items() if k not in drop}
    out["name"] = name
    return out


def _merge_volumes(*lists: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for items in lists:
        for vol in items or []:
            out[str(vol.get("name"))] = copy.deepcopy(vol)
    return list(out.values())


def build_pod(
    req: PodRequest,
    workflow: dict[str, Any],
    settings: PodSettings,
    main_argv: list[str] | None = None,
) -> dict[str, Any]:
    """The pod that runs ``req``'s node; ``main_argv`` is main's full argv if known (else the image entrypoint runs unwrapped).

    Raises ExecutorError for template types Argosy cannot run as a pod.
    """
    tmpl = req.template.to_dict()
    kind = template_kind(tmpl)
    if kind not in ("container", "script", "resource"):
        raise ExecutorError(f"{kind} templates are not supported on Kubernetes by argosy yet")
    wmeta = workflow.get("metadata") or {}
    wspec = workflow.get("spec") or {}
    wf_name = str(wmeta.get("name") or req.workflow_name)
    pod_meta = wspec.get("podMetadata") or {}
    tmeta = tmpl.get("metadata") or {}
    labels = {**(pod_meta.get("labels") or {}), **(tmeta.get("labels") or {})}
    labels.update({LABEL_WORKFLOW: wf_name, LABEL_COMPLETED: "false"})
    if settings.instance_id:
        labels[LABEL_INSTANCE] = settings.instance_id
    annotations = {**(pod_meta.get("annotations") or {}), **(tmeta.get("annotations") or {})}
    annotations.update({ANNOTATION_NODE_NAME: req.node_name, ANNOTATION_NODE_ID: req.node_id})

    # ARGO_TEMPLATE carries the processed template with its inputs' resolved locations.
    exec_tmpl = copy.deepcopy(tmpl)
    if req.input_artifacts:
        exec_tmpl.setdefault("inputs", {})["artifacts"] = [a.to_dict() for a in req.input_artifacts]
    secrets = secret_refs(exec_tmpl.get("inputs")) | secret_refs(exec_tmpl.get("outputs"))
    secrets |= secret_refs(exec_tmpl.get("archiveLocation")) | secret_refs(settings.repository)
    if kind == "resource":
        secrets |= secret_refs((exec_tmpl.get("resource") or {}).get("manifestFrom"))
    exec_env = [
        _field_env("ARGO_POD_NAME", "metadata.name"),
        _field_env("ARGO_POD_UID", "metadata.uid"),
        _field_env("ARGO_NAMESPACE", "metadata.namespace"),
        _env("ARGO_WORKFLOW_NAME", wf_name),
        _env("ARGO_WORKFLOW_UID", str(wmeta.get("uid") or req.workflow_uid)),
        _env("ARGO_NODE_ID", req.node_id),
        _env("ARGO_NODE_NAME", req.node_name),
        _env("ARGO_TEMPLATE", json.dumps(exec_tmpl, separators=(",", ":"), sort_keys=True)),
        _env("ARGO_INCLUDE_SCRIPT_OUTPUT", "true" if req.include_result else "false"),
        _env("ARGOSY_OUTPUT_KEY_PREFIX", req.output_key_prefix),
        _env("ARGOSY_ARCHIVE_LOGS", "true" if req.archive_logs else "false"),
        _field_env("ARGOSY_SERVICE_ACCOUNT", "spec.serviceAccountName"),
        _env("ARGOSY_ARTIFACT_REPOSITORY", json.dumps(settings.repository or {}, separators=(",", ":"), sort_keys=True)),
    ]
    secret_mounts = [{"name": _secret_volume_name(s), "mountPath": f"{SECRETS_DIR}/{s}", "readOnly": True} for s in sorted(secrets)]
    volumes: list[dict[str, Any]] = [{"name": "var-run-argo", "emptyDir": {}}]
    volumes += [{"name": _secret_volume_name(s), "secret": {"secretName": s}} for s in sorted(secrets)]
    var_run = {"name": "var-run-argo", "mountPath": VAR_RUN_ARGO}

    def executor_container(name: str, command: list[str], mounts: list[dict[str, Any]]) -> dict[str, Any]:
        c: dict[str, Any] = {
            "name": name, "image": settings.image, "command": command,
            "env": [*copy.deepcopy(exec_env), _env("ARGO_CONTAINER_NAME", name)],
            "volumeMounts": mounts, "terminationMessagePolicy": "FallbackToLogsOnError",
        }
        if settings.executor_resources:
            c["resources"] = copy.deepcopy(settings.executor_resources)
        if settings.image_pull_policy:
            c["imagePullPolicy"] = settings.image_pull_policy
        return c

    init_containers: list[dict[str, Any]] = []
    containers: list[dict[str, Any]] = []
    if kind == "resource":
        main = executor_container("main", ["argosy", "exec", "resource"], [var_run, *secret_mounts])
        containers.append(main)
    else:
        spec = tmpl.get("script") if kind == "script" else tmpl.get("container")
        main = _user_container(spec or {}, "main")
        user_mounts = list(main.get("volumeMounts") or [])
        wrapped = bool(settings.shim and main_argv) and annotations.get(ANNOTATION_SHIM) != "false"
        exec_env.append(_env("ARGOSY_MAIN_WRAPPED", "true" if wrapped else "false"))
        init_mounts: list[dict[str, Any]] = [var_run, *secret_mounts]
        if kind == "script":
            volumes.append({"name": "argo-staging", "emptyDir": {}})
            init_mounts.append({"name": "argo-staging", "mountPath": STAGING_DIR})
            main.setdefault("volumeMounts", []).append({"name": "argo-staging", "mountPath": STAGING_DIR})
        inputs_needed = False
        mirrored: set[str] = set()
        for art in req.input_artifacts:
            if not art.path:
                continue
            dest = input_artifact_dest(art.path, art.name, user_mounts)
            if dest.startswith(MAIN_FS):
                for mount in user_mounts:
                    mp = str(mount.get("mountPath") or "").rstrip("/")
                    if (art.path == mp or art.path.startswith(mp + "/")) and mp not in mirrored:
                        mirrored.add(mp)
                        init_mounts.append({**copy.deepcopy(mount), "mountPath": MAIN_FS + mp, "readOnly": False})
                continue
            inputs_needed = True
            main.setdefault("volumeMounts", []).append({"name": "input-artifacts", "mountPath": art.path, "subPath": art.name})
        if inputs_needed:
            volumes.append({"name": "input-artifacts", "emptyDir": {}})
            init_mounts.append({"name": "input-artifacts", "mountPath": INPUTS_DIR})
        main.setdefault("volumeMounts", []).append(var_run)
        main["env"] = [*(main.get("env") or []), _env("ARGO_CONTAINER_NAME", "main"),
                       _env("ARGO_PROGRESS_FILE", f"{VAR_RUN_ARGO}/progress")]
        if wrapped:
            assert main_argv is not None
            main["command"] = ["/bin/sh", SHIM_PATH, "main", *main_argv]
            main.pop("args", None)
        init_containers.append(executor_container("init", ["argosy", "exec", "init"], init_mounts))
        containers.append(executor_container("wait", ["argosy", "exec", "wait"], [var_run, *secret_mounts]))
        containers.append(main)
        for side in tmpl.get("sidecars") or []:
            c = _user_container(side, str(side.get("name")))
            if side.get("mirrorVolumeMounts"):
                c["volumeMounts"] = [*copy.deepcopy(user_mounts), *(c.get("volumeMounts") or [])]
            if settings.shim and c.get("command"):
                c["command"] = ["/bin/sh", SHIM_PATH, "sidecar", *c["command"], *(c.get("args") or [])]
                c.pop("args", None)
                c.setdefault("volumeMounts", []).append(var_run)
            containers.append(c)
        for user_init in tmpl.get("initContainers") or []:
            c = _user_container(user_init, str(user_init.get("name")))
            if user_init.get("mirrorVolumeMounts"):
                c["volumeMounts"] = [*copy.deepcopy(user_mounts), *(c.get("volumeMounts") or [])]
            init_containers.append(c)

    volumes = _merge_volumes(volumes, wspec.get("volumes"), tmpl.get("volumes"))
    pod_spec: dict[str, Any] = {"restartPolicy": "Never", "containers": containers, "volumes": volumes}
    if init_containers:
        pod_spec["initContainers"] = init_containers
    sa = req.service_account or tmpl.get("serviceAccountName") or wspec.get("serviceAccountName")
    if sa:
        pod_spec["serviceAccountName"] = sa
    automount = tmpl.get("automountServiceAccountToken", wspec.get("automountServiceAccountToken"))
    if automount is not None:
        pod_spec["automountServiceAccountToken"] = automount
    if req.deadline_seconds is not None:
        pod_spec["activeDeadlineSeconds"] = max(1, math.ceil(req.deadline_seconds))
    node_selector = {**(wspec.get("nodeSelector") or {}), **(tmpl.get("nodeSelector") or {})}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    for key, wkey in (("affinity", "affinity"), ("tolerations", "tolerations"), ("securityContext", "securityContext"),
                      ("hostAliases", "hostAliases"), ("schedulerName", "schedulerName"),
                      ("priorityClassName", "podPriorityClassName"), ("priority", "podPriority")):
        value = tmpl.get(key) if tmpl.get(key) is not None else wspec.get(wkey)
        if value is not None:
            pod_spec[key] = copy.deepcopy(value)
    for key in ("imagePullSecrets", "dnsPolicy", "dnsConfig", "hostNetwork"):
        if wspec.get(key) is not None:
            pod_spec[key] = copy.deepcopy(wspec[key])
    for where, text in (("spec.podSpecPatch", wspec.get("podSpecPatch")), (f"templates.{tmpl.get('name')}.podSpecPatch", tmpl.get("podSpecPatch"))):
        patch = parse_pod_spec_patch(text, where)
        if patch:
            pod_spec = strategic_merge(pod_spec, patch)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": req.pod_name,
            "namespace": req.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner_reference(workflow)],
        },
        "spec": pod_spec,
    }
    return pod


# ------------------------------------------------------------------------------------ pod status -> node


@dataclass(frozen=True)
class PodOutcome:
    """A pod's state as the engine needs it: ``done`` with a phase and message, or a pending reason.

    ``source`` says where the message came from: ``pod`` (the pod's own status message: deadline,
    eviction), a container role (``init``, ``main``, ``wait``, ``sidecar``, ``waiting``) or None.
    """

    done: bool
    phase: str | None = None
    message: str | None = None
    exit_code: int | None = None
    pending_reason: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    source: str | None = None


def _statuses(pod: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return list((pod.get("status") or {}).get(key) or [])


def _terminated(cs: dict[str, Any] | None) -> dict[str, Any] | None:
    return ((cs or {}).get("state") or {}).get("terminated")


def _pending_reason(pod: dict[str, Any]) -> str | None:
    """Argo's ``getPendingReason``: a waiting container's reason, else an Unschedulable condition."""
    for cs in _statuses(pod, "initContainerStatuses") + _statuses(pod, "containerStatuses"):
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in (None, "", "PodInitializing", "ContainerCreating"):
            return f"{waiting['reason']}: {waiting['message']}" if waiting.get("message") else str(waiting["reason"])
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("reason") == "Unschedulable":
            return f"{cond['reason']}: {cond['message']}" if cond.get("message") else "Unschedulable"
    return None


def explain_pending(events: list[dict[str, Any]]) -> str:
    """``REASON: message`` for a pod that waits without a reason in its status, from its Warning events:
    the newest reason and, within it, the most repeated message (the kubelet repeats the specific
    ``secret "x" not found`` every few seconds, its generic ``timed out waiting`` every 2 minutes)."""

    def when(e: dict[str, Any]) -> str:
        return str(e.get("lastTimestamp") or e.get("eventTime") or "")

    reason = max(events, key=when).get("reason")
    ev = max((e for e in events if e.get("reason") == reason), key=lambda e: (int(e.get("count") or 1), when(e)))
    return f"{ev.get('reason')}: {ev.get('message')}"


def _order(name: str) -> tuple[int, str]:
    return ({"main": 0, "wait": 1}.get(name, 2), name)


def infer_failed(pod: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """Argo's ``inferFailedReason``: (node phase, message, source) for a pod whose containers ended.

    Preference: the pod's status message (deadline, eviction), then init containers, main, wait,
    sidecars (a sidecar killed with 137/143 after main ended is not a failure).
    """
    status = pod.get("status") or {}
    if status.get("message"):
        return "Failed", str(status["message"]), "pod"
    init_statuses = _statuses(pod, "initContainerStatuses")
    ctrs = init_statuses + sorted(_statuses(pod, "containerStatuses"), key=lambda c: _order(str(c.get("name"))))
    init_names = {c.get("name") for c in init_statuses}
    failed_pod = status.get("phase") == "Failed"
    ended = False
    for cs in ctrs:
        name = str(cs.get("name"))
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting is not None and failed_pod:
            text = f"Pod failed before {name} container starts due to {waiting.get('reason')}"
            if waiting.get("message"):
                text += f": {waiting['message']}"
            return "Error", text, "waiting"
        term = _terminated(cs)
        ended = ended or (term is not None and name not in init_names)
        if term is None or int(term.get("exitCode") or 0) == 0:
            continue
        code = int(term.get("exitCode") or 0)
        msg = f"{term.get('reason') or 'Error'} (exit code {code})"
        if term.get("message"):
            msg = f"{msg}: {str(term['message']).strip()}"
        msg = f"{name}: {msg}"
        if name in init_names:
            return "Error", msg, "init"
        if name == "main":
            return "Failed", msg, "main"
        if name == "wait":
            return "Error", msg, "wait"
        if code in (137, 143):  # sidecars killed after main ended
            continue
        return "Failed", msg, "sidecar"
    if failed_pod and not ended:  # failed with no container outcome to explain it (node lost ...)
        return "Failed", str(status.get("reason") or "pod failed"), "pod"
    # main and wait succeeded; only sidecars ended with 137/143, killed after main: a real kubelet
    # then marks the pod Failed (a non-zero container exit in a restartPolicy Never pod), Argo not.
    return "Succeeded", None, None


def pod_outcome(pod: dict[str, Any]) -> PodOutcome:
    """Whether ``pod``'s node is finished (main and wait ended, or the pod did) and how."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    spec_names = {c.get("name") for c in (pod.get("spec") or {}).get("containers") or []}
    by_name = {c.get("name"): c for c in _statuses(pod, "containerStatuses")}
    main_term = _terminated(by_name.get("main"))
    wait_done = "wait" not in spec_names or _terminated(by_name.get("wait")) is not None
    exit_code = int(main_term.get("exitCode") or 0) if main_term else None
    finished = [str(t["finishedAt"]) for cs in _statuses(pod, "initContainerStatuses") + _statuses(pod, "containerStatuses")
                if (t := _terminated(cs)) and t.get("finishedAt")]
    started = status.get("startTime")
    end = max(finished) if finished else None
    if phase in ("Succeeded", "Failed") or (main_term is not None and wait_done):
        node_phase, message, source = infer_failed(pod)
        return PodOutcome(True, node_phase, message, exit_code, None, started, end, source)
    return PodOutcome(False, pending_reason=_pending_reason(pod), started_at=started)


def combine_result(outcome: PodOutcome, report: dict[str, Any] | None) -> tuple[str, str | None]:
    """The node's phase and message from the pod and what its executor reported.

    A pod-level message (deadline, eviction) wins; then a resource template's own verdict; then
    a failed container; then output problems (Error, as the local executor reports them).
    """
    report = report or {}
    if outcome.source == "pod":
        return outcome.phase or "Failed", outcome.message
    if report.get("phase") in ("Succeeded", "Failed", "Error"):
        return str(report["phase"]), report.get("message") or None
    if outcome.phase != "Succeeded":
        return outcome.phase or "Error", outcome.message
    problems = [str(p) for p in report.get("problems") or []]
    if problems:
        return "Error", "; ".join(problems)
    return "Succeeded", None


def task_result(
    workflow_name: str, node_id: str, outputs: dict[str, Any] | None, *, owner: dict[str, Any] | None = None,
    phase: str | None = None, message: str | None = None, pod_uid: str | None = None,
) -> dict[str, Any]:
    """A ``WorkflowTaskResult`` (Argo's result channel from wait to controller), named after the node."""
    obj: dict[str, Any] = {
        "apiVersion": ARGO_API_VERSION,
        "kind": "WorkflowTaskResult",
        "metadata": {"name": node_id, "labels": {LABEL_WORKFLOW: workflow_name, LABEL_REPORT_COMPLETED: "true"}},
        "outputs": outputs or {},
    }
    if owner:
        obj["metadata"]["ownerReferences"] = [owner]
    if phase:
        obj["phase"] = phase
    if message:
        obj["message"] = message
    if pod_uid:
        obj["metadata"]["annotations"] = {ANNOTATION_POD_UID: pod_uid}
    return obj


# ------------------------------------------------------------------------------------ pod GC and TTL


def _duration(text: str | None) -> float:
    if not text:
        return 0.0
    total, matched = 0.0, False
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(text)):
        matched = True
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    if not matched:
        try:
            return float(text)
        except ValueError:
            raise ExecutorError(f"invalid duration {text!r}") from None
    return total


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def pods_to_collect(workflow: dict[str, Any], pods: list[dict[str, Any]], now: datetime) -> list[str]:
    """Pods ``spec.podGC`` says to delete now (``deleteDelayDuration`` counted from the node/workflow end)."""
    spec = workflow.get("spec") or {}
    status = workflow.get("status") or {}
    gc = spec.get("podGC") or {}
    strategy = gc.get("strategy") or ""
    if not strategy:
        return []
    delay = timedelta(seconds=_duration(gc.get("deleteDelayDuration")))
    wf_phase = status.get("phase")
    wf_done = wf_phase in ("Succeeded", "Failed", "Error")
    nodes = {n.get("id"): n for n in (status.get("nodes") or {}).values()}
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        if not label_selector_matches(gc.get("labelSelector"), meta.get("labels") or {}):
            continue
        node = nodes.get((meta.get("annotations") or {}).get(ANNOTATION_NODE_ID)) or {}
        node_phase = node.get("phase")
        if strategy in ("OnPodCompletion", "OnPodSuccess"):
            if node_phase not in ("Succeeded", "Failed", "Error") or (strategy == "OnPodSuccess" and node_phase != "Succeeded"):
                continue
            end = _parse_time(node.get("finishedAt"))
        elif strategy in ("OnWorkflowCompletion", "OnWorkflowSuccess"):
            if not wf_done or (strategy == "OnWorkflowSuccess" and wf_phase != "Succeeded"):
                continue
            end = _parse_time(status.get("finishedAt"))
        else:
            continue
        if end is not None and now < end + delay:
            continue
        out.append(str(meta.get("name")))
    return out


def ttl_due_at(workflow: dict[str, Any]) -> datetime | None:
    """``spec.ttlStrategy``: when a completed workflow is to be deleted (None: never, or not completed)."""
    ttl = (workflow.get("spec") or {}).get("ttlStrategy") or {}
    status = workflow.get("status") or {}
    phase = status.get("phase")
    finished = _parse_time(status.get("finishedAt"))
    if phase not in ("Succeeded", "Failed", "Error") or finished is None or not ttl:
        return None
    seconds = ttl.get("secondsAfterSuccess") if phase == "Succeeded" else ttl.get("secondsAfterFailure")
    if seconds is None:
        seconds = ttl.get("secondsAfterCompletion")
    return None if seconds is None else finished + timedelta(seconds=int(seconds))


def ttl_due(workflow: dict[str, Any], now: datetime) -> bool:
    """``spec.ttlStrategy``: whether a completed workflow should be deleted now."""
    due = ttl_due_at(workflow)
    return due is not None and now >= due


def pod_gc_due_at(workflow: dict[str, Any]) -> datetime | None:
    """When ``podGC`` with ``deleteDelayDuration`` next has pods to delete after the workflow ended
    (the workflow's end plus the delay; per-pod strategies count from each node's end)."""
    gc = (workflow.get("spec") or {}).get("podGC") or {}
    status = workflow.get("status") or {}
    if not gc.get("strategy") or not gc.get("deleteDelayDuration"):
        return None
    ends = [t for n in (status.get("nodes") or {}).values() if n.get("type") == "Pod" and (t := _parse_time(n.get("finishedAt")))]
    finished = _parse_time(status.get("finishedAt"))
    latest = max([*ends, *([finished] if finished else [])], default=None)
    return None if latest is None else latest + timedelta(seconds=_duration(gc.get("deleteDelayDuration")))
