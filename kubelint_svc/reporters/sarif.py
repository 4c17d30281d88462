"""SARIF 2.1.0, as GitHub code scanning reads it: rules with help, results with regions,
relative URIs under %SRCROOT%, and fingerprints that survive unrelated edits."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TypedDict
from urllib.parse import quote

from kubelint_svc import __version__
from kubelint_svc.engine import Registry, Rule
from kubelint_svc.findings import Finding, Note, Report
from kubelint_svc.reporters.escaping import json_text

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


class _Text(TypedDict):
    text: str


class _Help(TypedDict):
    text: str
    markdown: str


class _SarifRule(TypedDict):
    id: str
    name: str
    shortDescription: _Text
    fullDescription: _Text
    help: _Help
    defaultConfiguration: dict[str, str]
    properties: dict[str, list[str]]


class _Region(TypedDict, total=False):
    startLine: int
    startColumn: int
    endLine: int
    endColumn: int


class _ArtifactLocation(TypedDict, total=False):
    uri: str
    uriBaseId: str


class _PhysicalLocation(TypedDict):
    artifactLocation: _ArtifactLocation
    region: _Region


class _LogicalLocation(TypedDict):
    fullyQualifiedName: str
    kind: str


class _Location(TypedDict, total=False):
    id: int
    physicalLocation: _PhysicalLocation
    logicalLocations: list[_LogicalLocation]
    message: _Text


class _ResultBase(TypedDict):
    ruleId: str
    level: str
    message: _Text
    locations: list[_Location]
    partialFingerprints: dict[str, str]


class _Result(_ResultBase, total=False):
    ruleIndex: int
    relatedLocations: list[_Location]


def _rule(rule: Rule) -> _SarifRule:
    help_text = rule.rationale
    markdown = rule.rationale
    if rule.failing_example.strip():
        help_text += f"\n\nFailing example:\n{rule.failing_example}"
        markdown += f"\n\nFailing example:\n\n```yaml\n{rule.failing_example.rstrip()}\n```"
    if rule.passing_example.strip():
        help_text += f"\n\nFixed example:\n{rule.passing_example}"
        markdown += f"\n\nFixed example:\n\n```yaml\n{rule.passing_example.rstrip()}\n```"
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.summary or rule.id},
        "fullDescription": {"text": rule.rationale or rule.summary or rule.id},
        "help": {"text": help_text or rule.summary or rule.id, "markdown": markdown or rule.summary or rule.id},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["kubernetes", *(["policy-pack:" + rule.pack] if rule.pack else [])]},
    }


def _location_uri(file: str, base: Path) -> tuple[str, bool]:
    """(uri, relative to %SRCROOT%?); a file name's bytes are percent-encoded as they are on disk.
    A name no file can have (a NUL from a `# Source:` comment) is quoted as it stands."""
    path = Path(file) if os.path.isabs(file) else base / file
    try:
        real = path.resolve()
    except (OSError, ValueError, RuntimeError):
        real = Path(os.path.normpath(path))
    try:
        return quote(_name_bytes(real.relative_to(base).as_posix())), True
    except ValueError:
        return "file://" + quote(_name_bytes(real.as_posix())), False


def _name_bytes(name: str) -> bytes:
    try:
        return os.fsencode(name)
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return name.encode("utf-8", "surrogatepass")


def _related(note: Note, number: int, base: Path) -> _Location:
    """A finding's note as SARIF's related location (the workload a targetPort was looked up in)."""
    uri, relative = _location_uri(note.file, base)
    location: _ArtifactLocation = {"uri": uri}
    if relative:
        location["uriBaseId"] = "%SRCROOT%"
    return {"id": number, "message": {"text": note.message},
            "physicalLocation": {"artifactLocation": location,
                                 "region": {"startLine": note.line, "startColumn": note.column}}}


def fingerprint(finding: Finding, occurrence: int) -> str:
    """Identity of a finding that does not depend on its line: rule, file, object and field."""
    ref = finding.object
    identity = "|".join(
        str(part) for part in (
            finding.rule, finding.file, ref.kind if ref else "", ref.namespace if ref else "",
            ref.name if ref else "", finding.field or (finding.line if ref is None else ""),
        )
    )
    return f"{hashlib.sha256(identity.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}:{occurrence}"


def render(report: Report, registry: Registry, base: Path | None = None) -> str:
    base = (base or Path.cwd()).resolve()
    rules = [
        rule for rule in registry.sorted_rules() if rule.enabled or any(f.rule == rule.id for f in report.findings)
    ]
    index = {rule.id: position for position, rule in enumerate(rules)}
    seen: dict[str, int] = {}
    results: list[_Result] = []
    for finding in report.findings:
        uri, relative = _location_uri(finding.file, base)
        location: _ArtifactLocation = {"uri": uri}
        if relative:
            location["uriBaseId"] = "%SRCROOT%"
        region: _Region = {"startLine": finding.line, "startColumn": finding.column}
        if finding.end_line is not None and finding.end_column is not None:
            region["endLine"], region["endColumn"] = finding.end_line, finding.end_column
        key = fingerprint(finding, 0).split(":")[0]
        seen[key] = seen.get(key, 0) + 1
        result: _Result = {
            "ruleId": finding.rule,
            "level": LEVELS[finding.severity],
            "message": {"text": finding.text},
            "locations": [{"physicalLocation": {"artifactLocation": location, "region": region}}],
            "partialFingerprints": {"primaryLocationLineHash": fingerprint(finding, seen[key])},
        }
        if finding.rule in index:
            result["ruleIndex"] = index[finding.rule]
        if finding.notes:
            result["relatedLocations"] = [_related(note, number, base) for number, note in enumerate(finding.notes)]
        if finding.object is not None:
            ref = finding.object
            name = "/".join(part for part in (ref.namespace, ref.name) if part)
            result["locations"][0]["logicalLocations"] = [
                {"fullyQualifiedName": f"{ref.kind}/{name}" + (f"/{finding.field}" if finding.field else ""),
                 "kind": "object"}
            ]
        results.append(result)
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kubelint-svc",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json_text(document) + "\n"
