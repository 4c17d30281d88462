"""A Service's ports, as the API server validates them: required ports, names, numbers, protocols,
duplicates, targetPorts, appProtocols, and nodePorts (where allowed, unique, inside the range)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubelint_svc import defaults
from kubelint_svc.checks.api import Hit, NoParams, RunContext, cross_object
from kubelint_svc.k8s_syntax import (
    PROTOCOLS,
    dns1123_label,
    iana_svc_name,
    is_int,
    port_number,
    qualified_name,
)
from kubelint_svc.model import Resource, removed, replaced


def _ports(resource: Resource) -> list[tuple[int, dict[str, Any]]]:
    return defaults.ports_of(defaults.spec_of(resource.body))


def _named_numbers(resource: Resource, spec: dict[str, Any], run: RunContext, name: str) -> set[Any]:
    """The container port numbers a named targetPort resolves to in the Pods the Service selects."""
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector or not all(isinstance(v, str) for v in selector.values()):
        return set()
    selected = run.index.pods_serving(resource, {str(k): v for k, v in selector.items()},
                                      run.index.namespace_of(resource))
    numbers = set()
    for source in selected:
        for container in source.containers():
            ports = container.get("ports")
            for port in ports if isinstance(ports, list) else []:
                if isinstance(port, dict) and port.get("name") == name:
                    numbers.add(port.get("containerPort"))
    return numbers


def ports_required(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = defaults.spec_of(resource.body)
    kind = defaults.service_type(spec)
    if kind == "ExternalName" or defaults.is_headless(spec):
        return
    ports = spec.get("ports")
    if ports is None or (isinstance(ports, list) and not ports):
        yield Hit(f"a {kind} Service needs at least one port (spec.ports: Required value)", ("spec", "ports"))


def port_names(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    ports = _ports(resource)
    seen: dict[str, int] = {}
    for index, port in ports:
        name = port.get("name")
        path = ("spec", "ports", index, "name")
        if name in (None, ""):
            if len(ports) > 1:
                yield Hit(
                    "every port needs a name when a Service has more than one "
                    f"(spec.ports[{index}].name: Required value)",
                    path,
                )
            continue
        if not isinstance(name, str):
            continue
        problem = dns1123_label(name)
        if problem:
            yield Hit(f"port name {name!r} {problem}", path, at_key=False)
        if name in seen:
            yield Hit(f"port name {name!r} is already used by spec.ports[{seen[name]}] (Duplicate value)", path,
                      at_key=False)
        else:
            seen[name] = index


def port_numbers(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for index, port in _ports(resource):
        value = port.get("port")
        if is_int(value) and not port_number(value):
            yield Hit(f"port {value} must be between 1 and 65535, inclusive", ("spec", "ports", index, "port"),
                      at_key=False)


def port_protocols(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for index, port in _ports(resource):
        value = port.get("protocol")
        if isinstance(value, str) and value and value not in PROTOCOLS:
            path = ("spec", "ports", index, "protocol")
            yield Hit(
                f"protocol {value!r} is not supported: use TCP, UDP or SCTP (case-sensitive)",
                path,
                at_key=False,
                help=(f"did you mean {value.upper()!r}?",) if value.upper() in PROTOCOLS else (),
                fix=replaced(path, value.upper(), f"set protocol to {value.upper()!r}")
                if value.upper() in PROTOCOLS else None,
            )


def duplicate_ports(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    seen: dict[tuple[int, str], int] = {}
    for index, port in _ports(resource):
        number, protocol = port.get("port"), defaults.port_protocol(port)
        if not is_int(number) or not isinstance(protocol, str):
            continue
        key = (number, protocol)
        if key in seen:
            yield Hit(
                f"port {number}/{protocol} is already defined by spec.ports[{seen[key]}] "
                f"(spec.ports[{index}]: Duplicate value); a protocol left out defaults to TCP",
                ("spec", "ports", index),
            )
        else:
            seen[key] = index


def target_ports(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for index, port in _ports(resource):
        value = port.get("targetPort")
        path = ("spec", "ports", index, "targetPort")
        if value is None or value in (0, "") or isinstance(value, bool):
            continue  # absent, 0 and "" are defaulted to `port`
        if is_int(value) and not port_number(value):
            yield Hit(f"targetPort {value} must be between 1 and 65535, inclusive", path, at_key=False)
        elif isinstance(value, str):
            problem = iana_svc_name(value)
            number = int(value) if value.isascii() and value.isdigit() and len(value) <= 5 else None
            if problem:  # a number in quotes is a name to the API server, and no name is all digits
                yield Hit(f"targetPort {value!r} is not a valid port name: it {problem}", path, at_key=False,
                          fix=replaced(path, number, f"write targetPort {number} unquoted")
                          if number and port_number(number) else None)


def app_protocols(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    for index, port in _ports(resource):
        value = port.get("appProtocol")
        if isinstance(value, str):
            problem = qualified_name(value)
            if problem:
                yield Hit(
                    f"appProtocol {value!r} is not a qualified name ({problem}); use e.g. 'http', "
                    "'kubernetes.io/h2c' or 'example.com/proto'",
                    ("spec", "ports", index, "appProtocol"),
                    at_key=False,
                )


def node_port_forbidden(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = defaults.spec_of(resource.body)
    if defaults.service_type(spec) != "ClusterIP":
        return
    written = "" if spec.get("type") else " (the default type)"
    for index, port in _ports(resource):
        value = port.get("nodePort")
        if is_int(value) and value != 0:
            yield Hit(
                f"nodePort may not be used when type is 'ClusterIP'{written}; "
                "use type NodePort or LoadBalancer, or remove it (Forbidden)",
                ("spec", "ports", index, "nodePort"),
            )


def duplicate_node_ports(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = defaults.spec_of(resource.body)
    allocates = defaults.needs_node_ports(spec)
    by_protocol: dict[tuple[int, str], int] = {}
    by_number: dict[int, tuple[int, object]] = {}
    for index, port in _ports(resource):
        value, protocol = port.get("nodePort"), defaults.port_protocol(port)
        if not is_int(value) or value == 0 or not isinstance(protocol, str):
            continue
        path = ("spec", "ports", index, "nodePort")
        if (value, protocol) in by_protocol:
            yield Hit(
                f"nodePort {value}/{protocol} is already used by spec.ports[{by_protocol[(value, protocol)]}] "
                "(Duplicate value)",
                path,
                at_key=False,
            )
            continue
        by_protocol[(value, protocol)] = index
        first = by_number.get(value)
        if allocates and first is not None and first[1] != port.get("port"):
            # one nodePort is reserved per service port number: only ports sharing `port` may share it
            yield Hit(
                f"nodePort {value} is also requested by spec.ports[{first[0]}] for another port number; "
                "the API server answers \"provided port is already allocated\"",
                path,
                at_key=False,
            )
        by_number.setdefault(value, (index, port.get("port")))


def node_port_range(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = defaults.spec_of(resource.body)
    if not defaults.needs_node_ports(spec):
        return
    low, high = run.node_port_range
    for index, port in _ports(resource):
        value = port.get("nodePort")
        if is_int(value) and value != 0 and not low <= value <= high:
            yield Hit(
                f"nodePort {value} is outside the node port range {low}-{high}: the API server answers "
                f"\"provided port is not in the valid range\" (set --node-port-range if your cluster differs)",
                ("spec", "ports", index, "nodePort"),
                at_key=False,
                fix=removed(("spec", "ports", index, "nodePort"), "remove nodePort (the API server allocates one)"),
            )


def port_in_node_port_range(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    """A ClusterIP Service whose `port` looks like a nodePort: the common confusion of the two."""
    spec = defaults.spec_of(resource.body)
    if defaults.service_type(spec) != "ClusterIP":
        return
    low, high = run.node_port_range
    for index, port in _ports(resource):
        value = port.get("port")
        if is_int(value) and low <= value <= high and port.get("nodePort") in (None, 0):
            yield Hit(
                f"port {value} lies in the node port range {low}-{high}, but on a ClusterIP Service `port` is "
                "only the cluster-internal port: nothing opens on the nodes. For a port on every node, use "
                "`type: NodePort` and set `nodePort` (`port` can then be the usual 80)",
                ("spec", "ports", index, "port"),
                at_key=False,
            )


@cross_object  # a named targetPort is judged by the number the selected Pods give it
def headless_target_port(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = defaults.spec_of(resource.body)
    if not defaults.is_headless(spec):
        return
    for index, port in _ports(resource):
        target = port.get("targetPort")
        if isinstance(target, str) and _named_numbers(resource, spec, run, target) == {port.get("port")}:
            continue  # the name resolves to the port's own number: no mapping was asked for
        if target not in (None, 0, "") and target != port.get("port"):
            yield Hit(
                f"targetPort {target!r} differs from port {port.get('port')!r}: a headless Service does no "
                "port mapping, clients connect to the Pods' own ports",
                ("spec", "ports", index, "targetPort"),
                at_key=False,
            )
