"""A fresh-eye attack on the fifth session's speed work (issue 20): each case a real user's or a
hostile pull request's, compared with what a run that takes no shortcut gives."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import GIT, require
from test_replay_outside_git import aged
from test_warm_runs import git_repository

from kubelint_svc.app import Options, lint

PATCHED = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  ports:
  - port: 80  # kubelint-svc: ignore[service-target-port-undefined]
    targetPort: 9999
    nodePort: 99  # kubelint-svc: ignore[service-node-port-forbidden]
"""
BASE = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
  - port: 80
    targetPort: 8080
"""
WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: outside}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: c, image: "nginx:1", ports: [{containerPort: 9999}]}]
"""


@pytest.fixture
def overlay_with_patch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git work tree: a base and an overlay whose patch carries suppression comments."""
    require("git", GIT is not None)
    top = tmp_path / "repo"
    (top / "base").mkdir(parents=True)
    (top / "overlay").mkdir()
    (top / "base" / "kustomization.yaml").write_text("resources: [s.yaml]\n")
    (top / "base" / "s.yaml").write_text(BASE)
    overlay = "namespace: o\nresources: [../base]\npatches: [{path: p.yaml}]\n"
    (top / "overlay" / "kustomization.yaml").write_text(overlay)
    (top / "overlay" / "p.yaml").write_text(PATCHED)
    git_repository(top)
    monkeypatch.chdir(top)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES"):
        monkeypatch.delenv(name, raising=False)
    return top


def placed(options: Options, top: Path) -> list[tuple[str, int, str]]:
    """The findings of a run in one process, their files named from the top of the tree."""
    report = lint(options).report
    return sorted((str(Path(finding.file).absolute().relative_to(top)), finding.line, finding.rule)
                  for finding in report.findings)


@pytest.mark.parametrize("git_context", [False, True])
def test_a_patch_beside_a_named_kustomization_keeps_its_suppression_comments(overlay_with_patch, git_context):
    """Naming overlays/x/kustomization.yaml (pre-commit, after an edit of it) reports the findings
    on the patches beside it, as naming the folder does: the patches' comments silence them there
    as in a whole-tree run (a finding a comment silences came back; the comments' unused ones
    were not reported)."""
    top = overlay_with_patch
    whole = [found for found in placed(Options(paths=(".",), kustomize="fallback", no_cache=True), top)
             if found[0] == "overlay/p.yaml"]
    assert ("overlay/p.yaml", 9, "service-node-port-forbidden") not in whole
    named = placed(Options(paths=("overlay/kustomization.yaml",), git_context=git_context, kustomize="fallback",
                           no_cache=True), top)
    assert [found for found in named if found[0] == "overlay/p.yaml"] == whole


@pytest.mark.slow  # the tree must settle (cache.SETTLED_NS) before a run is kept whole
def test_a_path_named_through_a_link_and_dot_dot_outside_git_is_never_replayed(tmp_path, monkeypatch):
    """`lint ../t/x/..` with t/x a link to /elsewhere/d reads /elsewhere, not t: made absolute on
    its text (`..` taken off lexically) the path was t, no link, and t was stamped while the run
    read /elsewhere, whose edits the replay then missed."""
    shared = tmp_path / "shared"
    (shared / "t").mkdir(parents=True)
    (shared / "elsewhere" / "d").mkdir(parents=True)
    (shared / "elsewhere" / "objects.yaml").write_text(BASE)
    (shared / "t" / "x").symlink_to(shared / "elsewhere" / "d")
    work = tmp_path / "work"
    work.mkdir()
    aged(shared)
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    time.sleep(2.1)
    options = Options(paths=("../shared/t/x/..",), cache_dir=str(tmp_path / "cache"))
    lint(options, replay=True)
    lint(options, replay=True)
    (shared / "elsewhere" / "objects.yaml").write_text(BASE.replace("port: 80", "port: 70000"))
    again = lint(options, replay=True)
    assert again.run is not None  # made anew
    assert "service-port-number" in {finding.rule for finding in again.report.findings}


def test_git_context_reads_nothing_through_a_folder_linked_out_of_the_repository(tmp_path, monkeypatch):
    """`--git-context` lists what git tracks (k8s/a.yaml); the work tree's k8s since made a link to
    a folder outside: the file (no link itself) was read there, as context, where the walk of the
    tree refuses the link (path-outside-tree)."""
    require("git", GIT is not None)
    top = tmp_path / "repo"
    (top / "k8s").mkdir(parents=True)
    (top / "k8s" / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside}\n")
    (top / "svc.yaml").write_text(BASE)
    git_repository(top)
    outside = tmp_path / "outside"
    outside.mkdir()
    for linked, target in (("k8s", outside), ("k8s", top / ".git")):
        if (top / linked).is_symlink():
            (top / linked).unlink()
        else:
            (top / "k8s" / "a.yaml").unlink()
            (top / "k8s").rmdir()
        (top / linked).symlink_to(target)
        (target / "a.yaml").write_text(WORKLOAD)
        monkeypatch.chdir(top)
        run = lint(Options(paths=("svc.yaml",), git_context=True, no_cache=True)).run
        assert run is not None
        assert [resource.name for resource in run.context_resources] == [], target


@pytest.mark.parametrize("named", ["overlay", "overlay/kustomization.yaml", "overlay/p.yaml"])
def test_an_object_suppression_in_a_base_no_path_names_is_left_to_the_run_naming_it(overlay_with_patch, named):
    """A base's object carries `kubelint-svc.io/ignore`; a run naming only the overlay keeps no
    finding on the base (its own run reports them), and so none about that annotation either: it
    said "unused" (without the "did you mean" the base's own run gives), and the base's findings
    it would have silenced were dropped before it could."""
    top = overlay_with_patch
    (top / "base" / "s.yaml").write_text(BASE.replace(
        "  name: api\n", '  name: api\n  annotations: {kubelint-svc.io/ignore: "service-selector-no-match"}\n'))
    found = placed(Options(paths=(named,), kustomize="fallback", no_cache=True), top)
    assert [each for each in found if each[0].startswith("base/")] == []
