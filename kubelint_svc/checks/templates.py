"""Files that are templates, not manifests yet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubelint_svc.checks.api import Hit, NoParams, RunContext, header_only
from kubelint_svc.findings import FieldPath
from kubelint_svc.model import Resource
from kubelint_svc.placeholders import PLACEHOLDER, placeholder_note


def _placeholders(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, str):
        match = PLACEHOLDER.search(value)
        if match:
            yield path, match.group(0)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, (*path, index))


# a ConfigMap's or Secret's values are files for other programs (Grafana dashboards with
# `${datasource}`, Alertmanager templates with `{{ .Labels }}`): their braces are not ours to render
_OPAQUE_FIELDS = {"ConfigMap": ("data", "binaryData"), "Secret": ("data", "stringData")}


@header_only
def unrendered_placeholder(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    if not resource.may_hold_placeholders:
        return
    opaque = _OPAQUE_FIELDS.get(resource.kind, ())
    body = {key: value for key, value in resource.body.items() if key not in opaque} if opaque else resource.body
    found = list(_placeholders(body, ()))
    if not found:
        return
    path, first = found[0]
    yield Hit(placeholder_note(first, len(found) - 1), path, at_key=False, about_placeholder=True)
