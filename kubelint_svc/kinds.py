"""What an object is: its API group and kind together. A `kind: Service` of another group
(Knative's, Config Connector's) is not a Service, and no rule about Services judges it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import MappingProxyType

# Every group the Kubernetes API server serves itself ("" is the core group).
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "extensions", "policy", "autoscaling", "networking.k8s.io", "discovery.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io",
    "apiregistration.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
    "certificates.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
    "authentication.k8s.io", "authorization.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
    "lifecycle.k8s.io",
})

_GROUP_KINDS = {
    "": (
        "Binding", "ComponentStatus", "ConfigMap", "Endpoints", "Event", "LimitRange", "Namespace", "Node",
        "PersistentVolume", "PersistentVolumeClaim", "Pod", "PodTemplate", "ReplicationController",
        "ResourceQuota", "Secret", "Service", "ServiceAccount",
    ),
    "apps": ("ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"),
    "batch": ("CronJob", "Job"),
    "extensions": ("DaemonSet", "Deployment", "Ingress", "NetworkPolicy", "PodSecurityPolicy", "ReplicaSet"),
    "policy": ("Eviction", "PodDisruptionBudget", "PodSecurityPolicy"),
    "autoscaling": ("HorizontalPodAutoscaler", "Scale"),
    "networking.k8s.io": ("IPAddress", "Ingress", "IngressClass", "NetworkPolicy", "ServiceCIDR"),
    "discovery.k8s.io": ("EndpointSlice",),
    "rbac.authorization.k8s.io": ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"),
    "storage.k8s.io": (
        "CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment", "VolumeAttributesClass",
    ),
    "apiextensions.k8s.io": ("CustomResourceDefinition",),
    "admissionregistration.k8s.io": (
        "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
    ),
    "apiregistration.k8s.io": ("APIService",),
    "scheduling.k8s.io": ("CompositePodGroup", "PodGroup", "PriorityClass", "Workload"),
    "coordination.k8s.io": ("Lease", "LeaseCandidate"),
    "node.k8s.io": ("RuntimeClass",),
    "certificates.k8s.io": ("CertificateSigningRequest", "ClusterTrustBundle", "PodCertificateRequest"),
    "events.k8s.io": ("Event",),
    "flowcontrol.apiserver.k8s.io": ("FlowSchema", "PriorityLevelConfiguration"),
    "resource.k8s.io": (
        "DeviceClass", "DeviceTaintRule", "PodSchedulingContext", "ResourceClaim", "ResourceClaimParameters",
        "ResourceClaimTemplate", "ResourceClass", "ResourceClassParameters", "ResourcePoolStatusRequest",
        "ResourceSlice",
    ),
    "authentication.k8s.io": ("SelfSubjectReview", "TokenRequest", "TokenReview"),
    "authorization.k8s.io": (
        "LocalSubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview",
    ),
    "internal.apiserver.k8s.io": ("StorageVersion",),
    "storagemigration.k8s.io": ("StorageVersionMigration",),
    "lifecycle.k8s.io": ("Eviction", "EvictionRequest"),
}

# kind -> the built-in groups that serve a kind of that name (Deployment: apps, and the old extensions)
KIND_GROUPS: MappingProxyType[str, frozenset[str]] = MappingProxyType({
    kind: frozenset(group for group, kinds in _GROUP_KINDS.items() if kind in kinds)
    for kind in sorted({kind for kinds in _GROUP_KINDS.values() for kind in kinds})
})


def api_group(api_version: str) -> str:
    """`apps/v1` -> `apps`; `v1` -> `` (the core group)."""
    return api_version.rpartition("/")[0]


def is_builtin_group(api_version: str) -> bool:
    return api_group(api_version) in BUILTIN_GROUPS


@functools.lru_cache(maxsize=1024)  # every rule asks it of every object: a run has few kinds
def builtin_kind(api_version: str, kind: str) -> str:
    """kind when the object is the built-in kind of that name (a `v1` Service, an `apps/v1`
    Deployment), else "" (a Knative `serving.knative.dev/v1` Service, a custom resource)."""
    if not api_version:
        return ""  # no apiVersion: no API server takes it, so no rule about that kind judges it
    group = api_group(api_version)
    groups = KIND_GROUPS.get(kind)
    if groups is not None:
        return kind if group in groups else ""
    return kind if group in BUILTIN_GROUPS else ""


def kind_selected(entry: str, api_version: str, kind: str) -> bool:
    """Does a rule's `kinds:` entry name this object? `Service` names the built-in kind of that
    name (the core Service), and any group's kind when no built-in kind has that name (`Rollout`);
    `serving.knative.dev/Service` names that group's kind; `*/Service` every group's."""
    group, _, name = entry.rpartition("/")
    if name != kind:
        return False
    if "/" in entry:
        return group == "*" or group == api_group(api_version)
    return kind not in KIND_GROUPS or builtin_kind(api_version, kind) == kind


@dataclass(frozen=True)
class PodTemplateKind:
    """A kind outside the built-in workloads whose controller makes Pods from a template it
    holds: where the template is, and the labels the controller adds to every Pod."""

    group: str
    kind: str
    template: tuple[str, ...]  # the Pod template (metadata.labels and spec below it)
    selector: tuple[str, ...] = ()  # the selector, when the kind has one
    added_labels: tuple[str, ...] = ()  # keys the controller sets on each Pod, any value
    name_labels: tuple[str, ...] = ()  # keys the controller sets to the object's name

    def describe(self) -> str:
        return f"{self.group or 'core'}/{self.kind}"


# The custom kinds whose Pods are understood without configuration (docs/rules.md lists them).
KNOWN_POD_TEMPLATE_KINDS = (
    PodTemplateKind("argoproj.io", "Rollout", ("spec", "template"), ("spec", "selector"),
                    added_labels=("rollouts-pod-template-hash",)),
    PodTemplateKind("apps.openshift.io", "DeploymentConfig", ("spec", "template"), ("spec", "selector"),
                    added_labels=("deployment",), name_labels=("deploymentconfig",)),
)
