"""Expose: the Service `kubectl expose` would create for a workload, worked out offline from the
objects a run read. Follows kubectl's expose command (pkg/cmd/expose, pkg/polymorphichelpers);
where it differs, docs/expose.md says how and why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubelint_svc.model import POD_TEMPLATE_PATHS, Resource
from kubelint_svc.suggestions import closest

# what a user may type before the slash -> the kind; kubectl's names and short names
KIND_NAMES = {
    "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
    "replicaset": "ReplicaSet", "replicasets": "ReplicaSet", "rs": "ReplicaSet",
    "replicationcontroller": "ReplicationController", "replicationcontrollers": "ReplicationController",
    "rc": "ReplicationController",
    "statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
    "daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
    "pod": "Pod", "pods": "Pod", "po": "Pod",
    "service": "Service", "services": "Service", "svc": "Service",
}
EXPOSABLE_KINDS = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Pod", "Service")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
SESSION_AFFINITIES = ("None", "ClientIP")
NAME_LIMIT = 63  # kubectl cuts the default name to a DNS-1035 label's length
_INTEGER = re.compile(r"^[+-]?[0-9]+$")  # what Go's strconv.Atoi accepts


class ExposeError(ValueError):
    """Something the user can fix, in one line (exit code 2)."""


@dataclass(frozen=True)
class ExposeRequest:
    """kubectl expose's flags; None: not given."""

    target: str  # KIND/NAME
    name: str | None = None
    type: str | None = None
    port: str | None = None
    target_port: str | None = None
    protocol: str | None = None
    node_port: int | None = None
    selector: str | None = None
    labels: str | None = None
    cluster_ip: str | None = None
    external_ip: str | None = None
    session_affinity: str | None = None
    namespace: str | None = None  # -n: where to look, and the namespace written
    # targetPort defaults to the port, as kubectl sets it, even when no container declares it
    kubectl_compatible: bool = False


def parse_target(target: str) -> tuple[str, str]:
    """KIND/NAME -> (Kind, name)."""
    kind_text, slash, name = target.partition("/")
    if not slash or not name or not kind_text:
        raise ExposeError(f"{target!r} must be KIND/NAME, e.g. deployment/web")
    kind = KIND_NAMES.get(kind_text.lower())
    if kind is None:
        hint = closest(kind_text.lower(), sorted({k for k in KIND_NAMES if len(k) > 3}))
        raise ExposeError(f"cannot expose a {kind_text!r}: kinds are {', '.join(k.lower() for k in EXPOSABLE_KINDS)}"
                          + (f"; did you mean {hint!r}?" if hint else ""))
    return kind, name


def find_target(resources: list[Resource], request: ExposeRequest, default_namespace: str) -> Resource:
    """The one object KIND/NAME names (in -n's namespace when given); an ExposeError listing the
    workloads found when there is none, asking for -n when there are several."""
    kind, name = parse_target(request.target)

    def namespace_of(resource: Resource) -> str:
        return resource.namespace or default_namespace

    candidates = [r for r in resources if r.builtin_kind in EXPOSABLE_KINDS and r.name and not r.is_patch]
    found = [r for r in candidates if r.builtin_kind == kind and r.name == name
             and (request.namespace is None or namespace_of(r) == request.namespace)]
    if len(found) == 1:
        return found[0]
    if found:
        places = ", ".join(f"{namespace_of(r)} ({r.file}:{r.position(())[0]})" for r in found[:4])
        namespaces = {namespace_of(r) for r in found}
        advice = "choose one with -n NAMESPACE" if len(namespaces) > 1 else "name only the path of the one to expose"
        raise ExposeError(f"{kind} {name} is defined more than once: in {places}; {advice}")
    where = f" in namespace {request.namespace}" if request.namespace else ""
    known = sorted({f"{r.kind.lower()}/{r.name}" for r in candidates
                    if request.namespace is None or namespace_of(r) == request.namespace})
    hint = closest(f"{kind.lower()}/{name}", known)
    listing = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    found_text = f"; found: {listing}" if known else "; no workload or Service was found in the files read"
    return_hint = f"; did you mean {hint!r}?" if hint else ""
    raise ExposeError(f"{kind} {name} not found{where}{return_hint}{found_text}")


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) if not isinstance(v, str) else v for k, v in value.items() if v is not None}


def _go_expressions(expressions: list[Any]) -> str:
    """matchExpressions as Go's %+v prints them in kubectl's message: [{Key:a Operator:In Values:[x y]}]."""
    shown = []
    for each in expressions:
        item: dict[str, Any] = each if isinstance(each, dict) else {}
        values = item.get("values")
        listed = " ".join(str(v) for v in values) if isinstance(values, list) else ""
        shown.append(f"{{Key:{item.get('key', '')} Operator:{item.get('operator', '')} Values:[{listed}]}}")
    return "[" + " ".join(shown) + "]"


def selector_of(resource: Resource) -> dict[str, str]:
    """The Pod selector kubectl reads from the object (MapBasedSelectorForObject)."""
    kind = resource.builtin_kind
    if kind == "Pod":
        labels = _labels(resource.get(("metadata", "labels")))
        if not labels:
            raise ExposeError("the pod has no labels and cannot be exposed")
        return labels
    if kind == "Service":
        selector = resource.get(("spec", "selector"))
        if not isinstance(selector, dict) or not selector:
            raise ExposeError("the service has no pod selector set")
        return _labels(selector)
    template_labels = _labels(resource.get((*POD_TEMPLATE_PATHS[kind], "metadata", "labels")))
    selector = resource.get(("spec", "selector"))
    if kind == "ReplicationController":  # a map; the API server defaults it to the template's labels
        return _labels(selector) or template_labels
    legacy = resource.api_version.startswith("extensions/")
    if not isinstance(selector, dict):
        if legacy and template_labels:  # extensions/v1beta1 fell back to the template's labels
            return template_labels
        raise ExposeError(_no_selector(kind, legacy))
    expressions = selector.get("matchExpressions")
    match_labels = _labels(selector.get("matchLabels"))
    if not legacy and not match_labels:
        raise ExposeError(_no_selector(kind, legacy))
    if isinstance(expressions, list) and expressions:
        raise ExposeError(f'couldn\'t convert expressions - "{_go_expressions(expressions)}" to map-based selector '
                          "format")
    if not match_labels:
        raise ExposeError(_no_selector(kind, legacy))
    return match_labels


def _no_selector(kind: str, legacy: bool) -> str:
    if legacy:
        what = "deployment" if kind == "Deployment" else "replica set"
        return f"the {what} has no labels or selectors and cannot be exposed"
    return f"invalid {kind.lower()}: no selectors, therefore cannot be exposed"


def _pod_ports(resource: Resource) -> list[dict[str, Any]]:
    """(containerPort, protocol) entries of the regular containers, in order; a Service's own ports."""
    return [p for p in _declared_ports(resource) if isinstance(p["port"], int) and not isinstance(p["port"], bool)]


def _declared_ports(resource: Resource) -> list[dict[str, Any]]:
    """Every port entry as written, numbers or not (kubectl could not decode a port that is not one)."""
    if resource.builtin_kind == "Service":
        ports = resource.get(("spec", "ports"))
        return [{"port": p.get("port"), "protocol": p.get("protocol") or "TCP", "name": None}
                for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []
    spec_path = ("spec",) if resource.builtin_kind == "Pod" else (*POD_TEMPLATE_PATHS[resource.builtin_kind], "spec")
    containers = resource.get((*spec_path, "containers"))
    found: list[dict[str, Any]] = []
    for container in containers if isinstance(containers, list) else []:
        ports = container.get("ports") if isinstance(container, dict) else None
        found.extend({"port": port.get("containerPort"), "protocol": port.get("protocol") or "TCP",
                      "name": port.get("name") if isinstance(port.get("name"), str) else None}
                     for port in (ports if isinstance(ports, list) else []) if isinstance(port, dict))
    return found


def parse_labels(text: str, flag: str) -> dict[str, str]:
    """`a=b,c=d` as kubectl parses --selector and --labels."""
    labels = {}
    for item in text.split(","):
        parts = item.split("=")
        if len(parts) != 2:
            raise ExposeError(f"{flag}: unexpected label spec: {item}")
        if not parts[0]:
            raise ExposeError(f"{flag}: unexpected empty label key")
        labels[parts[0]] = parts[1]
    return labels


def _port_number(text: str) -> int:
    if not _INTEGER.match(text) or not 1 <= int(text) <= 65535:
        raise ExposeError(f"--port {text!r} must be a port number from 1 to 65535 (several: 80,443)")
    return int(text)


@dataclass(frozen=True)
class Exposure:
    """The Service to write, and what the user should know about how it differs from kubectl's."""

    service: dict[str, Any]
    notes: tuple[str, ...] = ()


def service_for(resource: Resource, request: ExposeRequest, node_port_range: tuple[int, int]) -> Exposure:
    """The Service kubectl expose would create for resource, as kubectl lays it out; but a
    --port no container declares targets the Pods' declared port, unless kubectl_compatible."""
    _check_flags(request, node_port_range)
    if request.selector:
        selector = parse_labels(request.selector, "--selector")
    else:
        try:
            selector = selector_of(resource)
        except ExposeError as error:
            raise ExposeError(f"couldn't retrieve selectors via --selector flag or introspection: {error}") from None
    name = request.name or (resource.name or "")[:NAME_LIMIT]
    cluster_ip = request.cluster_ip
    if resource.builtin_kind == "StatefulSet" and name == resource.get(("spec", "serviceName")):
        # kubectl refuses StatefulSets; their governing Service must be headless to give Pods DNS names
        if request.type in ("NodePort", "LoadBalancer") or (cluster_ip or "None") != "None":
            raise ExposeError(f"Service {name} is the StatefulSet's governing Service (spec.serviceName), which must "
                              "be headless (clusterIP: None); give this one another --name")
        cluster_ip = "None"
    headless = cluster_ip == "None"
    pod_ports = _pod_ports(resource)
    if request.port:
        numbers = [_port_number(part) for part in request.port.split(",")]
    else:
        numbers = list(dict.fromkeys(p["port"] for p in pod_ports))  # duplicates removed, order kept
        if not numbers and not headless:
            skipped = [repr(p["port"]) for p in _declared_ports(resource) if p not in pod_ports]
            why = f" (ports that are not numbers are not ports: {', '.join(skipped[:3])})" if skipped else ""
            raise ExposeError(f"couldn't find port via --port flag or introspection{why}")
    protocols: dict[int, list[str]] = {}
    for entry in pod_ports:
        listed = protocols.setdefault(entry["port"], [])
        if entry["protocol"] not in listed:  # kubectl lists a repeat twice, and names both ports alike
            listed.append(entry["protocol"])
    ports: list[dict[str, Any]] = []
    for position, number in enumerate(numbers, 1):
        port_name = f"port-{position}" if len(numbers) > 1 else ""
        protocol = request.protocol
        if not protocol:
            found = protocols.get(number, [])
            if len(found) > 1:  # one Service port per protocol of that container port
                ports += [_port(f"port-{position}-{each.lower()}", number, each) for each in found]
                continue
            protocol = found[0] if found else "TCP"
        ports.append(_port(port_name, number, protocol))
    target_port: int | str | None = None
    if request.target_port:
        target = request.target_port
        target_port = int(target) if _INTEGER.match(target) else target
    notes: list[str] = []
    for port in ports:
        port["targetPort"] = target_port if target_port is not None else port["port"]
    if request.port and target_port is None and not request.kubectl_compatible and resource.builtin_kind != "Service":
        notes = [_target_declared_port(port, pod_ports, request.protocol is None) for port in ports
                 if pod_ports and port["port"] not in protocols]
    if request.node_port is not None:
        if len(ports) != 1:
            raise ExposeError(f"--node-port sets one port's nodePort; this Service has {len(ports)} ports")
        ports[0]["nodePort"] = request.node_port
    metadata: dict[str, Any] = {"name": name}
    namespace = request.namespace or resource.namespace
    if namespace:
        metadata["namespace"] = namespace
    labels = parse_labels(request.labels, "--labels") if request.labels else _labels(resource.get(("metadata",
                                                                                                    "labels")))
    if labels:
        metadata["labels"] = labels
    spec: dict[str, Any] = {}
    if ports:
        spec["ports"] = ports
    spec["selector"] = selector
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    if request.type:
        spec["type"] = request.type
    if request.external_ip:
        spec["externalIPs"] = [request.external_ip]
    if request.session_affinity:
        spec["sessionAffinity"] = request.session_affinity
    return Exposure({"kind": "Service", "apiVersion": "v1", "metadata": metadata, "spec": spec}, tuple(notes))


def _target_declared_port(port: dict[str, Any], pod_ports: list[dict[str, Any]], any_protocol: bool) -> str:
    """Points port (a --port no container declares) at the one port the Pods declare: by name
    when it has one, else by number; with several, the one of port's protocol. kubectl would
    target the port itself, which reaches nothing there (the tutorial's port/targetPort slip).
    Returns the note saying so; an ExposeError listing them when there is no one to choose."""
    declared = list({(p["port"], p["name"], p["protocol"]): p for p in pod_ports}.values())
    if len(declared) > 1 or not any_protocol:
        declared = [p for p in declared if p["protocol"] == port["protocol"]]
    if len(declared) != 1:
        listed = ", ".join(_shown_port(p) for p in declared) if declared else "none of protocol " + port["protocol"]
        raise ExposeError(f"--port {port['port']}: no container declares it, and the Pods declare {listed}: choose "
                          "the container port with --target-port (or --kubectl-compatible for kubectl's targetPort, "
                          "the port itself)")
    chosen = declared[0]
    port["targetPort"] = chosen["name"] or chosen["port"]
    port["protocol"] = chosen["protocol"]
    return (f"targetPort: {port['targetPort']} (the Pods' container port {chosen['port']}/{chosen['protocol']}), "
            f"since no container declares port {port['port']}; kubectl expose would write targetPort: {port['port']}, "
            "which reaches no container (--kubectl-compatible writes what kubectl writes)")


def existing_service(service: dict[str, Any], resources: list[Resource], default_namespace: str) -> str | None:
    """A warning when a Service of the written one's name is already defined in its namespace:
    `kubectl expose` fails there (AlreadyExists); it replaces nothing."""
    name, namespace = service["metadata"]["name"], service["metadata"].get("namespace") or default_namespace
    for resource in resources:
        if resource.builtin_kind == "Service" and resource.name == name and not resource.is_patch \
                and (resource.namespace or default_namespace) == namespace:
            return (f"Service {name} is already defined in namespace {namespace} ({resource.file}:"
                    f"{resource.position(())[0]}): kubectl expose would fail with AlreadyExists (services "
                    f"\"{name}\" already exists); give this one another --name, or change that Service")
    return None


def _shown_port(port: dict[str, Any]) -> str:
    return f"{port['name']} {port['port']}/{port['protocol']}" if port["name"] else f"{port['port']}/{port['protocol']}"


def _port(name: str, number: int, protocol: str) -> dict[str, Any]:
    port: dict[str, Any] = {"name": name} if name else {}
    port.update(protocol=protocol, port=number)
    return port


def _check_flags(request: ExposeRequest, node_port_range: tuple[int, int]) -> None:
    if request.type is not None and request.type not in SERVICE_TYPES:
        raise ExposeError(f"--type {request.type!r} must be one of {', '.join(SERVICE_TYPES)}")
    if request.session_affinity is not None and request.session_affinity not in SESSION_AFFINITIES:
        raise ExposeError(f"unknown session affinity: {request.session_affinity}")
    if request.protocol is not None and request.protocol not in ("TCP", "UDP", "SCTP"):
        raise ExposeError(f"--protocol {request.protocol!r} must be TCP, UDP or SCTP")
    if request.node_port is not None:
        low, high = node_port_range
        if request.type not in ("NodePort", "LoadBalancer"):
            raise ExposeError("--node-port needs --type NodePort or LoadBalancer")
        if not low <= request.node_port <= high:
            raise ExposeError(f"--node-port {request.node_port} is outside the node port range {low}-{high} "
                              "(--node-port-range)")
    if request.cluster_ip == "None" and request.type in ("NodePort", "LoadBalancer"):
        raise ExposeError(f"--cluster-ip None makes a headless Service, which cannot be of --type {request.type}")
    if request.target_port is not None and request.target_port == "":
        raise ExposeError("--target-port must not be empty")
