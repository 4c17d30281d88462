"""The rule engine: rules are data, checks are named functions or JSON Schema fragments."""

import pytest

from kubelint_svc.engine import Registry, RuleError
from kubelint_svc.inputs import InputFile
from kubelint_svc.runner import Settings, lint
from conftest import brief

TEAM_LABEL_RULE = """\
rules:
  - id: service-team-label
    severity: warning
    summary: Services name their owning team.
    rationale: On-call needs to know whom to page.
    kinds: [Service]
    check:
      message: every Service needs a team label
      json-schema:
        type: object
        required: [metadata]
        properties:
          metadata:
            type: object
            required: [labels]
            properties:
              labels:
                type: object
                required: [team]
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  ports:\n  - port: 80\n"


def lint_with(registry: Registry, text: str):
    return lint([InputFile("-", None)], Settings("1.37"), registry, stdin=lambda: text.encode())


def test_a_json_schema_rule_reports_at_the_nearest_field(tmp_path):
    (tmp_path / "team.yaml").write_text(TEAM_LABEL_RULE)
    registry = Registry.load([tmp_path])
    report = lint_with(registry, SERVICE)
    assert brief(report) == [("service-team-label", 5, 3, "metadata.labels.team")]
    assert report.findings[0].severity == "warning"
    assert report.findings[0].message == "every Service needs a team label"
    assert lint_with(registry, SERVICE.replace("app: web", "team: shop")).findings == []
    # kinds limit where a rule applies
    assert lint_with(registry, SERVICE.replace("kind: Service", "kind: ConfigMap")).findings == []


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("rules:\n  - id: x\n    severity: fatal\n    check: {function: schema.matches_kubernetes_schema}\n", "severity"),
        ("rules:\n  - id: x\n    severity: error\n    check: {function: nowhere.nothing}\n", "no check function"),
        ("rules:\n  - id: x\n    severity: error\n    check: {}\n", "'check' needs"),
        ("rules:\n  - id: x\n    severity: error\n    chek: {}\n", "unknown keys"),
        ("rule: []\n", "top-level 'rules:'"),
    ],
)
def test_malformed_rules_are_refused_with_a_reason(tmp_path, text, complaint):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(RuleError, match=complaint):
        Registry.load([tmp_path])


def test_a_rule_id_defined_twice_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(TEAM_LABEL_RULE)
    (tmp_path / "b.yaml").write_text(TEAM_LABEL_RULE)
    with pytest.raises(RuleError, match="already defined"):
        Registry.load([tmp_path])


def test_builtin_rules_name_their_checks_by_module(registry):
    for rule in registry.rules.values():
        assert rule.stage == "loader" or "." in rule.check.get("function", "x.y")


def test_a_crashing_check_is_a_finding_and_the_rest_still_runs(registry, monkeypatch):
    from kubelint_svc.checks import service_ports

    def broken(resource, run, params):
        raise KeyError("boom")

    monkeypatch.setattr(service_ports, "port_numbers", broken)
    fresh = Registry.builtin()  # resolves check functions now, picking up the broken one
    report = lint_with(fresh, SERVICE.replace("port: 80", 'port: "80"'))
    rules = [f.rule for f in report.findings]
    assert "internal-error" in rules and "schema" in rules
    crash = next(f for f in report.findings if f.rule == "internal-error")
    assert "service-port-number" in crash.message and "KeyError" in crash.message and crash.line == 1
