"""Containers of Pods and pod templates, as the API server validates them: container names, container
ports (numbers, names, protocols, duplicates), host ports, and the restart policy a template may have."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubelint_svc.checks.api import Hit, NoParams, RunContext
from kubelint_svc.findings import FieldPath
from kubelint_svc.k8s_syntax import (
    PROTOCOLS,
    dns1123_label,
    iana_svc_name,
    is_int,
    port_number,
)
from kubelint_svc.model import Resource, container_ports, containers, pod_spec_path, replaced

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")  # the API server's order


def _protocol(port: dict[str, Any]) -> str | None:
    """The port's protocol after defaulting; None when it is not a string (a schema error)."""
    value = port.get("protocol")
    if value in (None, ""):
        return "TCP"
    return value if isinstance(value, str) else None


def container_names(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    seen: dict[str, FieldPath] = {}
    for path, container in containers(resource, CONTAINER_LISTS):
        name = container.get("name")
        if not isinstance(name, str) or not name:
            continue
        problem = dns1123_label(name)
        if problem:
            yield Hit(f"container name {name!r} {problem}", (*path, "name"), at_key=False)
        if name in seen:
            yield Hit(f"container name {name!r} is already used (Duplicate value); names are unique across "
                      "containers and initContainers", (*path, "name"), at_key=False)
        seen.setdefault(name, path)


def port_numbers(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for path, port in container_ports(resource):
        value = port.get("containerPort")
        if value == 0:
            yield Hit("containerPort is required and may not be 0 (Required value)", (*path, "containerPort"),
                      at_key=False)
        elif is_int(value) and not port_number(value):
            yield Hit(f"containerPort {value} must be between 1 and 65535, inclusive", (*path, "containerPort"),
                      at_key=False)


def port_names(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for container_path, container in containers(resource):
        seen: dict[str, int] = {}
        ports = container.get("ports")
        for index, port in enumerate(ports if isinstance(ports, list) else []):
            name = port.get("name") if isinstance(port, dict) else None
            if not isinstance(name, str) or not name:
                continue
            path = (*container_path, "ports", index, "name")
            problem = iana_svc_name(name)
            if problem:
                yield Hit(f"container port name {name!r} {problem} (container port names are IANA service "
                          "names, stricter than Service port names)", path, at_key=False)
            if name in seen:
                yield Hit(f"container port name {name!r} is already used by ports[{seen[name]}] of this container "
                          "(Duplicate value)", path, at_key=False)
            seen.setdefault(name, index)


def port_protocols(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for path, port in container_ports(resource):
        value = port.get("protocol")
        if isinstance(value, str) and value and value not in PROTOCOLS:
            known = value.upper() in PROTOCOLS
            yield Hit(f"protocol {value!r} is not supported: use TCP, UDP or SCTP (case-sensitive)",
                      (*path, "protocol"), at_key=False, help=(f"did you mean {value.upper()!r}?",) if known else (),
                      fix=replaced((*path, "protocol"), value.upper(), f"set protocol to {value.upper()!r}")
                      if known else None)


def host_ports(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    seen: dict[tuple[str | None, str, int], FieldPath] = {}
    for path, port in container_ports(resource):
        value = port.get("hostPort")
        if not is_int(value) or value == 0:
            continue
        if not port_number(value):
            yield Hit(f"hostPort {value} must be between 1 and 65535, inclusive", (*path, "hostPort"), at_key=False)
            continue
        host_ip = port.get("hostIP") or ""
        if _protocol(port) is None or not isinstance(host_ip, str):
            continue
        key = (_protocol(port), host_ip, value)
        if key in seen:
            yield Hit(f"hostPort {value}/{key[0]} is already used in this pod (Duplicate value)",
                      (*path, "hostPort"), at_key=False)
        seen.setdefault(key, path)


def duplicate_container_ports(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    seen: dict[tuple[int, str | None], FieldPath] = {}
    for path, port in container_ports(resource):
        value = port.get("containerPort")
        if port.get("hostIP") and not port.get("hostPort"):
            yield Hit("hostIP has no effect without hostPort", (*path, "hostIP"))
        if not is_int(value) or _protocol(port) is None:
            continue
        key = (value, _protocol(port))
        if key in seen:
            yield Hit(f"containerPort {value}/{key[1]} is declared twice in this pod (the API server warns: "
                      "duplicate port definition)", (*path, "containerPort"), at_key=False)
        seen.setdefault(key, path)


@dataclass(frozen=True)
class RestartPolicies:
    allowed: dict[str, list[str]]  # kind -> the restart policies its Pod template may have


def restart_policy(resource: Resource, run: RunContext, params: RestartPolicies) -> Iterator[Hit]:
    """A Job's template must name one, since the default Always is refused."""
    allowed = params.allowed.get(resource.builtin_kind)
    base = pod_spec_path(resource)
    if not allowed or base is None or not isinstance(resource.get(base), dict):
        return
    path = (*base, "restartPolicy")
    value = resource.get(path)
    if value in (None, ""):
        if "Always" not in allowed:
            yield Hit(f"a {resource.kind}'s pod template needs restartPolicy {' or '.join(allowed)}: the default "
                      "Always is not allowed (Required value)", path)
    elif isinstance(value, str) and value not in allowed:
        yield Hit(f"restartPolicy {value!r} is not supported for a {resource.kind}: use {' or '.join(allowed)}",
                  path, at_key=False)
