"""Issue 20, warm runs: a `lint` whose work tree is unchanged is replayed whole from one cache entry
(replay.py), opening no manifest and starting no kustomize process; any change in the tree (a
file's bytes, a new file or configuration, the git index, a time set back), in the command or its
environment, and the run is made anew; a run cut short, or naming a path outside the repository,
is never replayed. A replayed run has no objects (Outcome.run is None): that is how these tests
tell one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_warm_runs import BASE_OBJECTS, git_repository, write_tree

from kubelint_svc.app import Options, lint
from kubelint_svc.replay import plain_report, report_from

BROKEN = BASE_OBJECTS.replace("targetPort: 8080", "targetPort: http")


def settle() -> None:
    """Past cache.SETTLED_NS: a tree written a moment ago may yet change within the same tick."""
    time.sleep(2.1)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev",)})
    git_repository(top)
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # every read in this process, where the audit hook sees it
    settle()
    return top


def options(tmp_path: Path, *paths: str, **more) -> Options:
    return Options(paths=paths or (".",), kustomize="fallback", cache_dir=str(tmp_path / "cache"), **more)


def findings(outcome) -> list[tuple[str, int, str]]:
    return [(finding.file, finding.line, finding.rule) for finding in outcome.report.findings]


def test_an_unchanged_tree_is_replayed_opening_no_manifest_and_starting_no_build(repo, tmp_path):
    first = lint(options(tmp_path), replay=True)
    assert first.run is not None  # made, and kept
    opened: list[str] = []
    started: list[str] = []
    watching = [True]

    def hook(event: str, arguments: tuple[object, ...]) -> None:
        if not watching[0]:
            return
        if event == "open" and isinstance(arguments[0], str | bytes | os.PathLike):
            opened.append(os.fsdecode(arguments[0]))
        elif event == "subprocess.Popen":
            started.append(os.fsdecode(arguments[0]))  # type: ignore[arg-type]

    sys.addaudithook(hook)  # hooks stay for the process: this one goes quiet at the end
    try:
        again = lint(options(tmp_path), replay=True)
    finally:
        watching[0] = False
    assert again.run is None  # replayed
    manifests = {str(path.resolve()) for path in repo.rglob("*.yaml")}
    assert [path for path in opened if str(Path(path).resolve()) in manifests] == []
    assert [program for program in started if os.path.basename(program) != "git"] == []  # git finds the top
    assert again.report == first.report
    assert (again.warnings, again.read) == (first.warnings, first.read)


def test_the_replay_is_the_run(repo, tmp_path):
    """Findings with notes, help and positions, counts, source lines: all as made."""
    (repo / "shop" / "base" / "objects.yaml").write_text(BROKEN)
    settle()
    made = lint(options(tmp_path), replay=True)
    assert "service-target-port-undefined" in {rule for _, _, rule in findings(made)}
    assert made.report.source_lines
    assert report_from(plain_report(made.report)) == made.report
    replayed = lint(options(tmp_path), replay=True)
    assert replayed.run is None
    assert replayed.report == made.report


@pytest.mark.slow  # waits 2 s for the tree to settle (cache.SETTLED_NS)
@pytest.mark.parametrize("change", ["edit", "same-size-edit", "new-file", "new-configuration", "time-set-back",
                                    "removed", "renamed-folder"])
def test_any_change_in_the_tree_is_linted_anew(repo, tmp_path, change):
    lint(options(tmp_path), replay=True)
    base = repo / "shop" / "base" / "objects.yaml"
    if change == "edit":
        base.write_text(BROKEN)
    elif change == "same-size-edit":  # `htp` for `808`, and the times set back: only ctime and the bytes say so
        info = base.stat()
        base.write_text(BASE_OBJECTS.replace("targetPort: 8080", "targetPort: 808x"))
        assert base.stat().st_size == info.st_size
        os.utime(base, ns=(info.st_atime_ns, info.st_mtime_ns))
    elif change == "new-file":
        (repo / "shop" / "base" / "extra.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
                                                           "spec: {ports: [{port: 70000}]}\n")
    elif change == "new-configuration":
        (repo / "shop" / ".kubelint-svc.yaml").write_text("rules:\n  service-selector-no-match: off\n")
    elif change == "time-set-back":
        past = base.stat().st_mtime_ns
        base.write_text(BROKEN)
        os.utime(base, ns=(past, past))
    elif change == "removed":
        (repo / "blog" / "overlays" / "dev" / "replicas.yaml").unlink()
    else:
        (repo / "blog").rename(repo / "journal")
    again = lint(options(tmp_path), replay=True)
    assert again.run is not None  # linted anew
    fresh = lint(options(tmp_path, no_cache=True))
    assert findings(again) == findings(fresh)


@pytest.mark.slow  # waits 2 s for the tree to settle (cache.SETTLED_NS)
def test_the_git_index_is_part_of_the_tree(repo, tmp_path):
    """`--git-context` reads what git tracks: untracking a file (the tree unchanged) changes it."""
    named = options(tmp_path, "shop/base/objects.yaml", git_context=True)
    first = lint(named, replay=True)
    assert first.report.context_files > 0
    assert lint(named, replay=True).run is None
    subprocess.run(["git", "rm", "-q", "--cached", "blog/base/objects.yaml"], check=True)
    again = lint(named, replay=True)
    assert again.run is not None
    assert again.report.context_files == first.report.context_files - 1


@pytest.mark.slow  # waits 2 s for the tree to settle (cache.SETTLED_NS)
def test_another_command_or_environment_is_another_run(repo, tmp_path, monkeypatch):
    lint(options(tmp_path), replay=True)
    assert lint(options(tmp_path, fail_on="info"), replay=True).run is not None
    monkeypatch.setenv("KUBELINT_SVC_BUILD_SECONDS", "600")
    assert lint(options(tmp_path), replay=True).run is not None


@pytest.mark.slow  # waits 2 s for the tree to settle (cache.SETTLED_NS)
def test_a_run_cut_short_is_not_kept(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBELINT_SVC_BUILD_SECONDS", "1")  # no time for any build: each is skipped
    first = lint(options(tmp_path), replay=True)
    assert "kustomize-not-built" in {rule for _, _, rule in findings(first)}
    assert lint(options(tmp_path), replay=True).run is not None


@pytest.mark.slow  # waits 2 s for the tree to settle (cache.SETTLED_NS)
def test_a_path_outside_the_repository_is_never_replayed(repo, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(BASE_OBJECTS)
    settle()
    lint(options(tmp_path, ".", str(outside)), replay=True)
    assert lint(options(tmp_path, ".", str(outside)), replay=True).run is not None


@pytest.mark.slow  # waits 2 s for the tree to settle (cache.SETTLED_NS)
def test_a_replay_needs_the_asking(repo, tmp_path):
    """expose and graph work from the objects: only a front end that asks is answered by a replay."""
    lint(options(tmp_path), replay=True)
    assert lint(options(tmp_path)).run is not None
