"""Issue 20, cold runs on CRD-heavy trees (kube-prometheus): a large, shallow document (a CRD, 0.8 MB)
is composed without first walking its parser's events to measure its depth (its lines bound the
depth: composing.Lines and _nesting_bound), while documents that may nest too deep to compose are
still measured and refused; the lines that begin at column 0 are found as before."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import has_fork, require

from kubelint_svc import composing
from kubelint_svc.loader import parse_stream


def crd_like(properties: int) -> str:
    """A CRD-shaped document: thousands of `:` and `-`, nested a dozen levels at most."""
    fields = "".join(f"            field{n}:\n              description: 'a: b - c'\n              type: string\n"
                     for n in range(properties))
    return ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b.c\n"
            "spec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        properties:\n"
            "          spec:\n            type: object\n" + fields)


@pytest.fixture
def events(monkeypatch) -> list[int]:
    """How many times the parser's events were walked."""
    walked: list[int] = []
    original = composing._events

    def counted(text: str):
        walked.append(len(text))
        return original(text)

    monkeypatch.setattr(composing, "_events", counted)
    return walked


def test_a_large_shallow_document_is_composed_without_walking_its_events(events):
    text = crd_like(3000)
    assert text.count(":") > 2 * composing._SAFE_COMPOSE_NESTING  # the characters alone would not vouch for it
    stream = parse_stream(text, keep_nodes=False)
    assert events == []
    schema = stream.documents[0].data["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert len(schema["properties"]["spec"]) == 3001


@pytest.mark.parametrize("deep", [
    "".join(" " * level + "a:\n" for level in range(2500)) + " " * 2500 + "b\n",  # indented mappings
    "- " * 3000 + "x\n",  # compact sequences on one line
    "a: " + "[" * 3000 + "]" * 3000 + "\n" + "b: 'c: d - e'\n" * 800,  # flow, among many indicators
])
def test_a_document_that_may_nest_too_deep_is_still_measured_and_refused(events, deep):
    stream = parse_stream("a: 1\n---\n" + deep + "---\nb: 2\n", keep_nodes=False)
    assert events  # measured
    assert [d.data for d in stream.documents if d.data is not None] == [{"a": 1}, {"b": 2}]
    problems = stream.problems + [p for d in stream.documents for p in d.problems]
    assert [p.rule for p in problems] == ["yaml-limit-exceeded"]


@pytest.mark.parametrize("text", ["", "a", "\n", "#c\na: 1\n", " x\n---\nb\n", "---\n...\n", "a\r\nb\r\n",
                                  "\n\n\nz", "\ta\n#\n y\nq", "- - a\n", "k: v\n  w\n---\n# c\n--- x\n"])
def test_the_lines_at_column_zero_are_those_a_multiline_search_finds(text):
    lines = composing.Lines(text)
    starts = [match.start() for match in re.finditer(r"^[^ \t\r\n#]", text, re.MULTILINE)]
    found = sorted([*(lines.offset(line) for line in lines.separators), *(lines.offset(line)
                                                                          for line in lines.column_zero)])
    assert found == starts
    assert lines.count == text.count("\n") + 1


def large_crd(kind: str, description_kib: int) -> str:
    """A CRD of group example.com whose schema's descriptions make it large, as real ones are."""
    description = "x" * 100
    padding = "".join(f"              pad{n}: {{type: string, description: {description}}}\n"
                      for n in range(description_kib * 1024 // 150))
    return (f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            f"metadata:\n  name: {kind.lower()}s.example.com\nspec:\n  group: example.com\n"
            f"  names: {{kind: {kind}, plural: {kind.lower()}s}}\n  scope: Namespaced\n  versions:\n"
            "  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n"
            "        type: object\n        properties:\n          spec:\n            type: object\n"
            "            properties:\n              size: {type: integer}\n" + padding)


def custom(kind: str, size: str) -> str:
    return f"apiVersion: example.com/v1\nkind: {kind}\nmetadata:\n  name: one\nspec:\n  size: {size}\n"


@pytest.fixture
def crd_tree(tmp_path: Path) -> Path:
    """Three large CRDs (about 600 KB), a custom resource of each, one of them wrong."""
    for kind, kib in (("Alpha", 300), ("Beta", 200), ("Gamma", 100)):
        (tmp_path / f"{kind.lower()}-crd.yaml").write_text(large_crd(kind, kib))
        (tmp_path / f"{kind.lower()}.yaml").write_text(custom(kind, "'big'" if kind == "Beta" else "3"))
    return tmp_path


def custom_findings(outcome) -> list[tuple[str, int, str]]:
    return [(Path(f.file).name, f.line, f.message) for f in outcome.report.findings
            if f.rule == "custom-resource-schema"]


@pytest.fixture
def pooled(monkeypatch) -> list[list[int]]:
    """The sizes of the halves each forked read ahead was given."""
    from kubelint_svc import pool

    calls: list[list[int]] = []
    original = pool.in_pool

    def spied(workers, items, sizes, work, here=False):
        calls.append(list(sizes))
        return original(workers, items, sizes, work, here)

    monkeypatch.setattr(pool, "in_pool", spied)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2")  # two cores, whatever the machine has
    return calls


def test_the_crds_a_run_needs_are_read_on_two_cores_with_the_same_verdicts(crd_tree, pooled, monkeypatch):
    from kubelint_svc.app import Options, lint

    require("fork (the CRDs are read in a forked worker too)", has_fork())
    together = lint(Options(paths=(str(crd_tree),), no_cache=True))
    assert len(pooled) == 1  # once a run, in two halves of about equal size (300 KB against 200 + 100)
    assert len(pooled[0]) == 2
    assert min(pooled[0]) / max(pooled[0]) > 0.9
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    alone = lint(Options(paths=(str(crd_tree),), no_cache=True))
    assert len(pooled) == 1  # one core: each read when first asked for
    assert custom_findings(together) == custom_findings(alone)
    assert [name for name, _, _ in custom_findings(together)] == ["beta.yaml"]


def test_kept_verdicts_read_nothing_ahead(crd_tree, pooled, tmp_path):
    from kubelint_svc.app import Options, lint

    options = Options(paths=(str(crd_tree),), cache_dir=str(tmp_path / "cache"))
    first = lint(options)
    pooled.clear()
    again = lint(options)
    assert pooled == []
    assert custom_findings(again) == custom_findings(first)


def test_small_crds_are_read_when_asked_for(tmp_path, pooled):
    from kubelint_svc.app import Options, lint

    for kind in ("Alpha", "Beta"):
        (tmp_path / f"{kind.lower()}-crd.yaml").write_text(large_crd(kind, 4))
        (tmp_path / f"{kind.lower()}.yaml").write_text(custom(kind, "'big'"))
    outcome = lint(Options(paths=(str(tmp_path),), no_cache=True))
    assert pooled == []
    assert len(custom_findings(outcome)) == 2
