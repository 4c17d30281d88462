"""The traps of section 5 of the API server reference, one test each: what a naive linter gets wrong."""

import pytest
from conftest import BESIDE_THE_POINT

from kubelint_svc.inputs import InputFile
from kubelint_svc.runner import Settings, lint_files


def service(spec: str, metadata: str = "") -> str:
    return f"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n{metadata}spec:\n{spec}"


PORTS = "  ports:\n  - port: 80\n"


def errors(report) -> list[tuple[str, str | None]]:
    return [(f.rule, f.field) for f in report.findings if f.severity == "error"]


def by_severity(report, severity: str) -> list[tuple[str, str | None]]:
    return [(f.rule, f.field) for f in report.findings if f.severity == severity and f.rule not in BESIDE_THE_POINT]


def message_of(report, rule: str) -> str:
    return next(f.message for f in report.findings if f.rule == rule)


def test_1_session_affinity_config_without_client_ip_is_accepted_and_dropped(lint_text):
    report = lint_text(service("  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: -1\n" + PORTS))
    assert errors(report) == []
    assert by_severity(report, "warning") == [("service-session-affinity-config-ignored", "spec.sessionAffinityConfig")]
    client_ip = "  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: -1\n"
    assert errors(lint_text(service(client_ip + PORTS))) == [
        ("service-session-affinity", "spec.sessionAffinityConfig.clientIP.timeoutSeconds")
    ]


@pytest.mark.parametrize(
    "spec",
    [
        "  externalTrafficPolicy: Cluster\n" + PORTS,
        "  clusterIP: None\n  externalTrafficPolicy: Cluster\n" + PORTS,
        "  type: ExternalName\n  externalName: db.example.com\n  externalTrafficPolicy: Cluster\n",
    ],
)
def test_2_external_traffic_policy_cluster_is_rejected_where_not_externally_accessible(lint_text, spec):
    assert errors(lint_text(service(spec))) == [("service-external-traffic-policy", "spec.externalTrafficPolicy")]


def test_2_local_policy_is_fine_on_cluster_ip_with_external_ips(lint_text):
    spec = "  externalIPs: [203.0.113.10]\n  externalTrafficPolicy: Local\n" + PORTS
    assert errors(lint_text(service(spec))) == []


def test_3_quoted_number_target_port_is_rejected_but_zero_and_empty_are_defaulted(lint_text):
    assert errors(lint_text(service('  ports:\n  - port: 80\n    targetPort: "8080"\n'))) == [
        ("service-target-port", "spec.ports[0].targetPort")
    ]
    assert errors(lint_text(service("  ports:\n  - port: 80\n    targetPort: 0\n"))) == []
    assert errors(lint_text(service('  ports:\n  - port: 80\n    targetPort: ""\n'))) == []


def test_4_service_port_names_are_dns_labels_but_container_port_names_are_iana_names(lint_text):
    long_name = "prometheus-metrics-endpoint"  # 27 characters
    ports = f"  ports:\n  - name: {long_name}\n    port: 80\n  - name: 9-x\n    port: 81\n"
    assert errors(lint_text(service(ports))) == []
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n"
        f"    ports:\n    - name: {long_name}\n      containerPort: 80\n"
    )
    assert errors(lint_text(pod)) == [("container-port-name", "spec.containers[0].ports[0].name")]


def test_5_cluster_ip_problems_point_at_what_was_written_and_quote_the_server(lint_text):
    report = lint_text(service("  clusterIP: none\n" + PORTS))
    assert errors(report) == [("service-cluster-ip", "spec.clusterIP")]
    assert "spec.clusterIPs[0]" in message_of(report, "service-cluster-ip")
    assert "case-sensitive" in message_of(report, "service-cluster-ip")
    assert errors(lint_text(service("  clusterIPs: [None]\n" + PORTS))) == [("service-cluster-ip", "spec.clusterIPs")]
    assert errors(lint_text(service("  clusterIP: None\n" + PORTS))) == []


def test_6_two_ip_families_need_a_policy_except_headless_without_selector(lint_text):
    families = "  ipFamilies: [IPv4, IPv6]\n"
    assert errors(lint_text(service(families + PORTS))) == [("service-ip-family-policy", "spec.ipFamilyPolicy")]
    headless = "  clusterIP: None\n" + families
    assert errors(lint_text(service(headless + PORTS))) == []
    with_selector = headless + "  selector:\n    app: web\n"
    assert errors(lint_text(service(with_selector + PORTS))) == [("service-ip-family-policy", "spec.ipFamilyPolicy")]


def test_7_source_ranges_capital_l_bare_ip_and_the_annotation(lint_text):
    report = lint_text(service("  type: LoadBalancer\n  loadBalancerSourceRanges: [10.0.0.1]\n" + PORTS))
    assert errors(report) == [("service-load-balancer-source-ranges", "spec.loadBalancerSourceRanges[0]")]
    assert "spec.LoadBalancerSourceRanges[0]" in message_of(report, "service-load-balancer-source-ranges")
    empty_annotation = "  annotations:\n    service.beta.kubernetes.io/load-balancer-source-ranges: ''\n"
    assert [rule for rule, _ in errors(lint_text(service(PORTS, empty_annotation)))] == [
        "service-load-balancer-source-ranges"
    ]
    garbage = "  annotations:\n    service.beta.kubernetes.io/load-balancer-source-ranges: nonsense\n"
    field_set = "  type: LoadBalancer\n  loadBalancerSourceRanges: [10.0.0.0/8]\n" + PORTS
    assert errors(lint_text(service(field_set, garbage))) == []


def test_8_node_port_range_is_an_allocation_rule_with_a_configurable_range(registry):
    text = service("  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 1\n").encode()

    def run(node_port_range):
        settings = Settings("1.37", node_port_range=node_port_range)
        return lint_files([InputFile("-", None)], settings, registry, stdin=lambda: text)

    assert errors(run((30000, 32767))) == [("service-node-port-range", "spec.ports[0].nodePort")]
    assert errors(run((1, 65535))) == []


def test_9_what_external_name_tolerates_and_what_it_refuses(lint_text):
    base = "  type: ExternalName\n  externalName: db.example.com\n"
    tolerated = base + "  internalTrafficPolicy: Cluster\n  sessionAffinity: ClientIP\n  selector:\n    app: db\n"
    tolerated += "  ports:\n  - port: 5432\n    nodePort: 30432\n"
    report = lint_text(service(tolerated))
    assert errors(report) == []
    assert {rule for rule, _ in by_severity(report, "warning")} == {"service-external-name-ignored"}
    refused = base + "  clusterIP: None\n  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4]\n"
    assert sorted(errors(lint_text(service(refused)))) == [
        ("service-external-name-forbidden", "spec.clusterIP"),
        ("service-external-name-forbidden", "spec.ipFamilies"),
        ("service-external-name-forbidden", "spec.ipFamilyPolicy"),
    ]


@pytest.mark.parametrize(("name", "ok"), [("10.0.0.1", True), ("db.example.com.", True), ("DB.Example.com", False),
                                      ("https://db.example.com", False), ("db_1.example.com", False)])
def test_10_external_name_may_be_an_ip_literal_but_not_uppercase_or_a_url(lint_text, name, ok):
    report = lint_text(service(f"  type: ExternalName\n  externalName: {name}\n"))
    assert errors(report) == ([] if ok else [("service-external-name", "spec.externalName")])


def test_11_mixed_protocol_load_balancer_and_port_10250_are_valid(lint_text):
    spec = ("  type: LoadBalancer\n  ports:\n  - name: a\n    port: 10250\n"
            "  - name: b\n    port: 53\n    protocol: UDP\n")
    assert errors(lint_text(service(spec))) == []


def test_12_annotation_keys_are_case_insensitive_label_keys_are_not(lint_text):
    assert errors(lint_text(service(PORTS, "  annotations:\n    Example.com/Owner: me\n"))) == []
    assert errors(lint_text(service(PORTS, "  labels:\n    Example.com/Owner: me\n"))) == [
        ("label-syntax", "metadata.labels[Example.com/Owner]")
    ]


def test_13_duplicate_container_ports_warn_and_duplicate_names_only_fail_within_a_container(lint_text):
    pod = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: i
    ports:
    - name: http
      containerPort: 80
  - name: b
    image: i
    ports:
    - name: http
      containerPort: 80
"""
    report = lint_text(pod)
    assert errors(report) == []
    assert by_severity(report, "warning") == [("container-port-duplicate", "spec.containers[1].ports[0].containerPort")]
    same_container = pod.replace("  - name: b\n    image: i\n    ports:\n", "")
    assert errors(lint_text(same_container)) == [("container-port-name", "spec.containers[0].ports[1].name")]


def test_14_load_balancer_ip_is_not_validated_and_health_check_port_fails_without_a_field(lint_text):
    report = lint_text(service("  type: LoadBalancer\n  loadBalancerIP: not-an-ip\n" + PORTS))
    assert errors(report) == []
    assert by_severity(report, "warning") == [("service-load-balancer-ip-deprecated", "spec.loadBalancerIP")]
    spec = "  type: LoadBalancer\n  externalTrafficPolicy: Local\n  healthCheckNodePort: 8080\n" + PORTS
    report = lint_text(service(spec))
    assert errors(report) == [("service-health-check-node-port", "spec.healthCheckNodePort")]
    assert "internal error" in message_of(report, "service-health-check-node-port")


def test_15_paths_that_differ_from_the_yaml_are_quoted_in_the_message(lint_text):
    duplicate = lint_text(service("  ports:\n  - name: a\n    port: 80\n  - name: b\n    port: 80\n"))
    assert errors(duplicate) == [("service-port-duplicate", "spec.ports[1]")]
    deployment = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, bad_key/x/y: v}
    spec:
      containers:
      - name: web
        image: nginx
"""
    report = lint_text(deployment)
    assert errors(report) == [("label-syntax", "spec.template.metadata.labels[bad_key/x/y]")]
    assert "spec.template.labels" in message_of(report, "label-syntax")


@pytest.mark.parametrize(("version", "ok"), [("1.35", False), ("1.36", True), ("1.37", True)])
def test_service_names_may_start_with_a_digit_from_1_36(lint_text, version, ok):
    text = service(PORTS).replace("name: web", "name: 1web")
    assert errors(lint_text(text, version=version)) == ([] if ok else [("service-name", "metadata.name")])


@pytest.mark.parametrize(
    ("version", "value", "expected"),
    [
        ("1.30", "PreferClose", "warning"),  # the gate is off: the field is dropped silently
        ("1.31", "PreferClose", None),
        ("1.33", "PreferSameZone", "error"),
        ("1.34", "PreferSameZone", None),
        ("1.34", "PreferSameNode", None),
    ],
)
def test_traffic_distribution_follows_the_version(lint_text, version, value, expected):
    report = lint_text(service(f"  trafficDistribution: {value}\n" + PORTS), version=version)
    found = [f.severity for f in report.findings if f.rule == "service-traffic-distribution"]
    assert found == ([expected] if expected else [])


def test_node_port_conflicts_count_within_one_file_only(lint_paths, tmp_path):
    node_port = service("  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 30080\n")
    (tmp_path / "cluster-a").mkdir()
    (tmp_path / "cluster-b").mkdir()
    (tmp_path / "cluster-a" / "web.yaml").write_text(node_port)
    (tmp_path / "cluster-b" / "web.yaml").write_text(node_port)
    assert errors(lint_paths(tmp_path)) == []
    (tmp_path / "cluster-a" / "web.yaml").write_text(node_port + "---\n" + node_port.replace("name: web", "name: api"))
    assert errors(lint_paths(tmp_path)) == [("service-node-port-conflict", "spec.ports[0].nodePort")]
