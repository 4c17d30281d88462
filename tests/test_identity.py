"""What an object is, is its group and kind together: a `kind: Service` of Knative's group is
no Service, and no rule about Services judges it or takes it for one."""

from __future__ import annotations

import io

import pytest
from ruamel.yaml import YAML
from test_rule_fixtures import FAILURE_SIMULATED

from kubelint_svc.inputs import InputFile
from kubelint_svc.kinds import KIND_GROUPS, builtin_kind, kind_selected
from kubelint_svc.runner import Settings, lint_files


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    return yaml


def in_custom_group(text: str, kinds: set[str]) -> str:
    """The same stream, every object of those built-in kinds moved to a custom group."""
    documents = list(_yaml().load_all(text))
    for document in documents:
        if isinstance(document, dict) and document.get("kind") in kinds:
            document["apiVersion"] = "example.com/v1"
    out = io.StringIO()
    _yaml().dump_all(documents, out)
    return out.getvalue()


def builtin_kinds_of(rule) -> set[str]:
    return {entry for entry in rule.kinds if "/" not in entry and entry in KIND_GROUPS}


def rules_judging_builtin_kinds(registry) -> list:
    return [rule for rule in registry.sorted_rules() if builtin_kinds_of(rule) and rule.id not in FAILURE_SIMULATED]


def test_the_kind_table_knows_every_kind_the_bundled_versions_serve():
    from kubelint_svc.kinds import BUILTIN_GROUPS, api_group
    from kubelint_svc.schemas import builtin_groups, bundled_versions, served_kinds

    assert set(builtin_groups()) <= BUILTIN_GROUPS
    unknown = {(api_group(version), kind) for minor in bundled_versions()
               for version, kinds in served_kinds(minor).items() for kind in kinds
               if api_group(version) not in KIND_GROUPS.get(kind, ())}
    assert unknown == set()


def test_builtin_kind_is_group_and_kind():
    assert builtin_kind("v1", "Service") == "Service"
    assert builtin_kind("serving.knative.dev/v1", "Service") == ""
    assert builtin_kind("extensions/v1beta1", "Deployment") == "Deployment"
    assert builtin_kind("apps/v1", "Service") == ""  # no Service in apps
    assert builtin_kind("example.com/v1", "Rollout") == ""


@pytest.mark.parametrize(
    ("entry", "api_version", "kind", "selected"),
    [
        ("Service", "v1", "Service", True),
        ("Service", "serving.knative.dev/v1", "Service", False),
        ("serving.knative.dev/Service", "serving.knative.dev/v1", "Service", True),
        ("serving.knative.dev/Service", "v1", "Service", False),
        ("*/Service", "serving.knative.dev/v1", "Service", True),
        ("Rollout", "argoproj.io/v1alpha1", "Rollout", True),  # no built-in kind of that name
        ("Deployment", "apps/v1", "StatefulSet", False),
    ],
)
def test_a_kinds_entry_names_a_group_and_kind(entry, api_version, kind, selected):
    assert kind_selected(entry, api_version, kind) is selected


@pytest.mark.slow  # 0.9 s of CPU
def test_every_rule_on_builtin_kinds_ignores_a_same_named_custom_kind(full_registry):
    """One case per rule: its own failing example fails; moved to a custom group, the same
    objects give none of its findings (and no error of any core rule)."""

    def lint_text(text: str):
        return lint_files([InputFile("-", None)], Settings("1.37"), full_registry, stdin=text.encode)

    rules = rules_judging_builtin_kinds(full_registry)
    assert len(rules) > 30
    for rule in rules:
        report = lint_text(rule.failing_example)
        assert rule.id in {f.rule for f in report.findings}, rule.id
        moved = in_custom_group(rule.failing_example, builtin_kinds_of(rule))
        found = [(f.rule, f.line, f.message) for f in lint_text(moved).findings
                 if f.rule == rule.id or f.severity == "error"]
        assert found == [], (rule.id, moved)


KNATIVE_SERVICE = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: db
spec:
  template:
    spec:
      containers:
      - image: example/db
"""
STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: example/db
"""


def test_a_knative_service_is_not_a_statefulsets_governing_service(lint_text):
    report = lint_text(KNATIVE_SERVICE + "---\n" + STATEFULSET)
    governing = [f for f in report.findings if f.rule == "statefulset-service-name"]
    assert [(f.line, f.field) for f in governing] == [(16, "spec.serviceName")]
    assert "names no Service" in governing[0].message or "no Service" in governing[0].message
    assert not [f for f in report.findings if f.line < 10]  # nothing judged on the Knative Service


SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: http
"""


def test_a_custom_deployment_is_not_a_pod_source(lint_text):
    service = SERVICE
    workload = STATEFULSET.replace("apps/v1", "example.com/v1").replace("StatefulSet", "Deployment") \
        .replace("db", "web")
    report = lint_text(service + "---\n" + workload)
    # the Service's Pods are not read from a custom kind: no targetPort verdict against its template
    assert not [f for f in report.findings if f.rule == "service-target-port-unresolved" and f.severity == "error"]


ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - name: web
          containerPort: 8080
"""


def test_a_rollouts_pods_are_read_for_the_targetport(lint_text):
    """The Rollout's template declares no port named http: the Service reaches nothing."""
    report = lint_text(SERVICE + "---\n" + ROLLOUT)
    unresolved = [(f.rule, f.line, f.field, f.severity) for f in report.findings if f.severity == "error"]
    assert unresolved == [("service-target-port-undefined", 9, "spec.ports[0].targetPort", "error")]
    fixed = lint_text(SERVICE.replace("targetPort: http", "targetPort: web") + "---\n" + ROLLOUT)
    assert [f for f in fixed.findings if f.severity == "error"] == []


def test_a_rollout_whose_template_does_not_match_is_not_an_operators_pods(lint_text):
    report = lint_text(SERVICE.replace("{app: web}", "{app: webb}") + "---\n" + ROLLOUT)
    no_match = [f for f in report.findings if f.rule == "service-selector-no-match"]
    assert [(f.line, f.severity) for f in no_match] == [(6, "error")]
    assert "Rollout web" in " ".join(note.message for note in no_match[0].notes)


def test_a_deploymentconfig_is_selected_by_the_label_openshift_adds(lint_text):
    config = ROLLOUT.replace("argoproj.io/v1alpha1", "apps.openshift.io/v1").replace("Rollout", "DeploymentConfig") \
        .replace("    matchLabels: {app: web}\n", "    app: web\n")
    service = SERVICE.replace("{app: web}", "{deploymentconfig: web}").replace("targetPort: http", "targetPort: web")
    assert [f for f in lint_text(service + "---\n" + config).findings if f.severity != "info"] == []
    other = service.replace("deploymentconfig: web", "deploymentconfig: api")
    assert "service-selector-no-match" in {f.rule for f in lint_text(other + "---\n" + config).findings}


def test_pod_templates_in_the_configuration_teach_a_custom_kind(tmp_path):
    from kubelint_svc.app import Options
    from kubelint_svc.app import lint as run

    webapp = ROLLOUT.replace("argoproj.io/v1alpha1", "example.com/v1").replace("Rollout", "WebApp") \
        .replace("  template:", "  podTemplate:")
    (tmp_path / "all.yaml").write_text(SERVICE + "---\n" + webapp)
    (tmp_path / ".kubelint-svc.yaml").write_text(
        "pod-templates:\n  - {group: example.com, kind: WebApp, template: spec.podTemplate, selector: spec.selector}\n")
    taught = run(Options(paths=(str(tmp_path / "all.yaml"),), config_file=str(tmp_path / ".kubelint-svc.yaml")))
    assert [(f.rule, f.line) for f in taught.report.findings if f.severity == "error"] == [
        ("service-target-port-undefined", 9)]
    (tmp_path / ".kubelint-svc.yaml").write_text("rules: {}\n")
    untaught = run(Options(paths=(str(tmp_path / "all.yaml"),), config_file=str(tmp_path / ".kubelint-svc.yaml")))
    assert [f for f in untaught.report.findings if f.severity == "error"] == []  # an operator's Pods: unknown


@pytest.mark.parametrize("entry", [
    "[{kind: WebApp, template: spec.podTemplate}]",
    "[{group: example.com, kind: WebApp, template: 'spec..x'}]",
    "[{group: example.com, kind: WebApp, template: spec.t, extra: 1}]",
    "{group: example.com}",
])
def test_a_malformed_pod_templates_entry_is_a_one_line_error(tmp_path, entry):
    from kubelint_svc.app import Options, UsageError
    from kubelint_svc.app import lint as run

    (tmp_path / "svc.yaml").write_text(SERVICE)
    (tmp_path / ".kubelint-svc.yaml").write_text(f"pod-templates: {entry}\n")
    with pytest.raises(UsageError, match=r"\.kubelint-svc\.yaml:1: pod-templates"):
        run(Options(paths=(str(tmp_path / "svc.yaml"),), config_file=str(tmp_path / ".kubelint-svc.yaml")))
