"""The OpenAPI 3 document of ``argosy server``, generated from the router so it never drifts."""

from __future__ import annotations

from typing import Any

from argosy import __version__
from argosy.server.app import Route

__all__ = ["openapi_document"]

_OBJ: dict[str, Any] = {"type": "object", "additionalProperties": True}

SCHEMAS: dict[str, Any] = {
    "Workflow": {**_OBJ, "description": "An Argo Workflow (argoproj.io/v1alpha1), with status.nodes when fetched by name",
                 "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                "metadata": _OBJ, "spec": _OBJ, "status": _OBJ}},
    "WorkflowList": {"type": "object", "properties": {
        "metadata": {"type": "object", "properties": {"resourceVersion": {"type": "string"}, "continue": {"type": "string"}}},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}}}},
    "WorkflowCreateRequest": {"type": "object", "required": ["workflow"], "properties": {
        "workflow": {"$ref": "#/components/schemas/Workflow"}, "namespace": {"type": "string"},
        "serverDryRun": {"type": "boolean"}, "createOptions": _OBJ}},
    "WorkflowSubmitRequest": {"type": "object", "required": ["resourceKind", "resourceName"], "properties": {
        "resourceKind": {"type": "string", "enum": ["WorkflowTemplate", "ClusterWorkflowTemplate"]},
        "resourceName": {"type": "string"}, "namespace": {"type": "string"},
        "submitOptions": {"type": "object", "properties": {
            "parameters": {"type": "array", "items": {"type": "string", "description": "NAME=VALUE"}},
            "labels": {"type": "string", "description": "k=v,k2=v2"}, "annotations": {"type": "string"},
            "entryPoint": {"type": "string"}, "generateName": {"type": "string"}, "name": {"type": "string"},
            "serviceAccount": {"type": "string"}, "dryRun": {"type": "boolean"}}}}},
    "WorkflowActionRequest": {"type": "object", "properties": {
        "name": {"type": "string"}, "namespace": {"type": "string"},
        "parameters": {"type": "array", "items": {"type": "string"}, "description": "resubmit: NAME=VALUE overrides"}}},
    "LogEntry": {"type": "object", "description": "One line per JSON object (NDJSON), or SSE data events",
                 "properties": {"result": {"type": "object", "properties": {"content": {"type": "string"}, "podName": {"type": "string"}}}}},
    "WatchEvent": {"type": "object", "properties": {"result": {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["ADDED", "MODIFIED", "DELETED"]}, "object": {"$ref": "#/components/schemas/Workflow"}}}}},
    "EventEntry": {"type": "object", "properties": {"result": _OBJ}},
    "EventList": {"type": "object", "properties": {"items": {"type": "array", "items": _OBJ}}},
    "Template": {**_OBJ, "description": "A WorkflowTemplate or ClusterWorkflowTemplate"},
    "TemplateList": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Template"}}}},
    "Version": {"type": "object", "properties": {"version": {"type": "string"}, "platform": {"type": "string"}}},
    "Info": {"type": "object", "properties": {"authMode": {"type": "string"}, "artifactRepository": {"type": "string"},
                                              "links": {"type": "array", "items": _OBJ}}},
    "UserInfo": {"type": "object", "properties": {"subject": {"type": "string"}, "issuer": {"type": "string"}}},
    "Empty": {"type": "object"},
    "Error": {"type": "object", "properties": {"code": {"type": "integer", "description": "gRPC status code"},
                                               "message": {"type": "string"}}},
}


def _operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"},
         **({"description": "sub-path inside the artifact; may contain '/'"} if route.pattern.endswith("{" + n + "*}") else {})}
        for n in route.names
    ]
    params += [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
               for n, d in route.query]
    op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag],
                          "operationId": f"{route.method.lower()}_{route.pattern.strip('/').replace('/', '_').replace('{', '').replace('}', '').replace('*', '').replace('-', '_')}"}
    if params:
        op["parameters"] = params
    if route.body:
        op["requestBody"] = {"required": route.method == "POST",
                             "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.body}"}}}}
    resp = route.response or "Empty"
    if "/" in resp:
        content: dict[str, Any] = {resp: {"schema": {"type": "string", "format": "binary"}}, "text/html": {"schema": {"type": "string"}}}
    else:
        schema = {"$ref": f"#/components/schemas/{resp}"}
        content = {"application/json": {"schema": schema}}
        if route.streaming:
            content["text/event-stream"] = {"schema": schema}
    error = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    if route.tag == "artifacts":
        responses["206"] = {"description": "Partial content (Range)", "content": content}
        responses["307"] = {"description": "A directory: redirect to its listing (or its index.html)"}
        responses["416"] = error
    responses["400"] = error
    if not route.public:
        responses["401"] = error
        op["security"] = [{"bearer": []}, {"cookie": []}, {}]
    responses["404"] = error
    if route.method != "GET":
        responses["403"] = error
    op["responses"] = responses
    return op


def openapi_document(routes: list[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.pattern.startswith("/static/") or route.pattern == "/":
            continue
        path = route.pattern.replace("*}", "}")
        paths.setdefault(path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Argosy Server API", "version": __version__,
                 "description": "Argo Server's workflow API, served by `argosy server` over the local store. "
                                "With --auth-mode client, send `Authorization: Bearer <token>` (see `argosy auth token`)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "cookie": {"type": "apiKey", "in": "cookie", "name": "authorization"}},
        },
    }
