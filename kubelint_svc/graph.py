"""Graph: how the objects of a finished run are wired (Ingress -> Service -> workload,
StatefulSet -> governing Service, EndpointSlice -> Service), every edge a finding breaks marked
with that finding. Matching is the index's and the checks' own; nothing is worked out twice."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubelint_svc import defaults
from kubelint_svc.checks.api import RunContext
from kubelint_svc.checks.selectors import ingress_backends, selected_pods
from kubelint_svc.findings import FieldPath, Finding, ObjectRef, format_field_path
from kubelint_svc.index import PodSource
from kubelint_svc.model import Resource
from kubelint_svc.units.rendered import RenderedResource

# the rules whose findings say an edge carries no traffic, and the edge kind each breaks
EDGE_RULES = {
    "service-selector-no-match": "selects",
    "service-target-port-undefined": "selects",
    "service-target-port-not-exposed": "selects",
    "service-port-protocol-mismatch": "selects",
    "service-selector-ambiguous": "selects",
    "ingress-backend-service": "routes",
    "statefulset-service-name": "governs",
}
BREAKING_SEVERITIES = ("error", "warning")  # an info is kept on the edge, but does not break it


@dataclass(frozen=True)
class Node:
    id: str  # Kind/namespace/name: stable, and what --focus and the JSON name
    kind: str
    namespace: str
    name: str
    file: str | None = None  # None: named by another object, but not among those read
    line: int | None = None
    ports: tuple[str, ...] = ()  # a workload's container ports, a Service's ports: `http 8080/TCP`

    @property
    def missing(self) -> bool:
        return self.file is None

    def title(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Problem:
    """A finding that breaks (or, an info, doubts) an edge."""

    rule: str
    severity: str
    message: str
    file: str
    line: int
    field: str | None = None  # spec.ports[0].targetPort, as in the finding

    @classmethod
    def of(cls, finding: Finding) -> Problem:
        return cls(finding.rule, finding.severity, finding.message, finding.file, finding.line, finding.field)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # selects | routes | governs | endpoints
    label: str  # `80 → http (8080/TCP)`
    problems: tuple[Problem, ...] = ()

    @property
    def broken(self) -> bool:
        return any(problem.severity in BREAKING_SEVERITIES for problem in self.problems)


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> str:
        known = self.nodes.get(node.id)
        if known is None or (known.missing and not node.missing):
            self.nodes[node.id] = node
        return node.id

    def broken_edges(self) -> list[Edge]:
        return [edge for edge in self.edges if edge.broken]

    def subgraph(self, edges: Iterable[Edge], nodes: Iterable[str] = ()) -> Graph:
        kept = list(edges)
        ids = {*nodes, *(e.source for e in kept), *(e.target for e in kept)}
        return Graph({i: n for i, n in self.nodes.items() if i in ids}, kept)


def _node_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


def _port_text(number: Any, protocol: Any, name: Any = None) -> str:
    text = f"{number}/{protocol}"
    return f"{name} {text}" if isinstance(name, str) and name else text


def _container_ports(source: PodSource) -> list[dict[str, Any]]:
    ports = []
    for container in source.containers():
        declared = container.get("ports")
        ports += [p for p in declared if isinstance(p, dict)] if isinstance(declared, list) else []
    return ports


def _mapping(port: dict[str, Any], container_ports: list[dict[str, Any]]) -> str:
    """`80 → http (8080/TCP)`: a Service port, its targetPort, and the container port it reaches."""
    target, protocol = defaults.effective_target_port(port), defaults.port_protocol(port)
    if isinstance(target, str):
        found = [p for p in container_ports if p.get("name") == target and (p.get("protocol") or "TCP") == protocol]
        reached = f"{found[0].get('containerPort')}/{protocol}" if found else f"?/{protocol}"
        return f"{port.get('port')} → {target} ({reached})"
    declared = any(p.get("containerPort") == target and (p.get("protocol") or "TCP") == protocol
                   for p in container_ports)
    return f"{port.get('port')} → {target}/{protocol}" + ("" if declared or not container_ports else " (?)")


class _Builder:
    def __init__(self, run: RunContext, findings: list[Finding]) -> None:
        self.run = run
        self.index = run.index
        self.graph = Graph()
        self.problems: dict[tuple[str | None, str | None, str | None], list[Finding]] = {}
        for finding in findings:
            if finding.rule in EDGE_RULES and finding.object is not None:
                ref = finding.object
                self.problems.setdefault((ref.kind, ref.namespace, ref.name), []).append(finding)
        # files holding an object of each kind/namespace/name: the same Service in two overlays or
        # two unrelated folders is two objects, each with its own findings and its own node
        self.files: dict[tuple[str | None, str | None, str | None], set[str]] = {}
        for resource in [*run.resources, *run.context_resources]:
            ref = resource.ref()
            self.files.setdefault((ref.kind, ref.namespace, ref.name), set()).add(resource.file)
        self.ids: dict[int, str] = {}  # id(resource) -> its node id

    def findings_of(self, resource: Resource, rules: Iterable[str], field_prefix: str = "") -> tuple[Problem, ...]:
        ref: ObjectRef = resource.ref()
        key = (ref.kind, ref.namespace, ref.name)
        wanted = set(rules)
        found = [f for f in self.problems.get(key, []) if f.rule in wanted and (f.field or "").startswith(field_prefix)]
        if len(self.files.get(key, ())) > 1:  # a finding in another object's file is that object's
            found = [f for f in found if f.file == resource.file or f.file not in self.files[key]]
        return tuple(Problem.of(f) for f in found)

    def node(self, resource: Resource, ports: tuple[str, ...] = ()) -> str:
        known = self.ids.get(id(resource))
        if known is not None:
            return known
        namespace = self.index.namespace_of(resource)
        name = resource.name or "<unnamed>"
        line = resource.position(())[0]
        node_id = _node_id(resource.kind, namespace, name)
        if node_id in self.graph.nodes:  # another object of that kind, namespace and name: drawn apart
            base, count = f"{node_id}@{resource.file}:{line}", 1
            node_id = base
            while node_id in self.graph.nodes:
                count += 1
                node_id = f"{base}#{count}"
        self.ids[id(resource)] = node_id
        return self.graph.add(Node(node_id, resource.kind, namespace, name, resource.file, line, ports))

    def missing(self, kind: str, namespace: str, name: str) -> str:
        """The node of an object named but not read (in the naming object's unit); never merged
        into an object of that name read elsewhere."""
        node_id = _node_id(kind, namespace, name)
        known = self.graph.nodes.get(node_id)
        if known is not None and not known.missing:
            node_id += "@not-read"
        return self.graph.add(Node(node_id, kind, namespace, name))

    def workload(self, source: PodSource) -> str:
        ports = tuple(_port_text(p.get("containerPort"), p.get("protocol") or "TCP", p.get("name"))
                      for p in _container_ports(source))
        return self.node(source.resource, ports)

    def service(self, service: Resource) -> None:
        spec = defaults.spec_of(service.body)
        ports = defaults.ports_of(spec)
        own = self.node(service, tuple(_port_text(p.get("port"), defaults.port_protocol(p), p.get("name"))
                                       for _, p in ports))
        selector = spec.get("selector")
        if not isinstance(selector, dict) or not selector or defaults.service_type(spec) == "ExternalName":
            return
        rules = [rule for rule, kind in EDGE_RULES.items() if kind == "selects"]
        problems = self.findings_of(service, rules)
        sources = selected_pods(service, self.run)
        if not sources:
            shown = ", ".join(f"{k}={v}" for k, v in selector.items())
            namespace = self.index.namespace_of(service)
            target = self.missing("Pods", namespace, shown)
            self.graph.edges.append(Edge(own, target, "selects", "no Pods match", problems))
            return
        for source in sources:
            container_ports = _container_ports(source)
            mappings = {index: _mapping(port, container_ports) for index, port in ports}
            label = ", ".join(mappings.values()) or "no ports"
            # a finding about one Service port breaks the edges to the workloads it does not reach
            own_problems = tuple(p for p in problems if _port_index(p.field) not in mappings
                                 or "?" in mappings[_port_index(p.field) or 0] or len(sources) == 1)
            self.graph.edges.append(Edge(own, self.workload(source), "selects", label, own_problems))

    def ingress(self, ingress: Resource) -> None:
        own = self.node(ingress)
        namespace = self.index.namespace_of(ingress)
        for path, backend in ingress_backends(ingress):
            name = backend.get("name")
            if not isinstance(name, str):
                continue
            given = backend.get("port")
            port: dict[str, Any] = given if isinstance(given, dict) else {}
            port_text = str(port.get("number") if port.get("number") is not None else port.get("name", "?"))
            label = f"{_route(ingress, path)} → {port_text}"
            target = self.index.service(namespace, name, near=ingress)
            target_id = self.node(target) if target is not None else self.missing("Service", namespace, name)
            problems = self.findings_of(ingress, ["ingress-backend-service"], format_field_path(path[:-1]))
            self.graph.edges.append(Edge(own, target_id, "routes", label, problems))

    def statefulset(self, statefulset: Resource) -> None:
        name = statefulset.get(("spec", "serviceName"))
        if not isinstance(name, str) or not name:
            return
        namespace = self.index.namespace_of(statefulset)
        target = self.index.service(namespace, name, near=statefulset)
        target_id = self.node(target) if target is not None else self.missing("Service", namespace, name)
        problems = self.findings_of(statefulset, ["statefulset-service-name"])
        self.graph.edges.append(Edge(self.node(statefulset), target_id, "governs", "serviceName", problems))

    def endpoint_slice(self, resource: Resource) -> None:
        owner = resource.get(("metadata", "labels", "kubernetes.io/service-name"))
        own = self.node(resource)
        if isinstance(owner, str):
            namespace = self.index.namespace_of(resource)
            target = self.index.service(namespace, owner, near=resource)
            if target is not None:
                self.graph.edges.append(Edge(own, self.node(target), "endpoints", "endpoints of"))


_PORT_FIELD = re.compile(r"^spec\.ports\[(\d+)\]")


def _port_index(field_text: str | None) -> int | None:
    """2 for `spec.ports[2].targetPort`; None for a finding about the Service as a whole."""
    found = _PORT_FIELD.match(field_text or "")
    return int(found.group(1)) if found else None


def _route(ingress: Resource, path: FieldPath) -> str:
    """`host/path` of an Ingress backend, `default` for the default backend."""
    if path[:2] == ("spec", "defaultBackend"):
        return "default"
    rule = ingress.get(path[:3])
    entry = ingress.get(path[:6])
    host = rule.get("host") if isinstance(rule, dict) and isinstance(rule.get("host"), str) else "*"
    route = entry.get("path") if isinstance(entry, dict) and isinstance(entry.get("path"), str) else "/"
    return f"{host}{route}"


def _drawn(resource: Resource) -> bool:
    """A chart is drawn as its default values render it: its `ci/` renders are the same objects
    again, installed another way."""
    return not (isinstance(resource, RenderedResource) and resource.values_file is not None)


def build(run: RunContext, findings: list[Finding]) -> Graph:
    """The graph of every object the run read (context files included) and the findings on it."""
    builder = _Builder(run, findings)
    for sources in builder.index.pod_sources.values():  # workloads no Service selects are drawn too
        for source in sources:
            if _drawn(source.resource):
                builder.workload(source)
    resources = [r for r in [*run.resources, *run.context_resources] if not r.is_patch and _drawn(r)]
    for resource in resources:
        if resource.builtin_kind == "Service":
            builder.service(resource)
    for resource in resources:
        kind = resource.builtin_kind
        if kind == "Ingress":
            builder.ingress(resource)
        elif kind == "StatefulSet":
            builder.statefulset(resource)
        elif kind == "EndpointSlice":
            builder.endpoint_slice(resource)
    for customs in builder.index.custom_resources.values():  # an operator's CR may create Pods
        for custom in customs:
            builder.node(custom)
    return builder.graph


def filtered(graph: Graph, namespace: str | None = None, only_broken: bool = False,
             focus: str | None = None) -> Graph:
    """The part of graph in namespace, broken, or connected to focus (`KIND/NAME`)."""
    nodes = dict(graph.nodes)
    edges = list(graph.edges)
    if namespace is not None:
        nodes = {i: n for i, n in nodes.items() if n.namespace == namespace}
        edges = [e for e in edges if e.source in nodes and e.target in nodes]
    if focus is not None:
        kind, _, name = focus.partition("/")
        start = {i for i, n in nodes.items() if n.kind.lower() == kind.lower() and n.name == name}
        neighbours: dict[str, set[str]] = {}
        for edge in edges:
            neighbours.setdefault(edge.source, set()).add(edge.target)
            neighbours.setdefault(edge.target, set()).add(edge.source)
        reached = set(start)
        frontier = list(start)
        while frontier:  # each node and edge once: a chain of thousands stays linear
            following = {n for node_id in frontier for n in neighbours.get(node_id, ()) if n not in reached}
            reached |= following
            frontier = list(following)
        nodes = {i: n for i, n in nodes.items() if i in reached}
        edges = [e for e in edges if e.source in reached and e.target in reached]
    if only_broken:
        edges = [e for e in edges if e.broken]
        ends = {e.source for e in edges} | {e.target for e in edges}
        nodes = {i: n for i, n in nodes.items() if i in ends}
    return Graph(nodes, edges)


def focus_candidates(graph: Graph) -> list[str]:
    return sorted({f"{n.kind.lower()}/{n.name}" for n in graph.nodes.values()})


def sorted_graph(graph: Graph) -> Graph:
    """Nodes and edges in a stable order: by kind, namespace and name."""
    order = {"Ingress": 0, "Service": 1, "EndpointSlice": 2}
    nodes = dict(sorted(graph.nodes.items(), key=lambda item: (order.get(item[1].kind, 3), item[0])))
    position = {node_id: i for i, node_id in enumerate(nodes)}
    edges = sorted(graph.edges, key=lambda e: (position.get(e.source, 0), position.get(e.target, 0), e.label))
    return Graph(nodes, edges)
