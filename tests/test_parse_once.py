"""Issue 20, cold runs: a file is parsed once a run, however many builds read it. A base that
three overlays include is opened by the reading layer and once for every build together (its
data, and its text for kustomize's reading; an audit hook sees every open), not once more per
overlay."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from test_warm_runs import write_tree

from kubelint_svc.app import Options, lint

_opened: list[str] = []
_watching = [False]


def _hook(event: str, arguments: tuple[object, ...]) -> None:
    if _watching[0] and event == "open" and isinstance(arguments[0], str | bytes | os.PathLike):
        _opened.append(os.fsdecode(arguments[0]))


sys.addaudithook(_hook)  # hooks stay for the process: this one is quiet but while a test watches


def opens_of_base(top: Path, overlays: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """How often one cold run (the built-in engine, in this process) opens the base's objects
    and its kustomization."""
    write_tree(top, {"shop": overlays})
    monkeypatch.chdir(top)  # the run's repository: this tree alone
    _opened.clear()
    _watching[0] = True
    try:
        done = lint(Options(paths=(str(top),), kustomize="fallback", no_cache=True))
    finally:
        _watching[0] = False
    assert done.report.objects == 2 * len(overlays)  # every overlay built
    base = (top / "shop" / "base").resolve()
    named = [Path(path).resolve() for path in _opened]
    return named.count(base / "objects.yaml"), named.count(base / "kustomization.yaml")


def test_a_base_is_read_once_however_many_overlays_include_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # every read in this process, where the hook sees it
    one = opens_of_base(tmp_path / "one", ("dev",), monkeypatch)
    three = opens_of_base(tmp_path / "three", ("dev", "staging", "prod"), monkeypatch)
    assert three == one
    # read for its own lint, once for the builds' data, and once for its text, which the built-in
    # engine looks at to read it as kustomize does (YAML 1.2: units/kustomize/kyaml.py)
    assert one[0] <= 3
