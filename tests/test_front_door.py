"""Issue 20, warm runs: the front door (front_door.py) answers a `lint` whose whole output was kept,
before typer, the rules or the schemas are imported, with the same stdout, stderr and exit code as
the run that made it; any change (a file of the work tree, a new file, an argument, the
environment) goes past it to a run made anew; runs that write files or fix are never kept.

Each run is a process of its own, as a user's: what it imported tells whether the door answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_warm_runs import BASE_OBJECTS, git_repository, write_tree

BROKEN = BASE_OBJECTS.replace("targetPort: 8080", "targetPort: http")

PROBE = """
import json, os, sys
from kubelint_svc import front_door
code = 0
try:
    front_door.main()
except SystemExit as stop:
    code = stop.code
sys.stdout.flush()
with open(os.environ["PROBE_OUT"], "w") as out:
    json.dump({"code": code, "answered": "kubelint_svc.app" not in sys.modules}, out)
"""

pytestmark = pytest.mark.slow  # each test waits 2 s for its tree to settle, and runs whole processes


def settle() -> None:
    """Past cache.SETTLED_NS: a run is kept whole only once its tree has settled."""
    time.sleep(2.1)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod")})
    (top / "shop" / "base" / "objects.yaml").write_text(BROKEN)
    git_repository(top)
    settle()
    return top


def kubelint(repo: Path, *args: str, **environment: str) -> tuple[str, str, int, bool]:
    """stdout, stderr, exit code, and whether the front door answered (the app never imported)."""
    out = repo.parent / "probe.json"
    env = {**os.environ, "XDG_CACHE_HOME": str(repo.parent / "xdg"), "PROBE_OUT": str(out), **environment}
    env.pop("KUBELINT_SVC_CACHE_DIR", None)
    env.pop("GITHUB_ACTIONS", None)
    cache = str(repo.parent / "cache")
    command = [sys.executable, "-c", PROBE, "lint", "--kustomize", "fallback", "--cache-dir", cache, *args]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, check=False, timeout=300)
    probe = json.loads(out.read_text())
    return result.stdout, result.stderr, probe["code"], probe["answered"]


def test_a_kept_run_is_answered_at_the_door_as_it_was_made(repo):
    made = kubelint(repo)
    assert made[2] == 1
    assert "service-target-port-undefined" in made[0]
    assert not made[3]
    answered = kubelint(repo)
    assert answered[3]  # no typer, no rules, no schemas: the kept output
    assert answered[:3] == made[:3]
    assert kubelint(repo, "--format", "json")[3] is False  # other arguments: another run
    as_json = kubelint(repo, "--format", "json")
    assert as_json[3]
    assert json.loads(as_json[0])["findings"][0]["rule"] == "service-target-port-undefined"


def test_an_edited_file_goes_past_the_door(repo):
    kubelint(repo)
    assert kubelint(repo)[3]
    (repo / "shop" / "base" / "objects.yaml").write_text(BASE_OBJECTS)
    fixed = kubelint(repo)
    assert not fixed[3]
    assert fixed[2] == 0
    assert "service-target-port-undefined" not in fixed[0]


def test_a_new_file_goes_past_the_door(repo):
    kubelint(repo)
    assert kubelint(repo)[3]
    (repo / "shop" / "base" / "more.yaml").write_text(BROKEN.replace("name: web", "name: other"))
    assert not kubelint(repo)[3]


def test_another_environment_goes_past_the_door(repo):
    kubelint(repo)
    assert kubelint(repo)[3]
    assert not kubelint(repo, NO_COLOR="1")[3]
    assert not kubelint(repo, KUBELINT_SVC_SOMETHING="1")[3]


def test_runs_that_fix_or_diff_are_never_kept(repo):
    for flags in (("--diff",), ("--fix",)):
        kubelint(repo, *flags)
        settle()  # whatever --fix wrote has settled: only the kind of run keeps the door shut
        assert not kubelint(repo, *flags)[3]


def test_a_run_is_kept_while_another_run_writes_in_the_cache_folder_of_the_work_tree(repo):
    """The default cache folder lies in the work tree, and every run writes there: its writes are no
    change to the tree, or a run made within two seconds of another's writes would never be kept."""
    env = {**os.environ, "XDG_CACHE_HOME": str(repo.parent / "xdg")}
    env.pop("KUBELINT_SVC_CACHE_DIR", None)
    env.pop("GITHUB_ACTIONS", None)

    def run() -> tuple[str, bool]:
        out = repo.parent / "probe.json"
        command = [sys.executable, "-c", PROBE, "lint", "--kustomize", "fallback"]
        result = subprocess.run(command, cwd=repo, capture_output=True, text=True, env={**env, "PROBE_OUT": str(out)},
                                check=False, timeout=300)
        return result.stdout, json.loads(out.read_text())["answered"]

    made, answered = run()
    assert not answered
    assert (repo / ".kubelint-svc_cache").is_dir()
    settle()  # the cache folder made in the work tree
    (repo / ".kubelint-svc_cache" / "written-by-another-run").write_text("")  # as a run writing beside
    again, answered = run()
    assert not answered
    assert again == made
    assert run() == (made, True)


def test_a_run_that_reads_a_file_in_the_cache_folder_is_never_kept(repo):
    """The stamps leave the cache folder out: a run that read a file there (a pull request may commit
    one, and name it) is made anew each time, so an edit of it is seen."""
    hidden = repo / ".kubelint-svc_cache" / "objects.yaml"
    hidden.parent.mkdir()
    hidden.write_text(BROKEN)
    settle()
    env = {**os.environ, "XDG_CACHE_HOME": str(repo.parent / "xdg"), "PROBE_OUT": str(repo.parent / "probe.json")}
    env.pop("KUBELINT_SVC_CACHE_DIR", None)
    env.pop("GITHUB_ACTIONS", None)
    command = [sys.executable, "-c", PROBE, "lint", str(hidden.relative_to(repo))]

    def run() -> tuple[str, bool]:
        result = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, check=False, timeout=300)
        return result.stdout, json.loads((repo.parent / "probe.json").read_text())["answered"]

    first = run()
    assert "service-target-port-undefined" in first[0]
    assert not first[1]
    assert run() == first  # made anew, not answered
    hidden.write_text(BASE_OBJECTS)
    assert "service-target-port-undefined" not in run()[0]
