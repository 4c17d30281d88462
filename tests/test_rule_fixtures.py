"""Every rule's fixtures: each `fail-*` file gives exactly the findings its `# expect:` lines
name (line:column and field), each `pass-*` file gives none. Add a folder, get a test."""

import re
from pathlib import Path

import pytest

from kubelint_svc.findings import SEVERITY_RANK

FIXTURES = Path(__file__).parent / "rules"
EXPECT = re.compile(rb"^# expect: (\d+):(\d+)(?: (.+?))?\s*$", re.MULTILINE)
# rules whose failing case cannot be a file's content; each is tested where named
FAILURE_SIMULATED = {"file-unreadable": "test_model.py::test_an_unreadable_file_is_a_finding"}


def fixture_files(prefix: str) -> list[Path]:
    return sorted(p for p in FIXTURES.glob(f"*/{prefix}-*") if p.is_file())


def test_every_rule_has_fixtures_and_every_fixture_folder_names_a_rule(registry):
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == set(registry.rules)
    for rule_id in registry.rules:
        assert list((FIXTURES / rule_id).glob("pass-*")), f"{rule_id} has no passing fixture"
        if rule_id not in FAILURE_SIMULATED:
            assert list((FIXTURES / rule_id).glob("fail-*")), f"{rule_id} has no failing fixture"


@pytest.mark.parametrize("path", fixture_files("fail"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_failing_fixture_gives_exactly_the_expected_findings(path, lint_paths):
    rule_id = path.parent.name
    expected = sorted(
        (int(line), int(column), field.decode() if field else None)
        for line, column, field in EXPECT.findall(path.read_bytes())
    )
    assert expected, f"{path} has no '# expect: LINE:COL [FIELD]' line"
    found = sorted(
        (f.line, f.column, f.field) if expected[0][2] is not None or f.field is None else (f.line, f.column, None)
        for f in lint_paths(path).findings
        if f.rule == rule_id
    )
    assert found == expected


@pytest.mark.parametrize("path", fixture_files("pass"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_passing_fixture_gives_no_finding_of_its_rule_and_no_error(path, lint_paths):
    findings = lint_paths(path).findings
    assert [f for f in findings if f.rule == path.parent.name or SEVERITY_RANK[f.severity] >= 2] == []


def test_inline_examples_of_each_rule_fail_and_pass(registry, lint_text):
    for rule in registry.sorted_rules():
        if rule.id in FAILURE_SIMULATED:
            continue
        failing = rule.failing_example.encode("latin-1" if rule.id == "yaml-encoding" else "utf-8")
        assert rule.id in {f.rule for f in lint_text(failing).findings}, rule.id
        assert rule.id not in {f.rule for f in lint_text(rule.passing_example).findings}, rule.id
