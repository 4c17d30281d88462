"""Issue 20, the cold run's roots and builds on both cores: one worker is forked before the roots
are found; it reads the kustomizations of its share of the sorted folders while this process reads
the rest, then the same worker builds its share of the roots (pool.Session: one worker, several
calls, what it made kept in its memory). A worker that dies leaves its share to this process; the
verdicts are those of one process (KUBELINT_SVC_JOBS=1)."""

from __future__ import annotations

import inspect
import os
import time
from pathlib import Path

import pytest
from conftest import LINUX, require
from test_cold_run import ENVS, made_ahead, many_roots, shown
from test_warm_runs import BASE_OBJECTS, write_tree

from kubelint_svc import cache, pool
from kubelint_svc.app import Options, lint
from kubelint_svc.units import plan
from kubelint_svc.units.kustomize import scan
from kubelint_svc.units.stored import StoredOutputs

APPS = 34  # 136 folders, 102 roots


@pytest.fixture
def forking(monkeypatch, tmp_path) -> Path:
    """Fork allowed, two processes, and the thresholds low enough for a small tree to fork."""
    require("fork", LINUX)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(plan, "FOLDERS_PER_WORKER", 20)
    return tmp_path


def noted_in_file(monkeypatch, module, name: str, log: Path, what=lambda *args: args[0]) -> None:
    """Each call of module.name, in any process, noted as a line `pid value` in log (a worker's
    memory is its own: a file is what both processes see)."""
    real = getattr(module, name)

    def noted(*args, **kwargs):
        with log.open("a") as out:
            out.write(f"{os.getpid()} {what(*args)}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, noted)


def lines_of(log: Path) -> list[tuple[int, str]]:
    if not log.exists():
        return []
    return [(int(pid), value) for pid, value in (line.split(" ", 1) for line in log.read_text().splitlines())]


def test_each_process_reads_its_half_of_the_kustomizations_and_one_worker_finds_and_builds(forking, monkeypatch):
    top = forking / "repo"
    many_roots(top)
    monkeypatch.chdir(top)
    scanned, parsed = forking / "scanned", forking / "parsed"
    noted_in_file(monkeypatch, StoredOutputs, "inclusions", scanned, lambda stored, folder, *rest: folder)
    noted_in_file(monkeypatch, scan, "_documents_data", parsed)
    sessions: list[int] = []
    real_session = pool.Session.__init__

    def counted(self, work):
        sessions.append(os.getpid())
        real_session(self, work)

    monkeypatch.setattr(pool.Session, "__init__", counted)
    pools: list[bool] = []  # whether each pool was forked while planning (the rules may fork theirs)
    real_pool = pool.in_pool

    def noted_pool(*args, **kwargs):
        pools.append(any(frame.function == "_plan_kustomize" for frame in inspect.stack()))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(pool, "in_pool", noted_pool)

    options = Options(paths=(".",), kustomize="fallback", no_cache=True)
    forked = lint(options)
    assert sessions == [os.getpid()]  # one worker, for the roots and the builds
    assert True not in pools  # and no pool of the builds' own
    by_process: dict[int, list[str]] = {}
    for pid, folder in lines_of(scanned):
        by_process.setdefault(pid, []).append(folder)
    assert set(by_process) == {os.getpid(), next(pid for pid in by_process if pid != os.getpid())}
    here, there = by_process.pop(os.getpid()), next(iter(by_process.values()))
    assert len(here) == len(there) == 4 * APPS // 2  # each process reads half of the folders
    assert sorted(there) + sorted(here) == sorted(here + there)  # the worker the first half, sorted
    kustomizations = [path for _, path in lines_of(parsed) if path.endswith("kustomization.yaml")]
    assert len(set(kustomizations)) == 4 * APPS
    # once each, but for an app at the edge of the halves: built in the process that did not read it
    assert len(kustomizations) <= 4 * APPS + 4
    parsed.unlink()

    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # one process: every folder read and every root built here
    alone = lint(options)
    assert {pid for pid, _ in lines_of(parsed)} == {os.getpid()}
    assert shown(forked) == shown(alone) != []


def bases_apart(top: Path) -> None:
    """Overlays that sort before every base: the worker reads the overlays' kustomizations, this
    process the bases' they include (in the other half of the sorted folders)."""
    write_tree(top / "zz-bases", {f"app-{number:03}": () for number in range(APPS)})
    for number in range(APPS):
        base = top / "zz-bases" / f"app-{number:03}" / "base"
        (base / "objects.yaml").write_text(BASE_OBJECTS.replace("targetPort: 8080", f"targetPort: {9000 + number}"))
        for env in ENVS:
            overlay = top / "aa-overlays" / f"app-{number:03}" / env
            overlay.mkdir(parents=True)
            (overlay / "kustomization.yaml").write_text(
                f"resources:\n- ../../../zz-bases/app-{number:03}/base\nnamespace: app-{number}-{env}\n"
                f"commonLabels:\n  env: {env}\n")


@pytest.mark.parametrize("engine", ["fallback", "auto"])
def test_a_base_in_the_other_half_of_the_folders_is_judged_as_by_one_process(forking, monkeypatch, engine):
    top = forking / "repo"
    bases_apart(top)
    monkeypatch.chdir(top)
    options = Options(paths=(".",), kustomize=engine, no_cache=True)
    forked = lint(options)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    alone = lint(options)
    assert forked.report.objects == alone.report.objects == 2 * len(ENVS) * APPS
    assert shown(forked) == shown(alone) != []


def test_what_the_worker_read_is_kept_for_the_next_run(forking, monkeypatch):
    """With a cache, the worker's inclusions and the kustomizations it parsed are kept, as this
    process's are: a next run whose folders changed (a new one: the roots are found anew) parses
    no kustomization it read before."""
    top = forking / "repo"
    bases_apart(top)
    monkeypatch.chdir(top)
    monkeypatch.setattr(cache, "SETTLED_NS", 0)  # the files' change times are now's: settled at once here
    time.sleep(0.05)  # past the clock's slack
    options = Options(paths=(".",), kustomize="fallback")
    first = lint(options)
    parsed = forking / "parsed"
    noted_in_file(monkeypatch, scan, "_documents_data", parsed)
    extra = top / "aa-overlays" / "extra"
    extra.mkdir()
    (extra / "kustomization.yaml").write_text("resources:\n- ../../zz-bases/app-000/base\n")
    second = lint(options)
    assert [path for _, path in lines_of(parsed) if path.endswith("kustomization.yaml")] \
        == [str(extra / "kustomization.yaml")]
    assert second.report.objects == first.report.objects + 2


def test_a_worker_that_dies_finding_the_roots_leaves_its_folders_and_roots_here(forking, monkeypatch):
    top = forking / "repo"
    bases_apart(top)
    monkeypatch.chdir(top)
    parent = os.getpid()
    real = StoredOutputs.inclusions

    def dying(self, folder, *args):
        if os.getpid() != parent:
            os._exit(9)  # as the kernel's out-of-memory killer would end it
        return real(self, folder, *args)

    monkeypatch.setattr(StoredOutputs, "inclusions", dying)
    made: list[int] = []
    real_built = plan._built_in_workers

    def counted(*args):
        found = real_built(*args)
        made.append(len(found))
        return found

    monkeypatch.setattr(plan, "_built_in_workers", counted)
    options = Options(paths=(".",), kustomize="fallback", no_cache=True)
    forked = lint(options)
    assert 0 < made[0] < len(ENVS) * APPS  # this process's share: the dead worker's is built after
    monkeypatch.setattr(StoredOutputs, "inclusions", real)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    alone = lint(options)
    assert shown(forked) == shown(alone) != []


def test_a_worker_that_dies_building_leaves_its_roots_here(forking, monkeypatch):
    top = forking / "repo"
    bases_apart(top)
    monkeypatch.chdir(top)
    parent = os.getpid()
    real = plan.build

    def dying(root, *args, **kwargs):
        if os.getpid() != parent:
            os._exit(9)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(plan, "build", dying)
    options = Options(paths=(".",), kustomize="fallback", no_cache=True)
    forked = lint(options)
    monkeypatch.setattr(plan, "build", real)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    alone = lint(options)
    assert shown(forked) == shown(alone) != []


# --- pool.Session: one forked worker, several calls ---------------------------------------------

def test_a_session_keeps_what_its_calls_made_and_its_worker_ends_after():
    require("fork", LINUX)
    made: list[int] = []

    def work(item: int) -> tuple[int, int]:
        made.append(item)  # in the worker's memory
        return os.getpid(), sum(made)

    with pool.Session(work) as session:
        session.send(1)
        session.send(2)
        first, second = session.receive(), session.receive()
        session.send(3)
        third = session.receive()
    assert made == []  # nothing done here
    assert first[0] == second[0] == third[0] != os.getpid()
    assert [first[1], second[1], third[1]] == [1, 3, 6]
    worker = session._process
    worker.join(timeout=10)
    assert worker.exitcode == 0


def test_a_session_whose_worker_died_answers_none_and_our_bug_is_raised_here():
    require("fork", LINUX)

    def work(item: str) -> str:
        if item == "die":
            os._exit(9)
        raise ValueError(f"our bug: {item}")

    with pool.Session(work) as session:
        session.send("oops")
        with pytest.raises(ValueError, match="our bug: oops"):
            session.receive()
        session.send("die")
        assert session.receive() is None
        session.send("again")  # the pipe is broken: nothing is sent, nothing raised
        assert session.receive() is None


def test_auto_with_no_kustomize_engine_on_path_builds_on_both_cores(forking, monkeypatch):
    """Without kubectl or kustomize (a developer's machine), auto builds every root with the
    fallback: those builds were made in this process's threads alone, on one core."""
    from kubelint_svc.units.kustomize import engines

    top = forking / "repo"
    many_roots(top)
    monkeypatch.chdir(top)
    for module in (plan, engines):
        monkeypatch.setattr(module, "find_tool", lambda name: None)
    made = made_ahead(monkeypatch)
    forked = lint(Options(paths=(".",), kustomize="auto", no_cache=True))
    assert made == [len(ENVS) * APPS]
    assert {finding.rule for finding in forked.report.findings} >= {"kustomize-fallback"}
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    alone = lint(Options(paths=(".",), kustomize="auto", no_cache=True))
    assert shown(forked) == shown(alone)
