"""The `conventions` policy pack: naming habits that tools and people rely on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kubelint_svc import defaults
from kubelint_svc.checks.api import Hit, NoParams, RunContext
from kubelint_svc.findings import FieldPath
from kubelint_svc.k8s_syntax import is_int
from kubelint_svc.model import POD_TEMPLATE_PATHS, Resource, container_ports, pod_spec_path, removed


def named_ports(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    if resource.builtin_kind == "Service":
        for index, port in defaults.ports_of(defaults.spec_of(resource.body)):
            if not port.get("name"):
                yield Hit("Service port has no name", ("spec", "ports", index))
        return
    for path, port in container_ports(resource):
        if not port.get("name"):
            yield Hit(f"container port {port.get('containerPort')} has no name", path)


@dataclass(frozen=True)
class ProtocolPrefixes:
    prefixes: list[str]  # port-name prefixes that tell a mesh the protocol (http, grpc, ...)


def port_protocol(resource: Resource, run: RunContext, params: ProtocolPrefixes) -> Iterator[Hit]:
    prefixes = params.prefixes
    for index, port in defaults.ports_of(defaults.spec_of(resource.body)):
        name = port.get("name")
        if port.get("appProtocol"):
            continue
        if isinstance(name, str) and any(name == p or name.startswith(p + "-") for p in prefixes):
            continue
        shown = f"port {name!r}" if name else f"port {port.get('port')}"
        yield Hit(f"{shown} names no protocol: set appProtocol or name it like 'http-…', 'grpc-…', 'tcp-…'",
                  ("spec", "ports", index, "name") if name else ("spec", "ports", index))


@dataclass(frozen=True)
class RecommendedLabels:
    labels: list[str]


def recommended_labels(resource: Resource, run: RunContext, params: RecommendedLabels) -> Iterator[Hit]:
    wanted = params.labels
    places: list[FieldPath] = [("metadata", "labels")]
    if resource.builtin_kind in POD_TEMPLATE_PATHS:
        places = [(*POD_TEMPLATE_PATHS[resource.builtin_kind], "metadata", "labels")]
    elif pod_spec_path(resource) is None and resource.builtin_kind != "Service":
        return
    for path in places:
        labels = resource.get(path)
        labels = labels if isinstance(labels, dict) else {}
        missing = [label for label in wanted if label not in labels]
        if missing:
            where = "pod template" if len(path) > 2 else resource.kind
            yield Hit(f"{where} lacks the recommended label{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                      path)


def headless_target_port(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    """A headless Service's targetPort equal to its port: targetPort defaults to port, and a
    headless Service maps no port anyway (kubectl expose writes it all the same)."""
    spec = defaults.spec_of(resource.body)
    if not defaults.is_headless(spec):
        return
    for index, port in defaults.ports_of(spec):
        target = port.get("targetPort")
        if is_int(target) and target == port.get("port"):
            path = ("spec", "ports", index, "targetPort")
            yield Hit(f"targetPort {target} repeats port: it defaults to port, and a headless Service maps no port",
                      path, fix=removed(path, "remove the targetPort"))
