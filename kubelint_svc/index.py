"""Index: every object of a run (linted files, stdin and context paths), looked up by
namespace, kind, name and labels. Selector matching lives here."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kubelint_svc import defaults
from kubelint_svc.kinds import KNOWN_POD_TEMPLATE_KINDS, PodTemplateKind, is_builtin_group
from kubelint_svc.model import POD_TEMPLATE_PATHS, Resource
from kubelint_svc.targets import TARGET_KINDS, plain_folder, target_roots

# custom resources that route, watch or certify traffic but never run Pods of their own
NON_WORKLOAD_CUSTOM_KINDS = {
    "ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "PodMonitoring", "ClusterPodMonitoring",
    "Gateway", "GatewayClass", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute", "ReferenceGrant",
    "VirtualService", "DestinationRule", "ServiceEntry", "Sidecar", "PeerAuthentication", "AuthorizationPolicy",
    "RequestAuthentication", "Telemetry", "EnvoyFilter", "Certificate", "Issuer", "ClusterIssuer",
    "ManagedCertificate", "FrontendConfig", "BackendConfig", "InferencePool", "InferenceModel",
}
# where the control plane runs as static Pods, labelled `component: <name>` (kubeadm)
CONTROL_PLANE_COMPONENTS = {"kube-apiserver", "kube-scheduler", "kube-controller-manager", "etcd"}


# What the index reads whole: Pods and what makes them, Services and their endpoints. Of any
# other object it reads the header only (apiVersion, kind, metadata: custom resources near a
# Service); objects of built-in groups that no rule reads are not needed at all.
INDEX_KINDS = frozenset({*POD_TEMPLATE_PATHS, "Pod", "Service", "Endpoints", "EndpointSlice", *TARGET_KINDS})


def is_custom_resource(resource: Resource) -> bool:
    return not is_builtin_group(resource.api_version)


@dataclass
class PodSource:
    """Pods that one object creates: a workload's template, or a bare Pod."""

    resource: Resource
    namespace: str
    labels: dict[str, str]
    spec_path: tuple[str, ...]
    # labels the controller adds to each Pod: key -> does this value occur?
    generated: dict[str, Callable[[str], bool]] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.resource.kind} {self.resource.name or '<unnamed>'}"

    def containers(self) -> list[dict[str, Any]]:
        """Containers whose ports a Service can reach: regular ones and sidecar init containers."""
        spec = self.resource.get(self.spec_path)
        if not isinstance(spec, dict):
            return []
        regular, init = spec.get("containers"), spec.get("initContainers")
        found = [c for c in regular if isinstance(c, dict)] if isinstance(regular, list) else []
        if isinstance(init, list):
            found += [c for c in init if isinstance(c, dict) and c.get("restartPolicy") == "Always"]
        return found

    @cached_property
    def declared_ports(self) -> list[tuple[object, object, str]]:
        """(name, containerPort, protocol) of every port the Pods declare: read once, for every
        Service selecting them and each of its rules on targetPorts."""
        found = []
        for container in self.containers():
            ports = container.get("ports")
            for port in ports if isinstance(ports, list) else []:
                if isinstance(port, dict):
                    protocol = port.get("protocol") or "TCP"
                    if isinstance(protocol, str):  # anything else is a schema error, reported there
                        found.append((port.get("name"), port.get("containerPort"), protocol))
        return found

    def label_for(self, key: str, value: str) -> bool:
        if self.labels.get(key) == value:
            return True
        check = self.generated.get(key)
        return check is not None and check(value)


def service_selector(service: Resource) -> dict[str, str]:
    """The labels a Service selects its Pods by (an ExternalName Service selects none)."""
    spec = defaults.spec_of(service.body)
    selector = spec.get("selector")
    if defaults.service_type(spec) == "ExternalName" or not isinstance(selector, dict):
        return {}
    return {str(k): v for k, v in selector.items() if isinstance(v, str)}


def _strings(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict):
        return {}
    return {str(k): v for k, v in mapping.items() if isinstance(v, str)}


def _generated_labels(resource: Resource) -> dict[str, Callable[[str], bool]]:
    name = resource.name or ""
    kind = resource.kind
    generated: dict[str, Callable[[str], bool]] = {}
    if kind == "Job":
        generated["job-name"] = generated["batch.kubernetes.io/job-name"] = lambda v: v == name
    elif kind == "CronJob":  # its Jobs are named <cronjob>-<scheduled time>
        generated["job-name"] = generated["batch.kubernetes.io/job-name"] = lambda v: v.startswith(name + "-")
    elif kind == "StatefulSet":
        replicas = resource.get(("spec", "replicas"))
        count = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 0 else 1
        generated["statefulset.kubernetes.io/pod-name"] = lambda v: _ordinal(v, name) < count
        generated["apps.kubernetes.io/pod-index"] = lambda v: v.isdigit() and int(v) < count
    if kind in ("Deployment",):
        generated["pod-template-hash"] = lambda v: True
    if kind in ("StatefulSet", "DaemonSet"):
        generated["controller-revision-hash"] = lambda v: True
    if kind in ("Job", "CronJob"):
        generated["controller-uid"] = generated["batch.kubernetes.io/controller-uid"] = lambda v: True
    return generated


def _ordinal(pod_name: str, statefulset: str) -> float:
    """The ordinal of a StatefulSet Pod named `<statefulset>-<ordinal>`, or infinity."""
    prefix, _, number = pod_name.rpartition("-")
    if prefix != statefulset or not number.isdigit() or len(number) > 9 or (number.startswith("0") and number != "0"):
        return float("inf")
    return int(number)


CONTROLLER_LABEL_KEYS = {
    "job-name", "batch.kubernetes.io/job-name", "controller-uid", "batch.kubernetes.io/controller-uid",
    "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index", "pod-template-hash",
    "controller-revision-hash",
}


class Index:
    """Every object of a run, and the unit each is applied with: a Service's candidate Pods are
    those of its kustomize build or Helm render; for plain files, those under the nearest
    enclosing folder that holds workloads of its namespace; always with the context files."""

    def __init__(
        self, resources: list[Resource], default_namespace: str, context: list[Resource] | None = None,
        pod_templates: tuple[PodTemplateKind, ...] = (), known_roots: frozenset[str] = frozenset(),
    ) -> None:
        self.default_namespace = default_namespace
        # folders that are deploy targets of their own (targets.py): a plain file's scope is the nearest
        self._roots = target_roots([*resources, *(context or [])], known_roots)
        self._scope_roots: dict[str, str] = {}  # folder -> its scope
        # custom kinds whose Pods are read from their template, by (group, kind)
        self._pod_kinds = {(k.group, k.kind): k for k in (*KNOWN_POD_TEMPLATE_KINDS, *pod_templates)}
        self._added_keys: set[str] = set()  # labels such a controller adds, on Pods of this run
        self._context = {id(resource) for resource in context or []}
        # (namespace, unit scope or folder ancestor) -> Pod sources applied with it
        self._subtree: dict[tuple[str, str], list[PodSource]] = {}
        self._scoped_any: dict[str, list[PodSource]] = {}  # unit scope or folder ancestor -> any namespace
        self._context_pods: dict[str, list[PodSource]] = {}
        self._unit_members: dict[tuple[str, str], set[int]] = {}  # ids of the Pod sources of a scope
        self._unit_pods: dict[tuple[str, str], list[PodSource]] = {}
        self.pod_sources: dict[str, list[PodSource]] = {}
        self.hook_pods: dict[str, list[PodSource]] = {}  # Helm hooks' Pods: no Service selects them for long
        self.services: dict[tuple[str, str], list[Resource]] = {}
        self.endpoints: set[tuple[str, str]] = set()
        self.custom_resources: dict[str, list[Resource]] = {}
        self.label_prefixes: set[str] = set()  # `prefix` of every prefixed label key some workload sets
        # (namespace, key, value) -> Pod sources whose template sets that label
        self._by_label: dict[tuple[str, str, str], list[PodSource]] = {}
        self._selected: dict[tuple[str, tuple[tuple[str, str], ...]], list[PodSource]] = {}
        # (namespace, selector, scope) -> its matches there; (namespace, selector) -> each match's place
        self._selected_in_unit: dict[tuple[str, tuple[tuple[str, str], ...], str], _Selected] = {}
        self._ranks: dict[tuple[str, tuple[tuple[str, str], ...]], dict[int, int]] = {}
        self._by_key: dict[tuple[str, str], list[PodSource]] = {}  # (namespace, label key)
        self._near: dict[tuple[str, str], list[PodSource]] = {}  # (namespace, folder)
        self._custom_near: dict[tuple[str, str], list[Resource]] = {}
        self._selections: dict[int, Selection] = {}  # id of a Service -> what it selects
        for resource in [*resources, *(context or [])]:
            if resource.is_patch:
                continue
            namespace = self.namespace_of(resource)
            custom = self._pod_kinds.get((resource.group, resource.kind))
            source = _pod_source(resource, namespace, custom)
            if source is not None and is_helm_hook(resource):  # exists only while its hook runs
                self.hook_pods.setdefault(namespace, []).append(source)
                source = None
            if custom is not None and source is not None:
                self._added_keys.update(source.generated)
            if source is not None:
                self.pod_sources.setdefault(namespace, []).append(source)
                if id(resource) in self._context:  # surroundings: in every unit that finds none nearer
                    self._context_pods.setdefault(namespace, []).append(source)
                for scope in _scopes(resource):
                    self._subtree.setdefault((namespace, scope), []).append(source)
                    self._scoped_any.setdefault(scope, []).append(source)
                self.label_prefixes.update(key.rpartition("/")[0] for key in source.labels if "/" in key)
                for key, value in source.labels.items():
                    self._by_label.setdefault((namespace, key, value), []).append(source)
                    self._by_key.setdefault((namespace, key), []).append(source)
                self._near.setdefault((namespace, _folder(resource)), []).append(source)
            kind = resource.builtin_kind  # a Knative Service is no Service: a custom resource
            if kind == "Service" and resource.name:
                self.services.setdefault((namespace, resource.name), []).append(resource)
            elif kind == "Endpoints" and resource.name:
                self.endpoints.add((namespace, resource.name))
            elif kind == "EndpointSlice":
                owner = resource.get(("metadata", "labels", "kubernetes.io/service-name"))
                if isinstance(owner, str):
                    self.endpoints.add((namespace, owner))
            elif (is_custom_resource(resource) and resource.kind not in NON_WORKLOAD_CUSTOM_KINDS
                  and (resource.group, resource.kind) not in self._pod_kinds):  # those Pods are read
                self.custom_resources.setdefault(namespace, []).append(resource)
                self._custom_near.setdefault((namespace, _folder(resource)), []).append(resource)

    def namespace_of(self, resource: Resource) -> str:
        return resource.namespace or self.default_namespace

    def pods_in(self, namespace: str) -> list[PodSource]:
        return self.pod_sources.get(namespace, [])

    def pods_selected_by(self, selector: dict[str, str], namespace: str) -> list[PodSource]:
        key = (namespace, tuple(sorted(selector.items())))
        if key not in self._selected:
            candidates = self.pods_in(namespace)
            plain = [(k, v) for k, v in selector.items()
                     if k not in CONTROLLER_LABEL_KEYS and k not in self._added_keys]
            if plain:  # a label no controller adds narrows the search through the label index
                candidates = min((self._by_label.get((namespace, k, v), []) for k, v in plain), key=len)
            self._selected[key] = [
                source for source in candidates
                if all(source.label_for(k, v) for k, v in selector.items())
            ]
        return self._selected[key]

    def hooks_selected_by(self, selector: dict[str, str], namespace: str) -> list[PodSource]:
        """The Helm hook Pods (tests, install Jobs) the selector matches: not Pods it serves."""
        return [source for source in self.hook_pods.get(namespace, [])
                if all(source.label_for(k, v) for k, v in selector.items())]

    def scope_of(self, resource: Resource) -> str:
        """What resource is applied with: its build, render or stream; for a plain file, the
        nearest folder above it (its own included) that is a target of its own, else the top."""
        folder = _folder(resource)
        if folder == resource.unit:  # a build, a render, the stdin stream
            return folder
        if folder not in self._scope_roots:
            scopes = _scopes(resource)
            self._scope_roots[folder] = next((s for s in scopes if s in self._roots), scopes[-1])
        return self._scope_roots[folder]

    def in_scope_of(self, resource: Resource, other: Resource) -> bool:
        """Is other applied with resource: in its scope, or one of the context files?"""
        return id(other) in self._context or self.scope_of(resource) in _scopes(other)

    def unit_is_own_folder(self, resource: Resource, namespace: str) -> bool:
        """Does resource's own build, render, stream or folder hold workloads of namespace, or
        did the user name context files as its surroundings?"""
        return (namespace, _folder(resource)) in self._near or bool(self._context_pods.get(namespace))

    def unit_pods(self, resource: Resource, namespace: str) -> list[PodSource]:
        """The Pods of namespace applied with resource (its scope), and the context files'."""
        key = (namespace, self.scope_of(resource))
        if key not in self._unit_members:
            found = {id(s): s for s in [*self._subtree.get(key, []), *self._context_pods.get(namespace, [])]}
            self._unit_members[key] = set(found)
            self._unit_pods[key] = list(found.values())
        return self._unit_pods[key]

    def unit_pods_elsewhere(self, resource: Resource, namespace: str) -> list[PodSource]:
        """Pods of other namespaces applied with resource."""
        return [s for s in self._scoped_any.get(self.scope_of(resource), []) if s.namespace != namespace]

    def pods_selected_in_unit(self, resource: Resource, selector: dict[str, str], namespace: str) -> list[PodSource]:
        """The selector's matches (through the label index) that lie in resource's scope."""
        return self._in_unit(resource, selector, namespace).pods

    def _in_unit(self, resource: Resource, selector: dict[str, str], namespace: str) -> _Selected:
        """Kept per selector and scope, each list walked once: thousands of Services of one
        selector, in one scope or in as many, each filtering the namespace's matches (or its
        scope's Pods, when fewer) were quadratic."""
        scope = self.scope_of(resource)
        key = (namespace, tuple(sorted(selector.items())), scope)
        if key not in self._selected_in_unit:
            unit = self.unit_pods(resource, namespace)
            selected = self.pods_selected_by(selector, namespace)
            if len(unit) < len(selected):
                if key[:2] not in self._ranks:
                    self._ranks[key[:2]] = {id(source): at for at, source in enumerate(selected)}
                rank = self._ranks[key[:2]]
                pods = sorted((source for source in unit if id(source) in rank), key=lambda source: rank[id(source)])
            else:
                members = self._unit_members[(namespace, scope)]
                pods = [source for source in selected if id(source) in members]
            self._selected_in_unit[key] = _Selected(pods)
        return self._selected_in_unit[key]

    def selection_of(self, service: Resource) -> Selection:
        """The Service's own selector, its namespace and what it selects in its unit: worked out once
        a Service, for the rules on its selector and on its targetPorts that each ask."""
        kept = self._selections.get(id(service))
        if kept is None or kept.service is not service:
            selector = service_selector(service)
            namespace = self.namespace_of(service)
            if selector:
                selected = self._in_unit(service, selector, namespace)
                serving = selected.by_unit.get(service.unit) or selected.by_folder.get(_folder(service)) \
                    or selected.pods
            else:
                selected, serving = _Selected([]), []
            kept = self._selections[id(service)] = Selection(service, selector, namespace, selected.pods, serving)
        return kept

    def pods_serving(self, service: Resource, selector: dict[str, str], namespace: str) -> list[PodSource]:
        """The Pods a Service reaches in its unit, preferring those of its own file, then of its
        own folder: a tree of samples often holds the same labels in unrelated places."""
        selected = self._in_unit(service, selector, namespace)
        return selected.by_unit.get(service.unit) or selected.by_folder.get(_folder(service)) or selected.pods

    def service(self, namespace: str, name: str, near: Resource | None = None) -> Resource | None:
        """The Service of that name applied with near (in its scope, or a context file); the one
        read from near's folder when there are several."""
        found = self.services.get((namespace, name)) or []
        if near is not None:
            found = [s for s in found if self.in_scope_of(near, s)]
            folder = _folder(near)
            found = (
                [s for s in found if s.unit == near.unit] or [s for s in found if _folder(s) == folder] or found
            )
        return found[0] if found else None

    def custom_resources_near(self, resource: Resource, namespace: str) -> list[Resource]:
        """Custom resources of the namespace read from the same folder (or stream) as resource."""
        return self._custom_near.get((namespace, _folder(resource)), [])

    def pods_sharing_keys(self, selector: dict[str, str], namespace: str) -> list[PodSource]:
        """Pod sources whose labels use at least one of the selector's keys (once each)."""
        found: dict[int, PodSource] = {}
        for key in selector:
            for source in self._by_key.get((namespace, key), []):
                found.setdefault(id(source), source)
        return list(found.values())


@dataclass(frozen=True)
class Selection:
    """What a Service selects with its own selector: the Pods in its unit (in_unit), and those it
    reaches, preferring its own file's, then its own folder's (serving; see Index.pods_serving)."""

    service: Resource
    selector: dict[str, str]
    namespace: str
    in_unit: list[PodSource]
    serving: list[PodSource]


class _Selected:
    """A selector's matches in one scope, and the same grouped by file and by folder."""

    def __init__(self, pods: list[PodSource]) -> None:
        self.pods = pods
        self.by_unit: dict[str, list[PodSource]] = {}
        self.by_folder: dict[str, list[PodSource]] = {}
        for source in pods:
            self.by_unit.setdefault(source.resource.unit, []).append(source)
            self.by_folder.setdefault(_folder(source.resource), []).append(source)


def _folder(resource: Resource) -> str:
    """The folder of a plain file; a build or a render, or the stdin stream, is a scope of its own."""
    folder = plain_folder(resource)
    return resource.unit if folder is None else folder


def _scopes(resource: Resource) -> list[str]:
    """The scopes resource belongs to, nearest first: its build or render (or stdin) alone; for
    a plain file, its folder and each folder above it."""
    folder = _folder(resource)
    if folder == resource.unit:
        return [folder]
    scopes = [folder]
    while os.path.dirname(scopes[-1]) != scopes[-1]:
        scopes.append(os.path.dirname(scopes[-1]))
    return scopes


def is_helm_hook(resource: Resource) -> bool:
    """A Helm hook (`helm.sh/hook: test`, a pre-install Job): created while the hook runs, then
    deleted or left finished; never one of the Pods a Service serves in steady state."""
    annotations = resource.get(("metadata", "annotations"))
    return isinstance(annotations, dict) and "helm.sh/hook" in annotations


def _pod_source(resource: Resource, namespace: str, custom: PodTemplateKind | None = None) -> PodSource | None:
    """The Pods resource makes: a Pod itself, a built-in workload's template, or the template of
    a custom kind whose controller makes Pods (custom)."""
    kind = resource.builtin_kind
    if kind == "Pod":
        return PodSource(resource, namespace, _strings(resource.get(("metadata", "labels"))), ("spec",))
    template = custom.template if custom is not None else POD_TEMPLATE_PATHS.get(kind)
    if template is None or not isinstance(resource.get(template), dict):
        return None  # an Argo Rollout's workloadRef: its Deployment's template is read as that Deployment
    labels = _strings(resource.get((*template, "metadata", "labels")))
    generated = _generated_labels(resource) if custom is None else _added_labels(resource, custom)
    return PodSource(resource, namespace, labels, (*template, "spec"), generated)


def _added_labels(resource: Resource, custom: PodTemplateKind) -> dict[str, Callable[[str], bool]]:
    """The labels a custom controller puts on its Pods: any value, or the object's name."""
    name = resource.name or ""
    found: dict[str, Callable[[str], bool]] = dict.fromkeys(custom.added_labels, bool)
    found.update({key: (lambda value: value == name) for key in custom.name_labels})
    return found


def label_selector_matches(selector: Any, labels: dict[str, str]) -> bool | None:
    """A LabelSelector (matchLabels + matchExpressions) against labels; None if it cannot be read."""
    if not isinstance(selector, dict):
        return None
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return None
    for key, value in match_labels.items():
        if labels.get(str(key)) != value:
            return False
    for expression in expressions:
        if not isinstance(expression, dict):
            return None
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if not isinstance(key, str) or not isinstance(values, list):
            return None
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
    return True


def selector_is_empty(selector: Any) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")
