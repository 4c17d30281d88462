"""Attacks on the session's features: the editor server's reuse of a run's planning (app.Reuse) must
say what a fresh run of the same buffers says; the built-in kustomize fallback against kubectl's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import GIT, needs
from test_server_reuse import FILES, SERVICE, Judge, git

from kubelint_svc import replay

pytestmark = [needs("the lsp extra (pygls)", importlib.util.find_spec("pygls") is not None),
              needs("git", GIT is not None)]


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """test_server_reuse's repository: committed, its own cache, nothing waited for to settle."""
    root = tmp_path / "repo"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "files")
    monkeypatch.setenv("KUBELINT_SVC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(replay, "SETTLED_NS", 0)
    monkeypatch.chdir(tmp_path)
    return root


def test_reuse_sees_a_link_whose_hop_outside_the_work_tree_is_pointed_elsewhere(repository, monkeypatch, tmp_path):
    # plain/linked.yaml -> <outside>/hop/service.yaml, hop a link too: where the tracked link lands (and
    # whether it may be read) changes with no entry of the work tree changing
    (tmp_path / "away").mkdir()
    (tmp_path / "away/service.yaml").write_text(SERVICE.replace("name: web\n", "name: away\n", 1))
    hop = tmp_path / "hop"
    hop.symlink_to(tmp_path / "away")
    (repository / "plain/linked.yaml").symlink_to(hop / "service.yaml")
    git(repository, "add", "-A")
    (repository / "untracked").mkdir()  # read by no run but through the link
    (repository / "untracked/service.yaml").write_text(SERVICE.replace("port: 80", "port: 99999"))
    judge = Judge(repository, monkeypatch)
    name = "plain/service.yaml"
    judge.both(name, {name: SERVICE})
    assert not judge.both(name, {name: SERVICE})
    hop.unlink()
    hop.symlink_to(repository / "untracked")  # now lands inside the work tree: a fresh run reads it
    assert judge.both(name, {name: SERVICE})
