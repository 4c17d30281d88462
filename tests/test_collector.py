"""The cyclic collector in a lint command's process: it passes rarely from the process's start, so
neither the imports and the walk nor the run's objects are walked by it on an ordinary tree, and the
runner's thresholds are restored after a run (an editor's server makes many)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from test_warm_runs import git_repository, write_tree

from kubelint_svc import front_door, runner

PROBE = """
import gc, json, os, sys
passes = []
# the passes made once the command set its thresholds (the interpreter's start and this probe's imports make some)
gc.callbacks.append(lambda phase, info: passes.append(info["generation"])
                    if phase == "stop" and gc.get_threshold()[0] > 700 else None)
from kubelint_svc import front_door, runner
code = 0
try:
    front_door.main()
except SystemExit as stop:
    code = stop.code
with open(os.environ["PROBE_OUT"], "w") as out:
    json.dump({"code": code, "passes": passes, "threshold": gc.get_threshold()}, out)
"""


def _probe(tree: Path, *args: str) -> dict:
    out = tree.parent / "probe.json"
    env = {**os.environ, "PROBE_OUT": str(out), "XDG_CACHE_HOME": str(tree.parent / "xdg")}
    subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tree, env=env, capture_output=True, check=False,
                   timeout=300)
    return json.loads(out.read_text())


def test_a_lint_command_walks_nothing_with_the_collector_on_an_ordinary_tree(tmp_path):
    tree = tmp_path / "repo"
    write_tree(tree, {f"app{index}": ("dev", "prod", "staging") for index in range(40)})
    git_repository(tree)
    found = _probe(tree, "lint", "--no-cache", "--kustomize", "fallback", ".")
    assert found["code"] == 0
    assert found["passes"] == []  # with the default thresholds, some fifty in the imports and the walk
    assert found["threshold"][0] == front_door.LINT_COLLECTION_THRESHOLD


def test_another_command_keeps_the_interpreters_thresholds(tmp_path):
    tree = tmp_path / "repo"
    tree.mkdir()
    found = _probe(tree, "rules")
    assert found["code"] == 0
    assert found["threshold"] == [700, 10, 10]


def test_a_run_restores_the_thresholds_it_found(tmp_path):
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n"
    (tmp_path / "svc.yaml").write_text(service)
    before = gc.get_threshold()
    gc.set_threshold(1234, 11, 12)
    try:
        from kubelint_svc.app import Options, lint

        lint(Options(paths=(str(tmp_path / "svc.yaml"),), no_cache=True))
        assert gc.get_threshold() == (1234, 11, 12)
    finally:
        gc.set_threshold(*before)


def test_a_run_keeps_rarer_thresholds_its_caller_set(tmp_path, monkeypatch):
    """Lowered for the run and raised again after it, the thresholds would make the collector walk
    at once every young object the run left (40-80 ms after a cold run of the 600-root tree)."""
    from kubelint_svc.app import Options, lint

    service = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n"
    (tmp_path / "svc.yaml").write_text(service)
    during: list[tuple[int, int, int]] = []
    real = runner._lint

    def spied(*args, **kwargs):
        during.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "_lint", spied)
    before = gc.get_threshold()
    try:
        for caller in (700, 2_000_000):
            gc.set_threshold(caller, 10, 10)
            lint(Options(paths=(str(tmp_path / "svc.yaml"),), no_cache=True))
    finally:
        gc.set_threshold(*before)
    assert [threshold[0] for threshold in during] == [runner.RUN_COLLECTION_THRESHOLD, 2_000_000]
