"""Issue 20, what a run does around its builds, done once or not at all: git is asked for the
repository once a run (the replay, the context and the plan each need it), the search for the
kustomizations that include the named paths is skipped when the run reads every one anyway, and
each kustomization is parsed once a run (finding the roots parses it; the builds share that)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import GIT, require
from test_warm_runs import git_repository, write_tree

from kubelint_svc.app import Options, lint
from kubelint_svc.units import common
from kubelint_svc.units.kustomize import scan

_started: list[list[str]] = []
_watching = [False]


def _hook(event: str, arguments: tuple[object, ...]) -> None:
    if _watching[0] and event == "subprocess.Popen":
        _started.append([os.fsdecode(part) for part in arguments[1]])  # type: ignore[attr-defined]


sys.addaudithook(_hook)  # hooks stay for the process: this one is quiet but while a test watches


def git_starts(options: Options) -> list[list[str]]:
    """The git processes one run (in this process) starts: their arguments after git's own `-c`s."""
    _started.clear()
    _watching[0] = True
    try:
        lint(options, replay=True)
    finally:
        _watching[0] = False
    return [command[command.index("-C") + 2:] for command in _started if os.path.basename(command[0]) == "git"]


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    require("git", GIT is not None)
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev",)})
    git_repository(top)
    monkeypatch.chdir(top)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # every build in this process
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES"):
        monkeypatch.delenv(name, raising=False)
    return top


def test_git_is_asked_for_the_repository_once_a_run(repository, tmp_path):
    cache = str(tmp_path / "cache")
    lint(Options(paths=(".",), kustomize="fallback", cache_dir=cache))
    time.sleep(0.05)
    (repository / "shop" / "base" / "objects.yaml").write_text(
        (repository / "shop" / "base" / "objects.yaml").read_text().replace("port: 80", "port: 81"))
    # after an edit, the pre-commit run: the replay, the context (git ls-files) and the plan
    # (each root's repository) all need the work tree's top
    started = git_starts(Options(paths=("shop/base/objects.yaml",), git_context=True, kustomize="fallback",
                                 cache_dir=cache))
    assert [command[0] for command in started].count("rev-parse") == 1, started
    assert any(command[0] == "ls-files" for command in started)
    # a cold run: the plan asks for every root's repository, the search of includes for the named
    # folder's
    started = git_starts(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert [command[0] for command in started].count("rev-parse") == 1, started


def test_each_run_asks_git_anew(repository, tmp_path):
    """The answer is the run's: a later run in the same process (an editor's server) asks again."""
    first = git_starts(Options(paths=(".",), kustomize="fallback", no_cache=True))
    second = git_starts(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert [command[0] for command in first].count("rev-parse") == 1
    assert [command[0] for command in second].count("rev-parse") == 1


def confinements_of_kustomizations(options: Options, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """How many kustomizations the search for includes confined in one run, and its warnings."""
    confined = common.confined
    asked: list[Path] = []

    def counting(path: Path, top: Path) -> Path | None:
        asked.append(path)
        return confined(path, top)

    monkeypatch.setattr(common, "confined", counting)
    done = lint(options)
    monkeypatch.setattr(common, "confined", confined)
    return len([path for path in asked if path.name in scan.KUSTOMIZATION_NAMES]), list(done.warnings)


def test_the_search_for_includes_is_skipped_when_every_kustomization_is_read(repository, monkeypatch):
    asked, warnings = confinements_of_kustomizations(
        Options(paths=(".",), kustomize="fallback", no_cache=True), monkeypatch)
    assert asked == 0
    assert not any("also read" in warning for warning in warnings)
    # naming a base alone still searches, and finds the overlays that include it
    asked, warnings = confinements_of_kustomizations(
        Options(paths=("shop/base",), kustomize="fallback", no_cache=True), monkeypatch)
    assert asked == 5  # every kustomization of the repository, confined before it is read
    assert any("also read, to build what includes the files named: shop/overlays/dev/kustomization.yaml"
               in warning for warning in warnings), warnings


def test_each_kustomization_is_parsed_once_a_run(repository, monkeypatch):
    """Finding the roots parses every kustomization; the builds (and the reading layer) take that
    parse, however many overlays include a base."""
    documents_data = scan._documents_data
    parsed: Counter[str] = Counter()

    def counting(path: Path) -> list[object]:
        parsed[str(path)] += 1
        return documents_data(path)

    monkeypatch.setattr(scan, "_documents_data", counting)
    done = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert done.report.objects == 6  # three overlays built
    kustomizations = {name: count for name, count in parsed.items()
                      if os.path.basename(name) in scan.KUSTOMIZATION_NAMES}
    assert len(kustomizations) == 5  # two bases, three overlays
    assert set(kustomizations.values()) == {1}, kustomizations


def test_context_a_build_judges_is_not_read_by_the_reading_layer(repository, tmp_path, monkeypatch):
    """A pre-commit run's context is the whole repository; the files its builds read give their
    objects through the builds, so the reading layer is not asked for them (nor their cache
    entries): only the named file, and context no build reads."""
    from kubelint_svc import runner

    (repository / "loose.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: loose\n")
    subprocess.run(["git", "add", "loose.yaml"], cwd=repository, check=True)  # context is what git tracks
    loads = runner.load_all
    given: list[list[str]] = []

    def recording(sources, *arguments):  # type: ignore[no-untyped-def]
        given.append([source.display for source in sources])
        return loads(sources, *arguments)

    monkeypatch.setattr(runner, "load_all", recording)
    done = lint(Options(paths=("shop/base/objects.yaml",), git_context=True, kustomize="fallback",
                        cache_dir=str(tmp_path / "cache")))
    named, context = given
    assert named == ["shop/base/objects.yaml"]
    assert [os.path.basename(name) for name in context] == ["loose.yaml"]
    assert done.report.context_files == 10  # every other file, counted as before
    assert [finding.rule for finding in done.report.findings] == []


def test_what_a_kustomization_names_is_looked_for_once_a_run(repository, monkeypatch):
    """The paths a kustomization names (their existence, for confinement and for the kept build's
    records) are looked for once, by finding the roots; every build of a chain through it takes
    that answer, however many overlays include a base."""
    referenced_paths = scan.referenced_paths
    looked: Counter[str] = Counter()

    def counting(directory: Path, *arguments: object) -> set[Path]:
        looked[str(directory)] += 1
        return referenced_paths(directory, *arguments)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "referenced_paths", counting)
    done = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert done.report.objects == 6
    assert len(looked) == 5
    assert set(looked.values()) == {1}, looked


ODD_PATHS = ("/", "/a", "/a/b", "/a/b/c", "/ab", "/a/.git", "/a/.GIT/x", "/a/../b", "/a/..", "/a/b/../c", "a", "a/b",
             ".", "//a", "//a/b")


@pytest.mark.parametrize("top", ODD_PATHS)
def test_confinement_on_text_is_pathlibs_rule(top):
    """paths.is_inside and paths.refusal compare paths' text (no Path a parent): the same answer as
    pathlib's parents, for every pair, odd ones too (`..`, `//`, relative)."""
    from kubelint_svc.paths import is_inside, refusal

    for path in ODD_PATHS:
        inside = Path(path) == Path(top) or Path(top) in Path(path).parents
        assert is_inside(Path(path), Path(top)) == inside, (path, top)
        if inside:
            below = Path(path).relative_to(Path(top)).parts
            into_git = any(part.casefold() == ".git" for part in below)
            assert (refusal(Path(path), Path(top), lambda given: given) is not None) == into_git, (path, top)
        else:
            assert refusal(Path(path), Path(top), lambda given: given) is not None
