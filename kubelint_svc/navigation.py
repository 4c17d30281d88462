"""Navigation: what the field at a place of a file points at, from a finished run (a Service's
selector to the Pod templates it selects, a targetPort to the container port it reaches, a
StatefulSet's serviceName and an Ingress or HTTPRoute backend to the Service). The matching is
the index's and the checks' own, as the graph's: nothing is worked out twice."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kubelint_svc import defaults
from kubelint_svc.checks.api import RunContext
from kubelint_svc.checks.selectors import ingress_backends, route_backend_refs, selected_pods
from kubelint_svc.findings import FieldPath
from kubelint_svc.index import PodSource
from kubelint_svc.model import Resource

MAX_LISTED = 20  # places a hover lists; the rest are counted


@dataclass(frozen=True)
class Place:
    """A span of a file (as findings name it), 1-based, end column exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Pointed:
    """The field at a place and what it points at: a few lines to show, and where they are."""

    span: Place
    lines: tuple[str, ...]
    places: tuple[Place, ...]


def pointed_at(run: RunContext, is_file: Callable[[str], bool], line: int, column: int,
               shown: Callable[[str], str] = str) -> Pointed | None:
    """What the field at line:column of the file is_file names points at, or None when it is no
    selector, targetPort, serviceName or backend. shown: how a file is named in the lines."""
    for resource in [*run.resources, *run.context_resources]:
        if resource.is_patch or not any(is_file(name) for name in _written_in(resource)):
            continue
        for path, explain in _fields(resource, run, shown):
            span = _key_and_value(resource, path)
            if is_file(span.file) and _holds(span, line, column):
                lines, places = explain()
                return Pointed(span, tuple(lines), tuple(places))
    return None


def _key_and_value(resource: Resource, path: FieldPath) -> Place:
    """From a field's key to the end of its value (a mapping's last entry), when both are
    written in one file."""
    key, value = _place(resource, path), _place(resource, _last_inside(resource, path), at_key=False)
    if value.file != key.file or (value.end_line, value.end_column) < (key.end_line, key.end_column):
        return key
    return Place(key.file, key.line, key.column, value.end_line, value.end_column)


def _last_inside(resource: Resource, path: FieldPath) -> FieldPath:
    """The path of the last scalar written inside path's value (a mapping ends where it does)."""
    value = resource.get(path)
    while isinstance(value, (dict, list)) and value and len(path) < 100:
        if isinstance(value, dict):
            key = next(reversed(value))
            path, value = (*path, key), value[key]
        else:
            path, value = (*path, len(value) - 1), value[-1]
    return path


def _holds(span: Place, line: int, column: int) -> bool:
    if not span.line <= line <= span.end_line:
        return False
    return (line != span.line or column >= span.column) and (line != span.end_line or column <= span.end_column)


Explanation = Callable[[], tuple[list[str], list[Place]]]


def _written_in(resource: Resource) -> list[str]:
    """The files resource's fields may be written in: its own, and for a built object the file
    of its base resource (whose findings name the kustomization)."""
    names = [resource.file]
    built = getattr(resource, "built", None)
    sources = getattr(resource, "sources", None)
    origin = getattr(built, "origin", None)
    if origin is not None and sources is not None:
        names.append(sources.display(origin.file))
    return names


def _place(resource: Resource, path: FieldPath, at_key: bool = True) -> Place:
    return Place(*resource.locate(path, at_key))


def _fields(resource: Resource, run: RunContext, shown: Callable[[str], str]) -> Iterator[tuple[FieldPath,
                                                                                                  Explanation]]:
    """(a field's path, what explains it) for each field of resource that points elsewhere."""
    kind = resource.builtin_kind
    if kind == "Service":
        yield from _service_fields(resource, run, shown)
    elif kind == "StatefulSet":
        name = resource.get(("spec", "serviceName"))
        if isinstance(name, str) and name:
            yield ("spec", "serviceName"), lambda: _service_named(resource, run, name, None, shown)
    elif kind == "Ingress":
        for path, backend in ingress_backends(resource):
            name = backend.get("name")
            if isinstance(name, str):
                port = backend.get("port")
                wanted = port.get("number", port.get("name")) if isinstance(port, dict) else None
                yield from _backend_fields(resource, run, path, name, None, wanted, shown)
    elif resource.kind in ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"):
        for path, ref in route_backend_refs(resource):
            name, namespace = ref.get("name"), ref.get("namespace")
            if isinstance(name, str):
                yield from _backend_fields(resource, run, path, name, namespace if isinstance(namespace, str)
                                           else None, ref.get("port"), shown)


def _backend_fields(resource: Resource, run: RunContext, path: FieldPath, name: str, namespace: str | None,
                    port: Any, shown: Callable[[str], str]) -> Iterator[tuple[FieldPath, Explanation]]:
    yield (*path, "name"), functools.partial(_service_named, resource, run, name, namespace, shown, port)
    yield (*path, "port"), functools.partial(_service_named, resource, run, name, namespace, shown, port, True)


def _service_fields(service: Resource, run: RunContext, shown: Callable[[str], str]
                    ) -> Iterator[tuple[FieldPath, Explanation]]:
    spec = defaults.spec_of(service.body)
    selector = spec.get("selector")
    if isinstance(selector, dict) and selector:
        def selected() -> tuple[list[str], list[Place]]:
            return _selected(service, run, shown)

        yield ("spec", "selector"), selected
        for key in selector:
            yield ("spec", "selector", key), selected
    for index, port in defaults.ports_of(spec):
        if "targetPort" in port:
            yield ("spec", "ports", index, "targetPort"), \
                lambda port=port: _target_port(service, run, port, shown)  # type: ignore[misc]


def _selected(service: Resource, run: RunContext, shown: Callable[[str], str]) -> tuple[list[str], list[Place]]:
    sources = selected_pods(service, run)
    if not sources:
        return ["selects no Pods among the objects read"], []
    places = [_labels_of(source) for source in sources]
    lines = [f"selects the Pods of {len(sources)} workload{'s' if len(sources) > 1 else ''}:"]
    lines += [f"- {source.describe()} ({_where(place, shown)})" for source, place in
              zip(sources[:MAX_LISTED], places, strict=False)]
    if len(sources) > MAX_LISTED:
        lines.append(f"- and {len(sources) - MAX_LISTED} more")
    return lines, places


def _labels_of(source: PodSource) -> Place:
    """Where the Pods' labels are written: the template's (a Pod's own) metadata.labels."""
    return _place(source.resource, (*source.spec_path[:-1], "metadata", "labels"))


def _where(place: Place, shown: Callable[[str], str]) -> str:
    return f"{shown(place.file)}:{place.line}"


def _target_port(service: Resource, run: RunContext, port: dict[str, Any], shown: Callable[[str], str]
                 ) -> tuple[list[str], list[Place]]:
    target, protocol = defaults.effective_target_port(port), defaults.port_protocol(port)
    sources = selected_pods(service, run)
    if not sources:
        return [f"targetPort {target}: the selector matches no Pods among the objects read"], []
    lines, places = [], []
    for source in sources:
        found = _container_port(source, target, protocol)
        if found is None:
            lines.append(f"- {source.describe()}: no container declares {target}/{protocol}")
            continue
        path, container, declared = found
        place = _place(source.resource, path)
        places.append(place)
        name = f" ({declared['name']})" if isinstance(declared.get("name"), str) else ""
        lines.append(f"- {source.describe()}, container {container}: containerPort "
                     f"{declared.get('containerPort')}/{protocol}{name} ({_where(place, shown)})")
    head = f"targetPort {target} reaches:" if places else f"targetPort {target} reaches no declared container port:"
    return [head, *lines[:MAX_LISTED]], places


def _container_port(source: PodSource, target: Any, protocol: str
                    ) -> tuple[FieldPath, str, dict[str, Any]] | None:
    """(path, container name, port) of the container port target names (by name or number, with
    protocol) in the containers a Service reaches (regular ones, sidecar init containers)."""
    for list_name in ("containers", "initContainers"):
        items = source.resource.get((*source.spec_path, list_name))
        for index, container in enumerate(items if isinstance(items, list) else []):
            if not isinstance(container, dict) or (list_name == "initContainers"
                                                   and container.get("restartPolicy") != "Always"):
                continue
            ports = container.get("ports")
            for number, declared in enumerate(ports if isinstance(ports, list) else []):
                if not isinstance(declared, dict) or (declared.get("protocol") or "TCP") != protocol:
                    continue
                key = "name" if isinstance(target, str) else "containerPort"
                if declared.get(key) == target:
                    path = (*source.spec_path, list_name, index, "ports", number, key)
                    return path, str(container.get("name", index)), declared
    return None


def _service_named(resource: Resource, run: RunContext, name: str, namespace: str | None,
                   shown: Callable[[str], str], port: Any = None, to_port: bool = False
                   ) -> tuple[list[str], list[Place]]:
    """The Service a StatefulSet or backend names, and the port a backend names; the place is the
    port's when to_port (the cursor is on the backend's port), else the Service's name."""
    namespace = namespace or run.index.namespace_of(resource)
    service = run.index.service(namespace, name, near=resource)
    if service is None:
        return [f"Service {namespace}/{name} is not among the objects read"], []
    place = _place(service, ("metadata", "name"))
    lines, places = [f"Service {namespace}/{name} ({_where(place, shown)})"], [place]
    spec = defaults.spec_of(service.body)
    if resource.builtin_kind == "StatefulSet":
        lines.append("headless (clusterIP: None)" if defaults.is_headless(spec) else "not headless")
    if port is not None:
        for index, entry in defaults.ports_of(spec):
            if port in (entry.get("port"), entry.get("name")):
                at = _place(service, ("spec", "ports", index, "port"))
                lines.append(f"port {port}: {entry.get('port')}/{defaults.port_protocol(entry)} "
                             f"→ targetPort {defaults.effective_target_port(entry)} ({_where(at, shown)})")
                places = [at] if to_port else places
                break
        else:
            lines.append(f"port {port}: not a port of this Service")
    return lines, places
