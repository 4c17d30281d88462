"""The real pre-commit, running this repository's hook in a temporary git repository."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GIT, REPO, needs, require
from manifests import WEB_DEPLOYMENT as DEPLOYMENT
from manifests import WEB_SERVICE as SERVICE

PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
pytestmark = [
    pytest.mark.slow,  # pre-commit installs the hook from this repository for each run: about 5 s
    needs("pre-commit", Path(PRE_COMMIT).exists()),
    needs("git", GIT is not None),
]



@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(project), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


@pytest.fixture
def project(tmp_path):
    project = tmp_path / "project"
    (project / "apps").mkdir(parents=True)
    (project / "apps" / "deployment.yaml").write_text(DEPLOYMENT)
    (project / ".gitlab-ci.yml").write_text("test:\n  script: [make test]\n")  # not a manifest
    (project / "values.yaml").write_text("replicaCount: 2\nimage: {tag: latest}\n")
    (project / "chart" / "templates").mkdir(parents=True)  # a Helm template: not YAML until rendered
    (project / "chart" / "templates" / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n"
        "    {{- include \"labels\" . | nindent 4 }}\nspec:\n  ports:\n  - port: {{ .Values.port }}\n"
    )
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-qm", "base")
    return project


def try_repo(project: Path, home: Path, *files: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    env.pop("PYTHONPATH", None)
    return subprocess.run([PRE_COMMIT, "try-repo", str(REPO), "kubelint-svc", "--files", *files],
                          cwd=project, capture_output=True, text=True, env=env, timeout=900, check=False)


def test_a_service_committed_alone_beside_its_deployment_passes(project, pre_commit_home):
    (project / "apps" / "service.yaml").write_text(SERVICE)
    git(project, "add", "apps/service.yaml")
    result = try_repo(project, pre_commit_home, "apps/service.yaml", ".gitlab-ci.yml", "values.yaml",
                      "chart/templates/svc.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"kubelint-svc\.+Passed", result.stdout)


def test_a_bad_manifest_fails_naming_file_and_line(project, pre_commit_home):
    (project / "apps" / "service.yaml").write_text(SERVICE.replace("targetPort: http", "targetPort: htpp"))
    git(project, "add", "apps/service.yaml")
    result = try_repo(project, pre_commit_home, "apps/service.yaml")
    assert result.returncode == 1
    assert re.search(r"kubelint-svc\.+Failed", result.stdout)
    assert "apps/service.yaml:10:17: error[service-target-port-undefined]" in result.stdout


def test_the_readme_snippet_runs(project, pre_commit_home):
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", readme, re.S).group(1)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    require("a commit in this checkout to point pre-commit at", head.returncode == 0)
    config = re.sub(r"repo: \S+", f"repo: {REPO}", snippet)
    config = re.sub(r"rev: \S+", f"rev: {head.stdout.strip()}", config)
    (project / ".pre-commit-config.yaml").write_text(config)
    (project / "apps" / "service.yaml").write_text(SERVICE.replace("targetPort: http", "targetPort: htpp"))
    git(project, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home)}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([PRE_COMMIT, "run", "--all-files"], cwd=project, capture_output=True, text=True,
                            env=env, timeout=900, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "apps/service.yaml:10:17: error[service-target-port-undefined]" in result.stdout
