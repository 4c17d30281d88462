"""--fix (issue #23): each fix as a folder under tests/fix/ (the tree before, the tree after,
byte for byte, and the re-lint without the finding), the edit API an editor uses, and the cases
a pull request can make hostile: nothing is ever written but the fixed value, or a note says why."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import KUBECTL, REPO, cli_in_process, needs, require

FIXTURES = REPO / "tests" / "fix"

# folder under tests/fix -> (the rule whose finding the fix removes, the flags that apply it)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "service-port-protocol": (("service-port-protocol",), ("--fix",)),
    "container-port-protocol": (("container-port-protocol",), ("--fix",)),
    "quoted-port-number": (("schema", "service-target-port"), ("--fix",)),
    "service-target-port-undefined": (("service-target-port-undefined",), ("--fix",)),
    "removed-api": (("removed-api",), ("--fix",)),
    "yaml-duplicate-key": (("yaml-duplicate-key",), ("--fix",)),
    "conventions-headless-target-port": (("conventions-headless-target-port",), ("--fix",)),
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


@pytest.mark.slow  # 2.3 s of CPU in 9 cases
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


# --- a kustomize overlay: the value is fixed in the patch that wrote it ---------------------------

WITH_KUBECTL = needs("kubectl", KUBECTL is not None)
BASE_APP = """\
apiVersion: apps/v1
kind: Deployment
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
        - name: http
          containerPort: 8080
---
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
PATCH = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: htp  # the prod port
"""
OVERLAY_FILES = {
    "base/app.yaml": BASE_APP,
    "base/kustomization.yaml": "resources: [app.yaml]\n",
    "overlays/prod/kustomization.yaml": "resources: [../../base]\npatches:\n- path: service-patch.yaml\n",
    "overlays/prod/service-patch.yaml": PATCH,
}


def _without_kubectl(tmp_path: Path, monkeypatch) -> None:
    """A PATH holding git alone (and the interpreter): kustomize builds use the built-in fallback."""
    folder = tmp_path / "no-kubectl-bin"
    folder.mkdir()
    for tool in ("git",):
        found = shutil.which(tool)
        if found:
            (folder / tool).symlink_to(found)
    (folder / "python").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(folder / "python"))
    monkeypatch.setenv("PATH", str(folder))


@pytest.mark.slow  # 1.3 s of CPU in 2 cases
@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=WITH_KUBECTL), "hidden"])
def test_a_wrong_port_name_set_by_an_overlay_patch_is_fixed_in_the_patch(engine, tmp_path, monkeypatch, capsys):
    root = tmp_path / "repo"
    for name, text in OVERLAY_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if engine == "hidden":
        _without_kubectl(tmp_path, monkeypatch)
    found = lint_json(monkeypatch, capsys, root, "overlays/prod")
    undefined = [f for f in found if f["rule"] == "service-target-port-undefined"]
    assert [(f["file"], f["line"]) for f in undefined] == [("overlays/prod/service-patch.yaml", 8)]
    _, _, err = cli_in_process(monkeypatch, capsys, "lint", "--fix", "--no-cache", "overlays/prod", cwd=root)
    assert "not fixed" not in err
    assert (root / "overlays/prod/service-patch.yaml").read_text() == PATCH.replace("htp  #", "http  #")
    assert (root / "base/app.yaml").read_text() == BASE_APP
    assert not [f for f in lint_json(monkeypatch, capsys, root, "overlays/prod")
                if f["rule"] == "service-target-port-undefined"]


# --- hostile files: fixed correctly, or skipped with a note; never a traceback or a broken file ---

PROTOCOL = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: dns\nspec:\n  ports:\n  - name: dns\n    port: 53\n"
            "    protocol: udp\n")


def fix_run(monkeypatch, capsys, folder: Path, *args: str) -> tuple[int, str, str]:
    code, out, err = cli_in_process(monkeypatch, capsys, "lint", "--fix", "--no-cache", *args, cwd=folder)
    assert "Traceback" not in err
    assert "internal error" not in err
    return code, out, err


def test_a_symlinked_manifest_pointing_outside_is_never_written(tmp_path, monkeypatch, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "dns.yaml").write_text(PROTOCOL)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "dns.yaml").symlink_to(outside / "dns.yaml")
    fix_run(monkeypatch, capsys, repo, ".")
    fix_run(monkeypatch, capsys, repo, "dns.yaml")
    assert (outside / "dns.yaml").read_text() == PROTOCOL
    assert (repo / "dns.yaml").is_symlink()


def test_the_planner_refuses_an_edit_through_a_link_leading_out(tmp_path, monkeypatch):
    """Whatever a finding names (an editor may hand any), plan_fixes confines the write itself."""
    from kubelint_svc.findings import Edit, Finding, Fix
    from kubelint_svc.fixes import plan_fixes

    outside = tmp_path / "outside.yaml"
    outside.write_text(PROTOCOL)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.yaml").symlink_to(outside)
    monkeypatch.chdir(repo)
    fix = Fix("safe", "set protocol to 'UDP'", (Edit("link.yaml", 9, 15, "replace", '"udp"', '"UDP"'),))
    finding = Finding("service-port-protocol", "error", "m", "link.yaml", 9, 15, fix=fix)
    plan = plan_fixes([finding])
    assert plan.files == []
    [skipped] = plan.skipped
    assert "outside the repository" in skipped.reason
    for named in ("../outside.yaml", str(outside)):
        finding = Finding("service-port-protocol", "error", "m", named, 9, 15,
                          fix=Fix("safe", "t", (Edit(named, 9, 15, "replace", '"udp"', '"UDP"'),)))
        assert plan_fixes([finding]).files == []
    assert outside.read_text() == PROTOCOL


def test_a_link_inside_the_tree_has_its_target_fixed_and_stays_a_link(tmp_path, monkeypatch, capsys):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "dns.yaml").write_text(PROTOCOL)
    (tmp_path / "dns.yaml").symlink_to(tmp_path / "real" / "dns.yaml")
    fix_run(monkeypatch, capsys, tmp_path, "dns.yaml")
    assert (tmp_path / "dns.yaml").is_symlink()
    assert (tmp_path / "real" / "dns.yaml").read_text() == PROTOCOL.replace("udp", "UDP")


def test_a_file_changed_between_lint_and_fix_is_left_alone(tmp_path, monkeypatch):
    from kubelint_svc.app import Options, lint
    from kubelint_svc.fixes import apply, plan_fixes

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dns.yaml").write_text(PROTOCOL)
    findings = lint(Options(paths=("dns.yaml",), no_cache=True)).report.findings
    changed = PROTOCOL.replace("protocol: udp", "protocol: sctp")  # edited after the lint
    (tmp_path / "dns.yaml").write_text(changed)
    plan = plan_fixes(findings)
    assert plan.files == []
    assert "changed since it was linted" in plan.skipped[0].reason
    moved = "# a comment added above\n" + PROTOCOL  # the value is no longer where it was
    (tmp_path / "dns.yaml").write_text(moved)
    assert plan_fixes(findings).files == []
    (tmp_path / "dns.yaml").write_text(PROTOCOL)
    plan = plan_fixes(findings)  # planned, then the file changes before it is written
    (tmp_path / "dns.yaml").write_text(changed)
    written, skipped = apply(plan)
    assert written == []
    assert "changed since it was linted" in skipped[0].reason
    assert (tmp_path / "dns.yaml").read_text() == changed


def test_a_read_only_file_is_not_fixed(tmp_path, monkeypatch, capsys):
    (tmp_path / "dns.yaml").write_text(PROTOCOL)
    (tmp_path / "dns.yaml").chmod(0o444)
    _, _, err = fix_run(monkeypatch, capsys, tmp_path, ".")
    assert "dns.yaml:9:15: service-port-protocol: not fixed: the file is read-only" in err
    assert (tmp_path / "dns.yaml").read_text() == PROTOCOL


def test_crlf_line_endings_are_kept_in_every_kind_of_edit(tmp_path, monkeypatch, capsys):
    before = ("apiVersion: extensions/v1beta1\r\nkind: Deployment\r\nmetadata:\r\n  name: web\r\n  labels:\r\n"
              "    app: web\r\n    app: web\r\nspec:\r\n  template:\r\n    metadata:\r\n      labels:\r\n"
              "        app: web\r\n"
              "    spec:\r\n      containers:\r\n      - name: web\r\n        image: nginx\r\n        ports:\r\n"
              "        - containerPort: 80\r\n          protocol: tcp\r\n")
    (tmp_path / "web.yaml").write_bytes(before.encode())
    fix_run(monkeypatch, capsys, tmp_path, ".")
    after = (tmp_path / "web.yaml").read_bytes().decode()
    assert after == (before.replace("extensions/v1beta1", "apps/v1").replace("    app: web\r\n    app: web\r\n",
                                                                             "    app: web\r\n")
                     .replace("spec:\r\n  template:", "spec:\r\n  selector:\r\n    matchLabels:\r\n      app: web\r\n"
                              "  template:").replace("protocol: tcp", "protocol: TCP"))
    assert "\n" not in after.replace("\r\n", "")


def test_a_bom_is_kept(tmp_path, monkeypatch, capsys):
    (tmp_path / "dns.yaml").write_bytes(b"\xef\xbb\xbf" + PROTOCOL.encode())
    fix_run(monkeypatch, capsys, tmp_path, ".")
    assert (tmp_path / "dns.yaml").read_bytes() == b"\xef\xbb\xbf" + PROTOCOL.replace("udp", "UDP").encode()


def test_tabs_and_flow_style_are_edited_in_place(tmp_path, monkeypatch, capsys):
    before = ("apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  clusterIP: None\n  ports:\n"
              "  - {name: pg, port: 5432, targetPort: 5432, protocol: tcp}\t# tab before the comment\n"
              "  - name: metrics\n    port: 9187\n    protocol:\ttcp\t\t# tabs around the value\n")
    (tmp_path / "db.yaml").write_text(before)
    (tmp_path / ".kubelint-svc.yaml").write_text("policy-packs: [conventions]\n")  # the repeated targetPort
    fix_run(monkeypatch, capsys, tmp_path, ".")
    assert (tmp_path / "db.yaml").read_text() == (
        before.replace("targetPort: 5432, protocol: tcp}", "protocol: TCP}")
        .replace("protocol:\ttcp", "protocol:\tTCP"))


def test_a_value_shared_through_an_anchor_is_skipped_with_a_note(tmp_path, monkeypatch, capsys):
    before = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: dns\n  annotations:\n    proto: &p udp\n"
              "spec:\n  ports:\n  - name: dns\n    port: 53\n    protocol: *p\n")
    (tmp_path / "dns.yaml").write_text(before)
    _, _, err = fix_run(monkeypatch, capsys, tmp_path, ".")
    assert "not fixed" in err
    assert (tmp_path / "dns.yaml").read_text() == before


def test_generated_and_piped_input_is_never_edited(tmp_path, monkeypatch, capsys):
    repeated = PROTOCOL.replace("  name: dns\n", "  name: dns\n  name: dns\n", 1)  # a key repeated, same value
    rendered = "---\n# Source: chart/templates/svc.yaml\n" + repeated
    (tmp_path / "out.yaml").write_text(rendered)
    (tmp_path / "chart" / "templates").mkdir(parents=True)  # the template it names: never edited either
    (tmp_path / "chart" / "templates" / "svc.yaml").write_text(rendered)
    _, _, err = fix_run(monkeypatch, capsys, tmp_path, ".")
    assert "generated output" in err
    assert (tmp_path / "out.yaml").read_text() == rendered
    import subprocess

    piped = subprocess.run([sys.executable, "-m", "kubelint_svc", "lint", "--diff", "--no-cache", "-"],
                           input=rendered, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert piped.returncode == 0, piped.stderr  # nothing to write: the stream's findings name the template
    assert "chart/templates/svc.yaml:10:15: service-port-protocol: not fixed: it was read from standard input" \
        in piped.stderr
    assert "yaml-duplicate-key: not fixed" not in piped.stderr  # helm's output: no fix offered at all
    assert (tmp_path / "chart" / "templates" / "svc.yaml").read_text() == rendered


def test_a_file_with_yaml_errors_is_not_fixed(tmp_path, monkeypatch, capsys):
    broken = PROTOCOL + "---\nkind: [unclosed\n"
    (tmp_path / "dns.yaml").write_text(broken)
    _, _, err = fix_run(monkeypatch, capsys, tmp_path, ".")
    assert "YAML errors" in err
    assert (tmp_path / "dns.yaml").read_text() == broken


# --- the real-world corpus: --fix changes nothing but the fixed values, and settles --------------


def _data_and_nodes(text: str) -> tuple[list, list]:
    from kubelint_svc.loader import parse_stream

    stream = parse_stream(text)
    assert not stream.problems
    return [document.data for document in stream.documents], [document.node for document in stream.documents]


def _path_of(roots: list, line: int, column: int, action: str) -> tuple | None:
    """(document, path) of the value (replace) or the key (delete, insert) written at line:column."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    stack = [(index, (), None, root) for index, root in enumerate(roots)]
    while stack:
        document, path, key, node = stack.pop()
        marked = node if action == "replace" else key
        if marked is not None and (marked.start_mark.line + 1, marked.start_mark.column + 1) == (line, column):
            return document, path
        if isinstance(node, MappingNode):
            stack += [(document, (*path, k.value), k, v) for k, v in node.value if k.value != "<<"]
        elif isinstance(node, SequenceNode):
            stack += [(document, (*path, i), None, v) for i, v in enumerate(node.value)]
    return None


def _differences(before, after, path: tuple = ()) -> list[tuple]:
    if isinstance(before, dict) and isinstance(after, dict):
        return [difference for key in {*before, *after} for difference in
                (_differences(before[key], after[key], (*path, key)) if key in before and key in after
                 else [(*path, key)])]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        pairs = enumerate(zip(before, after, strict=True))
        return [d for index, (b, a) in pairs for d in _differences(b, a, (*path, index))]
    return [] if before == after else [path]


@pytest.mark.slow  # the corpus is linted a few times over
def test_fix_on_the_real_world_corpus_changes_only_the_fixed_values_and_settles(tmp_path, monkeypatch):
    from conftest import CORPUS, require_shared

    from kubelint_svc.app import Options, lint, lint_and_fix
    from kubelint_svc.fixes import plan_fixes

    work = tmp_path / "corpus"
    shutil.copytree(require_shared(CORPUS), work, symlinks=True, copy_function=shutil.copyfile)  # writable
    monkeypatch.chdir(work)
    options = Options(paths=(".",), no_cache=True, kubernetes_version="1.37")
    plan = plan_fixes(lint(options).report.findings, unsafe=True)
    assert plan.files, "the corpus holds fixable findings (protocol: tcp)"
    for edit in plan.files:
        before, roots = _data_and_nodes(edit.before)
        after, _ = _data_and_nodes(edit.after)
        assert len(before) == len(after), edit.file
        allowed = set()
        for finding in edit.fixed:
            assert finding.fix is not None
            for change in finding.fix.edits:
                document, path = _path_of(roots, change.line, change.column, change.action)
                allowed.add((document, (*path, change.key) if change.action == "insert" else path))
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            for difference in _differences(old, new):
                assert any(document == index and difference[:len(path)] == path for document, path in allowed), \
                    f"{edit.file}: {difference} changed, but no fix was about it"
    _, fixed = lint_and_fix(options, unsafe=True)
    assert fixed.files
    _, again = lint_and_fix(options, unsafe=True)
    assert again.files == []
    assert again.fixed == []


# --- pre-commit: the kubelint-svc-fix hook ------------------------------------------------------


@pytest.mark.slow  # pre-commit installs the hook from this repository: about 5 s
@needs("git", shutil.which("git") is not None)
def test_the_fix_hook_fixes_the_staged_file_and_fails_once(tmp_path):
    import os
    import subprocess

    from manifests import WEB_DEPLOYMENT, WEB_SERVICE

    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    require("pre-commit", Path(pre_commit).exists())
    project = tmp_path / "project"
    (project / "apps").mkdir(parents=True)
    (project / "apps" / "deployment.yaml").write_text(WEB_DEPLOYMENT)
    broken = WEB_SERVICE.replace("targetPort: http", "targetPort: htpp")
    (project / "apps" / "service.yaml").write_text(broken)
    for args in (("init", "-q"), ("add", ".")):
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")}
    env.pop("PYTHONPATH", None)

    def hook() -> subprocess.CompletedProcess:
        return subprocess.run([pre_commit, "try-repo", str(REPO), "kubelint-svc-fix", "--files", "apps/service.yaml"],
                              cwd=project, capture_output=True, text=True, env=env, timeout=900, check=False)

    first = hook()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert (project / "apps" / "service.yaml").read_text() == WEB_SERVICE
    subprocess.run(["git", "-C", str(project), "add", "."], check=True, capture_output=True)
    second = hook()
    assert second.returncode == 0, second.stdout + second.stderr


# --- passes: until nothing changes, a few at most, never a loop ----------------------------------


@pytest.mark.slow  # 0.4 s of CPU
def test_fixes_never_loop(tmp_path, monkeypatch):
    """A planner that would undo the first fix, then one that always finds more: the first is
    refused (a text the file already had), the second stops after MAX_FIX_PASSES."""
    from kubelint_svc import fixes
    from kubelint_svc.app import MAX_FIX_PASSES, Options, lint_and_fix

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dns.yaml").write_text(PROTOCOL)
    real = fixes.plan_fixes
    calls: list[int] = []

    def undoing(findings, unsafe=False, cwd=None):
        calls.append(1)
        plan = real(findings, unsafe, cwd)
        if not plan.files and len(calls) == 2:  # the second pass: put the old text back
            text = (tmp_path / "dns.yaml").read_text()
            plan.files = [fixes.FileEdit("dns.yaml", tmp_path / "dns.yaml", text, PROTOCOL, [], [],
                                         text.encode())]
        return plan

    monkeypatch.setattr(fixes, "plan_fixes", undoing)
    lint_and_fix(Options(paths=("dns.yaml",), no_cache=True))
    assert (tmp_path / "dns.yaml").read_text() == PROTOCOL.replace("udp", "UDP")
    assert len(calls) == 2

    calls.clear()

    def endless(findings, unsafe=False, cwd=None):
        calls.append(1)
        text = (tmp_path / "dns.yaml").read_text()
        return fixes.FixPlan([fixes.FileEdit("dns.yaml", tmp_path / "dns.yaml", text, text + "#\n", [], [],
                                             text.encode())])

    monkeypatch.setattr(fixes, "plan_fixes", endless)
    lint_and_fix(Options(paths=("dns.yaml",), no_cache=True))
    assert len(calls) == MAX_FIX_PASSES


# --- Helm: a rendered value is fixed in the values file that set it, or not at all ----------------


def _helm_present() -> bool:
    from kubelint_svc.units import plan

    return shutil.which("helm") is not None or plan.sdk_present()


@needs("helm or the helm extra", _helm_present())
def test_a_rendered_value_is_fixed_in_values_and_a_template_never(tmp_path, monkeypatch, capsys):
    chart = tmp_path / "dns"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: dns\nversion: 0.1.0\n")
    values = "# the resolver\nprotocol: udp   # as the RFC writes it\nport: 53\n"
    (chart / "values.yaml").write_text(values)
    template = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports:\n"
                "  - name: dns\n    port: {{ .Values.port }}\n    protocol: {{ .Values.protocol }}\n"
                "  - name: dns-tcp\n    port: 54\n    protocol: tcp\n")
    (chart / "templates" / "svc.yaml").write_text(template)
    _, _, err = fix_run(monkeypatch, capsys, tmp_path, ".")
    assert (chart / "values.yaml").read_text() == values.replace("protocol: udp", "protocol: UDP")
    assert (chart / "templates" / "svc.yaml").read_text() == template
    assert "dns/templates/svc.yaml:12:15: service-port-protocol: not fixed: rendered by Helm from a template" in err


def test_fix_keeps_the_json_report_as_it_is_and_refuses_standard_input(tmp_path, monkeypatch, capsys):
    from kubelint_svc.fixes import position

    (tmp_path / "dns.yaml").write_text(PROTOCOL.replace("port: 53", "port: 0"))
    code, out, _ = cli_in_process(monkeypatch, capsys, "lint", "--fix", "--format", "json", "--no-cache", ".",
                                  cwd=tmp_path)
    report = json.loads(out)
    assert code == 1
    assert set(report) == {"tool", "findings", "summary"}
    assert set(report["summary"]) == {"files", "objects", "errors", "warnings", "infos"}
    assert {f["rule"] for f in report["findings"]} == {"service-port-number", "service-no-endpoints"}
    assert set(report["findings"][0]) == {"rule", "severity", "message", "file", "line", "column", "object", "field",
                                          "help", "notes"}
    code, _, err = cli_in_process(monkeypatch, capsys, "lint", "--fix", "-", cwd=tmp_path)
    assert code == 2
    assert "not standard input" in err
    assert position("ab\ncd\n", 4) == (1, 1)


@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=WITH_KUBECTL), "hidden"])
def test_a_json_patch_value_is_fixed_and_an_inline_patch_is_left_with_a_note(engine, tmp_path, monkeypatch, capsys):
    root = tmp_path / "repo"
    files = {
        "base/app.yaml": BASE_APP,
        "base/kustomization.yaml": "resources: [app.yaml]\n",
        "json/kustomization.yaml": "resources: [../base]\npatches:\n- path: p.yaml\n  target: {kind: Service}\n",
        "json/p.yaml": "- op: replace\n  path: /spec/ports/0/targetPort\n  value: htp   # prod\n",
        "inline/kustomization.yaml": ("resources: [../base]\npatches:\n- target: {kind: Service}\n  patch: |-\n"
                                      "    - op: replace\n      path: /spec/ports/0/targetPort\n      value: htp\n"),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if engine == "hidden":
        _without_kubectl(tmp_path, monkeypatch)
    _, _, err = fix_run(monkeypatch, capsys, root, "json", "inline")
    assert (root / "json/p.yaml").read_text() == files["json/p.yaml"].replace("htp ", "http ")
    assert (root / "inline/kustomization.yaml").read_text() == files["inline/kustomization.yaml"]
    note = "inline/kustomization.yaml:4:10: service-target-port-undefined: not fixed: the value is written inside"
    assert f"{note} a block of text" in err
    assert (root / "base/app.yaml").read_text() == BASE_APP
