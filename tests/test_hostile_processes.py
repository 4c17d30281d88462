"""The child processes a run starts (kubectl or kustomize for builds, helm for renders) and what a
pull request can make them do: read files out of the repository into a render, print or allocate
without end, or take the run's time chart after chart. helm is in no registry these machines
reach: stand-in `helm` and `kubectl` scripts on PATH behave as each attack needs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import KUBECTL, LINUX, needs
from test_hostile_pr import run

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: {name}\nversion: 0.1.0\n",
    "values.yaml": "port: 80\n",
    "templates/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{{{ .Release.Name }}}}\n"
    "spec:\n  ports:\n  - port: {{{{ .Values.port }}}}\n",
}
RENDER = "---\n# Source: {name}/templates/service.yaml\n" + SERVICE
# A stand-in tool: records that it started, then does what the test asks (Python after the marker)
TOOL = """#!{python}
import os, sys, time
open({started!r}, "a").write("started\\n")
if sys.argv[1:2] == ["kustomize"] and "--help" in sys.argv:
    sys.exit(0)
{body}
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def repository(tmp_path: Path, charts: tuple[str, ...] = ("mychart",)) -> Path:
    repo = tmp_path / "repo"
    for name in charts:
        write(repo / name, {path: text.format(name=name) for path, text in CHART.items()})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def tool(tmp_path: Path, name: str, body: str) -> tuple[dict[str, str], Path]:
    """An environment whose PATH finds the stand-in first, and the file it writes when started."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    started = tmp_path / f"{name}-started"
    script = folder / name
    script.write_text(TOOL.format(python=sys.executable, started=str(started), body=body))
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, started


def printing(text: str) -> str:
    return f"sys.stdout.write({text!r})"


def notes(result: subprocess.CompletedProcess, rule: str) -> list[str]:
    return [line for line in result.stdout.decode().splitlines() if f"[{rule}]" in line]


# --- 1. files helm reads that the run may not --------------------------------------------------


@pytest.mark.parametrize(
    ("link", "target", "why"),
    [
        ("mychart/files/token", "outside/secret", "outside the repository"),
        ("mychart/files/config", "repo/.git/config", "inside a git directory"),
        ("mychart/templates/linked", "outside", "outside the repository"),  # a linked folder
    ],
)
def test_a_chart_file_linked_out_of_the_repository_is_not_rendered(tmp_path, link, target, why):
    """`.Files.Get "files/token"` would print the linked file into a name or an annotation."""
    repo = repository(tmp_path)
    write(tmp_path, {"outside/secret": "s3cr3t\n"})
    (repo / link).parent.mkdir(parents=True, exist_ok=True)
    (repo / link).symlink_to(tmp_path / target)
    env, started = tool(tmp_path, "helm", printing(RENDER.format(name="mychart")))
    result = run("lint", ".", cwd=repo, env=env)
    [note] = notes(result, "helm-chart-not-rendered")
    assert f"{link.removeprefix('mychart/')}: " in note
    assert why in note
    assert not started.exists()


def test_a_values_file_linked_out_of_the_repository_is_not_rendered(tmp_path):
    repo = repository(tmp_path)
    write(tmp_path, {"outside/values.yaml": "token: s3cr3t\n"})
    write(repo, {".kubelint-svc.yaml": "helm-values: [prod.yaml]\n"})
    (repo / "mychart/prod.yaml").symlink_to(tmp_path / "outside/values.yaml")
    env, started = tool(tmp_path, "helm", printing(RENDER.format(name="mychart")))
    result = run("lint", ".", cwd=repo, env=env)
    [note] = notes(result, "helm-chart-not-rendered")
    assert "prod.yaml: a link to " in note
    assert "outside the repository" in note
    assert not started.exists()


def test_a_chart_whose_files_stay_inside_is_rendered(tmp_path):
    repo = repository(tmp_path)
    (repo / "mychart/files").mkdir()
    (repo / "mychart/files/shared").symlink_to(repo / "mychart/values.yaml")
    env, started = tool(tmp_path, "helm", printing(RENDER.format(name="mychart").replace("port: 80", "port: 0")))
    result = run("lint", ".", cwd=repo, env=env)
    assert notes(result, "helm-chart-not-rendered") == []
    assert notes(result, "service-port-number")
    assert started.exists()


# --- 2. output and memory ------------------------------------------------------------------------

ENDLESS = "chunk = b'#' * 65535 + b'\\n'\nfor _ in range(1600):\n    sys.stdout.buffer.write(chunk)"  # 100 MiB
ALLOCATE = ("import mmap\ntry:\n    mmap.mmap(-1, 3 << 30)\nexcept (OSError, MemoryError):\n"
            "    sys.exit('cannot allocate 3 GiB')\n")


def kustomized(tmp_path: Path) -> Path:
    """A root the fallback is proven to build alike: the runs below force kubectl, the tool watched."""
    repo = tmp_path / "repo"
    write(repo, {"app/kustomization.yaml": "resources: [service.yaml]\n", "app/service.yaml": SERVICE})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_a_build_printing_past_the_file_size_limit_is_cut_off(tmp_path):
    repo = kustomized(tmp_path)
    env, started = tool(tmp_path, "kubectl", ENDLESS)
    result = run("lint", "--kustomize", "kubectl", ".", cwd=repo, env=env)
    [note] = notes(result, "kustomize-build-failed")
    assert "output over 64 MiB; not built" in note
    assert started.exists()


def test_a_render_printing_past_the_file_size_limit_is_cut_off(tmp_path):
    repo = repository(tmp_path)
    env, started = tool(tmp_path, "helm", ENDLESS)
    result = run("lint", ".", cwd=repo, env=env)
    [note] = notes(result, "helm-chart-not-rendered")
    assert "output over 64 MiB; not rendered" in note
    assert started.exists()


@needs("Linux (RLIMIT_AS caps a tool's memory there)", LINUX)
@pytest.mark.parametrize("name", ["kubectl", "helm"])
def test_a_tool_cannot_take_more_than_its_memory_cap(tmp_path, name):
    """3 GiB reserved, not touched: the cap refuses it without the machine paying for it."""
    repo = kustomized(tmp_path) if name == "kubectl" else repository(tmp_path)
    env, _ = tool(tmp_path, name, ALLOCATE + printing(SERVICE))
    result = run("lint", *(("--kustomize", "kubectl") if name == "kubectl" else ()), ".", cwd=repo, env=env)
    rule = "kustomize-build-failed" if name == "kubectl" else "helm-chart-not-rendered"
    [note] = notes(result, rule)
    assert "cannot allocate 3 GiB" in note


@pytest.mark.slow  # 1.4 s of CPU
@needs("kubectl", KUBECTL is not None)
@needs("Linux (RLIMIT_AS caps a tool's memory there)", LINUX)
def test_real_kubectl_on_a_one_megabyte_alias_bomb_stops_at_the_cap(tmp_path):
    """kubectl expands every alias of a 1 MB ConfigMap: past 4.8 GB and 25 s uncapped, 2.5 s here.
    (The scan before a build refuses this file; the tool is run on it directly, as on a file the
    scan would let through.)"""
    from kubelint_svc.units.kustomize.engines import _run

    items = ",".join(["x"] * 200)
    head = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a: &a [{items}]\n  b:\n"
    write(tmp_path, {"kustomization.yaml": "resources: [bomb.yaml]\n",
                     "bomb.yaml": head + "  - *a\n" * ((1_000_000 - len(head)) // 7)})
    began = time.monotonic()
    output, error, _, _ = _run([str(KUBECTL), "kustomize", str(tmp_path)], 60)
    assert time.monotonic() - began < 20
    assert output == ""
    assert "out of memory" in str(error)


# --- 3. one budget for builds and renders ---------------------------------------------------------


@pytest.mark.slow  # 0.1 s of CPU
def test_endless_charts_share_the_run_budget(tmp_path):
    """Two charts whose helm never ends: the first is killed at the budget, the second never runs."""
    repo = repository(tmp_path, charts=("one", "two"))
    env, started = tool(tmp_path, "helm", "time.sleep(600)")
    began = time.monotonic()
    result = run("lint", ".", cwd=repo, env={**env, "KUBELINT_SVC_BUILD_SECONDS": "3"})
    assert time.monotonic() - began < 10
    found = notes(result, "helm-chart-not-rendered")
    assert len(found) == 2
    assert any("did not finish within" in note for note in found)
    assert any("KUBELINT_SVC_BUILD_SECONDS" in note for note in found)
    assert started.read_text() == "started\n"


@pytest.mark.slow  # 0.1 s of CPU
def test_a_render_killed_at_its_time_takes_its_children_with_it(tmp_path):
    repo = repository(tmp_path)
    child = tmp_path / "child-alive"
    code = f"import time; time.sleep(5); open({str(child)!r}, 'w')"
    env, _ = tool(tmp_path, "helm", f"import subprocess\nsubprocess.Popen([sys.executable, '-c', {code!r}])\n"
                                    "time.sleep(600)")
    result = run("lint", ".", cwd=repo, env={**env, "KUBELINT_SVC_BUILD_SECONDS": "2"})
    [note] = notes(result, "helm-chart-not-rendered")
    assert "did not finish within" in note
    time.sleep(4)
    assert not child.exists()


@pytest.mark.slow  # 0.1 s of CPU
def test_builds_and_renders_share_one_budget(tmp_path):
    """A build that spends the budget leaves no time for a chart: it is not rendered, helm never runs."""
    repo = kustomized(tmp_path)
    write(repo / "mychart", {path: text.format(name="mychart") for path, text in CHART.items()})
    env, _ = tool(tmp_path, "kubectl", "time.sleep(600)")
    _, helm_started = tool(tmp_path, "helm", printing(RENDER.format(name="mychart")))
    began = time.monotonic()
    result = run("lint", "--kustomize", "kubectl", ".", cwd=repo, env={**env, "KUBELINT_SVC_BUILD_SECONDS": "3"})
    assert time.monotonic() - began < 10
    [note] = notes(result, "helm-chart-not-rendered")
    assert "KUBELINT_SVC_BUILD_SECONDS" in note
    assert not helm_started.exists()
