"""The front door (front_door.py) attacked: each test is a way it answered otherwise than a full run
of the same command would now (another output or exit code, a traceback), or read where a run does
not. Each run is a process of its own, as a user's; the door's answer is compared with a full run's
(`--no-cache`, which the door never answers) where the two must agree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require
from test_front_door import BROKEN, PROBE, settle
from test_warm_runs import git_repository, write_tree

import kubelint_svc
from kubelint_svc.schemas import data_dir

pytestmark = pytest.mark.slow  # each test waits 2 s for its tree to settle, and runs whole processes


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev",)})
    (top / "shop" / "base" / "objects.yaml").write_text(BROKEN)
    git_repository(top)
    settle()
    return top


def environment(repo: Path, **more: str) -> dict[str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(repo.parent / "xdg"), "PROBE_OUT": str(repo.parent / "probe.json"),
           **more}
    for name in ("KUBELINT_SVC_CACHE_DIR", "GITHUB_ACTIONS", "KUBELINT_SVC_DEBUG"):
        env.pop(name, None)
    return env


def lint_command(repo: Path, *args: str) -> list[str]:
    """The arguments every run here gives, its cache outside the work tree."""
    return ["lint", "--kustomize", "fallback", "--cache-dir", str(repo.parent / "cache"), *args]


def kubelint(repo: Path, *args: str, **more: str) -> tuple[str, str, int, bool]:
    """stdout, stderr, exit code, and whether the front door answered (the app never imported)."""
    out = repo.parent / "probe.json"
    command = [sys.executable, "-c", PROBE, *lint_command(repo, *args)]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=environment(repo, **more),
                            check=False, timeout=300)
    probe = json.loads(out.read_text())
    return result.stdout, result.stderr, probe["code"], probe["answered"]


def kept(repo: Path, *args: str, **more: str) -> None:
    """Run twice: the second is answered at the door."""
    kubelint(repo, *args, **more)
    assert kubelint(repo, *args, **more)[3]


def console(repo: Path, *args: str, **streams: object) -> tuple[str, int]:
    """The console script's stderr and exit code, its standard output as given (streams)."""
    command = [sys.executable, "-m", "kubelint_svc", *lint_command(repo, *args)]
    result = subprocess.run(command, cwd=repo, stderr=subprocess.PIPE, text=True, env=environment(repo),
                            check=False, timeout=300, **streams)  # type: ignore[call-overload]
    return result.stderr, result.returncode


def test_an_edited_built_in_rule_goes_past_the_door(repo, tmp_path):
    """The built-in rules are data beside the code (rules/*.yaml, packs too): a checkout's edit of
    one, or an install that changes only them, changes every finding of that rule; the door and
    the whole-run replay answered with the old severity and exit code."""
    source = tmp_path / "source"
    shutil.copytree(Path(kubelint_svc.__file__).parent, source / "kubelint_svc",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(data_dir("rules"), source / "rules")
    (source / "schemas").symlink_to(data_dir("schemas"))
    checkout = {"PYTHONPATH": str(source)}
    kept(repo, **checkout)
    made = kubelint(repo, **checkout)
    assert made[2] == 1
    assert "error[service-target-port-undefined]" in made[0]
    rules = next(path for path in (source / "rules").glob("*.yaml")
                 if "id: service-target-port-undefined" in path.read_text())
    text = rules.read_text()
    start = text.index("id: service-target-port-undefined")
    severity = text.index("severity: error", start)
    rules.write_text(text[:severity] + "severity: warning" + text[severity + len("severity: error"):])
    now = kubelint(repo, **checkout)
    assert not now[3]
    assert now[2] == 0
    assert "warning[service-target-port-undefined]" in now[0]


def test_a_reader_that_closed_the_pipe_ends_the_answer_as_it_ends_a_run(repo):
    """`kubelint-svc lint | head -1` once the reader is gone: a full run ends as click ends it
    (exit 1, nothing said); the door printed a BrokenPipeError traceback."""
    kept(repo)
    reader, writer = os.pipe()
    os.close(reader)
    try:
        answered = console(repo, stdout=writer)
        full = console(repo, "--no-cache", stdout=writer)
    finally:
        os.close(writer)
    assert "Traceback" not in answered[0]
    assert answered == full


def test_a_full_disk_ends_the_answer_as_it_ends_a_run(repo):
    """Standard output on a full disk: a full run says so in one line (exit 2); the door printed
    an OSError traceback."""
    require("/dev/full", os.path.exists("/dev/full"), system=True)
    kept(repo)
    with open("/dev/full", "w") as full_disk:
        answered = console(repo, stdout=full_disk)
        full = console(repo, "--no-cache", stdout=full_disk)
    assert "Traceback" not in answered[0]
    assert answered == full


def test_a_closed_standard_output_is_not_answered_at_the_door(repo):
    """`kubelint-svc lint >&-`: Python has no sys.stdout, and a full run drops what it writes; the
    door, keyed alike for a pipe and a closed stream (neither is a terminal), wrote to None."""
    kept(repo)
    closed = {"preexec_fn": lambda: os.close(1), "stdout": None}
    answered = console(repo, **closed)
    full = console(repo, "--no-cache", **closed)
    assert "Traceback" not in answered[0]
    assert answered == full


def test_a_closed_stream_drops_what_is_written_to_it_and_the_run_keeps_its_exit_code(repo):
    """`kubelint-svc lint >&-` or `2>&-`: what would go to the closed stream goes nowhere (as print()
    drops it), not an internal error asking for a report; the exit code is the run's."""
    stderr_closed = subprocess.run([sys.executable, "-m", "kubelint_svc", *lint_command(repo, "--no-cache")],
                                   cwd=repo, capture_output=True, text=True, env=environment(repo), check=False,
                                   timeout=300, preexec_fn=lambda: os.close(2))
    for stderr, code in (console(repo, "--no-cache", preexec_fn=lambda: os.close(1), stdout=None),
                         ("", stderr_closed.returncode)):
        assert stderr == ""
        assert code == 1  # the tree's finding
    assert "service-target-port-undefined" in stderr_closed.stdout


def test_a_cache_folder_become_a_link_is_not_read_at_the_door(repo):
    """A cache folder that is a link is not used (docs/security.md): a run refuses it; the door
    read the kept output through it."""
    kept(repo)
    (repo.parent / "cache").rename(repo.parent / "elsewhere")
    (repo.parent / "cache").symlink_to(repo.parent / "elsewhere")
    now = kubelint(repo)
    assert not now[3]
    assert now[2] == 1


def test_a_path_named_through_a_link_outside_is_not_answered_once_the_link_moves(repo, tmp_path):
    """`lint /elsewhere/link/...` with the link into the work tree: the run reads where the link
    lands now; the stamps held (no entry of the work tree changed) and the door answered for the
    file the link left."""
    other = tmp_path / "other"
    write_tree(other, {"shop": ("dev",)})  # the same tree, its objects fixed
    link = tmp_path / "link"
    link.symlink_to(repo / "shop")
    named = str(link / "base" / "objects.yaml")
    assert kubelint(repo, named)[2] == 1
    kubelint(repo, named)  # was answered at the door
    link.unlink()
    link.symlink_to(other / "shop")
    now = kubelint(repo, named)
    assert not now[3]
    assert now[2] == 0


def test_a_configuration_above_a_link_outside_is_not_left_unstamped(repo, tmp_path):
    """A path named through a link outside the work tree has its configuration sought from the link's
    folders upward (`/elsewhere/.kubelint-svc.yaml`), no repository top on the way to stop the
    search: a file no stamp covers, which the replay and the door did not see change."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "link").symlink_to(repo / "shop" / "base")
    named = str(outside / "link" / "objects.yaml")
    assert kubelint(repo, named)[2] == 1
    kubelint(repo, named)  # was answered at the door
    (outside / ".kubelint-svc.yaml").write_text("rules:\n  service-target-port-undefined: off\n")
    now = kubelint(repo, named)
    assert not now[3]
    assert now[2] == 0
    assert "service-target-port-undefined" not in now[0]


def test_a_changed_install_is_not_answered_by_the_replay_behind_the_door(repo, tmp_path):
    """An install in a site-packages folder (here: one that turns a check into nothing, as an upgrade
    of a library the checks use may change what they find) changes the door's key, so the door
    missed; the whole-run replay behind it, keyed without the installed packages, answered with
    the old findings, and the door kept them again under its new key."""
    site = tmp_path / "lib" / "site-packages"
    site.mkdir(parents=True)
    installed = {"PYTHONPATH": str(site)}
    kept(repo, **installed)
    (site / "sitecustomize.py").write_text(
        "import kubelint_svc.checks.selectors as checks\n"
        "checks.target_port_undefined = lambda *args, **kwargs: iter(())\n"
    )
    now = kubelint(repo, **installed)
    assert not now[3]
    assert now[2] == 0
    assert "service-target-port-undefined" not in now[0]


def test_a_run_without_the_cache_makes_no_secret_at_the_door(tmp_path):
    """--no-cache neither reads nor writes the cache: the door looked for an entry all the same,
    and opening the cache made this user's signing secret (a folder of the cache's name, which a
    pull request can commit, was enough)."""
    from kubelint_svc.identity import cache_generation

    (tmp_path / "repo" / ".kubelint-svc_cache" / cache_generation()).mkdir(parents=True)
    (tmp_path / "repo" / "objects.yaml").write_text(BROKEN)
    command = [sys.executable, "-m", "kubelint_svc", "lint", "--no-cache"]
    result = subprocess.run(command, cwd=tmp_path / "repo", capture_output=True, text=True, check=False,
                            env=environment(tmp_path / "repo"), timeout=300)
    assert result.returncode == 1
    assert not (tmp_path / "xdg").exists()
