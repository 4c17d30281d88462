"""Every built-in kind held to its bundled schema, the served-kinds table, and the removed-API
table checked against it (issue #25)."""

from __future__ import annotations

import itertools
import json
import re
import time

import pytest
from conftest import brief

from kubelint_svc.header_only import FULL, HEADER
from kubelint_svc.reading import wants_of
from kubelint_svc.schemas import SchemaStore, builtin_groups, bundled_versions, data_dir, served_kinds

INGRESS_WITH_V1BETA1_BACKEND = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          serviceName: web
          servicePort: 80
"""

INGRESS_WITHOUT_PATH_TYPE = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - http:
      paths:
      - path: /
        backend:
          service:
            name: web
            port:
              number: 80
"""


def schema_findings(report):
    return [f for f in brief(report) if f[0] == "schema"]


def test_ingress_backend_written_for_v1beta1_is_an_error_at_each_field(lint_text):
    report = lint_text(INGRESS_WITH_V1BETA1_BACKEND)
    assert schema_findings(report) == [
        ("schema", 12, 11, "spec.rules[0].http.paths[0].backend.serviceName"),
        ("schema", 13, 11, "spec.rules[0].http.paths[0].backend.servicePort"),
    ]
    assert all(f.severity == "error" for f in report.findings if f.rule == "schema")


def test_ingress_path_without_path_type_is_an_error_at_the_path(lint_text):
    report = lint_text(INGRESS_WITHOUT_PATH_TYPE)
    assert schema_findings(report) == [("schema", 9, 9, "spec.rules[0].http.paths[0].pathType")]
    assert next(f for f in report.findings if f.rule == "schema").message == "missing required field 'pathType'"


@pytest.mark.parametrize(("manifest", "expected"), [
    pytest.param("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n"
                 "  minAvailabel: 1\n", ("schema", 6, 3, "spec.minAvailabel"), id="PodDisruptionBudget"),
    pytest.param("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\nspec:\n"
                 "  podSelector: {}\n  policyType: [Ingress]\n", ("schema", 7, 3, "spec.policyType"),
                 id="NetworkPolicy"),
    pytest.param("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n"
                 "  maxReplicas: 3\n", ("schema", 5, 1, "spec.scaleTargetRef"), id="HorizontalPodAutoscaler"),
    pytest.param("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  retries: 3\n",
                 ("schema", 6, 12, "data.retries"), id="ConfigMap"),
    pytest.param("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\nrules:\n"
                 "- apiGroup: ['']\n  resources: [pods]\n  verbs: [get]\n", ("schema", 6, 3, "rules[0].apiGroup"),
                 id="Role"),
])
def test_every_built_in_kind_is_checked(lint_text, manifest, expected):
    assert schema_findings(lint_text(manifest)) == [expected]


def test_a_custom_resource_named_like_a_built_in_kind_is_not_checked(lint_text):
    report = lint_text("apiVersion: traefik.example.com/v1\nkind: Ingress\nmetadata:\n  name: web\n"
                       "spec:\n  anything: goes\n")
    assert schema_findings(report) == []


def test_a_kind_with_a_recursive_schema_is_checked_by_reference():
    # CompositePodGroupTemplate holds itself: it cannot be inlined, so its $refs are resolved
    store = SchemaStore("1.37")
    errors = store.errors("scheduling.k8s.io/v1alpha3", "Workload", {
        "apiVersion": "scheduling.k8s.io/v1alpha3", "kind": "Workload", "metadata": {"name": "w"}, "spek": {},
    })
    assert sorted(e.message for e in errors) == ["'spec' is a required property",
                                                 "Additional properties are not allowed ('spek' was unexpected)"]


def test_custom_resource_definitions_and_custom_kinds_stay_header_only(registry):
    wants = wants_of(registry)
    assert wants is not None
    assert wants("CustomResourceDefinition", "apiextensions.k8s.io/v1") == HEADER
    assert wants("Prometheus", "monitoring.coreos.com/v1") == HEADER
    assert wants("Ingress", "networking.k8s.io/v1") == FULL
    assert wants("PodDisruptionBudget", "policy/v1") == FULL


def test_the_schema_rule_reads_exactly_the_kinds_the_bundle_checks(registry):
    # rules/schema.yaml's kinds are written by scripts/update_schemas.py: they cannot drift
    bundled: set[str] = set()
    for version in bundled_versions():
        bundled |= {key.rpartition("/")[2] for key in SchemaStore(version)._bundle["kinds"]}
    assert set(registry["schema"].kinds) == bundled
    assert "CustomResourceDefinition" not in bundled


def test_every_served_kind_but_custom_resource_definitions_has_a_schema():
    for version in bundled_versions():
        kinds = SchemaStore(version)._bundle["kinds"]
        for api_version, served in served_kinds(version).items():
            for kind in served - {"CustomResourceDefinition"}:
                assert f"{api_version}/{kind}" in kinds, (version, api_version, kind)


def test_each_bundle_is_self_contained_and_small():
    total = 0
    for version in bundled_versions():
        path = data_dir("schemas") / f"v{version}.json"
        total += path.stat().st_size
        text = path.read_text()
        bundle = json.loads(text)
        for name in set(re.findall(r'"\$ref":"#/\$defs/([^"]+)"', text)):
            assert name in bundle["$defs"], (version, name)
    assert total < 25_000_000


def test_served_kinds_of_a_version():
    served = served_kinds("1.37")
    assert {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ControllerRevision"} <= served["apps/v1"]
    assert {"Service", "ConfigMap", "Pod"} <= served["v1"]
    assert "CustomResourceDefinition" in served["apiextensions.k8s.io/v1"]
    assert not any(kind.endswith("List") for kinds in served.values() for kind in kinds)
    assert "Status" not in served["v1"]
    assert "flowcontrol.apiserver.k8s.io/v1beta3" in served_kinds("1.31")
    assert "flowcontrol.apiserver.k8s.io/v1beta3" not in served
    assert served_kinds("1.12") == {}
    served["apps/v1"].add("Mutated")
    assert "Mutated" not in served_kinds("1.37")["apps/v1"]


def test_builtin_groups():
    groups = builtin_groups()
    assert {"", "apps", "batch", "networking.k8s.io", "policy", "resource.k8s.io"} <= groups
    assert "monitoring.coreos.com" not in groups


def removed_table(registry) -> list[tuple[str, str, int, str]]:
    return [(entry["apiVersion"], kind, int(entry["removedIn"].split(".")[1]), entry.get("replacement") or "")
            for entry in registry["removed-api"].params.removed for kind in entry["kinds"]]


def minor(version: str) -> int:
    return int(version.split(".")[1])


def test_no_removed_version_is_served_at_or_after_its_removal(registry):
    for api_version, kind, removed_in, _ in removed_table(registry):
        for version in bundled_versions():
            if minor(version) >= removed_in:
                assert kind not in served_kinds(version).get(api_version, set()), (api_version, kind, version)
            elif minor(version) == removed_in - 1:
                assert kind in served_kinds(version).get(api_version, set()), (api_version, kind, version)


def test_every_version_a_bundled_release_stopped_serving_is_in_the_removed_table(registry):
    table = {(api_version, kind): removed_in for api_version, kind, removed_in, _ in removed_table(registry)}
    versions = bundled_versions()
    for before, after in itertools.pairwise(versions):
        for api_version, kinds in served_kinds(before).items():
            for kind in kinds - served_kinds(after).get(api_version, set()):
                assert table.get((api_version, kind)) == minor(after), (api_version, kind, after)


def test_every_replacement_is_served_by_the_newest_version(registry):
    newest = served_kinds(bundled_versions()[-1])
    for api_version, kind, _, replacement in removed_table(registry):
        target_api, _, renamed = replacement.partition(" ")
        if "/" not in target_api:
            continue  # a text (Pod Security Admission) or none
        assert (renamed or kind) in newest.get(target_api, set()), (api_version, kind, replacement)


def test_the_replacement_named_is_the_one_the_selected_version_serves(lint_text):
    manifest = "apiVersion: certificates.k8s.io/v1alpha1\nkind: PodCertificateRequest\nmetadata:\n  name: x\n"
    messages = {version: [f.message for f in lint_text(manifest, version).findings if f.rule == "removed-api"]
                for version in ("1.34", "1.35", "1.37")}
    assert messages["1.34"] == []
    removed = "certificates.k8s.io/v1alpha1 PodCertificateRequest was removed in Kubernetes 1.35"
    assert messages["1.35"] == [f"{removed}; use certificates.k8s.io/v1beta1"]
    assert messages["1.37"] == [f"{removed}; use certificates.k8s.io/v1"]


@pytest.mark.parametrize(("api_version", "kind", "removed_in"), [
    ("scheduling.k8s.io/v1beta1", "PriorityClass", "1.22"),
    ("coordination.k8s.io/v1beta1", "Lease", "1.22"),
    ("storage.k8s.io/v1beta1", "StorageClass", "1.22"),
    ("authentication.k8s.io/v1beta1", "TokenReview", "1.22"),
    ("rbac.authorization.k8s.io/v1alpha1", "ClusterRole", "1.22"),
    ("policy/v1beta1", "PodDisruptionBudget", "1.25"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32"),
])
def test_removed_apis_of_the_deprecation_guide(lint_text, api_version, kind, removed_in):
    report = lint_text(f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n")
    messages = [f.message for f in report.findings if f.rule == "removed-api"]
    assert len(messages) == 1
    assert f"removed in Kubernetes {removed_in}; use " in messages[0]



def unknown(report):
    return [(f.line, f.field, f.message, f.help) for f in report.findings if f.rule == "unknown-kind"]


def test_a_misspelt_kind_of_a_built_in_group_is_an_error_with_a_suggestion(lint_text):
    assert unknown(lint_text("apiVersion: v1\nkind: Servcie\nmetadata:\n  name: web\n")) == [
        (2, "kind", "no Kubernetes version serves kind 'Servcie' in v1", ("did you mean 'Service'?",)),
    ]


@pytest.mark.parametrize("api_version", ["app/v1", "apps/v1beta3"])
def test_a_misspelt_built_in_api_version_is_an_error_with_a_suggestion(lint_text, api_version):
    report = lint_text(f"apiVersion: {api_version}\nkind: Deployment\nmetadata:\n  name: web\n")
    assert unknown(report) == [
        (1, "apiVersion", f"no Kubernetes version serves {api_version} Deployment", ("did you mean 'apps/v1'?",)),
    ]


def test_a_kind_in_the_wrong_built_in_group_names_where_it_is_served(lint_text):
    [(_, field, message, help_lines)] = unknown(lint_text("apiVersion: apps/v1\nkind: Service\nmetadata:\n  name: w\n"))
    assert (field, message) == ("kind", "no Kubernetes version serves kind 'Service' in apps/v1")
    assert help_lines[-1] == "Service is served as v1"


@pytest.mark.parametrize(("api_version", "kind"), [
    ("monitoring.coreos.com/v1", "ServiceMonitor"),  # a custom resource
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),  # a CRD group under k8s.io
    ("skaffold/v4beta6", "Config"),  # a tool's own file, no group like a built-in one
    ("extensions/v1beta1", "Ingress"),  # removed: removed-api reports it
    ("scheduling.k8s.io/v1alpha2", "Workload"),  # served by 1.36 only: removed in 1.37
    ("certificates.k8s.io/v1", "PodCertificateRequest"),  # served from 1.37 on
])
def test_custom_groups_removed_and_once_served_versions_are_not_unknown(lint_text, api_version, kind):
    assert unknown(lint_text(f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n", "1.35")) == []


def test_context_files_read_only_what_the_index_and_cross_object_rules_need(registry):
    # the schema rule reads every built-in kind of a linted file whole, but never runs on context
    from kubelint_svc.header_only import SKIP
    from kubelint_svc.reading import Reading

    reading = Reading(registry, None, bytes, wants_of(registry)).for_context()
    assert reading.wants is not None
    assert reading.wants("ConfigMap", "v1") == SKIP
    assert reading.wants("ClusterRole", "rbac.authorization.k8s.io/v1") == SKIP
    assert reading.wants("Ingress", "networking.k8s.io/v1") == FULL  # ingress-backend-service, the graph
    assert reading.wants("Deployment", "apps/v1") == FULL
    assert reading.wants("ServiceMonitor", "monitoring.coreos.com/v1") == HEADER


def test_template_braces_in_config_map_data_are_not_unrendered_placeholders(lint_text):
    # now read whole for the schema rule: a Grafana dashboard's `${datasource}` and `{{pod}}` are
    # Grafana's, not a template of ours (header-only, they were never looked at)
    report = lint_text('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dashboards\ndata:\n'
                       '  pods.json: \'{"datasource": "${datasource}", "legendFormat": "{{pod}}"}\'\n')
    assert [f.rule for f in report.findings] == []
    templated = lint_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${NAME}\ndata:\n  a: b\n")
    assert [f.rule for f in templated.findings] == ["unrendered-placeholder"]


@pytest.mark.parametrize("field", ["kind", "apiVersion"])
def test_a_kind_or_api_version_a_pull_request_made_huge_gives_a_one_line_message(lint_text, field):
    huge = "Servic" + "e" * 200_000
    header = {"kind": f"apiVersion: v1\nkind: {huge}\n", "apiVersion": f"apiVersion: apps/v1{huge}\nkind: Deployment\n"}
    started = time.monotonic()
    [finding] = [f for f in lint_text(header[field] + "metadata:\n  name: x\n").findings if f.rule == "unknown-kind"]
    assert time.monotonic() - started < 5
    assert len(finding.message) < 200
    assert finding.help == ()
