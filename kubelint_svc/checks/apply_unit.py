"""Services applied together (one file, or one stdin stream): clashes between them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from kubelint_svc import defaults
from kubelint_svc.checks.api import Hit, NoParams, RunContext, cross_object
from kubelint_svc.k8s_syntax import is_int
from kubelint_svc.model import Resource


@dataclass
class _Unit:
    """The first Service of an apply unit to claim each node port and each namespace/name."""

    node_ports: dict[int, Resource] = field(default_factory=dict)
    names: dict[tuple[str, str], Resource] = field(default_factory=dict)


def _units(run: RunContext) -> dict[str, _Unit]:
    """Each apply unit's first claims, made once per run."""
    units: dict[str, _Unit] = {}
    for service in run.resources:
        if service.builtin_kind != "Service" or service.is_patch:
            continue
        unit = units.setdefault(service.unit, _Unit())
        if service.name:
            unit.names.setdefault((service.namespace or run.default_namespace, service.name), service)
        spec = defaults.spec_of(service.body)
        if defaults.needs_node_ports(spec):
            for _, port in defaults.ports_of(spec):
                value = port.get("nodePort")
                if is_int(value) and value:
                    unit.node_ports.setdefault(value, service)
    return units


def _unit_of(resource: Resource, run: RunContext) -> _Unit | None:
    return run.once(_units).get(resource.unit)


def _describe(resource: Resource) -> str:
    return f"Service {resource.namespace + '/' if resource.namespace else ''}{resource.name}"


def _place(first: Resource, resource: Resource) -> str:
    """Where first is, seen from resource: `line 3` in the same file, `path:3` in another of the apply."""
    line = first.position(())[0]
    return f"line {line}" if first.file == resource.file else f"{first.file}:{line}"


@cross_object
def node_port_conflict(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    if not defaults.needs_node_ports(defaults.spec_of(resource.body)):
        return
    unit = _unit_of(resource, run)
    for index, port in defaults.ports_of(defaults.spec_of(resource.body)):
        value = port.get("nodePort")
        first = unit.node_ports.get(value) if unit is not None and is_int(value) else None
        if first is not None and first is not resource:
            yield Hit(
                f"nodePort {value} is already taken by {_describe(first)} ({_place(first, resource)}) in the same "
                "apply: the API server answers \"provided port is already allocated\" (node ports are allocated per "
                "number, whatever the protocol)",
                ("spec", "ports", index, "nodePort"),
                at_key=False,
            )


@cross_object
def duplicate_name(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    name, unit = resource.name, _unit_of(resource, run)
    if not name or unit is None:
        return
    first = unit.names.get((resource.namespace or run.default_namespace, name))
    if first is not None and first is not resource:
        yield Hit(
            f"{_describe(resource)} is defined twice in the same apply (first at {_place(first, resource)}): "
            "the second silently replaces the first",
            ("metadata", "name"),
            at_key=False,
        )
