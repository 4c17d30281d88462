"""The bundled Kubernetes OpenAPI schema of the selected version, applied to each object."""

from __future__ import annotations

from collections.abc import Iterator

from kubelint_svc.checks.api import Hit, NoParams, RunContext
from kubelint_svc.checks.json_schema import hits_from_errors
from kubelint_svc.model import Resource


def matches_kubernetes_schema(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    if not run.schemas.has_schema(resource.api_version, resource.kind):
        return
    body = resource.body
    if "status" in body:  # the API server ignores status on create and apply: an exported object may keep it
        body = {key: value for key, value in body.items() if key != "status"}
    errors = run.schemas.errors(resource.api_version, resource.kind, body)
    errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
    yield from hits_from_errors(errors, resource.kind)
