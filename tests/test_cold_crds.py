"""Issue 20, cold runs on CRD-heavy trees (kube-prometheus): a large, shallow document (a CRD, 0.8 MB)
is composed without first walking its parser's events to measure its depth (its lines bound the
depth: composing.Lines and _nesting_bound), while documents that may nest too deep to compose are
still measured and refused; the lines that begin at column 0 are found as before."""

from __future__ import annotations

import re

import pytest

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
