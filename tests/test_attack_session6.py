"""Issue 20, sixth session: its features attacked with a fresh eye. One test per bug found, each
failing before its fix: a kept run replayed stale once the stamps left the cache folder out
(replay.py). Each run is a process of its own, as a user's (`python -m kubelint_svc`: the front
door first)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from manifests import SERVICE_TEMPLATE as SERVICE
from test_front_door import settle
from test_warm_runs import git_repository

pytestmark = pytest.mark.slow  # the replay tests wait for their trees to settle, and run whole processes


def kubelint(top: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(top.parent / "xdg")}
    for name in ("KUBELINT_SVC_CACHE_DIR", "GITHUB_ACTIONS", "FORCE_COLOR"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "kubelint_svc", "lint", "-q", *args], cwd=top, capture_output=True,
                          text=True, env=env, check=False, timeout=300)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A settled git work tree holding one valid Service."""
    top = tmp_path / "repo"
    top.mkdir()
    (top / "service.yaml").write_text(SERVICE.format(name="good", port=80))
    git_repository(top)
    return top


def test_a_link_into_the_default_cache_folder_is_no_stale_replay(repo):
    """The stamps leave `.kubelint-svc_cache` out, and a walk never lists a hidden folder; but it
    follows a link into it. A manifest added there, behind `objects -> .kubelint-svc_cache/objects`,
    was not seen: the kept clean run was replayed (exit 0) instead of the new file's error."""
    behind = repo / ".kubelint-svc_cache" / "objects"
    behind.mkdir(parents=True)
    (repo / "objects").symlink_to(Path(".kubelint-svc_cache", "objects"))
    settle()
    assert kubelint(repo).returncode == 0
    assert kubelint(repo).returncode == 0
    (behind / "added.yaml").write_text(SERVICE.format(name="added", port=0))
    again = kubelint(repo)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "objects/added.yaml" in again.stdout


def test_a_manifest_added_in_a_cache_dir_a_walk_lists_is_no_stale_replay(repo):
    """--cache-dir in the work tree, not hidden, and ignore files not respected: the walk lists the
    generation's folder. Its stamp was left out with what it holds, so a manifest added there was
    not seen (exit 0 replayed); it is stamped again, as before the session (what it holds is not)."""
    settle()
    flags = ("--cache-dir", "cache", "--no-respect-gitignore")
    for _ in range(3):  # made, then kept once the cache folder it made settled, then replayed
        assert kubelint(repo, *flags).returncode == 0
        settle()
    (generation,) = (folder for folder in (repo / "cache").iterdir() if folder.is_dir())
    (generation / "added.yaml").write_text(SERVICE.format(name="added", port=0))
    again = kubelint(repo, *flags)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "added.yaml" in again.stdout
