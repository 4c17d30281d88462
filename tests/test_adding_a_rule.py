"""Adding a rule as docs/architecture.md says (issue 21): every step the page names, followed in a
temporary tree (a rule file of a new concern, its check module, its CONCERNS entry, its fixtures,
its docs); the rule runs, and a one-object check that reads the index fails clearly, at load when
its own code reads it, when it runs when a helper does. Cross-object scope is declared by the
@cross_object marker alone: the rule file cannot say it."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO
from test_engine import CONCERNS, concern_problem
from test_rule_fixtures import EXPECT

import kubelint_svc.checks
from kubelint_svc.engine import Registry, RuleError
from kubelint_svc.inputs import discover
from kubelint_svc.runner import Settings, lint_files

RULES = """\
rules:
  - id: service-owner-label
    severity: warning
    summary: Services name their owner.
    rationale: On-call needs to know whom to page.
    kinds: [Service]
    check:
      function: ownership.owner_label
  - id: service-owner-without-workload
    severity: warning
    summary: An owner with no workload of that owner.
    rationale: A Service owned by a team that runs nothing there is a leftover.
    kinds: [Service]
    check:
      function: ownership.owner_runs_something
"""
CHECKS = """\
from collections.abc import Iterator

from kubelint_svc.checks.api import Hit, NoParams, RunContext, cross_object
from kubelint_svc.model import Resource


def owner_label(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    if "owner" not in (resource.get(("metadata", "labels")) or {}):
        yield Hit("this Service names no owner", ("metadata", "labels"))


@cross_object
def owner_runs_something(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    owner = (resource.get(("metadata", "labels")) or {}).get("owner")
    owners = [(r.get(("metadata", "labels")) or {}).get("owner") for r in run.resources if r.kind == "Deployment"]
    if owner is not None and owner not in owners:
        yield Hit(f"no Deployment is owned by {owner}", ("metadata", "labels", "owner"))
"""
FAILING = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
# expect: 5:3 metadata.labels
    app: web
spec:
  ports:
  - port: 80
"""
PASSING = FAILING.replace("# expect: 5:3 metadata.labels\n", "").replace("app: web", "owner: shop")


def steps_of_the_docs() -> list[str]:
    doc = (REPO / "docs" / "architecture.md").read_text()
    section = doc.split("To add a rule", 1)[1].split("\n\n", 1)[0]
    return re.split(r"\n(?=\d\. )", section.split(":\n", 1)[1])


@pytest.fixture
def concern(tmp_path, monkeypatch) -> Path:
    """Steps 1 and 2 in a temporary tree: rules/ownership.yaml, and checks/ownership.py in a folder
    kubelint_svc.checks also finds its modules in (as if written beside the others)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ownership.yaml").write_text(RULES)
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "ownership.py").write_text(CHECKS)
    monkeypatch.setattr(kubelint_svc.checks, "__path__", [*kubelint_svc.checks.__path__, str(tmp_path / "checks")])
    monkeypatch.delitem(sys.modules, "kubelint_svc.checks.ownership", raising=False)
    return tmp_path


def test_the_docs_name_every_step(concern):
    steps = steps_of_the_docs()
    assert [step[:2] for step in steps] == ["1.", "2.", "3.", "4."]
    rule_file, function, fixtures, docs = steps
    assert "`rules/*.yaml`" in rule_file
    assert "`CONCERNS` of `tests/test_engine.py`" in rule_file
    assert "`checks/` module named after that concern" in function
    assert "`@cross_object`" in function
    assert "never in the rule file" in function
    assert "`tests/rules/<rule-id>/fail-*.yaml`" in fixtures
    assert "`pass-*.yaml`" in fixtures
    assert "scripts/gen_rule_docs.py" in docs
    assert "docs/rules.md" in docs


def test_a_rule_added_as_the_docs_say_runs(concern, tmp_path):
    registry = Registry.load([concern / "rules"])
    checks = concern / "checks"
    # step 1: without its CONCERNS entry the new rule file is refused by test_engine's check
    rule = registry["service-owner-label"]
    assert "ownership.yaml has no CONCERNS entry" in str(concern_problem(rule, CONCERNS, checks))
    assert concern_problem(rule, {**CONCERNS, "ownership.yaml": {"ownership"}}, checks) is None
    # step 3: its fixtures, as tests/test_rule_fixtures.py reads them
    fixtures = concern / "tests" / "rules" / "service-owner-label"
    fixtures.mkdir(parents=True)
    (fixtures / "fail-no-owner.yaml").write_text(FAILING)
    (fixtures / "pass-owner.yaml").write_text(PASSING)
    expected = [(int(line), int(column), field.decode()) for line, column, field in
                EXPECT.findall((fixtures / "fail-no-owner.yaml").read_bytes())]
    failing = lint_files(discover([str(fixtures / "fail-no-owner.yaml")]), Settings("1.37"), registry)
    assert [(f.line, f.column, f.field) for f in failing.findings if f.rule == rule.id] == expected
    passing = lint_files(discover([str(fixtures / "pass-owner.yaml")]), Settings("1.37"), registry)
    assert [f.rule for f in passing.findings] == ["service-owner-without-workload"]  # the cross-object one ran
    assert passing.findings[0].message == "no Deployment is owned by shop"
    # step 4: its documentation
    spec = importlib.util.spec_from_file_location("gen_rule_docs", REPO / "scripts" / "gen_rule_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = module.render(registry)
    assert "| [`service-owner-label`](#service-owner-label) | warning | - | Services name their owner. |" in page
    assert "## service-owner-label" in page


def test_a_one_object_check_that_reads_the_index_is_refused_when_the_rules_load(concern):
    checks = concern / "checks" / "ownership.py"
    checks.write_text(CHECKS.replace("@cross_object\n", ""))
    with pytest.raises(RuleError) as raised:
        Registry.load([concern / "rules"])
    assert str(raised.value) == (
        f"{concern / 'rules' / 'ownership.yaml'}:15: rule 'service-owner-without-workload': "
        "ownership.owner_runs_something reads run.resources, which only a check marked @cross_object may "
        "(checks/api.py): mark it")


def test_a_one_object_check_that_reads_the_index_through_a_helper_fails_clearly_when_it_runs(concern, tmp_path):
    checks = concern / "checks" / "ownership.py"
    helper = "\n\ndef deployments(run):\n    return [r for r in run.index.resources if r.kind == 'Deployment']\n"
    direct = 'for r in run.resources if r.kind == "Deployment"]'
    checks.write_text(CHECKS.replace("@cross_object\n", "").replace(direct, "for r in deployments(run)]") + helper)
    registry = Registry.load([concern / "rules"])
    (tmp_path / "service.yaml").write_text(PASSING)
    report = lint_files(discover([str(tmp_path / "service.yaml")]), Settings("1.37"), registry)
    [crash] = [f.message for f in report.findings]
    assert crash.startswith("rule service-owner-without-workload failed on this object (CrossObjectRead: it read "
                            "run.index, which only a check marked @cross_object may (checks/api.py))")


@pytest.mark.parametrize("key", ["cross-object", "cross_object"])
def test_the_rule_file_cannot_declare_cross_object_scope(concern, key):
    rules = concern / "rules" / "ownership.yaml"
    rules.write_text(RULES.replace("    kinds: [Service]\n", f"    kinds: [Service]\n    {key}: true\n", 1))
    with pytest.raises(RuleError, match=r"ownership.yaml:7: rule 'service-owner-label': a check that reads other "
                                        r"objects is marked @cross_object in its module \(checks/api.py\), never "
                                        r"in the rule file"):
        Registry.load([concern / "rules"])
