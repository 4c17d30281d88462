"""Issue 20, the cold run's serial work after the builds, by counts: a file a build of the run
parsed is not read again for the run's own reading of it (its comments can suppress nothing, and
the build said so), the files beside a linted kustomization are told from its folders without a
stat each, and whether a built object may hold placeholders is worked out where it is built (in
the forked worker for the worker's objects), equal to reading its data value by value; and the
pattern that escapes text for XML is compiled only by a run that writes XML."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, LINUX, require, require_shared
from test_warm_runs import write_tree

from kubelint_svc import file_reads, reading, runner
from kubelint_svc.app import Options, lint
from kubelint_svc.placeholders import data_may_hold_placeholders
from kubelint_svc.units import plan
from kubelint_svc.units.kustomize import tracing

ENVS = ("dev", "staging", "prod")
APPS = ("shop", "cart", "pay", "mail")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    top = tmp_path / "repo"
    write_tree(top, dict.fromkeys(APPS, ENVS))  # 12 roots over 4 bases
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return top


def _reads_by_the_reading(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the reading layer reads (their bytes, or their text for a finding's lines)."""
    read: list[str] = []
    real = file_reads.read_bounded

    def counted(path, *arguments, **keywords):  # type: ignore[no-untyped-def]
        read.append(os.path.relpath(path))
        return real(path, *arguments, **keywords)

    monkeypatch.setattr(reading, "read_bounded", counted)
    return read


def _worker_builds(monkeypatch: pytest.MonkeyPatch, forked: bool) -> None:
    """Builds in a forked worker too (12 roots: half each), or all in this process."""
    if forked:
        require("fork", LINUX)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2" if forked else "1")
    monkeypatch.setattr(plan, "BUILDS_PER_WORKER", 4)


@pytest.mark.parametrize("forked", [False, True])
def test_a_file_a_build_parsed_is_not_read_again(tree, monkeypatch, forked):
    _worker_builds(monkeypatch, forked)
    read = _reads_by_the_reading(monkeypatch)
    done = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert done.report.objects == 2 * len(APPS) * len(ENVS)
    # a note on each root's kustomization, whose line is shown: the only text read, once a file;
    # the bases' files are judged by the builds' parse and what they noted of the text
    assert {finding.rule for finding in done.report.findings} == {"kustomize-fallback"}
    assert sorted(read) == sorted(finding.file for finding in done.report.findings)
    assert len(read) == len(APPS) * len(ENVS)


@pytest.mark.parametrize("forked", [False, True])
def test_a_file_whose_comments_may_count_is_read(tree, monkeypatch, forked):
    _worker_builds(monkeypatch, forked)
    objects = tree / "cart" / "base" / "objects.yaml"
    commented = objects.read_text().replace("targetPort: 8080", "targetPort: 8080  # kubelint-svc: ignore[a-rule]")
    objects.write_text(commented)
    # a patch naming a kind with a comment; a kustomization with no kind, whose comments never count
    (tree / "pay" / "overlays" / "dev" / "replicas.yaml").write_text(
        (tree / "pay" / "overlays" / "dev" / "replicas.yaml").read_text() + "# kubelint-svc: ignore[b-rule]\n")
    kustomization = tree / "mail" / "overlays" / "prod" / "kustomization.yaml"
    kustomization.write_text("# kubelint-svc: ignore[c-rule]\n" + kustomization.read_text())
    read = _reads_by_the_reading(monkeypatch)
    done = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    noted = {finding.file for finding in done.report.findings if finding.rule == "kustomize-fallback"}
    assert sorted(set(read) - noted) == ["cart/base/objects.yaml", "pay/overlays/dev/replicas.yaml"]
    unused = sorted((f.file, f.line) for f in done.report.findings if f.rule == "unused-suppression")
    assert unused == [("cart/base/objects.yaml", 11), ("pay/overlays/dev/replicas.yaml", 8)]


def test_a_finding_in_a_file_a_build_judges_shows_its_line(tree, monkeypatch):
    _worker_builds(monkeypatch, False)
    objects = tree / "pay" / "base" / "objects.yaml"
    objects.write_text(objects.read_text().replace("- port: 80", "- port: 80\n    name: Web_Port"))
    read = _reads_by_the_reading(monkeypatch)
    done = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    [finding] = [f for f in done.report.findings if f.file == "pay/base/objects.yaml"]
    assert done.report.source_lines[(finding.file, finding.line)] == "    name: Web_Port"
    noted = {finding.file for finding in done.report.findings if finding.rule == "kustomize-fallback"}
    assert [path for path in read if path not in noted] == ["pay/base/objects.yaml"]  # for that line alone


def _stats_beside_kustomizations(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], list[dict[str, Path]]]:
    """The is_file stats _named_by_kustomizations makes, and what it gives."""
    stats: list[Path] = []
    given: list[dict[str, Path]] = []
    real, named = Path.is_file, runner._named_by_kustomizations

    def watched(*arguments):  # type: ignore[no-untyped-def]
        def counted(path: Path) -> bool:
            stats.append(path)
            return real(path)

        with monkeypatch.context() as inside:
            inside.setattr(Path, "is_file", counted)
            given.append(named(*arguments))
        return given[-1]

    monkeypatch.setattr(runner, "_named_by_kustomizations", watched)
    return stats, given


def test_the_files_beside_a_linted_kustomization_are_found_without_a_stat(tree, monkeypatch):
    _worker_builds(monkeypatch, False)
    stats, given = _stats_beside_kustomizations(monkeypatch)
    lint(Options(paths=("shop/overlays/dev/kustomization.yaml", "cart/base"), kustomize="fallback", no_cache=True))
    assert stats == []
    assert sorted(given[0]) == ["cart/base/kustomization.yaml", "cart/base/objects.yaml",
                                "shop/overlays/dev/kustomization.yaml", "shop/overlays/dev/replicas.yaml"]
    # a build that failed may have stopped anywhere: each of its paths is asked
    (tree / "pay" / "overlays" / "dev" / "kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    lint(Options(paths=("pay/overlays/dev",), kustomize="fallback", no_cache=True))
    assert stats != []
    assert sorted(given[1]) == ["pay/overlays/dev/kustomization.yaml"]


def _every_built_object(monkeypatch: pytest.MonkeyPatch, top: Path) -> list[tracing.BuiltObject]:
    found: list[tracing.BuiltObject] = []
    real = runner.built_resources

    def kept(objects, *arguments, **keywords):  # type: ignore[no-untyped-def]
        found.extend(objects)
        return real(objects, *arguments, **keywords)

    monkeypatch.setattr(runner, "built_resources", kept)
    monkeypatch.chdir(top)
    lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    return found


def _holds_placeholder(value: Any) -> bool:
    """Any string value (not key) holding `$` or `{{`, read value by value."""
    if isinstance(value, str):
        return "$" in value or "{{" in value
    if isinstance(value, dict):
        return any(map(_holds_placeholder, value.values()))
    if isinstance(value, list):
        return any(map(_holds_placeholder, value))
    return False


def _kustomize_heavy(top: Path) -> None:
    """benchmarks/bench.py's kustomize-heavy tree, 30 apps of it (90 roots)."""
    spec = importlib.util.spec_from_file_location("bench", Path(__file__).parent.parent / "benchmarks" / "bench.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.generate_kustomize_heavy(top, apps=30)


@pytest.mark.parametrize("which", ["kustomize-heavy", "real-world"])
def test_the_placeholder_flag_of_each_built_object_is_its_data_read_value_by_value(tmp_path, monkeypatch, which):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    if which == "real-world":
        top = require_shared(CORPUS)
    else:
        top = tmp_path / "tree"
        _kustomize_heavy(top)
    objects = _every_built_object(monkeypatch, top)
    assert len(objects) >= (180 if which == "kustomize-heavy" else 50)
    assert [built.may_hold_placeholders for built in objects] == [_holds_placeholder(built.body) for built in objects]
    if which == "real-world":
        assert any(built.may_hold_placeholders for built in objects)


@pytest.mark.parametrize("data", [
    {"a": "b", "c": [1, 2.5, None, True, {"d": "e"}]},
    {"port": "${PORT}"}, {"image": "{{ .Values.image }}"}, {"command": ["sh", "-c", "echo $HOME"]},
    {"$key": "value"}, {"{{key}}": "value"},  # keys are not looked at
    {"n": 36, "m": 0x7B7B, "s": "x" * 36}, {"s": "{" * 123}, {"s": "{"}, {"s": "é$"}, {"s": "—{{"},
    {"nested": [[[[{"deep": "$X"}]]]]},
])
def test_the_flag_of_plain_data_is_each_value_read(data):
    assert data_may_hold_placeholders(data) == _holds_placeholder(data)


def test_data_marshal_cannot_write_is_read_value_by_value():
    deep: Any = "$X"
    for _ in range(3000):  # deeper than marshal writes
        deep = [deep]
    assert data_may_hold_placeholders({"a": deep}) is True
    assert data_may_hold_placeholders({"a": {1, 2}, "b": "x"}) is False  # a set: not plain data


def test_the_xml_escape_is_compiled_only_when_xml_is_written(tree, monkeypatch):
    from test_hostile_pr import run

    from kubelint_svc.reporters import escaping

    escaping._not_xml_1_0.cache_clear()
    assert run("lint", "--no-cache", "--kustomize", "fallback", ".", cwd=tree).returncode == 0
    assert escaping._not_xml_1_0.cache_info().currsize == 0  # 4-5 ms of every run's import before
    junit = run("lint", "--no-cache", "--kustomize", "fallback", "--format", "junit", ".", cwd=tree)
    assert junit.returncode == 0
    assert escaping._not_xml_1_0.cache_info().currsize == 1


def test_a_file_beside_a_linted_kustomization_gets_a_reader_only_when_the_run_has_none(tree, monkeypatch):
    import functools

    _worker_builds(monkeypatch, False)
    made: list[Path] = []
    real = functools.cache

    def counted(function):  # type: ignore[no-untyped-def]
        if isinstance(function, functools.partial) and function.func is runner._text_of:
            made.extend(function.args)
        return real(function)

    monkeypatch.setattr(functools, "cache", counted)
    lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert made == []  # every file beside a kustomization was read (or judged by the builds) as linted
    lint(Options(paths=("shop/overlays/dev/kustomization.yaml",), kustomize="fallback", no_cache=True))
    assert sorted(os.path.relpath(path) for path in made) == ["shop/overlays/dev/replicas.yaml"]  # not named
