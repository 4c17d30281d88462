"""The settings of one run and their defaults, written once: flags, the configuration file
and the API all fall back to these."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kubelint_svc.kinds import PodTemplateKind

DEFAULT_FAIL_ON = "error"
DEFAULT_NODE_PORT_RANGE = (30000, 32767)
DEFAULT_NAMESPACE = "default"
DEFAULT_KUSTOMIZE = "auto"
DEFAULT_LOAD_RESTRICTOR = "rootOnly"
DEFAULT_HELM_RELEASE = "release-name"  # helm template's


@dataclass(frozen=True)
class Settings:
    kubernetes_version: str  # "1.37": a bundled minor version
    fail_on: str = DEFAULT_FAIL_ON  # the lowest severity that fails the run
    node_port_range: tuple[int, int] = DEFAULT_NODE_PORT_RANGE  # the cluster's --service-node-port-range
    namespace: str = DEFAULT_NAMESPACE  # where objects that name none go, as `kubectl apply -n`
    kustomize: str = DEFAULT_KUSTOMIZE  # auto | kubectl | kustomize | fallback | off
    helm_values: tuple[str, ...] = ()  # values files (relative to each chart) for `helm template`
    helm_release: str = DEFAULT_HELM_RELEASE  # the release name charts are rendered with
    pod_templates: tuple[PodTemplateKind, ...] = ()  # custom kinds that make Pods, beyond the known ones
    # rootOnly: a kustomization reads files in or below its folder (kustomize's default); none: anywhere
    # in the repository (Flux and Config Sync build so)
    kustomize_load_restrictor: str = DEFAULT_LOAD_RESTRICTOR

    @property
    def minor(self) -> int:
        return int(self.kubernetes_version.split(".")[1])


def jobs_from_environment() -> int | None:
    """KUBELINT_SVC_JOBS, set by whoever runs the linter (never by the files linted): how many
    kustomize builds run at once, and how many processes read the files of a large cold run;
    None when it is not set to a number from 1 to 256."""
    value = os.environ.get("KUBELINT_SVC_JOBS", "")
    return int(value) if value.isdigit() and 0 < int(value) <= 256 else None
