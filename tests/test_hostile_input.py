"""Objects of every kind with odd values in every field the rules read: no rule may crash
(a crash would show as an internal-error finding), and every document is still linted."""

import copy
import json
import random

import pytest

from kubelint_svc.inputs import InputFile
from kubelint_svc.runner import Settings, lint_files

ODD_VALUES = [5, "x", [], {}, [1, 2], None, True, -1, 1.5, {"a": [1]}, "${X}", [{}], [None], [[1]], {"name": 1}, 10**20]
KINDS = {
    "Service": "v1", "Pod": "v1", "ReplicationController": "v1", "Endpoints": "v1",
    "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
    "Job": "batch/v1", "CronJob": "batch/v1", "Ingress": "networking.k8s.io/v1", "EndpointSlice": "discovery.k8s.io/v1",
}
FIELDS = [
    "metadata", "metadata.name", "metadata.namespace", "metadata.labels", "metadata.annotations",
    "metadata.generateName", "spec", "spec.selector", "spec.selector.matchLabels", "spec.selector.matchExpressions",
    "spec.ports", "spec.ports.0", "spec.ports.0.port", "spec.ports.0.targetPort", "spec.ports.0.nodePort",
    "spec.ports.0.name", "spec.ports.0.protocol", "spec.ports.0.appProtocol", "spec.type", "spec.clusterIP",
    "spec.clusterIPs", "spec.ipFamilies", "spec.ipFamilyPolicy", "spec.externalIPs", "spec.loadBalancerSourceRanges",
    "spec.sessionAffinity", "spec.sessionAffinityConfig", "spec.externalTrafficPolicy", "spec.healthCheckNodePort",
    "spec.trafficDistribution", "spec.externalName", "spec.template", "spec.template.metadata",
    "spec.template.metadata.labels", "spec.template.spec", "spec.template.spec.containers",
    "spec.template.spec.containers.0", "spec.template.spec.containers.0.ports",
    "spec.template.spec.containers.0.ports.0", "spec.template.spec.initContainers", "spec.serviceName",
    "spec.replicas", "spec.jobTemplate", "spec.containers", "spec.rules", "spec.defaultBackend",
    "spec.defaultBackend.service", "spec.defaultBackend.service.port", "items",
    "metadata.labels.app", "spec.selector.app", "spec.template.metadata.labels.app",
    "spec.template.spec.containers.0.ports.0.name", "spec.template.spec.containers.0.ports.0.protocol",
    "spec.template.spec.containers.0.ports.0.containerPort", "spec.template.spec.containers.0.ports.0.hostPort",
    "spec.template.spec.containers.0.name", "spec.template.spec.restartPolicy", "spec.sessionAffinityConfig.clientIP",
    "spec.defaultBackend.service.name", "spec.defaultBackend.service.port.number",
    "spec.defaultBackend.service.port.name", "metadata.annotations.kubelint-svc.io/ignore",
]
BASE = {
    "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"kubelint-svc.io/ignore": "schema"}},
    "spec": {
        "selector": {"app": "web", "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
        "ports": [{"port": 80, "targetPort": "http", "nodePort": 30080}],
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [
                         {"name": "c", "image": "i", "ports": [{"name": "http", "containerPort": 80}]},
                     ]}},
        "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
    },
}


def set_field(document: dict, path: str, value) -> None:
    parts = path.split(".")
    current = document
    for part in parts[:-1]:
        key = int(part) if part.isdigit() else part
        if isinstance(current, list):
            if not isinstance(key, int) or key >= len(current) or not isinstance(current[key], (dict, list)):
                return
            current = current[key]
        else:
            if not isinstance(current.get(key), (dict, list)):
                current[key] = {}
            current = current[key]
    last = parts[-1]
    if isinstance(current, list):
        if last.isdigit() and int(last) < len(current):
            current[int(last)] = value
    else:
        current[last] = value


@pytest.mark.slow  # 3,780 objects through every rule, policy packs included: over 5 s
def test_odd_values_in_every_field_crash_no_rule(full_registry):
    rng = random.Random(20261125)
    documents = []
    for kind, api_version in KINDS.items():
        for path in FIELDS:
            for value in rng.sample(ODD_VALUES, 5):
                document = copy.deepcopy(BASE)
                document.update(apiVersion=api_version, kind=kind)
                set_field(document, path, value)
                documents.append(json.dumps(document))
    stream = "\n---\n".join(documents).encode()
    report = lint_files([InputFile("-", None)], Settings("1.37"), full_registry, stdin=lambda: stream)
    assert report.objects == len(documents)
    assert [f for f in report.findings if f.rule == "internal-error"] == []


@pytest.mark.slow  # 0.3 s of CPU
def test_random_token_soup_never_crashes(registry):
    rng = random.Random(7)
    tokens = ["apiVersion: v1\n", "kind: Service\n", "metadata:\n", "  name: x\n", "spec:\n", "  ports:\n",
              "  - port: 80\n", "---\n", "...\n", "&a ", "*a ", "[", "]", "{", "}", ": ", "- ", "!!python/object ",
              "? ", "|\n", ">\n", "'", '"', "\t", "%YAML 1.1\n", "<<: ", "#", "\n", "  ", "key", "123", "${X}",
              "\r\n", "\ufeff", "!custom ", "~", ",", "@", "`", "\x01"]
    for _ in range(1500):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(1, 60))).encode()
        report = lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=lambda text=text: text)
        assert all(f.rule != "internal-error" for f in report.findings)
