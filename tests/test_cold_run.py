"""Issue 20, the cold run on a kustomize-heavy repository: the in-process builds of many roots are
made in forked workers (both cores), and are judged exactly as the same builds made in this
process; a worker that dies leaves its roots to this process; a build made ahead is kept in the
cache only while nothing it read changed since the workers began."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import KUBECTL, LINUX, require
from test_warm_runs import BASE_OBJECTS, git_repository, write_tree

from kubelint_svc.app import Options, lint
from kubelint_svc.cache import Cache
from kubelint_svc.units import plan
from kubelint_svc.units.kustomize.engines import build
from kubelint_svc.units.proven import PROVEN_ENGINE
from kubelint_svc.units.stored import StoredOutputs

ENVS = ("dev", "staging", "prod")
APPS = 34  # 102 roots: enough for two workers (plan.BUILDS_PER_WORKER each)


def many_roots(top: Path) -> None:
    """APPS apps of three overlays each; every base's Service sends traffic to a port no container
    has, so each build gives findings to compare."""
    write_tree(top, {f"app-{number:03}": ENVS for number in range(APPS)})
    for base in top.glob("*/base/objects.yaml"):
        base.write_text(BASE_OBJECTS.replace("targetPort: 8080", "targetPort: 9999"))


def made_ahead(monkeypatch) -> list[int]:
    """How many builds the workers gave back, per run."""
    counts: list[int] = []
    real = plan._built_in_workers

    def counted(*args):
        found = real(*args)
        counts.append(sum(done is not None for done in found.values()))
        return found

    monkeypatch.setattr(plan, "_built_in_workers", counted)
    return counts


def shown(outcome) -> list[tuple[str, int, str, str]]:
    return [(finding.file, finding.line, finding.rule, finding.message) for finding in outcome.report.findings]


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    require("fork", LINUX)
    top = tmp_path / "repo"
    many_roots(top)
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return top


@pytest.mark.slow  # 3 s of CPU: four runs of 102 roots
def test_many_fallback_builds_are_made_in_workers_and_judged_alike(tree, monkeypatch):
    counts = made_ahead(monkeypatch)
    parsed = parses_in_reading(monkeypatch)
    options = Options(paths=(".",), kustomize="fallback", no_cache=True)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2")
    forked = lint(options)
    assert parsed == []  # what the workers parsed, they gave back
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # one process: every build made here
    here = lint(options)
    assert counts == [3 * APPS, 0]
    assert forked.report.objects == here.report.objects == 2 * 3 * APPS
    assert any(finding.rule != "kustomize-fallback" for finding in here.report.findings)
    assert shown(forked) == shown(here)


@pytest.mark.slow  # 3 s of CPU
def test_roots_proven_alike_are_built_in_workers_with_auto(tree, monkeypatch):
    require("kubectl", KUBECTL is not None)
    counts = made_ahead(monkeypatch)
    engines: list[str] = []
    real = plan._plan_kustomize

    def noted(result, *args, **kwargs):
        real(result, *args, **kwargs)
        engines.extend(done.engine for done in result.builds)

    monkeypatch.setattr(plan, "_plan_kustomize", noted)
    options = Options(paths=(".",), kustomize="auto", no_cache=True)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2")
    forked = lint(options)
    assert counts == [3 * APPS]
    assert set(engines) == {PROVEN_ENGINE}  # no kubectl process
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    here = lint(options)
    assert shown(forked) == shown(here) != []


@pytest.mark.slow  # 2 s of CPU
def test_the_roots_of_a_worker_that_dies_are_built_here(tree, monkeypatch):
    parent = os.getpid()
    real = plan.build

    def dying(root, *args, **kwargs):
        if os.getpid() != parent and root.parent.parent.name == "app-005":
            os._exit(9)  # as the kernel's out-of-memory killer would end it
        return real(root, *args, **kwargs)

    monkeypatch.setattr(plan, "build", dying)
    counts = made_ahead(monkeypatch)
    options = Options(paths=(".",), kustomize="fallback", no_cache=True)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2")
    forked = lint(options)
    monkeypatch.setattr(plan, "build", real)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    here = lint(options)
    assert 0 < counts[0] < 3 * APPS  # this process's slice, not the dead worker's
    assert shown(forked) == shown(here)


def test_a_build_made_ahead_is_not_kept_when_a_file_it_read_changed_since(tmp_path):
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev",)})
    root = top / "shop" / "overlays" / "dev"
    (tmp_path / "cache").mkdir()
    stored = StoredOutputs(Cache(tmp_path / "cache", b"k" * 32), "test")
    time.sleep(0.05)  # a file written within the clock's slack of a build is never kept
    started = time.time_ns()  # the workers begin
    made = build(root, "fallback", confine=top)
    # the base is saved after a worker read it, a while before this process keeps the build
    (top / "shop" / "base" / "objects.yaml").write_text(BASE_OBJECTS.replace("port: 80", "port: 81"))
    time.sleep(0.05)
    stored.build(root, "fallback", top, lambda: made, started)
    assert stored.kept(root, "fallback", top) is None
    stored.build(root, "fallback", top, lambda: build(root, "fallback", confine=top))  # read anew: kept
    assert stored.kept(root, "fallback", top) is not None


def suppressed_tree(top: Path) -> None:
    """Two apps whose Services target a port no container has; one base says so is meant (a
    suppression comment on the line), the other does not."""
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev",)})
    for app in ("shop", "blog"):
        base = top / app / "base" / "objects.yaml"
        comment = "  # kubelint-svc: ignore[service-target-port-not-exposed]" if app == "shop" else ""
        base.write_text(BASE_OBJECTS.replace("targetPort: 8080", "targetPort: 9999" + comment))


def parses_in_reading(monkeypatch) -> list[str]:
    """The texts the reading layer parses (the builds parse through the loader's other entry)."""
    from kubelint_svc import reading

    parsed: list[str] = []
    real = reading.parse_stream

    def counted(text, *args, **kwargs):
        parsed.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(reading, "parse_stream", counted)
    return parsed


@pytest.mark.parametrize("engine", ["fallback", "auto"])
def test_a_file_a_build_parsed_is_not_parsed_again_and_judged_alike(tmp_path, monkeypatch, engine):
    if engine == "auto":
        require("kubectl", KUBECTL is not None)
    top = tmp_path / "repo"
    suppressed_tree(top)
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    parsed = parses_in_reading(monkeypatch)
    options = Options(paths=(".",), kustomize=engine, no_cache=True)
    once = lint(options)
    assert parsed == []  # every file here is read by a build, which parsed it already
    from kubelint_svc import reading

    monkeypatch.setattr(reading, "_parsed_by_builds", lambda *args: None)  # parsed again, as before
    monkeypatch.setattr(reading, "_judged_by_builds", lambda *args: None)  # and read again
    twice = lint(options)
    assert len(parsed) == 10
    assert shown(once) == shown(twice)
    rules = [finding.rule for finding in once.report.findings if finding.file.startswith("shop")]
    assert "service-target-port-not-exposed" not in rules  # the comment in shop's base still counts
    assert any(finding.rule == "service-target-port-not-exposed" for finding in once.report.findings)


def test_a_file_changed_since_its_build_parsed_it_is_parsed_again(tmp_path, monkeypatch):
    top = tmp_path / "repo"
    suppressed_tree(top)
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    parsed = parses_in_reading(monkeypatch)
    from kubelint_svc import reading

    real = reading._set_aside_or_cached
    base = top / "blog" / "base" / "objects.yaml"

    def edited_first(source, *args):  # the base is saved again after the builds read it
        if source.path == Path("blog/base/objects.yaml"):
            base.write_text(base.read_text() + "---\nkind: [\n")
        return real(source, *args)

    monkeypatch.setattr(reading, "_set_aside_or_cached", edited_first)
    outcome = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert len(parsed) == 1
    assert [finding.file for finding in outcome.report.findings if finding.rule == "yaml-syntax"] \
        == ["blog/base/objects.yaml"]


@pytest.fixture
def nested():
    """nested(top, depth) makes folders `d` depth deep under top; all are removed after the test,
    one at a time (shutil.rmtree, which pytest cleans up with, recurses once a folder)."""
    made: list[Path] = []

    def make(top: Path, depth: int) -> Path:
        deep = top
        for _ in range(depth):
            deep /= "d"
            deep.mkdir()
            made.append(deep)
        return deep

    yield make
    for folder in reversed(made):
        for entry in folder.iterdir():
            entry.unlink()
        folder.rmdir()


def test_real_paths_a_folder_at_a_time_are_those_realpath_gives(tmp_path, nested):
    from kubelint_svc.paths import RealPaths, resolved

    top = tmp_path / "repo"
    (top / "apps" / "base").mkdir(parents=True)
    (top / "apps" / "base" / "objects.yaml").write_text("{}\n")
    (top / "linked").symlink_to(top / "apps")  # a linked folder
    (top / "apps" / "file-link.yaml").symlink_to("base/objects.yaml")  # a link to a file
    (top / "apps" / "up").symlink_to("../apps/base")  # a relative link climbing out and back
    (top / "loop").symlink_to(top / "loop")
    deep = nested(top, 1100)  # deeper than the interpreter's recursion limit
    asked = [top / "apps" / "base" / "objects.yaml", top / "linked" / "base" / "objects.yaml",
             top / "apps" / "file-link.yaml", top / "apps" / "up" / "objects.yaml", top / "loop",
             top / "loop" / "x.yaml", top / "missing" / "x.yaml", deep / "x.yaml", Path("/")]
    real = RealPaths()
    assert [real.of(path) for path in asked] == [resolved(path) for path in asked]
    assert real.of(top / "loop") is None


def test_a_manifest_1100_folders_deep_is_linted(tmp_path, monkeypatch, nested):
    """A pull request's folders nested past the interpreter's recursion limit: the real paths were
    resolved a folder at a time by recursion (internal error: RecursionError)."""
    deep = tmp_path / "repo"
    deep.mkdir()
    monkeypatch.chdir(deep)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    (nested(deep, 1100) / "objects.yaml").write_text(BASE_OBJECTS)
    git_repository(tmp_path / "repo")  # outside git, the search for kustomizations walks with os.walk (recursive)
    outcome = lint(Options(paths=(".",), no_cache=True))
    assert outcome.report.objects == 2
    assert [finding.rule for finding in outcome.report.findings if finding.rule == "internal-error"] == []


def test_a_manifest_1100_folders_deep_outside_git_is_linted(tmp_path, monkeypatch, nested):
    """Outside a git work tree the search for the kustomizations that include a named path walks
    the folder itself: with os.walk, which recurses a folder at a time (internal error:
    RecursionError past the interpreter's limit)."""
    top = tmp_path / "plain"
    top.mkdir()
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    deepest = nested(top, 1100)
    (deepest / "objects.yaml").write_text(BASE_OBJECTS)
    (top / "kustomization.yaml").write_text("resources: []\n")
    outcome = lint(Options(paths=(str(deepest / "objects.yaml"),), kustomize="fallback", no_cache=True))
    assert outcome.report.objects == 2
    assert [finding.rule for finding in outcome.report.findings if finding.rule == "internal-error"] == []


@pytest.mark.slow  # 1 s of CPU
def test_builds_made_ahead_keep_to_the_runs_time_budget(tree, monkeypatch):
    """KUBELINT_SVC_BUILD_SECONDS bounds every build of a run, those the workers make too: once it
    is spent, the roots left are not built (kustomize-not-built) and their files are linted as written."""
    from kubelint_svc.units.kustomize import engines

    real = engines.build

    def slow(root, *args, **kwargs):
        time.sleep(0.05)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(plan, "build", slow)
    monkeypatch.setenv("KUBELINT_SVC_BUILD_SECONDS", "2")
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2")
    counts = made_ahead(monkeypatch)
    outcome = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    skipped = [finding for finding in outcome.report.findings if finding.rule == "kustomize-not-built"]
    assert 0 < counts[0] < 3 * APPS
    assert len(skipped) == 3 * APPS - counts[0]
