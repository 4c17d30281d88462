"""Services applied together (one file, or one stdin stream): clashes between them."""

from __future__ import annotations

from typing import Iterator

from kubelint_svc import defaults
from kubelint_svc.engine import Hit, RunContext
from kubelint_svc.model import Resource


def _services_of_unit(run: RunContext, unit: str) -> list[Resource]:
    by_unit = run.cache.get("services-by-unit")
    if by_unit is None:
        by_unit = {}
        for resource in run.resources:
            if resource.kind == "Service" and not resource.is_patch:
                by_unit.setdefault(resource.unit, []).append(resource)
        run.cache["services-by-unit"] = by_unit
    return by_unit.get(unit, [])


def _describe(resource: Resource) -> str:
    return f"Service {resource.namespace + '/' if resource.namespace else ''}{resource.name}"


def node_port_conflict(resource: Resource, run: RunContext, params: dict) -> Iterator[Hit]:
    if not defaults.needs_node_ports(defaults.spec_of(resource.body)):
        return
    earlier: dict[int, Resource] = {}
    for other in _services_of_unit(run, resource.unit):
        if other is resource:
            break
        if not defaults.needs_node_ports(defaults.spec_of(other.body)):
            continue
        for _, port in defaults.ports_of(defaults.spec_of(other.body)):
            value = port.get("nodePort")
            if isinstance(value, int) and value:
                earlier.setdefault(value, other)
    for index, port in defaults.ports_of(defaults.spec_of(resource.body)):
        value = port.get("nodePort")
        if isinstance(value, int) and value in earlier:
            first = earlier[value]
            yield Hit(
                f"nodePort {value} is already taken by {_describe(first)} (line {first.position(())[0]}) in the same "
                "apply: the API server answers \"provided port is already allocated\" (node ports are allocated per "
                "number, whatever the protocol)",
                ("spec", "ports", index, "nodePort"),
                at_key=False,
            )


def duplicate_name(resource: Resource, run: RunContext, params: dict) -> Iterator[Hit]:
    if not resource.name:
        return
    key = (resource.namespace or run.default_namespace, resource.name)
    for other in _services_of_unit(run, resource.unit):
        if other is resource:
            return
        if (other.namespace or run.default_namespace, other.name) == key:
            yield Hit(
                f"{_describe(resource)} is defined twice in the same apply (first at line {other.position(())[0]}): "
                "the second silently replaces the first",
                ("metadata", "name"),
                at_key=False,
            )
            return
