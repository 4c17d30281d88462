"""--fix (issue #23): each fix as a folder under tests/fix/ (the tree before, the tree after,
byte for byte, and the re-lint without the finding), the edit API an editor uses, and the cases
a pull request can make hostile: nothing is ever written but the fixed value, or a note says why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, cli_in_process

FIXTURES = REPO / "tests" / "fix"

# folder under tests/fix -> (the rule whose finding the fix removes, the flags that apply it)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "service-port-protocol": (("service-port-protocol",), ("--fix",)),
    "container-port-protocol": (("container-port-protocol",), ("--fix",)),
    "quoted-port-number": (("schema", "service-target-port"), ("--fix",)),
    "service-target-port-undefined": (("service-target-port-undefined",), ("--fix",)),
    "removed-api": (("removed-api",), ("--fix",)),
    "yaml-duplicate-key": (("yaml-duplicate-key",), ("--fix",)),
    "service-headless-target-port": (("service-headless-target-port",), ("--fix",)),
    "service-selector-no-match": (("service-selector-no-match",), ("--fix", "--unsafe-fixes")),
    "service-node-port-range": (("service-node-port-range",), ("--fix", "--unsafe-fixes")),
}
UNSAFE = [case for case, (_, flags) in CASES.items() if "--unsafe-fixes" in flags]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
            and ".kubelint-svc_cache" not in path.parts}


def lint_json(monkeypatch, capsys, folder: Path, *args: str) -> list[dict]:
    _, out, _ = cli_in_process(monkeypatch, capsys, "lint", "--format", "json", "--no-cache", *args, ".", cwd=folder)
    return json.loads(out)["findings"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_fix_writes_the_fixed_tree_byte_for_byte(case, tmp_path, monkeypatch, capsys):
    rules, flags = CASES[case]
    work = tmp_path / case
    shutil.copytree(FIXTURES / case / "before", work)
    found = {f["rule"] for f in lint_json(monkeypatch, capsys, work)}
    assert set(rules) <= found, "the fixture shows no finding"
    _, out, err = cli_in_process(monkeypatch, capsys, "lint", "--no-cache", *flags, ".", cwd=work)
    assert "not fixed" not in err
    assert tree(work) == tree(FIXTURES / case / "after")
    assert "Fixed " in out
    assert not set(rules) & {f["rule"] for f in lint_json(monkeypatch, capsys, work)}
    cli_in_process(monkeypatch, capsys, "lint", "--no-cache", *flags, ".", cwd=work)  # a second run changes nothing
    assert tree(work) == tree(FIXTURES / case / "after")


@pytest.mark.parametrize("case", UNSAFE)
def test_an_unsafe_fix_needs_unsafe_fixes(case, tmp_path, monkeypatch, capsys):
    shutil.copytree(FIXTURES / case / "before", tmp_path, dirs_exist_ok=True)
    cli_in_process(monkeypatch, capsys, "lint", "--fix", "--no-cache", ".", cwd=tmp_path)
    assert tree(tmp_path) == tree(FIXTURES / case / "before")


def test_diff_prints_the_fix_writes_nothing_and_exits_1(tmp_path, monkeypatch, capsys):
    shutil.copytree(FIXTURES / "service-port-protocol" / "before", tmp_path, dirs_exist_ok=True)
    before = tree(tmp_path)
    code, out, err = cli_in_process(monkeypatch, capsys, "lint", "--diff", "--no-cache", ".", cwd=tmp_path)
    assert code == 1
    assert out.startswith("--- a/dns.yaml\n+++ b/dns.yaml\n")
    assert "-    protocol: udp     # lower case, as in the RFC\n" in out
    assert "+    protocol: UDP     # lower case, as in the RFC\n" in out
    assert "Would fix 2 findings in 1 file." in err
    assert tree(tmp_path) == before
    cli_in_process(monkeypatch, capsys, "lint", "--fix", "--no-cache", ".", cwd=tmp_path)
    code, out, err = cli_in_process(monkeypatch, capsys, "lint", "--diff", "--no-cache", ".", cwd=tmp_path)
    assert (code, out) == (0, "")


def test_fix_only_reports_no_findings_and_exits_0(tmp_path, monkeypatch, capsys):
    shutil.copytree(FIXTURES / "service-port-protocol" / "before", tmp_path, dirs_exist_ok=True)
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports:\n"
                                       "  - port: 0\n")
    code, out, _ = cli_in_process(monkeypatch, capsys, "lint", "--fix-only", "--no-cache", ".", cwd=tmp_path)
    assert code == 0
    assert out.startswith("Fixed 2 findings in 1 file (")
    assert "port 0" not in out
    assert tree(tmp_path)["dns.yaml"] == (FIXTURES / "service-port-protocol" / "after" / "dns.yaml").read_bytes()


def test_the_edit_api_plans_text_edits_and_applies_them(tmp_path, monkeypatch):
    """What an editor's code action uses: plan_fixes gives each file's text edits (offsets in its
    text), apply writes them; the plan alone writes nothing."""
    from kubelint_svc.app import Options, lint
    from kubelint_svc.fixes import TextEdit, apply, plan_fixes

    shutil.copytree(FIXTURES / "service-port-protocol" / "before", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    findings = lint(Options(paths=("dns.yaml",), no_cache=True)).report.findings
    plan = plan_fixes(findings)
    [edit] = plan.files
    text = (tmp_path / "dns.yaml").read_text()
    udp = text.index("protocol: udp") + len("protocol: ")
    tcp = text.index("'tcp'")
    assert edit.edits == [TextEdit(udp, udp + 3, "UDP"), TextEdit(tcp, tcp + 5, "'TCP'")]
    assert sorted(f.rule for f in plan.fixed) == ["service-port-protocol"] * 2
    assert (tmp_path / "dns.yaml").read_text() == text
    written, skipped = apply(plan)
    assert (written, skipped) == ([edit], [])
    assert (tmp_path / "dns.yaml").read_text() == edit.after


def test_explain_and_the_rule_docs_name_the_fix_safety(monkeypatch, capsys):
    _, out, _ = cli_in_process(monkeypatch, capsys, "explain", "service-port-protocol")
    assert "Fix: safe (lint --fix)" in out
    docs = (REPO / "docs" / "rules.md").read_text()
    assert "| [`service-port-protocol`](#service-port-protocol) | error | safe |" in docs


def test_a_rule_pack_cannot_declare_a_fix(tmp_path):
    from kubelint_svc.engine import RuleError, read_rule_folder

    (tmp_path / "pack.yaml").write_text("rules:\n- id: x\n  severity: error\n  fix: safe\n"
                                        "  check: {json-schema: {type: object}}\n")
    with pytest.raises(RuleError, match="fix must be one of"):
        read_rule_folder(tmp_path, pack="p", user=True)
