"""Every rule's fixtures: each `fail-*` file gives exactly the findings its `# expect:` lines
name (line:column and field), each `pass-*` file gives none. Add a folder, get a test."""

import re
from pathlib import Path

import pytest

from kubelint_svc.findings import SEVERITY_RANK
from kubelint_svc.inputs import InputFile, discover
from kubelint_svc.runner import Settings, lint_files

FIXTURES = Path(__file__).parent / "rules"
EXPECT = re.compile(rb"^# expect: (\d+):(\d+)(?: (.+?))?\s*$", re.MULTILINE)
# rules whose failing case cannot be a file's content; each is tested where named
FAILURE_SIMULATED = {
    "file-unreadable": "test_model.py::test_an_unreadable_file_is_a_finding",
    "internal-error": "test_engine.py::test_a_crashing_check_is_a_finding_and_the_rest_still_runs",
    "path-outside-tree": "test_hostile_pr.py::test_a_link_out_of_the_tree_is_not_followed",
    # a folder, not a file, makes these fail: test_units.py builds each layout
    "kustomize-build-failed": "test_units.py::test_a_kustomization_that_fails_to_build_is_one_error",
    "kustomize-not-built": "test_units.py::test_remote_resources_are_not_built",
    "kustomize-fallback": "test_units.py::test_the_fallback_says_so_once_per_root",
    "kustomize-unlisted-file": "test_units.py::test_a_file_no_kustomization_lists_gets_one_info",
    "helm-chart-not-rendered": "test_units.py::test_a_chart_without_helm_says_how_to_lint_it",
    "test-fixture-skipped": "test_units.py::test_kuttl_and_chainsaw_assertions_are_set_aside",
}


def test_every_simulated_failure_names_a_test_that_exists():
    """The rules whose failing case is not a file name the test that makes them fail instead:
    each named test is there, and names the rule it stands for."""
    tests = Path(__file__).parent
    for rule_id, named in FAILURE_SIMULATED.items():
        file, _, test = named.partition("::")
        source = (tests / file).read_text()
        found = re.search(rf"^def {re.escape(test)}\(.*?(?=^\S|\Z)", source, re.MULTILINE | re.DOTALL)
        assert found, (rule_id, named)
        assert rule_id in found.group(0), (rule_id, named)


def fixture_files(prefix: str) -> list[Path]:
    return sorted(p for p in FIXTURES.glob(f"*/{prefix}-*") if p.is_file())


def test_every_rule_has_fixtures_and_every_fixture_folder_names_a_rule(full_registry):
    registry = full_registry
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == set(registry.rules)
    for rule_id in registry.rules:
        assert list((FIXTURES / rule_id).glob("pass-*")), f"{rule_id} has no passing fixture"
        if rule_id not in FAILURE_SIMULATED:
            assert list((FIXTURES / rule_id).glob("fail-*")), f"{rule_id} has no failing fixture"


@pytest.mark.parametrize("path", fixture_files("fail"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_failing_fixture_gives_exactly_the_expected_findings(path, full_registry):
    rule_id = path.parent.name
    expected = sorted(
        (int(line), int(column), field.decode() if field else None)
        for line, column, field in EXPECT.findall(path.read_bytes())
    )
    assert expected, f"{path} has no '# expect: LINE:COL [FIELD]' line"
    found = sorted(
        (f.line, f.column, f.field)
        for f in lint_with(full_registry, path).findings
        if f.rule == rule_id
    )
    assert found == expected


@pytest.mark.parametrize("path", fixture_files("pass"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_passing_fixture_gives_no_finding_of_its_rule_and_no_error(path, full_registry):
    findings = lint_with(full_registry, path).findings
    assert [f for f in findings if f.rule == path.parent.name or SEVERITY_RANK[f.severity] >= 2] == []


@pytest.mark.slow  # 1.7 s of CPU
def test_inline_examples_of_each_rule_fail_and_pass(full_registry):
    def rules_found(text: bytes) -> set[str]:
        report = lint_files([InputFile("-", None)], Settings("1.37"), full_registry, stdin=lambda: text)
        return {f.rule for f in report.findings}

    for rule in full_registry.sorted_rules():
        if rule.id in FAILURE_SIMULATED:
            continue
        failing = rule.failing_example.encode("latin-1" if rule.id == "yaml-encoding" else "utf-8")
        assert rule.id in rules_found(failing), rule.id
        assert rule.id not in rules_found(rule.passing_example.encode()), rule.id


def lint_with(registry, path: Path):
    return lint_files(discover([str(path)]), Settings("1.37"), registry)
