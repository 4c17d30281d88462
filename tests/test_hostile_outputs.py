"""A pull request against the outputs, the front ends and the walk (issue #19, part B): one test
per way through the attack found. Each asserts the safe outcome: nothing written or read outside
the repository or inside .git, no manifest replaced, no file hidden from the Action, one line
instead of a traceback."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, needs
from test_hostile_pr import COMMAND, GOOD_WITH_ERROR, SERVICE, run

from kubelint_svc.loader import parse_stream

HOOK = parse_stream((REPO / ".pre-commit-hooks.yaml").read_text()).documents[0].data[0]
SECRET = "ssh-ed25519 AAAA kept\n"
DEPLOYMENT = """\
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
        ports: [{containerPort: 8080}]
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checked-out pull request: a git work tree with one manifest holding an error, beside a
    folder outside it holding something to protect."""
    work = tmp_path / "repo"
    work.mkdir()
    git(work, "init", "-q")
    (work / "good.yaml").write_text(GOOD_WITH_ERROR)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "authorized_keys").write_text(SECRET)
    (work / "app.yaml").write_text(DEPLOYMENT)
    return work


def action(workspace: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """The Action's step as action.yml runs it: inputs as INPUT_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUT_")}
    output, summary = workspace.parent / "github-output", workspace.parent / "step-summary"
    env.update({"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)})
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    return subprocess.run([sys.executable, "-m", "kubelint_svc.github_action"], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def only_our_commands(stdout: str) -> None:
    ours = re.compile(rb"^::(error|warning|notice) (file=[^,:\n]*,line=\d+,col=\d+,)?title=[a-z0-9-]+::")
    for line in stdout.encode().splitlines():
        if COMMAND.match(line):
            assert ours.match(line), line


# --- 1. outputs: inside the working directory, never through a link, never onto a manifest read --


@pytest.mark.parametrize("command", [("lint", "--format", "json", "--output"), ("graph", "-o"),
                                     ("expose", "deploy/web", "--output-file")])
def test_an_output_through_a_linked_folder_is_refused_in_one_line(repo, command):
    (repo / "out").symlink_to(repo.parent / "outside", target_is_directory=True)
    *args, flag = command
    result = run(*args, ".", flag, "out/authorized_keys", cwd=repo)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().count("\n") == 1
    assert b"outside the working directory" in result.stderr
    assert (repo.parent / "outside" / "authorized_keys").read_text() == SECRET


@pytest.mark.parametrize("command", [("lint", "--format", "sarif", "--output"), ("graph", "-o"),
                                     ("expose", "deploy/web", "--output-file")])
def test_a_committed_link_at_the_output_name_is_replaced_not_followed(repo, command):
    (repo / "report.out").symlink_to(repo.parent / "outside" / "authorized_keys")
    *args, flag = command
    run(*args, ".", flag, "report.out", cwd=repo)
    assert (repo.parent / "outside" / "authorized_keys").read_text() == SECRET
    assert not (repo / "report.out").is_symlink()
    assert (repo / "report.out").read_text()
    assert [p.name for p in repo.iterdir() if p.name.endswith(".tmp")] == []


def test_lint_output_never_replaces_a_manifest_it_read(repo):
    result = run("lint", "--format", "json", "-o", "good.yaml", ".", cwd=repo)
    assert result.returncode == 2
    assert result.stderr == (b"kubelint-svc: error: --output good.yaml is one of the manifests read; writing would "
                             b"replace it\n")
    assert (repo / "good.yaml").read_text() == GOOD_WITH_ERROR


@pytest.mark.parametrize("name", [".git/hooks/pre-commit", ".git/config", "../outside/report.json"])
def test_an_output_inside_git_or_above_the_working_directory_is_refused(repo, name):
    result = run("lint", "--format", "json", "-o", name, "good.yaml", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert not (repo.parent / "outside" / "report.json").exists()


@pytest.mark.slow  # 0.4 s of CPU
def test_the_actions_sarif_file_through_a_linked_folder_is_an_error_line(repo):
    (repo / "out").symlink_to(repo.parent / "outside", target_is_directory=True)
    result = action(repo, paths=".", sarif_file="out/authorized_keys")
    assert result.returncode == 2
    assert "::error title=kubelint-svc::the linter could not run" in result.stdout
    assert "Traceback" not in result.stderr
    assert "sarif-file out/authorized_keys: its folder is a link to" in result.stderr
    assert (repo.parent / "outside" / "authorized_keys").read_text() == SECRET
    (repo / "report.sarif").symlink_to(repo.parent / "outside" / "authorized_keys")
    result = action(repo, paths=".", sarif_file="report.sarif")
    assert result.returncode == 1, result.stderr  # good.yaml's error
    assert (repo.parent / "outside" / "authorized_keys").read_text() == SECRET
    assert json.loads((repo / "report.sarif").read_text())["runs"][0]["results"]


def test_expose_append_does_not_follow_a_link(repo):
    (repo / "services.yaml").symlink_to(repo.parent / "outside" / "authorized_keys")
    result = run("expose", "deploy/web", "app.yaml", "--output-file", "services.yaml", "--append", cwd=repo)
    assert result.returncode == 2
    assert b"is a symbolic link; --append does not follow it" in result.stderr
    assert (repo.parent / "outside" / "authorized_keys").read_text() == SECRET


# --- 2. pre-commit: a file named like an option ---------------------------------------------------


def hook_run(repo: Path, *files: str) -> subprocess.CompletedProcess[bytes]:
    """The hook's entry with the file names pre-commit appends after it."""
    program, *arguments = shlex.split(HOOK["entry"])
    assert program == "kubelint-svc"
    return run(*arguments, *files, cwd=repo)


def test_a_file_named_like_an_option_is_a_file_to_the_hook(repo):
    (repo / "--exclude=*.yaml").write_text(SERVICE.format(name="sneaky").replace("port: 80", "port: 0"))
    git(repo, "add", ".")
    result = hook_run(repo, "--exclude=*.yaml", "good.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert b"good.yaml:7:11: error[service-port-number]" in result.stdout
    assert b"--exclude=*.yaml:7:11: error[service-port-number]" in result.stdout


def test_every_argument_after_a_double_dash_is_a_path(repo):
    (repo / "--version.yaml").write_text(GOOD_WITH_ERROR)
    result = run("lint", "--", "--version.yaml", cwd=repo)
    assert result.returncode == 1
    assert b"--version.yaml:7:11: error[service-port-number]" in result.stdout


PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")


@pytest.mark.slow  # pre-commit installs the hook from this repository: about 5 s
@needs("pre-commit", Path(PRE_COMMIT).exists())
def test_the_real_hook_lints_a_file_named_like_an_option(repo, tmp_path):
    (repo / "--exclude=*.yaml").write_text(GOOD_WITH_ERROR)
    git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([PRE_COMMIT, "try-repo", str(REPO), "kubelint-svc", "--all-files"],
                            cwd=repo, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "--exclude=*.yaml:7:11: error[service-port-number]" in result.stdout


# --- 3. the Action: ignore files of the pull request, and the run's warnings -------------------


@pytest.mark.slow  # 0.6 s of CPU
def test_the_actions_run_is_not_hidden_by_the_pull_requests_ignore_file(repo):
    (repo / "k8s" / "prod").mkdir(parents=True)
    (repo / "good.yaml").rename(repo / "k8s" / "prod" / "good.yaml")
    (repo / "k8s" / "prod" / ".ignore").write_text("good.yaml\n")
    (repo / ".kubelint-svc.yaml").write_text("fail-on: error\n")
    result = action(repo, paths="k8s", config=".kubelint-svc.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "::error file=k8s/prod/good.yaml,line=7,col=11,title=service-port-number::" in result.stdout
    respected = action(repo, paths="k8s", config=".kubelint-svc.yaml", respect_gitignore="true")
    assert respected.returncode == 0
    assert "kubelint-svc: warning: no Kubernetes objects found in 0 files" in respected.stderr
    assert "::warning title=kubelint-svc::no Kubernetes objects found in 0 files" in respected.stdout
    assert action(repo, paths="k8s", respect_gitignore="maybe").returncode == 2


@pytest.mark.slow  # 0.3 s of CPU
def test_the_actions_warnings_are_annotations_that_forge_nothing(repo):
    folder = repo / "k8s" / "team\n::error file=README.md,line=1::forged"
    folder.mkdir(parents=True)
    (folder / ".kubelint-svc.yaml").write_text("namespace: other\n")
    (folder / "svc.yaml").write_text(SERVICE.format(name="svc"))
    result = action(repo, paths="k8s")
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning title=kubelint-svc::")]
    assert len(warnings) == 1
    assert "namespace 'other' is not applied" in warnings[0]
    assert "team%0A::error file=README.md" in warnings[0]
    only_our_commands(result.stdout)
    assert "kubelint-svc: warning: k8s/team\\n::error" in result.stderr


# --- 4. named paths that a pull request turned into links -------------------------------------


def test_a_named_folder_linked_out_of_the_repository_is_not_walked(repo):
    (repo.parent / "outside" / "bad.yaml").write_text(GOOD_WITH_ERROR.replace("good", "outside"))
    (repo / "k8s").symlink_to(repo.parent / "outside", target_is_directory=True)
    result = run("lint", "--format", "json", "k8s", "good.yaml", cwd=repo)
    findings = [(f["file"], f["rule"]) for f in json.loads(result.stdout)["findings"]]
    assert ("k8s", "path-outside-tree") in findings
    assert ("good.yaml", "service-port-number") in findings
    assert not any(file.startswith("k8s/") for file, _ in findings)


def test_a_named_file_linked_out_of_the_repository_is_not_read(repo):
    (repo / "prod.yaml").symlink_to(repo.parent / "outside" / "authorized_keys")
    result = run("lint", "--format", "json", "prod.yaml", cwd=repo)
    findings = json.loads(result.stdout)["findings"]
    assert [(f["file"], f["rule"]) for f in findings] == [("prod.yaml", "path-outside-tree")]
    assert "outside the repository" in findings[0]["message"]
    assert "ssh-ed25519" not in result.stdout.decode()


def test_a_named_path_inside_git_is_not_read(repo):
    (repo / ".git" / "kept.yaml").write_text(GOOD_WITH_ERROR)
    (repo / "k8s").symlink_to(repo / ".git", target_is_directory=True)
    for named in (".git/kept.yaml", "k8s"):
        findings = json.loads(run("lint", "--format", "json", named, cwd=repo).stdout)["findings"]
        assert [(f["file"], f["rule"]) for f in findings] == [(named, "path-outside-tree")], named
        assert "inside a git directory" in findings[0]["message"]


def test_the_walk_does_not_follow_a_link_into_git(repo):
    (repo / ".git" / "kept.yaml").write_text(GOOD_WITH_ERROR)
    (repo / "creds.yaml").symlink_to(repo / ".git" / "kept.yaml")
    findings = json.loads(run("lint", "--format", "json", ".", cwd=repo).stdout)["findings"]
    found = [(f["file"], f["rule"]) for f in findings]
    assert ("creds.yaml", "path-outside-tree") in found
    assert ("creds.yaml", "service-port-number") not in found


@pytest.mark.slow  # 0.2 s of CPU
def test_the_actions_named_path_linked_out_of_the_repository_is_not_walked(repo):
    (repo.parent / "outside" / "bad.yaml").write_text(GOOD_WITH_ERROR.replace("good", "outside"))
    (repo / "good.yaml").unlink()
    (repo / "k8s").symlink_to(repo.parent / "outside", target_is_directory=True)
    result = action(repo, paths="k8s")
    assert "bad.yaml" not in result.stdout
    assert "service-port-number" not in result.stdout
    assert "::notice file=k8s,line=1,col=1,title=path-outside-tree::" in result.stdout


# --- 5. paths the configuration names ---------------------------------------------------------


@pytest.mark.parametrize(("config", "complaint"), [
    ("rule-packs: [.git/packs]\n", "rule-packs entry '.git/packs' leads into a git directory"),
    ("context: [.git]\n", "context entry '.git' leads into a git directory"),
])
def test_a_config_path_into_git_is_refused(repo, config, complaint):
    (repo / ".git" / "packs").mkdir()
    (repo / ".kubelint-svc.yaml").write_text(config)
    result = run("lint", "good.yaml", cwd=repo)
    assert result.returncode == 2
    assert complaint in result.stderr.decode()
    assert result.stderr.decode().count("\n") == 1


def test_a_config_file_or_rule_file_linked_into_git_is_refused(repo):
    (repo / ".git" / "kubelint.yaml").write_text("fail-on: info\n")
    (repo / ".kubelint-svc.yaml").symlink_to(repo / ".git" / "kubelint.yaml")
    result = run("lint", "good.yaml", cwd=repo)
    assert result.returncode == 2
    assert b"the config file leads into a git directory" in result.stderr
    (repo / ".kubelint-svc.yaml").unlink()
    (repo / ".kubelint-svc.yaml").write_text("rule-packs: [packs]\n")
    (repo / "packs").mkdir()
    (repo / ".git" / "rules.yaml").write_text("[]\n")
    (repo / "packs" / "rules.yaml").symlink_to(repo / ".git" / "rules.yaml")
    result = run("lint", "good.yaml", cwd=repo)
    assert result.returncode == 2
    assert b"rules.yaml: rule file leads into a git directory" in result.stderr


def test_init_replaces_a_committed_link_rather_than_writing_through_it(repo):
    planted = repo.parent / "outside" / "profile"
    (repo / ".kubelint-svc.yaml").symlink_to(planted)  # dangling: the file it names does not exist yet
    refused = run("init", cwd=repo)
    assert refused.returncode == 2
    assert b"already exists" in refused.stderr
    assert run("init", "--force", cwd=repo).returncode == 0
    assert not planted.exists()
    assert not (repo / ".kubelint-svc.yaml").is_symlink()
    assert b"outside the working directory" in run("init", "../outside/x.yaml", cwd=repo).stderr


def test_action_yml_hands_every_input_to_the_step():
    action_yml = parse_stream((REPO / "action.yml").read_text()).documents[0].data
    step = next(s for s in action_yml["runs"]["steps"] if s.get("id") == "lint")
    for name in action_yml["inputs"]:
        variable = f"INPUT_{name.upper().replace('-', '_')}"
        assert step["env"][variable] == f"${{{{ inputs.{name} }}}}", variable
    assert action_yml["inputs"]["respect-gitignore"]["default"] == "false"


def test_last_runs_json_report_is_not_a_manifest_of_the_next(repo):
    """`lint . -f json -o report.json` twice: the report written into the tree is left out of the
    walk (it is not a manifest), so the second run writes it again; a manifest at the name is
    still never replaced."""
    for _ in range(2):
        result = run("lint", "--format", "json", "-o", "report.json", ".", cwd=repo)
        assert result.returncode == 1, result.stderr
    report = json.loads((repo / "report.json").read_text())
    assert {f["file"] for f in report["findings"]} == {"good.yaml"}
    assert run("lint", "--format", "json", "-o", "good.yaml", ".", cwd=repo).returncode == 2
