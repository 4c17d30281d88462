"""Attacks on the session's features: the editor server's reuse of a run's planning (app.Reuse) must
say what a fresh run of the same buffers says; the built-in kustomize fallback against kubectl's."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import GIT, KUBECTL, needs
from test_hostile_pr import run
from test_server_reuse import FILES, SERVICE, Judge, git

from kubelint_svc import replay

SERVER = [needs("the lsp extra (pygls)", importlib.util.find_spec("pygls") is not None), needs("git", GIT is not None)]


def server(test: Callable[..., None]) -> Callable[..., None]:
    for mark in SERVER:
        test = mark(test)
    return test


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


@server
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


CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  {key}: c
"""


@pytest.mark.parametrize("key", ["? [a, b]\n  ", "[a, b]", "{a: b}"])
def test_fallback_fails_as_kustomize_on_a_key_that_is_a_collection(tmp_path, key):
    # kustomize's YAML reading takes no list or mapping as a key ("invalid map key"); the fallback took
    # the linter's reading (the collection written as text) and built, and auto built it in-process
    (tmp_path / "kustomization.yaml").write_text("resources:\n- map.yaml\n")
    (tmp_path / "map.yaml").write_text(CONFIG_MAP.format(key=key))
    engines = ["fallback", *(["auto"] if KUBECTL is not None else [])]
    for engine in engines:
        result = run("lint", "--no-cache", "--kustomize", engine, "-f", "json", ".", cwd=tmp_path)
        found = {(each["rule"], each["file"]) for each in json.loads(result.stdout)["findings"]}
        assert ("kustomize-build-failed", "kustomization.yaml") in found, (engine, result.stdout)
