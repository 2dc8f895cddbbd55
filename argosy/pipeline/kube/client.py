"""The one place that talks HTTP to the Kubernetes API: client construction and a dict-in/dict-out REST layer.

Everything above this module (pod building, stores, controller) handles plain dicts, kopf style,
so it is testable without a cluster. Requests go through the official ``kubernetes`` client's
``ApiClient`` (kubeconfig, in-cluster service account, TLS, bearer tokens, proxies), but not
through its generated typed APIs: those validate every reply against strict pydantic models,
which is right for callers that want models and wrong for a controller that patches arbitrary
custom resources. ``version()`` does use the typed API, as a cheap end-to-end compatibility check.

Errors::

    KubeError (ArgosyError)           cannot build a client, unknown resource kind
    └── KubeApiError                  the API server answered non-2xx (``status``, ``reason``)
        ├── NotFound                  404
        ├── Conflict                  409 (AlreadyExists and stale resourceVersion alike)
        ├── Forbidden                 403 (RBAC)
        ├── Gone                      410 (a watch's resourceVersion is too old)
        └── Invalid                   422 (and 400/415: the request itself is wrong)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from argosy.errors import ArgosyError

__all__ = [
    "Conflict",
    "api_error",
    "Forbidden",
    "Gone",
    "Invalid",
    "KubeApiError",
    "KubeClient",
    "KubeError",
    "NotFound",
    "ResourceType",
    "resource_type",
]

_SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: seconds to wait for a connection / a normal reply (watches add their own timeout)
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
#: connections kept per API server: a controller has a watch per running workflow plus workers
POOL_SIZE = 64


class KubeError(ArgosyError):
    """Kubernetes could not be used: no configuration, an unknown kind, a broken reply."""


class KubeApiError(KubeError):
    """The API server refused a request; ``message`` is the server's own text."""

    def __init__(self, status: int, reason: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message or reason or f"HTTP {status}")
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body or {}


class NotFound(KubeApiError):
    """404: the object (or the resource type) does not exist."""


class Conflict(KubeApiError):
    """409: already exists, or the update was based on a stale resourceVersion."""


class Forbidden(KubeApiError):
    """403: RBAC denies the request to this identity."""


class Gone(KubeApiError):
    """410: the requested resourceVersion is too old for a watch; relist."""


class Invalid(KubeApiError):
    """400/415/422: the request itself was rejected (validation, unsupported patch type)."""


_BY_STATUS: dict[int, type[KubeApiError]] = {
    400: Invalid, 403: Forbidden, 404: NotFound, 409: Conflict, 410: Gone, 415: Invalid, 422: Invalid,
}


def api_error(status: int, payload: bytes | str | None, reason: str = "") -> KubeApiError:
    """The exception for a non-2xx reply; uses the Status object when the server sent one."""
    body: dict[str, Any] = {}
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else (payload or "")
    try:
        parsed = json.loads(text) if text else {}
        body = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        body = {}
    message = str(body.get("message") or text.strip() or reason)
    cls = _BY_STATUS.get(status, KubeApiError)
    return cls(status, str(body.get("reason") or reason), message, body)


@dataclass(frozen=True)
class ResourceType:
    """Where a kind lives in the REST API (``/api/v1/namespaces/ns/pods`` ...)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The URL path; ``namespace=None`` on a namespaced kind lists across all namespaces."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name, safe='')}"
            if subresource:
                base += f"/{subresource}"
        return base


def _rt(group: str, version: str, plural: str, kind: str, namespaced: bool = True) -> ResourceType:
    return ResourceType(group, version, plural, kind, namespaced)


#: Kinds Argosy uses itself; anything else is found through API discovery.
KNOWN: dict[str, ResourceType] = {
    rt.kind: rt
    for rt in (
        _rt("", "v1", "pods", "Pod"),
        _rt("", "v1", "configmaps", "ConfigMap"),
        _rt("", "v1", "secrets", "Secret"),
        _rt("", "v1", "events", "Event"),
        _rt("", "v1", "serviceaccounts", "ServiceAccount"),
        _rt("", "v1", "namespaces", "Namespace", False),
        _rt("coordination.k8s.io", "v1", "leases", "Lease"),
        _rt("argoproj.io", "v1alpha1", "workflows", "Workflow"),
        _rt("argoproj.io", "v1alpha1", "workflowtemplates", "WorkflowTemplate"),
        _rt("argoproj.io", "v1alpha1", "clusterworkflowtemplates", "ClusterWorkflowTemplate", False),
        _rt("argoproj.io", "v1alpha1", "cronworkflows", "CronWorkflow"),
        _rt("argoproj.io", "v1alpha1", "workflowartifactgctasks", "WorkflowArtifactGCTask"),
        _rt("argoproj.io", "v1alpha1", "workflowtaskresults", "WorkflowTaskResult"),
    )
}


def resource_type(kind: str) -> ResourceType:
    """A kind Argosy knows without discovery (Pod, Workflow, Lease ...)."""
    try:
        return KNOWN[kind]
    except KeyError:
        raise KubeError(f"unknown kind {kind!r}") from None


def _namespace_from_kubeconfig(config_file: str | None, context: str | None) -> str | None:
    from kubernetes import config as kconfig

    try:
        contexts, active = kconfig.list_kube_config_contexts(config_file)
    except Exception:  # an unreadable kubeconfig is reported by load_kube_config below
        return None
    chosen = active
    if context:
        chosen = next((c for c in contexts or [] if c.get("name") == context), active)
    ns = ((chosen or {}).get("context") or {}).get("namespace")
    return str(ns) if ns else None


class KubeClient:
    """Plain-dict REST calls on one API server; thread-safe (urllib3 pools underneath)."""

    def __init__(self, api_client: Any, namespace: str = "default") -> None:
        self.api_client = api_client
        self.namespace = namespace
        self._discovered: dict[tuple[str, str], ResourceType] = {}

    # ------------------------------------------------------------------ construction

    @classmethod
    def connect(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        *,
        in_cluster: bool | None = None,
    ) -> KubeClient:
        """In-cluster service account when running in a pod, else kubeconfig (``$KUBECONFIG``, ``~/.kube/config``).

        ``in_cluster=None`` picks in-cluster only when no kubeconfig was named and
        ``KUBERNETES_SERVICE_HOST`` is set, as client-go does.
        """
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        cfg = kclient.Configuration()
        if in_cluster is None:
            in_cluster = not kubeconfig and not os.environ.get("KUBECONFIG") and bool(
                os.environ.get("KUBERNETES_SERVICE_HOST"))
        try:
            if in_cluster:
                kconfig.load_incluster_config(client_configuration=cfg)
                ns_file = _SA_DIR / "namespace"
                default_ns = ns_file.read_text().strip() if ns_file.exists() else None
            else:
                kconfig.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg)
                default_ns = _namespace_from_kubeconfig(kubeconfig, context)
        except Exception as exc:  # ConfigException, missing files, bad YAML
            where = "the in-cluster service account" if in_cluster else (kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config")
            raise KubeError(f"cannot load the Kubernetes configuration from {where}: {exc}") from None
        cfg.connection_pool_maxsize = max(int(cfg.connection_pool_maxsize or 0), POOL_SIZE)
        return cls(kclient.ApiClient(cfg), namespace or default_ns or "default")

    @classmethod
    def for_url(cls, url: str, token: str | None = None, namespace: str = "default") -> KubeClient:
        """A client for a plain URL and bearer token (tests, port-forwards)."""
        from kubernetes import client as kclient

        cfg = kclient.Configuration()
        cfg.host = url.rstrip("/")
        cfg.connection_pool_maxsize = POOL_SIZE
        if token:
            cfg.api_key = {"BearerToken": token}
            cfg.api_key_prefix = {"BearerToken": "Bearer"}
        return cls(kclient.ApiClient(cfg), namespace)

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    def close(self) -> None:
        self.api_client.close()

    # ------------------------------------------------------------------ raw requests

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        accept: str = "application/json",
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        params = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (query or {}).items() if v is not None]
        headers = {"Accept": accept}
        if body is not None or method in ("POST", "PUT", "PATCH"):
            headers["Content-Type"] = content_type or "application/json"
        request = self.api_client.param_serialize(
            method, path, query_params=params, header_params=headers, body=body, auth_settings=["BearerToken"],
        )
        try:
            return self.api_client.call_api(*request, _request_timeout=timeout or (CONNECT_TIMEOUT, READ_TIMEOUT))
        except Exception as exc:
            from kubernetes.client.exceptions import ApiException

            if isinstance(exc, ApiException):
                raise api_error(int(exc.status or 0), exc.body, str(exc.reason or "")) from None
            raise KubeError(f"cannot reach the Kubernetes API at {self.host}: {exc}") from None

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; the decoded JSON reply (or text for non-JSON replies). Raises KubeApiError."""
        resp = self._send(method, path, **kwargs)
        data = resp.read()
        if not 200 <= resp.status <= 299:
            raise api_error(resp.status, data, str(resp.reason or ""))
        if not data:
            return {}
        ctype = str(resp.getheader("Content-Type") or "")
        if "json" not in ctype and not data.lstrip().startswith((b"{", b"[")):
            return data.decode("utf-8", "replace")
        return json.loads(data)

    # ------------------------------------------------------------------ resources

    def resource_for(self, api_version: str, kind: str) -> ResourceType:
        """Where ``apiVersion``/``kind`` lives, by the known table or API discovery (cached)."""
        known = KNOWN.get(kind)
        if known is not None and known.api_version == api_version:
            return known
        key = (api_version, kind)
        if key in self._discovered:
            return self._discovered[key]
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            listing = self.request("GET", path)
        except NotFound:
            raise KubeError(f'no matches for kind "{kind}" in version "{api_version}"') from None
        for res in listing.get("resources") or []:
            if res.get("kind") == kind and "/" not in str(res.get("name")):
                rt = ResourceType(group, version, str(res["name"]), kind, bool(res.get("namespaced")))
                self._discovered[key] = rt
                return rt
        raise KubeError(f'no matches for kind "{kind}" in version "{api_version}"')

    def _ns(self, rt: ResourceType, namespace: str | None) -> str | None:
        return (namespace or self.namespace) if rt.namespaced else None

    def get(self, rt: ResourceType, name: str, namespace: str | None = None, subresource: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = self.request("GET", rt.path(self._ns(rt, namespace), name, subresource))
        return out

    def list_objects(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """The list object (``items`` and ``metadata.resourceVersion`` for a following watch)."""
        ns = None if all_namespaces else self._ns(rt, namespace)
        out: dict[str, Any] = self.request(
            "GET", rt.path(ns),
            query={"labelSelector": label_selector, "fieldSelector": field_selector, "limit": limit},
        )
        return out

    def create(self, rt: ResourceType, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        ns = self._ns(rt, namespace or (body.get("metadata") or {}).get("namespace"))
        out: dict[str, Any] = self.request("POST", rt.path(ns), body=body)
        return out

    def replace(self, rt: ResourceType, body: dict[str, Any], namespace: str | None = None, subresource: str | None = None) -> dict[str, Any]:
        meta = body.get("metadata") or {}
        ns = self._ns(rt, namespace or meta.get("namespace"))
        out: dict[str, Any] = self.request("PUT", rt.path(ns, meta["name"], subresource), body=body)
        return out

    def patch(
        self,
        rt: ResourceType,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """``patch_type``: ``merge`` (RFC 7386), ``json`` (RFC 6902 list) or ``strategic`` (built-in kinds only)."""
        ctype = {
            "merge": "application/merge-patch+json",
            "json": "application/json-patch+json",
            "strategic": "application/strategic-merge-patch+json",
        }[patch_type]
        out: dict[str, Any] = self.request(
            "PATCH", rt.path(self._ns(rt, namespace), name, subresource), body=patch, content_type=ctype,
        )
        return out

    def delete(
        self,
        rt: ResourceType,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str | None = None,
        grace_seconds: int | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation:
            body["propagationPolicy"] = propagation
        if grace_seconds is not None:
            body["gracePeriodSeconds"] = grace_seconds
        try:
            out: dict[str, Any] = self.request("DELETE", rt.path(self._ns(rt, namespace), name), body=body)
            return out
        except NotFound:
            if missing_ok:
                return None
            raise

    def delete_collection(self, rt: ResourceType, namespace: str | None = None, *, label_selector: str) -> None:
        """DELETE on the collection (``deletecollection``): every object matching ``label_selector``."""
        if not label_selector:
            raise ValueError("delete_collection needs a label selector")
        self.request("DELETE", rt.path(self._ns(rt, namespace)), query={"labelSelector": label_selector},
                     body={"kind": "DeleteOptions", "apiVersion": "v1"})

    def watch(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(type, object) events until the server ends the stream; raises Gone when the version is too old.

        The caller owns reconnecting (with the last seen ``metadata.resourceVersion``).
        """
        from kubernetes.watch.watch import iter_resp_lines

        ns = None if all_namespaces else self._ns(rt, namespace)
        query = {
            "watch": "true",
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "resourceVersion": resource_version,
            "timeoutSeconds": timeout_seconds,
            "allowWatchBookmarks": "true",
        }
        resp = self._send("GET", rt.path(ns), query=query, timeout=(CONNECT_TIMEOUT, timeout_seconds + 30.0))
        raw = resp.response
        drained = False
        try:
            if not 200 <= resp.status <= 299:
                raise api_error(resp.status, raw.read(), str(resp.reason or ""))
            for line in iter_resp_lines(raw):
                if not line:
                    continue
                event = json.loads(line)
                etype, obj = str(event.get("type") or ""), event.get("object") or {}
                if etype == "ERROR":
                    raise api_error(int(obj.get("code") or 500), json.dumps(obj), str(obj.get("reason") or ""))
                yield etype, obj
            drained = True
        finally:
            if drained:
                raw.release_conn()
            else:  # abandoned mid-stream: the connection still carries data, so it must not be reused
                raw.close()

    def log(self, namespace: str, pod: str, container: str | None = None, *, tail_lines: int | None = None) -> str:
        """A container's log as text."""
        resp = self._send(
            "GET", f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/log",
            query={"container": container, "tailLines": tail_lines}, accept="*/*",
        )
        data = resp.read()
        if not 200 <= resp.status <= 299:
            raise api_error(resp.status, data, str(resp.reason or ""))
        return str(data.decode("utf-8", "replace"))

    def version(self) -> dict[str, Any]:
        """``/version`` through the typed client (validates the reply's shape)."""
        from kubernetes import client as kclient

        try:
            info = kclient.VersionApi(self.api_client).get_code()
        except Exception as exc:
            raise KubeError(f"cannot reach the Kubernetes API at {self.host}: {exc}") from None
        return {"gitVersion": info.git_version, "major": info.major, "minor": info.minor, "platform": info.platform}
