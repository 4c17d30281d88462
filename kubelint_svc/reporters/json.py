"""The JSON report: a contract, its shape kept exactly."""

from __future__ import annotations

from typing import TypedDict

from kubelint_svc import __version__
from kubelint_svc.findings import Finding, Report
from kubelint_svc.reporters.escaping import json_text


class _JsonObject(TypedDict):
    apiVersion: str | None
    kind: str | None
    namespace: str | None
    name: str | None


class _JsonNote(TypedDict):
    message: str
    file: str
    line: int
    column: int


class _JsonFinding(TypedDict):
    rule: str
    severity: str
    message: str
    file: str
    line: int
    column: int
    object: _JsonObject
    field: str | None
    help: list[str]
    notes: list[_JsonNote]


def _finding(finding: Finding) -> _JsonFinding:
    ref = finding.object
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.text,
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "object": {
            "apiVersion": ref.api_version if ref else None,
            "kind": ref.kind if ref else None,
            "namespace": ref.namespace if ref else None,
            "name": ref.name if ref else None,
        },
        "field": finding.field,
        "help": list(finding.help),
        "notes": [{"message": n.message, "file": n.file, "line": n.line, "column": n.column} for n in finding.notes],
    }


class _JsonStatistic(TypedDict):
    rule: str
    severity: str
    count: int


def _summary(report: Report) -> dict[str, int]:
    return {
        "files": report.files,
        "objects": report.objects,
        "errors": report.count("error"),
        "warnings": report.count("warning"),
        "infos": report.count("info"),
    }


def render(report: Report) -> str:
    document = {
        "tool": {"name": "kubelint-svc", "version": __version__},
        "findings": [_finding(finding) for finding in report.findings],
        "summary": _summary(report),
    }
    return json_text(document) + "\n"


def render_statistics(report: Report) -> str:
    """--statistics in JSON: the count per rule and severity, most frequent first, in place of
    the findings (as ruff's JSON statistics); the summary as in the full report."""
    counts: dict[tuple[str, str], int] = {}
    for finding in report.findings:
        counts[(finding.rule, finding.severity)] = counts.get((finding.rule, finding.severity), 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    statistics: list[_JsonStatistic] = [{"rule": rule, "severity": severity, "count": count}
                                        for (rule, severity), count in ordered]
    document = {
        "tool": {"name": "kubelint-svc", "version": __version__},
        "statistics": statistics,
        "summary": _summary(report),
    }
    return json_text(document) + "\n"
