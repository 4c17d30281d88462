"""The examples in docs/configuration.md and docs/policies.md, executed."""

import re

from conftest import REPO

from kubelint_svc.config import load_config
from kubelint_svc.engine import Registry
from kubelint_svc.inputs import InputFile
from kubelint_svc.runner import Settings, lint_files

BLOCK = re.compile(r"```(yaml|toml)\n(.*?)```", re.S)


def blocks(doc: str) -> list[tuple[str, str]]:
    """(first line, text) of every YAML/TOML code block."""
    text = (REPO / "docs" / doc).read_text()
    return [(body.split("\n", 1)[0], body) for _, body in BLOCK.findall(text)]


def write_files(tmp_path, doc: str) -> None:
    for first, body in blocks(doc):
        if first.startswith("# file: "):
            target = tmp_path / first[len("# file: "):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)


def test_configuration_examples_load(tmp_path):
    write_files(tmp_path, "configuration.md")
    for folder in ("policies", "k8s/base"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    config = load_config(tmp_path / ".kubelint-svc.yaml")
    assert config.fail_on == "warning"
    assert config.policy_packs == ["security"]
    registry = Registry.configured(config)
    assert not registry["service-selector-ambiguous"].enabled
    assert registry["service-load-balancer-ip-deprecated"].severity == "error"
    assert registry["security-source-ip"].enabled
    [toml] = [body for first, body in blocks("configuration.md") if first.startswith("[tool.kubelint-svc]")]
    (tmp_path / "toml").mkdir()
    (tmp_path / "toml" / "pyproject.toml").write_text(toml)
    assert load_config(tmp_path / "toml" / "pyproject.toml").rules == {"service-selector-ambiguous": "off"}


def test_the_suppression_example_suppresses_what_it_says(tmp_path, registry):
    write_files(tmp_path, "configuration.md")
    raw = (tmp_path / "manifest.yaml").read_bytes()
    report = lint_files([InputFile("manifest.yaml", None)], Settings("1.37"), registry, stdin=lambda: raw)
    assert report.findings == []


def test_policy_examples_fail_and_pass_as_documented(tmp_path):
    write_files(tmp_path, "policies.md")
    registry = Registry.configured(load_config(tmp_path / ".kubelint-svc.yaml"))
    team_rules = {rule.id for rule in registry.rules.values() if rule.id.startswith("team-")}
    assert team_rules == {"team-load-balancer-only-in-prod", "team-node-port-window"}
    checked = 0
    for first, body in blocks("policies.md"):
        if not first.startswith("# manifest: "):
            continue
        report = lint_files([InputFile("-", None)], Settings("1.37"), registry, stdin=lambda text=body: text.encode())
        found = {f.rule for f in report.findings} & team_rules
        verdict = first[len("# manifest: "):].split()
        assert found == (set(verdict[1:]) if verdict[0] == "fails" else set()), first
        checked += 1
    assert checked == 3


def test_the_readme_names_no_release_tag_that_does_not_exist():
    """Issue 12, item 13: `rev: v0.1.0` named a tag that was never made."""
    import subprocess

    readme = (REPO / "README.md").read_text()
    named = set(re.findall(r"rev: (v[\w.]+)", readme)) | set(re.findall(r"kubelint-svc@(v[\w.]+)", readme))
    tags = set(subprocess.run(["git", "-C", str(REPO), "tag", "--list"], capture_output=True, text=True,
                              check=False).stdout.split())
    assert named <= tags, f"the README names tags that do not exist: {sorted(named - tags)}"


def test_the_quick_start_says_its_lint_exits_with_1_on_purpose():
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "broken on purpose" in quick_start
    assert "exits with 1" in quick_start
