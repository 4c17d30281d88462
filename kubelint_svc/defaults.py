"""What the API server fills in before it validates a Service (SetDefaults_Service, ClusterIP
normalisation, IP-family allocation), computed from what the user wrote. Nothing is mutated:
checks ask these functions and report positions of the fields as written."""

from __future__ import annotations

from typing import Any

EXTERNALLY_ACCESSIBLE_TYPES = ("NodePort", "LoadBalancer")


def spec_of(body: dict[str, Any]) -> dict[str, Any]:
    spec = body.get("spec")
    return spec if isinstance(spec, dict) else {}


def service_type(spec: dict[str, Any]) -> str:
    value = spec.get("type")
    return "ClusterIP" if value in (None, "") else str(value)


def ports_of(spec: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(index, port) for every port entry that is a mapping."""
    ports = spec.get("ports")
    if not isinstance(ports, list):
        return []
    return [(index, port) for index, port in enumerate(ports) if isinstance(port, dict)]


def port_protocol(port: dict[str, Any]) -> Any:
    value = port.get("protocol")
    return "TCP" if value in (None, "") else value


def effective_target_port(port: dict[str, Any]) -> Any:
    """targetPort after defaulting: absent, 0 and "" all become the value of `port`."""
    value = port.get("targetPort")
    if value is None or value in (0, ""):
        return port.get("port")
    return value


def wrote_cluster_ip(spec: dict[str, Any]) -> bool:
    return spec.get("clusterIP") not in (None, "")


def cluster_ips(spec: dict[str, Any]) -> list[Any]:
    """clusterIPs after create-time normalisation: [clusterIP] when only clusterIP is given."""
    given = spec.get("clusterIPs")
    if wrote_cluster_ip(spec) and not given:
        return [spec["clusterIP"]]
    return list(given) if isinstance(given, list) else []


def is_headless(spec: dict[str, Any]) -> bool:
    ips = cluster_ips(spec)
    return len(ips) == 1 and ips[0] == "None"


def has_selector(spec: dict[str, Any]) -> bool:
    selector = spec.get("selector")
    return isinstance(selector, dict) and len(selector) > 0


def externally_accessible(spec: dict[str, Any]) -> bool:
    kind = service_type(spec)
    external_ips = spec.get("externalIPs")
    return kind in EXTERNALLY_ACCESSIBLE_TYPES or (
        kind == "ClusterIP" and isinstance(external_ips, list) and len(external_ips) > 0
    )


def ip_family_policy(spec: dict[str, Any]) -> Any:
    """The policy after allocation: SingleStack unless given, RequireDualStack for a headless
    Service without selector."""
    given = spec.get("ipFamilyPolicy")
    if given not in (None, ""):
        return given
    if is_headless(spec) and not has_selector(spec):
        return "RequireDualStack"
    return "SingleStack"


def session_affinity(spec: dict[str, Any]) -> Any:
    value = spec.get("sessionAffinity")
    return "None" if value in (None, "") else value


def needs_node_ports(spec: dict[str, Any]) -> bool:
    return service_type(spec) in EXTERNALLY_ACCESSIBLE_TYPES
