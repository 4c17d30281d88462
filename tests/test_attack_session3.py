"""Attacks on the session's new features with a fresh eye: the whole-run replay, --fix, the editor
server and a new user's first run. Each test failed on the code before its fix."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from kubelint_svc.app import Options, lint

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"""
OTHER = SERVICE.replace("name: web", "name: other", 1)


def settle() -> None:
    """Past cache.SETTLED_NS: a tree written a moment ago is never kept."""
    time.sleep(2.1)


def git(top: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=top, check=True)


@pytest.fixture
def fresh_repository(tmp_path: Path, monkeypatch) -> Path:
    """A repository just made by `git init`: no index yet."""
    top = tmp_path / "repo"
    top.mkdir()
    (top / "web.yaml").write_text(SERVICE)
    (top / "other.yaml").write_text(OTHER)
    git(top, "init", "-q")
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    settle()
    return top


def git_context(tmp_path: Path) -> Options:
    return Options(paths=("web.yaml",), git_context=True, cache_dir=str(tmp_path / "cache"))


def test_the_first_git_add_of_a_repository_is_a_change_of_its_tree(fresh_repository, tmp_path):
    """The stamps covered `.git/index` only where it was: the index the first `git add` made was
    no stamp's, and a --git-context run replayed a context of no file."""
    assert lint(git_context(tmp_path), replay=True).report.context_files == 0
    lint(git_context(tmp_path), replay=True)
    git(fresh_repository, "add", "web.yaml", "other.yaml")
    again = lint(git_context(tmp_path), replay=True)
    assert again.run is not None
    assert again.report.context_files == 1
