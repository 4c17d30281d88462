"""Names, namespaces, labels, selectors' label maps and annotations, with the API server's syntax for
each; checked for every object."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubelint_svc.checks.api import Hit, NoParams, RunContext, header_only
from kubelint_svc.findings import FieldPath
from kubelint_svc.k8s_syntax import (
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    label_value,
    qualified_name,
    valid_label_key,
    valid_label_value,
)
from kubelint_svc.model import POD_TEMPLATE_PATHS, Resource

ANNOTATIONS_MAX_BYTES = 256 * 1024
TOPOLOGY_MODE = "service.kubernetes.io/topology-mode"
TOPOLOGY_HINTS = "service.kubernetes.io/topology-aware-hints"
_WORKLOAD_SELECTOR_MAPS = {"ReplicationController": ("spec", "selector")}


NAME = ("metadata", "name")


def _name_to_check(resource: Resource) -> tuple[str | None, Hit | None]:
    """(the name when it is a non-empty string, the Required hit when there is none at all).
    `generateName` stands in for a name: `kubectl create` lets the server pick one."""
    name = resource.get(NAME)
    if name in (None, ""):
        generate = resource.get(("metadata", "generateName"))
        missing = not (isinstance(generate, str) and generate)
        return None, Hit(f"a {resource.kind} needs metadata.name (Required value)", NAME) if missing else None
    return (name if isinstance(name, str) else None), None


@dataclass(frozen=True)
class ServiceNameRules:
    relaxed_since: int  # first minor version accepting a leading digit (RelaxedServiceNameValidation)


def service_name(resource: Resource, run: RunContext, params: ServiceNameRules) -> Iterator[Hit]:

    name, missing = _name_to_check(resource)
    if missing:
        yield missing
    if name is None:
        return
    relaxed = run.minor >= params.relaxed_since
    problem = dns1123_label(name) if relaxed else dns1035_label(name)
    if problem:
        note = ""
        if not relaxed and dns1123_label(name) is None:
            note = f" (names starting with a digit are accepted from Kubernetes 1.{params.relaxed_since})"
        yield Hit(f"Service name {name!r} {problem}{note}", NAME, at_key=False)


@dataclass(frozen=True)
class NameLengths:
    max_length: dict[str, int]  # kind -> limit, for kinds whose names feed into generated names


def workload_name(resource: Resource, run: RunContext, params: NameLengths) -> Iterator[Hit]:

    name, missing = _name_to_check(resource)
    if missing:
        yield missing
    if name is None:
        return
    problem = dns1123_subdomain(name)
    if problem:
        yield Hit(f"{resource.kind} name {name!r} {problem}", NAME, at_key=False)
        return
    limit = params.max_length.get(resource.builtin_kind)
    if limit and len(name) > limit:
        yield Hit(f"{resource.kind} name {name!r} must be no more than {limit} characters", NAME, at_key=False)


@header_only
def namespace(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    value = resource.get(("metadata", "namespace"))
    if isinstance(value, str) and value:
        problem = dns1123_label(value)
        if problem:
            yield Hit(f"namespace {value!r} {problem}", ("metadata", "namespace"), at_key=False)


def _all_valid(labels: Any) -> bool:
    """Is labels a map of valid label keys to valid values (or to what is not a string)? Asked
    of every label map of every object, where the same few labels recur: each key and value
    is judged once (k8s_syntax's memos)."""
    return isinstance(labels, dict) and all(
        isinstance(key, str) and valid_label_key(key) and (not isinstance(value, str) or valid_label_value(value))
        for key, value in labels.items()
    )


def _label_map_hits(labels: Any, path: FieldPath, what: str, server_path: str | None = None) -> Iterator[Hit]:
    if not isinstance(labels, dict):
        return
    quoted = f" (the API server reports it at {server_path})" if server_path else ""
    for key, value in labels.items():
        problem = qualified_name(key)
        if problem:
            yield Hit(f"{what} key {key!r} is not a valid label key: {problem}{quoted}", (*path, key))
        if isinstance(value, str):
            problem = label_value(value)
            if problem:
                yield Hit(f"{what} value {value!r} for {key!r} is not a valid label value: it {problem}{quoted}",
                          (*path, key), at_key=False)


def _label_maps(kind: str) -> tuple[tuple[FieldPath, str, str | None], ...]:
    """(path, what, where the API server reports it) of each label map a built-in kind holds."""
    maps: list[tuple[FieldPath, str, str | None]] = [(("metadata", "labels"), "label", None)]
    if kind == "Service":
        maps.append((("spec", "selector"), "selector", None))
    if kind in _WORKLOAD_SELECTOR_MAPS:
        maps.append((_WORKLOAD_SELECTOR_MAPS[kind], "selector", None))
    elif kind in POD_TEMPLATE_PATHS and kind != "CronJob":
        maps.append((("spec", "selector", "matchLabels"), "selector", None))
    template = POD_TEMPLATE_PATHS.get(kind)
    if template:
        maps.append(((*template, "metadata", "labels"), "pod template label", ".".join(template) + ".labels"))
    return tuple(maps)


# built-in kind ("" for any other) -> its label maps: worked out once a kind, not once an object
_LABEL_MAPS = {kind: _label_maps(kind) for kind in ("", "Service", *_WORKLOAD_SELECTOR_MAPS, *POD_TEMPLATE_PATHS)}


@header_only
def label_syntax(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for path, what, server in _LABEL_MAPS.get(resource.builtin_kind) or _LABEL_MAPS[""]:
        labels = resource.get(path)
        if labels and not _all_valid(labels):
            yield from _label_map_hits(labels, path, what, server)


@header_only
def annotation_syntax(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    annotations = resource.get(("metadata", "annotations"))
    if not isinstance(annotations, dict):
        return
    total = 0
    for key, value in annotations.items():
        problem = qualified_name(key.lower())
        if problem:
            yield Hit(f"annotation key {key!r} is not a valid qualified name: {problem}",
                      ("metadata", "annotations", key))
        total += len(key.encode()) + (len(value.encode()) if isinstance(value, str) else 0)
    if total > ANNOTATIONS_MAX_BYTES:
        yield Hit(f"annotations total {total} bytes, more than the 256 KiB the API server allows (Too long)",
                  ("metadata", "annotations"))


def topology_annotations(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    annotations = resource.get(("metadata", "annotations"))
    if not isinstance(annotations, dict) or TOPOLOGY_MODE not in annotations or TOPOLOGY_HINTS not in annotations:
        return
    mode, hints = annotations[TOPOLOGY_MODE], annotations[TOPOLOGY_HINTS]
    if mode != hints:
        yield Hit(f"{TOPOLOGY_MODE} ({mode!r}) and the deprecated {TOPOLOGY_HINTS} ({hints!r}) must be equal when "
                  f"both are set; drop {TOPOLOGY_HINTS}", ("metadata", "annotations", TOPOLOGY_MODE), at_key=False)
