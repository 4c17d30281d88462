"""What a Service's type allows, as the API server validates it: cluster IPs and IP families,
ExternalName, external IPs, LoadBalancer fields, session affinity and traffic policies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from kubelint_svc import defaults
from kubelint_svc.checks.api import Hit, NoParams, RunContext
from kubelint_svc.findings import FieldPath
from kubelint_svc.k8s_syntax import (
    dns1123_subdomain,
    ip_family,
    is_int,
    parse_cidr,
    parse_ip,
    qualified_name,
)
from kubelint_svc.model import Resource

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"


def _spec(resource: Resource) -> dict[str, Any]:
    return defaults.spec_of(resource.body)


def _is_set(value: Any) -> bool:
    return value not in (None, "", [], {})


def service_type(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    value = _spec(resource).get("type")
    if isinstance(value, str) and value and value not in SERVICE_TYPES:
        hint = [t for t in SERVICE_TYPES if t.lower() == value.lower()]
        yield Hit(
            f"type {value!r} is not supported: use ClusterIP, NodePort, LoadBalancer or ExternalName",
            ("spec", "type"),
            at_key=False,
            help=(f"did you mean {hint[0]!r}?",) if hint else (),
        )


def _cluster_ip_path(spec: dict[str, Any], index: int) -> FieldPath:
    """Where the user wrote cluster IP `index`: clusterIPs[i], or clusterIP for a lone clusterIP."""
    if index == 0 and defaults.wrote_cluster_ip(spec) and not spec.get("clusterIPs"):
        return ("spec", "clusterIP")
    return ("spec", "clusterIPs", index)


def cluster_ips(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    if defaults.service_type(spec) == "ExternalName":
        return
    given = spec.get("clusterIPs")
    if isinstance(given, list) and given:
        if not defaults.wrote_cluster_ip(spec):
            yield Hit(
                "clusterIPs must be empty when clusterIP is not specified: set clusterIP to its first value "
                "(spec.clusterIPs: Invalid value)",
                ("spec", "clusterIPs"),
            )
            return
        if given[0] != spec["clusterIP"]:
            yield Hit(
                f"the first value of clusterIPs ({given[0]!r}) must match clusterIP ({spec['clusterIP']!r})",
                ("spec", "clusterIPs", 0),
                at_key=False,
            )
            return
    ips = defaults.cluster_ips(spec)
    if not all(isinstance(ip, str) for ip in ips):
        return
    if len(ips) > 2:
        yield Hit("at most two cluster IPs may be given, one of each IP family", ("spec", "clusterIPs"))
        return
    if ips and ips[0] == "None" and len(ips) > 1:
        yield Hit("'None' must be the first and only value of clusterIPs", ("spec", "clusterIPs"))
        return
    if defaults.is_headless(spec):
        return
    parsed = []
    for index, ip in enumerate(ips):
        address = parse_ip(ip)
        path = _cluster_ip_path(spec, index)
        if address is None:
            hint = " ('None' is case-sensitive; lowercase 'none' is not headless)" if ip.lower() == "none" else ""
            quoted = "" if path[-1] == index else f" (the API server reports spec.clusterIPs[{index}])"
            yield Hit(f"{ip!r} is not a valid IP address{hint}{quoted}", path, at_key=False)
            continue
        parsed.append((index, address))
    if len(parsed) == 2 and parsed[0][1].version == parsed[1][1].version:
        yield Hit(
            "two cluster IPs must be one IPv4 and one IPv6 address (spec.clusterIPs: Invalid value)",
            ("spec", "clusterIPs", 1),
            at_key=False,
        )
    families = spec.get("ipFamilies")
    if isinstance(families, list):
        for index, address in parsed:
            if index < len(families) and families[index] in IP_FAMILIES and families[index] != ip_family(address):
                yield Hit(
                    f"cluster IP {str(address)!r} is {ip_family(address)} but ipFamilies[{index}] is "
                    f"{families[index]} (spec.clusterIPs[{index}]: Invalid value)",
                    _cluster_ip_path(spec, index),
                    at_key=False,
                )


def headless_type(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    kind = defaults.service_type(spec)
    if kind in ("NodePort", "LoadBalancer") and defaults.is_headless(spec):
        path = _cluster_ip_path(spec, 0)
        yield Hit(
            f"a {kind} Service cannot be headless (clusterIP: None); the API server reports "
            "spec.clusterIPs[0]: Invalid value: \"None\"",
            path,
            at_key=False,
        )


def ip_families(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    families = spec.get("ipFamilies")
    if defaults.service_type(spec) == "ExternalName" or not isinstance(families, list):
        return
    seen = set()
    for index, family in enumerate(families):
        path = ("spec", "ipFamilies", index)
        if not isinstance(family, str):
            continue
        if family not in IP_FAMILIES:
            yield Hit(f"ipFamily {family!r} is not supported: use IPv4 or IPv6 (case-sensitive)", path, at_key=False)
        elif family in seen:
            yield Hit(f"ipFamily {family} is listed twice (Duplicate value)", path, at_key=False)
        seen.add(family)


def ip_family_policy(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    if defaults.service_type(spec) == "ExternalName":
        return
    given = spec.get("ipFamilyPolicy")
    if isinstance(given, str) and given and given not in IP_FAMILY_POLICIES:
        yield Hit(
            f"ipFamilyPolicy {given!r} is not supported: use SingleStack, PreferDualStack or RequireDualStack",
            ("spec", "ipFamilyPolicy"),
            at_key=False,
        )
        return
    if defaults.ip_family_policy(spec) != "SingleStack":
        return
    families = spec.get("ipFamilies")
    too_many = []
    if isinstance(families, list) and len(families) > 1:
        too_many.append("ipFamilies")
    if len(defaults.cluster_ips(spec)) > 1:
        too_many.append("clusterIPs")
    if too_many:
        why = "is SingleStack" if given else "defaults to SingleStack when omitted"
        yield Hit(
            f"ipFamilyPolicy {why} but two {' and '.join(too_many)} are given: it must be 'RequireDualStack' "
            "or 'PreferDualStack' when multiple IP families are specified",
            ("spec", "ipFamilyPolicy"),
            at_key=bool(given),
        )


def external_name(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    if defaults.service_type(spec) != "ExternalName":
        return
    value = spec.get("externalName")
    if value is not None and not isinstance(value, str):
        return
    trimmed = (value or "")[:-1] if (value or "").endswith(".") else (value or "")
    if not trimmed:
        yield Hit("an ExternalName Service needs spec.externalName, the DNS name it aliases (Required value)",
                  ("spec", "externalName"))
        return
    problem = dns1123_subdomain(trimmed)
    if problem:
        hint = " (a host name, without scheme, port or path)" if "://" in trimmed or ":" in trimmed else ""
        yield Hit(f"externalName {value!r} {problem}{hint}", ("spec", "externalName"), at_key=False)


def external_name_forbidden(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    if defaults.service_type(spec) != "ExternalName":
        return
    if defaults.wrote_cluster_ip(spec) or _is_set(spec.get("clusterIPs")):
        path = ("spec", "clusterIP") if defaults.wrote_cluster_ip(spec) else ("spec", "clusterIPs")
        yield Hit("an ExternalName Service may not have a cluster IP, not even None (spec.clusterIPs: Forbidden)", path)
    for field in ("ipFamilies", "ipFamilyPolicy"):
        if _is_set(spec.get(field)):
            yield Hit(f"{field} may not be set on an ExternalName Service (Forbidden)", ("spec", field))


def external_name_ignored(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    if defaults.service_type(spec) != "ExternalName":
        return
    if defaults.has_selector(spec):
        yield Hit("the selector of an ExternalName Service is ignored: it selects no Pods", ("spec", "selector"))
    ports = spec.get("ports")
    if isinstance(ports, list) and ports:
        yield Hit("the ports of an ExternalName Service are ignored: DNS returns a CNAME, clients use their own port",
                  ("spec", "ports"))
    for index, port in defaults.ports_of(spec):
        if port.get("nodePort") not in (None, 0):
            yield Hit("nodePort is ignored on an ExternalName Service", ("spec", "ports", index, "nodePort"))


def session_affinity(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    value = spec.get("sessionAffinity")
    if isinstance(value, str) and value and value not in ("None", "ClientIP"):
        yield Hit(f"sessionAffinity {value!r} is not supported: use None or ClientIP (case-sensitive)",
                  ("spec", "sessionAffinity"), at_key=False)
        return
    if defaults.session_affinity(spec) != "ClientIP":
        return
    path = ("spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds")
    timeout = resource.get(path)
    if is_int(timeout) and not 0 < timeout <= 86400:
        yield Hit(f"timeoutSeconds {timeout} must be greater than 0 and at most 86400 (one day)", path, at_key=False)


def session_affinity_config_ignored(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    if _is_set(spec.get("sessionAffinityConfig")) and defaults.session_affinity(spec) == "None":
        yield Hit(
            "sessionAffinityConfig is dropped because sessionAffinity is not ClientIP: "
            "set sessionAffinity: ClientIP or remove the config",
            ("spec", "sessionAffinityConfig"),
        )


def external_ips(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    values = _spec(resource).get("externalIPs")
    for index, value in enumerate(values if isinstance(values, list) else []):
        if not isinstance(value, str):
            continue
        address = parse_ip(value)
        path = ("spec", "externalIPs", index)
        if address is None:
            yield Hit(f"{value!r} is not a valid IP address (a single address, not a CIDR or host name)", path,
                      at_key=False)
        elif address.is_unspecified or address.is_loopback or address.is_link_local or _link_local_multicast(address):
            yield Hit(f"{value!r} may not be unspecified, loopback, link-local or link-local multicast", path,
                      at_key=False)


def _link_local_multicast(address: IPv4Address | IPv6Address) -> bool:
    if address.version == 4:
        return address.packed[:3] == bytes([224, 0, 0])
    return address.packed[0] == 0xFF and (address.packed[1] & 0x0F) == 0x02


def load_balancer_source_ranges(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    is_lb = defaults.service_type(spec) == "LoadBalancer"
    ranges = spec.get("loadBalancerSourceRanges")
    if isinstance(ranges, list) and ranges:
        if not is_lb:
            yield Hit("loadBalancerSourceRanges may only be used when type is 'LoadBalancer' "
                      "(the API server reports spec.LoadBalancerSourceRanges: Forbidden)",
                      ("spec", "loadBalancerSourceRanges"))
            return
        for index, value in enumerate(ranges):
            if isinstance(value, str) and parse_cidr(value.strip()) is None:
                yield Hit(f"{value!r} is not a CIDR such as 10.0.0.0/8 (the API server reports "
                          f"spec.LoadBalancerSourceRanges[{index}]: Invalid value)",
                          ("spec", "loadBalancerSourceRanges", index), at_key=False)
        return
    annotations = resource.get(("metadata", "annotations"))
    if not isinstance(annotations, dict) or SOURCE_RANGES_ANNOTATION not in annotations:
        return
    path = ("metadata", "annotations", SOURCE_RANGES_ANNOTATION)
    if not is_lb:
        yield Hit(f"the {SOURCE_RANGES_ANNOTATION} annotation may only be used when type is 'LoadBalancer', "
                  "even when empty (Forbidden)", path)
        return
    value = annotations[SOURCE_RANGES_ANNOTATION]
    for item in str(value).split(",") if value else []:
        if parse_cidr(item.strip()) is None:
            yield Hit(f"{item.strip()!r} in the source-ranges annotation is not a CIDR such as 10.0.0.0/8", path,
                      at_key=False)


def _forbidden_unless_load_balancer(resource: Resource, field: str) -> Iterator[Hit]:
    spec = _spec(resource)
    if spec.get(field) is not None and defaults.service_type(spec) != "LoadBalancer":
        yield Hit(f"{field} may only be used when type is 'LoadBalancer' (Forbidden)", ("spec", field))


def allocate_load_balancer_node_ports(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    yield from _forbidden_unless_load_balancer(resource, "allocateLoadBalancerNodePorts")


def load_balancer_class(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    value = spec.get("loadBalancerClass")
    if value is None:
        return
    if defaults.service_type(spec) != "LoadBalancer":
        yield from _forbidden_unless_load_balancer(resource, "loadBalancerClass")
    elif isinstance(value, str):
        problem = qualified_name(value)
        if problem:
            yield Hit(f"loadBalancerClass {value!r} is not a qualified name ({problem})",
                      ("spec", "loadBalancerClass"), at_key=False)


def load_balancer_ip_deprecated(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    if _is_set(_spec(resource).get("loadBalancerIP")):
        yield Hit(
            "loadBalancerIP is deprecated since Kubernetes 1.24 and its behaviour differs between providers; "
            "use your provider's annotation instead (e.g. networking.gke.io/load-balancer-ip-addresses, "
            "service.beta.kubernetes.io/azure-load-balancer-ipv4, metallb.universe.tf/loadBalancerIPs)",
            ("spec", "loadBalancerIP"),
        )


def external_traffic_policy(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    value = spec.get("externalTrafficPolicy")
    if value in (None, ""):
        return
    path = ("spec", "externalTrafficPolicy")
    if not defaults.externally_accessible(spec):
        kind = defaults.service_type(spec)
        yield Hit(
            f"externalTrafficPolicy may only be set on externally accessible Services (NodePort, LoadBalancer, "
            f"or ClusterIP with externalIPs); this {kind} Service rejects any value, even {value!r} (Invalid value)",
            path,
        )
    elif isinstance(value, str) and value not in ("Cluster", "Local"):
        yield Hit(f"externalTrafficPolicy {value!r} is not supported: use Cluster or Local (case-sensitive)", path,
                  at_key=False)


def health_check_node_port(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    spec = _spec(resource)
    value = spec.get("healthCheckNodePort")
    if not is_int(value) or value == 0:
        return
    path = ("spec", "healthCheckNodePort")
    needed = defaults.service_type(spec) == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"
    if not needed:
        yield Hit("healthCheckNodePort may only be set when type is 'LoadBalancer' and externalTrafficPolicy is "
                  "'Local' (Invalid value)", path)
    elif not 1 <= value <= 65535:
        yield Hit(f"healthCheckNodePort {value} must be between 1 and 65535", path, at_key=False)
    else:
        low, high = run.node_port_range
        if not low <= value <= high:
            yield Hit(f"healthCheckNodePort {value} is outside the node port range {low}-{high}: the API server "
                      "fails with an internal error (\"failed to allocate requested HealthCheck NodePort\")",
                      path, at_key=False)


def internal_traffic_policy(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    value = _spec(resource).get("internalTrafficPolicy")
    if isinstance(value, str) and value and value not in ("Cluster", "Local"):
        yield Hit(f"internalTrafficPolicy {value!r} is not supported: use Cluster or Local (case-sensitive)",
                  ("spec", "internalTrafficPolicy"), at_key=False)


@dataclass(frozen=True)
class TrafficDistributionVersions:
    field_since: int  # first minor version whose API server keeps the field
    values: dict[str, int]  # value -> first minor version accepting it


def traffic_distribution(resource: Resource, run: RunContext, params: TrafficDistributionVersions) -> Iterator[Hit]:
    """params.values: {value: first minor version accepting it}; params.field_since: first minor
    version whose API server keeps the field (earlier ones drop it silently)."""
    value = _spec(resource).get("trafficDistribution")
    if not isinstance(value, str) or not value:
        return
    path = ("spec", "trafficDistribution")
    minor = run.minor
    if minor < params.field_since:
        yield Hit(f"trafficDistribution is dropped silently by Kubernetes 1.{minor} (its feature gate is off); "
                  f"it takes effect from 1.{params.field_since}", path, severity="warning")
        return
    accepted = {name: since for name, since in params.values.items() if since <= minor}
    if value not in accepted:
        later = params.values.get(value)
        when = f" (accepted from Kubernetes 1.{later})" if later else ""
        yield Hit(f"trafficDistribution {value!r} is not supported by Kubernetes 1.{minor}{when}: use "
                  f"{' or '.join(sorted(accepted))} (case-sensitive)", path, at_key=False)
