"""The editor server's runs after a change reuse the last run's planning (app.Reuse) while nothing
on disk changed: they must say what a fresh `lint --git-context` of the same buffers says, over
edits, saves, disk changes, a new file, the git index and the configuration."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT, needs

from kubelint_svc import app, replay
from kubelint_svc.app import Reuse

pytestmark = [needs("the lsp extra (pygls)", importlib.util.find_spec("pygls") is not None),
              needs("git", GIT is not None)]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: registry.example.com/web:1.0
        ports:
        - name: http
          containerPort: 8080
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
"""
FILES = {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n- service.yaml\n",
    "base/deployment.yaml": DEPLOYMENT,
    "base/service.yaml": SERVICE,
    "overlays/prod/kustomization.yaml": "resources:\n- ../../base\nnamePrefix: prod-\n",
    "plain/deployment.yaml": DEPLOYMENT,
    "plain/service.yaml": SERVICE,
}


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(folder), *args],
                   check=True)


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "files")
    monkeypatch.setenv("KUBELINT_SVC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(replay, "SETTLED_NS", 0)  # the test's files were all written a moment ago
    monkeypatch.chdir(tmp_path)  # judge() changes to the repository's top: undone after the test
    return root


class Judge:
    """Each step judged twice: reusing (as the server does) and fresh; the plans made counted."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from kubelint_svc.server import judge

        self.root, self.judge = root, judge
        self.reuses: dict[Path, Reuse] = {}
        self.planned = 0
        plan_run = app.plan_run

        def counted(*args: Any, **kwargs: Any) -> app.RunSetup:
            self.planned += 1
            return plan_run(*args, **kwargs)

        monkeypatch.setattr(app, "plan_run", counted)

    def both(self, name: str, texts: dict[str, str]) -> bool:
        """Judge name with the buffers texts both ways; assert they agree; whether it was planned anew."""
        file = self.root / name
        buffers = {self.root / each: text for each, text in texts.items()}
        before = self.planned
        reused = self.judge(file, buffers, [], 1, self.reuses.setdefault(file, Reuse()))
        planned = self.planned > before
        fresh = self.judge(file, buffers, [], 1)
        assert reused.outcome is not None, reused.diagnostics
        assert fresh.outcome is not None, fresh.diagnostics
        assert seen(reused.outcome) == seen(fresh.outcome)
        return planned


def seen(outcome: app.Outcome) -> tuple[Any, ...]:
    report = outcome.report
    return (sorted(map(repr, report.findings)), report.files, report.objects, report.context_files,
            report.context_objects, outcome.warnings, sorted(report.source_lines.items()))


def rules(outcome: app.Outcome | None) -> set[str]:
    return set() if outcome is None else {finding.rule for finding in outcome.report.findings}


def test_buffer_edits_reuse_the_plan_and_say_what_a_fresh_run_says(repository, monkeypatch):
    judge = Judge(repository, monkeypatch)
    base, plain = "base/service.yaml", "plain/service.yaml"
    assert judge.both(base, {base: SERVICE})  # the first run plans
    broken = SERVICE.replace("targetPort: http", "targetPort: htpp")
    assert not judge.both(base, {base: broken})  # an edit of the buffer: planned as before
    assert not judge.both(base, {base: broken.replace("app: web", "app: nothing")})
    assert not judge.both(base, {base: "kind: [\n"})  # a broken buffer inside a build
    assert judge.both(plain, {base: broken, plain: SERVICE})  # another file: its own first run
    assert not judge.both(plain, {base: broken, plain: broken})
    assert judge.both(base, {base: broken, plain: broken})  # a buffer not seen before: planned anew
    assert not judge.both(base, {base: broken, plain: SERVICE})


def test_disk_changes_git_and_configuration_plan_anew(repository, monkeypatch):
    judge = Judge(repository, monkeypatch)
    base = "base/service.yaml"
    broken = SERVICE.replace("targetPort: http", "targetPort: htpp")
    judge.both(base, {base: broken})
    assert not judge.both(base, {base: broken})
    (repository / base).write_text(broken)  # saved
    assert judge.both(base, {base: broken})
    assert not judge.both(base, {base: SERVICE})  # unsaved again: the build still reads the saved text
    deployment = repository / "base/deployment.yaml"
    deployment.write_text(DEPLOYMENT.replace("name: http", "name: other"))  # a file no buffer holds
    assert judge.both(base, {base: broken})
    (repository / "plain/extra.yaml").write_text(SERVICE.replace("name: web", "name: extra"))
    assert judge.both(base, {base: broken})  # a new file in a folder
    git(repository, "add", "plain/extra.yaml")
    assert judge.both(base, {base: broken})  # git's index: now in the repository's context
    (repository / "overlays/prod/kustomization.yaml").unlink()
    assert judge.both(base, {base: broken})  # a build gone
    assert not judge.both(base, {base: broken})
    before = rules(judge.judge(repository / base, {repository / base: broken}, [], 1).outcome)
    (repository / ".kubelint-svc.yaml").write_text("rules: {service-target-port-undefined: \"off\"}\n")
    assert judge.both(base, {base: broken})  # a configuration
    assert not judge.both(base, {base: broken})
    after = rules(judge.judge(repository / base, {repository / base: broken}, [], 1).outcome)
    assert "service-target-port-undefined" in before - after
