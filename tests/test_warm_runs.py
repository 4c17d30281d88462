"""Issue 20: a warm run on a kustomize-heavy repository does no work for what is unchanged. It
starts no kustomize process (a wrapper kubectl on PATH counts them), reads no unchanged file (an
audit hook sees every open), and an edited base rebuilds exactly the roots that include it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import KUBECTL, require

from kubelint_svc.app import Options, lint

BASE_OBJECTS = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: team
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team
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
      - name: web
        image: registry.example.com/web:1.0
        ports:
        - containerPort: 8080
"""
PATCH = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team\nspec:\n  replicas: {n}\n"
OVERLAY = ("resources:\n- ../../base\nnamespace: {app}-{env}\ncommonLabels:\n  env: {env}\n"
           "images:\n- name: registry.example.com/web\n  newTag: {env}\npatches:\n- path: replicas.yaml\n")
# kubectl refuses it (the patch matches nothing), after reading the whole chain: a failure kept
BROKEN_PATCH = PATCH.replace("name: web", "name: nothing")


def write_tree(top: Path, apps: dict[str, tuple[str, ...]]) -> None:
    """Each app: a base and the overlays named; an overlay named `broken` patches nothing."""
    for app, overlays in apps.items():
        base = top / app / "base"
        base.mkdir(parents=True)
        (base / "objects.yaml").write_text(BASE_OBJECTS)
        (base / "kustomization.yaml").write_text("resources:\n- objects.yaml\n")
        for number, env in enumerate(overlays):
            folder = top / app / "overlays" / env
            folder.mkdir(parents=True)
            (folder / "replicas.yaml").write_text((BROKEN_PATCH if env == "broken" else PATCH).format(n=number + 1))
            (folder / "kustomization.yaml").write_text(OVERLAY.format(app=app, env=env))
    past = time.time() - 3600  # a checkout an hour old: stamps settled
    for path in top.rglob("*"):
        os.utime(path, (past, past))
    time.sleep(0.02)  # their change times are now's: a build is kept only past the clock's slack after them


def git_repository(top: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=top, check=True)
    subprocess.run([*git, "add", "-A"], cwd=top, check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], cwd=top, check=True)


@pytest.fixture
def counting_kubectl(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A kubectl on PATH that notes each start in a file, then runs the real one."""
    require("kubectl", KUBECTL is not None)
    real = KUBECTL
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "kubectl-starts"
    (folder / "kubectl").write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    (folder / "kubectl").chmod(0o755)
    environment = {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
                   "KUBELINT_SVC_CACHE_DIR": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    environment.pop("FORCE_COLOR", None)
    return environment, log


def cli(args: list[str], cwd: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubelint_svc", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300, check=False)


def starts(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.slow  # 1.4 s of CPU
def test_a_warm_run_starts_no_kustomize_process(tmp_path, counting_kubectl):
    environment, log = counting_kubectl
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod", "broken"), "blog": ("dev",)})
    git_repository(top)
    forced = ["lint", "--kustomize", "kubectl", "."]  # auto builds the roots proven alike in-process
    cold = cli(forced, top, environment)
    assert cold.returncode in (0, 1), cold.stderr
    assert len([line for line in starts(log) if line.startswith("kustomize")]) >= 4  # every root built
    assert "kustomize-build-failed" in cold.stdout  # the broken overlay
    log.unlink()
    warm = cli(forced, top, environment)
    assert starts(log) == []  # not even a `--help`
    assert warm.stdout == cold.stdout  # the failure kept, as true as the builds


@pytest.mark.slow  # 0.9 s of CPU
def test_a_warm_run_reads_no_unchanged_file(tmp_path, monkeypatch):
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev", "prod")})
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # every read in this process, where the hook sees it
    require("kubectl", KUBECTL is not None)  # the fallback's note would show its kustomization's lines
    # kept only once settled (cache.SETTLED_NS): a file saved a moment ago may yet change in the same tick
    time.sleep(2.1)
    options = Options(paths=(".",), kustomize="kubectl", cache_dir=str(tmp_path / "cache"))
    cold = lint(options)
    assert cold.report.findings == []
    opened: list[str] = []
    watching = [True]

    def hook(event: str, arguments: tuple[object, ...]) -> None:
        if watching[0] and event == "open" and isinstance(arguments[0], str | bytes | os.PathLike):
            opened.append(os.fsdecode(arguments[0]))

    sys.addaudithook(hook)  # hooks stay for the process: this one goes quiet at the end
    try:
        warm = lint(options)
    finally:
        watching[0] = False
    manifests = {str(path.resolve()) for path in top.rglob("*.yaml")}
    assert [path for path in opened if str(Path(path).resolve()) in manifests] == []
    assert warm.report.objects == cold.report.objects == 8


def counting_builds(monkeypatch) -> list[Path]:
    from kubelint_svc.units import plan

    built: list[Path] = []
    real = plan.build

    def counted(root, *args, **kwargs):
        built.append(root)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(plan, "build", counted)
    return built


@pytest.mark.slow  # 0.3 s of CPU
def test_an_edited_base_rebuilds_exactly_the_roots_that_include_it(tmp_path, monkeypatch):
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev", "prod")})
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    options = Options(paths=(".",), kustomize="fallback", cache_dir=str(tmp_path / "cache"))
    built = counting_builds(monkeypatch)
    lint(options)
    assert len(built) == 4
    built.clear()
    lint(options)
    assert built == []
    base = top / "shop" / "base" / "objects.yaml"
    base.write_text(BASE_OBJECTS.replace("port: 80", "port: 81"))
    time.sleep(0.02)  # a build is kept only if what it read changed a clock tick before the run's builds began
    lint(options)
    assert sorted(built) == [top / "shop" / "overlays" / "dev", top / "shop" / "overlays" / "prod"]
    built.clear()
    (top / "shop" / "overlays" / "prod" / "replicas.yaml").write_text(PATCH.format(n=7))
    time.sleep(0.02)
    lint(options)
    assert built == [top / "shop" / "overlays" / "prod"]
