"""The rule engine: rules are data, checks are named functions or JSON Schema fragments."""

import importlib
from pathlib import Path

import pytest
from conftest import REPO, brief

from kubelint_svc.engine import Registry, RuleError
from kubelint_svc.inputs import InputFile
from kubelint_svc.runner import Settings, lint_files

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
SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app: web\n"
    "spec:\n  ports:\n  - port: 80\n"
)


def lint_with(registry: Registry, text: str):
    return lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=text.encode)


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
    ("text", "complaint"),
    [
        (
            "rules:\n  - id: x\n    severity: fatal\n    check: {function: schema.matches_kubernetes_schema}\n",
            "severity",
        ),
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


CHECKS = REPO / "kubelint_svc" / "checks"
# The check modules the rules of each file may name: a rule's function lives in the module
# of its concern, so a newcomer finds it in one step (STYLE.md, docs/architecture.md).
CONCERNS = {
    "cross-object.yaml": {"selectors"},
    "schema.yaml": {"schema", "api_versions", "templates", "custom_resources"},
    "service-metadata.yaml": {"metadata"},
    "service-ports.yaml": {"service_ports", "apply_unit"},
    "service-types.yaml": {"service_types", "apply_unit"},
    "workloads.yaml": {"workloads", "pod_specs", "metadata"},
    "conventions.yaml": {"conventions"},
}


def concern_problem(rule, concerns: dict[str, set[str]], checks: Path = CHECKS) -> str | None:
    """Why a rule's check function is not where a newcomer looks for it (the module of its
    concern, named in CONCERNS for its rule file, defining the function itself), or None."""
    target = rule.check.get("function")
    if target is None:
        # no code of its own: a JSON Schema fragment, or a room of the package reports it
        known = "json-schema" in rule.check or (REPO / "kubelint_svc" / f"{rule.stage}.py").is_file()
        return None if known else f"{rule.id}: reported by {rule.stage}, which is no module"
    module_name, _, function_name = str(target).partition(".")
    if not (module_name.isidentifier() and function_name.isidentifier()):
        return f"{rule.id}: {target} is not module.function"
    if not (checks / f"{module_name}.py").is_file():
        return f"{rule.id}: no {checks.name}/{module_name}.py"
    if module_name not in concerns.get(rule.source.name, set()):
        return f"{rule.id}: {rule.source.name} has no CONCERNS entry naming {module_name} (tests/test_engine.py)"
    module = importlib.import_module(f"kubelint_svc.checks.{module_name}")
    function = getattr(module, function_name, None)
    # defined in the module named, not imported into it from another concern
    if not callable(function) or function.__module__ != module.__name__:
        return f"{rule.id}: {module_name} defines no {function_name}"
    return None


def test_builtin_rules_name_their_checks_by_module(registry):
    assert [problem for rule in registry.rules.values() if (problem := concern_problem(rule, CONCERNS))] == []
    named = {str(rule.check["function"]).partition(".")[0] for rule in registry.rules.values()
             if "function" in rule.check}
    # api is the checks' API; json_schema and safe_schema serve the `json-schema:` rules; every other
    # module holds some rule's check
    assert named | {"api", "json_schema", "safe_schema"} == {path.stem for path in CHECKS.glob("*.py")} - {"__init__"}


def test_a_crashing_check_is_a_finding_and_the_rest_still_runs(registry, monkeypatch):
    from kubelint_svc.checks import service_ports

    def broken(resource, run, params):
        raise KeyError("boom")

    monkeypatch.setattr(service_ports, "port_numbers", broken)
    fresh = Registry.builtin()  # resolves check functions now, picking up the broken one
    report = lint_with(fresh, SERVICE.replace("port: 80", 'port: "80"'))
    rules = [f.rule for f in report.findings]
    assert "internal-error" in rules
    assert "schema" in rules
    crash = next(f for f in report.findings if f.rule == "internal-error")
    assert "service-port-number" in crash.message
    assert "KeyError" in crash.message
    assert crash.line == 1


def test_a_check_that_reads_other_objects_without_the_marker_is_told_so(monkeypatch, tmp_path):
    """A one-object check runs while files are read and its findings are cached with its file's:
    reading the index there would see a partial run. It raises, and the finding names the marker."""
    from kubelint_svc.checks import api, service_ports
    from kubelint_svc.inputs import discover
    from kubelint_svc.runner import Settings, lint_files

    def index_of(run):  # through a helper: the rule loads, and the read is caught when it runs
        return run.index

    def peeks(resource, run, params):
        index_of(run).pods_in("default")
        yield from ()

    (tmp_path / "svc.yaml").write_text(SERVICE)
    monkeypatch.setattr(service_ports, "port_numbers", peeks)
    report = lint_files(discover([str(tmp_path)]), Settings("1.37"), Registry.builtin())
    [crash] = [f for f in report.findings if f.rule == "internal-error"]
    assert "service-port-number" in crash.message
    assert "run.index, which only a check marked @cross_object may" in crash.message
    monkeypatch.setattr(service_ports, "port_numbers", api.cross_object(peeks))
    report = lint_files(discover([str(tmp_path)]), Settings("1.37"), Registry.builtin())
    assert [f for f in report.findings if f.rule == "internal-error"] == []


@pytest.mark.parametrize(("check", "complaint"), [
    ("{function: metadata.service_name, parms: {relaxed_since: 36}}",
     "rules.yaml:5: rule 'x': unknown key 'parms' in a function check (it takes function, params)"),
    ("{function: metadata.service_name, params: {relaxed_since: 36, extra: 1}}",
     "rules.yaml:5: rule 'x': metadata.service_name has no parameter 'extra' (it takes relaxed_since)"),
    ("{function: metadata.service_name}",
     "rules.yaml:5: rule 'x': metadata.service_name needs the parameter 'relaxed_since'"),
    ("{function: metadata.service_name, params: {relaxed_since: soon}}",
     "rules.yaml:5: rule 'x': parameter 'relaxed_since' must be int, not str"),
    ("{function: service_ports.port_numbers, params: {any: 1}}",
     "rules.yaml:5: rule 'x': service_ports.port_numbers has no parameter 'any' (it takes no parameters)"),
    ("{function: service_ports.no_such_check}",
     "rules.yaml:5: rule 'x': no check function 'service_ports.no_such_check'"),
])
def test_a_checks_params_are_checked_when_the_rule_is_read(tmp_path, check, complaint):
    """A typo in a rule's `check:` is an error naming the file and line, not a crash at run time."""
    from kubelint_svc.engine import RuleError, read_rule_folder

    rule = f"rules:\n  - id: x\n    severity: error\n    summary: s\n    check: {check}\n"
    (tmp_path / "rules.yaml").write_text(rule)
    with pytest.raises(RuleError) as raised:
        read_rule_folder(tmp_path)
    assert complaint in str(raised.value)


def test_a_checks_params_arrive_typed(registry):
    from kubelint_svc.checks.metadata import ServiceNameRules

    assert registry["service-name"].params == ServiceNameRules(relaxed_since=36)


def test_every_built_in_schema_is_a_valid_json_schema():
    """Built-in rules' schemas are not checked against the metaschema on every run (user packs'
    are): this test is what checks them."""
    from jsonschema import Draft202012Validator

    from kubelint_svc.engine import Registry

    schemas = [
        schema
        for rule in Registry.builtin().rules.values()
        for schema in (rule.check.get("json-schema"), rule.where)
        if schema is not None
    ]
    assert len(schemas) >= 5
    for schema in schemas:
        Draft202012Validator.check_schema(schema)
