"""action.yml's steps run as a runner would run them: inputs substituted, a temporary
workspace, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY set."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from kubelint_svc.loader import parse_stream

ACTION = parse_stream((REPO / "action.yml").read_text()).documents[0].data
BAD = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: Nodeport
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 80}]
"""


def substitute(text: str, inputs: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression.startswith("inputs."):
            name = expression[len("inputs."):]
            return inputs.get(name, str(ACTION["inputs"][name].get("default", "")))
        if expression == "github.action_path":
            return str(REPO)
        raise AssertionError(f"unexpected expression {expression}")

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def run_action(workspace: Path, runner_temp: Path, inputs: dict[str, str]) -> tuple[int, str, dict, str]:
    output, summary = runner_temp / "output.txt", runner_temp / "summary.md"
    output.touch()
    summary.touch()
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "PYTHON", "VIRTUAL_ENV"))},
        "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(REPO), "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
    }
    base_env["PATH"] = os.pathsep.join(p for p in base_env.get("PATH", "").split(os.pathsep) if "/.venv/" not in p)
    log, code = "", 0
    for step in ACTION["runs"]["steps"]:
        env = {**base_env, **{k: substitute(str(v), inputs) for k, v in (step.get("env") or {}).items()}}
        result = subprocess.run(["bash", "-e", "-c", substitute(step["run"], inputs)], cwd=workspace, env=env,
                                capture_output=True, text=True, timeout=900, check=False)
        log += result.stdout + result.stderr
        code = result.returncode
        if code != 0:
            break
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return code, log, outputs, summary.read_text()


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory):
    return tmp_path_factory.mktemp("runner-temp")  # shared: the venv is installed once


def test_action_inputs_and_outputs_are_the_documented_ones():
    assert set(ACTION["inputs"]) == {"paths", "config", "kubernetes-version", "fail-on", "sarif-file",
                                     "respect-gitignore"}
    assert ACTION["inputs"]["respect-gitignore"]["default"] == "false"
    assert ACTION["inputs"]["paths"]["default"] == "."
    assert ACTION["inputs"]["fail-on"]["default"] == "error"
    assert set(ACTION["outputs"]) == {"findings", "sarif-file"}
    assert ACTION["runs"]["using"] == "composite"
    for step in ACTION["runs"]["steps"]:  # inputs reach scripts through env, never spliced into them
        assert "inputs." not in step["run"]


@pytest.mark.slow  # the install step pip-installs the repository each run
def test_a_failing_run_annotates_writes_sarif_outputs_and_summary(tmp_path, runner_temp):
    workspace = tmp_path / "workspace"
    (workspace / "k8s").mkdir(parents=True)
    (workspace / "k8s" / "web.yaml").write_text(BAD)
    code, log, outputs, summary = run_action(workspace, runner_temp, {"paths": "k8s", "sarif-file": "out/k.sarif"})
    assert code == 1, log
    assert "::error file=k8s/web.yaml,line=6,col=9,title=service-type::" in log
    assert outputs == {"findings": "1", "sarif-file": "out/k.sarif"}
    document = json.loads((workspace / "out" / "k.sarif").read_text())
    assert [r["ruleId"] for r in document["runs"][0]["results"]] == ["service-type"]
    assert "| `service-type` | error | 1 |" in summary
    assert "`k8s/web.yaml:6:9`" in summary


@pytest.mark.slow  # the install step pip-installs the repository each run
def test_a_passing_run_and_fail_on(tmp_path, runner_temp):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "web.yaml").write_text(BAD.replace("Nodeport", "NodePort"))
    code, log, outputs, summary = run_action(workspace, runner_temp, {})
    assert code == 0, log
    assert outputs == {"findings": "0", "sarif-file": ""}
    assert "No problems found in " in summary
    (workspace / "web.yaml").write_text(BAD.replace("Nodeport", "NodePort").replace("selector: {app: web}", ""))
    assert run_action(workspace, runner_temp, {})[0] == 0  # a warning only
    assert run_action(workspace, runner_temp, {"fail-on": "warning"})[0] == 1


@pytest.mark.slow  # the install step pip-installs the repository each run
def test_more_findings_than_github_shows_are_counted(tmp_path, runner_temp):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "many.yaml").write_text("---\n".join(BAD.replace("web", f"web{i}") for i in range(12)))
    code, log, outputs, _ = run_action(workspace, runner_temp, {})
    assert code == 1
    assert outputs["findings"] == "12"
    assert log.count("::error file=many.yaml") == 10
    assert "2 more findings not annotated" in log


@pytest.mark.slow  # the install step pip-installs the repository each run
def test_a_bad_input_or_config_fails_with_a_message(tmp_path, runner_temp):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "web.yaml").write_text(BAD)
    code, log, _, _ = run_action(workspace, runner_temp, {"fail-on": "fatal"})
    assert code == 2
    assert "::error title=kubelint-svc::input fail-on" in log
    (workspace / "bad.yaml").write_text("selecter: 1\n")
    code, log, _, _ = run_action(workspace, runner_temp, {"config": "bad.yaml"})
    assert code == 2
    assert "unknown key 'selecter'" in log
    assert "Traceback" not in log


def test_the_workflows_use_the_action_as_documented():
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"```yaml\n(# \.github/workflows/kubelint-svc\.yml\n.*?)```", readme, re.S).group(1)
    for text in (snippet, (REPO / ".github" / "workflows" / "kubelint-svc.yml").read_text()):
        workflow = parse_stream(text).documents[0].data
        steps = workflow["jobs"]["lint"]["steps"]
        [lint] = [s for s in steps if s.get("id") == "kubelint"]
        assert set(lint["with"]) <= set(ACTION["inputs"])
        [upload] = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
        assert upload["with"]["sarif_file"] == "${{ steps.kubelint.outputs.sarif-file }}"
        assert workflow["permissions"]["security-events"] == "write"


@pytest.mark.slow  # 0.2 s of CPU
def test_the_gitlab_snippet_writes_a_junit_report(tmp_path):
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"```yaml\n(# \.gitlab-ci\.yml\n.*?)```", readme, re.S).group(1)
    job = parse_stream(snippet).documents[0].data["kubelint-svc"]
    [lint] = [line for line in job["script"] if line.startswith("kubelint-svc lint")]
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "web.yaml").write_text(BAD)
    argv = lint.split()[1:]
    result = subprocess.run([sys.executable, "-m", "kubelint_svc", *argv], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert result.returncode == 1
    assert "error[service-type]" in result.stdout
    report = tmp_path / job["artifacts"]["reports"]["junit"]
    assert "<testcase" in report.read_text()
    assert 'type="service-type"' in report.read_text()
