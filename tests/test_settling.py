"""Findings settled in one place (issue 21): suppressions, then each file's configuration (a rule
off there dropped, the severity set there, a check's own milder verdict kept), sorted; nothing
changes a finding after it."""

import ast
import dataclasses

from conftest import REPO
from test_cli_config import findings, write

from kubelint_svc.engine import Registry
from kubelint_svc.findings import Finding
from kubelint_svc.settling import as_governed, settled
from kubelint_svc.suppressions import Suppression

BAD_PORT = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 0\n"
# the same key twice with the same value: yaml-duplicate-key's own verdict is a warning
SAME_TWICE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: '1'\n  x: '1'\n"
OTHER_TWICE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  x: '1'\n  x: '2'\n"


def test_a_folder_configuration_sets_severities_and_turns_rules_off_for_its_files(tmp_path, monkeypatch, capsys):
    write(tmp_path, {
        ".git/HEAD": "", "a/svc.yaml": BAD_PORT, "b/svc.yaml": BAD_PORT, "c/svc.yaml": BAD_PORT,
        "b/.kubelint-svc.yaml": "rules: {service-port-number: info}\n",
        "c/.kubelint-svc.yaml": "rules: {service-port-number: off}\n",
    })
    found, _ = findings(monkeypatch, capsys, tmp_path, ".")
    assert [f for f in found if f[1] == "service-port-number"] == [
        ("a/svc.yaml", "service-port-number", "error"), ("b/svc.yaml", "service-port-number", "info")]


def test_a_checks_milder_verdict_stays_milder_under_a_folder_configuration(tmp_path, monkeypatch, capsys):
    """The run's configuration makes yaml-duplicate-key a warning, the folder's an error: a key
    repeated with the same value is the check's warning in both, as it is in a run of the folder
    alone (it was raised to an error when the verdict equalled the run's severity)."""
    write(tmp_path, {
        ".git/HEAD": "", ".kubelint-svc.yaml": "rules: {yaml-duplicate-key: warning}\n",
        "k8s/.kubelint-svc.yaml": "rules: {yaml-duplicate-key: error}\n",
        "k8s/same.yaml": SAME_TWICE, "k8s/other.yaml": OTHER_TWICE,
    })
    expected = [("k8s/other.yaml", "yaml-duplicate-key", "error"), ("k8s/same.yaml", "yaml-duplicate-key", "warning")]
    found, _ = findings(monkeypatch, capsys, tmp_path, ".")
    assert [f for f in found if f[1] == "yaml-duplicate-key"] == expected
    alone, _ = findings(monkeypatch, capsys, tmp_path / "k8s", ".")
    assert [(f"k8s/{file}", rule, severity) for file, rule, severity in alone if rule == "yaml-duplicate-key"] == \
        expected


def test_an_unused_suppression_is_settled_by_its_files_configuration(tmp_path, monkeypatch, capsys):
    write(tmp_path, {
        ".git/HEAD": "", "a/svc.yaml": "# kubelint-svc: ignore-file[service-port-name]\n" + BAD_PORT,
        "b/svc.yaml": "# kubelint-svc: ignore-file[service-port-name]\n" + BAD_PORT,
        "b/.kubelint-svc.yaml": "rules: {unused-suppression: warning}\n",
    })
    found, _ = findings(monkeypatch, capsys, tmp_path, ".")
    assert [f for f in found if f[1] == "unused-suppression"] == [
        ("a/svc.yaml", "unused-suppression", "info"), ("b/svc.yaml", "unused-suppression", "warning")]


def test_settled_suppresses_then_governs_then_sorts():
    registry = Registry.builtin()
    port = Finding("service-port-number", "error", "port 0", "b.yaml", 7, 5)
    name = Finding("service-port-name", "warning", "unnamed", "a.yaml", 7, 5)
    milder = Finding("yaml-duplicate-key", "warning", "x twice", "a.yaml", 3, 3, verdict="warning")
    silencer = Suppression({"service-port-name", "no-such-rule"}, "a.yaml", 1, 1, "file")
    final = settled([port, milder, name], registry, [silencer])
    assert [(f.rule, f.file) for f in final] == [
        ("unused-suppression", "a.yaml"), ("yaml-duplicate-key", "a.yaml"), ("service-port-number", "b.yaml")]
    strict = dict(registry.rules)
    strict["yaml-duplicate-key"] = dataclasses.replace(strict["yaml-duplicate-key"], severity="error")
    assert as_governed(milder, Registry(list(strict.values()))).severity == "warning"  # the verdict is kept
    assert as_governed(port, Registry(list(strict.values()))) is port
    strict["service-port-number"] = dataclasses.replace(strict["service-port-number"], enabled=False)
    assert as_governed(port, Registry(list(strict.values()))) is None


def test_findings_are_settled_once_and_nothing_changes_them_after():
    """Only settling.py applies suppressions, and a Report's findings are assigned once: by the
    runner, from settled()."""
    package = REPO / "kubelint_svc"
    applying, assigned = [], []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "kubelint_svc.suppressions" \
                    and any(alias.name == "apply" for alias in node.names):
                applying.append(path.name)
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "findings" \
                        and isinstance(target.value, ast.Name) and target.value.id == "report":
                    value = node.value
                    called = value.func.id if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) else None
                    assigned.append((path.name, called))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("append", "extend") and isinstance(node.func.value, ast.Attribute) \
                    and node.func.value.attr == "findings" and isinstance(node.func.value.value, ast.Name) \
                    and node.func.value.value.id == "report":
                assigned.append((path.name, node.func.attr))
    assert applying == ["settling.py"]
    assert assigned == [("runner.py", "settled")]
