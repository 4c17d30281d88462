"""Suppressions: an object's `kubelint-svc.io/ignore` annotation, and `# kubelint-svc:
ignore[...]` / `ignore-file[...]` comments. One that suppresses nothing is itself reported
(`unused-suppression`), so stale ones do not pile up."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubelint_svc.findings import Finding, ObjectRef
from kubelint_svc.model import Resource
from kubelint_svc.suggestions import did_you_mean

ANNOTATION = "kubelint-svc.io/ignore"
_COMMENT = re.compile(r"#\s*kubelint-svc:\s*(ignore|ignore-file)\[([^\]]*)\]")

# where a finding must be for a suppression to apply: (file,), (file, object) or (file, line)
_Place = tuple[str] | tuple[str, ObjectRef | None] | tuple[str, int]


@dataclass
class Suppression:
    rules: set[str]
    file: str
    line: int
    column: int
    scope: str  # "line", "file" or "object"
    applies_to_line: int = 0  # for "line": the line whose findings it silences
    object: ObjectRef | None = None
    used: set[str] = field(default_factory=set)

    def silences(self, finding: Finding) -> bool:
        if finding.rule not in self.rules or finding.file != self.file:
            return False
        if self.scope == "file":
            return True
        if self.scope == "object":
            return finding.object == self.object
        return finding.line == self.applies_to_line


def comment_suppressions(text: str, file: str) -> list[Suppression]:
    if "kubelint-svc:" not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _COMMENT.search(line)
        if not match:
            continue
        rules = {rule.strip() for rule in match.group(2).split(",") if rule.strip()}
        standalone = not line[: match.start()].strip()
        scope = "file" if match.group(1) == "ignore-file" else "line"
        target = number + 1 if standalone else number
        found.append(Suppression(rules, file, number, match.start() + 1, scope, target))
    return found


def object_suppression(resource: Resource) -> Suppression | None:
    value = resource.get(("metadata", "annotations", ANNOTATION))
    if not isinstance(value, str):
        return None
    rules = {rule.strip() for rule in value.split(",") if rule.strip()}
    line, column = resource.position(("metadata", "annotations", ANNOTATION), at_key=False)
    return Suppression(rules, resource.file, line, column, "object", object=resource.ref())


def apply(
    findings: list[Finding], suppressions: list[Suppression], known_rules: set[str], unused_severity: str | None
) -> list[Finding]:
    """Findings left after suppression, plus an `unused-suppression` finding (at unused_severity;
    none when that rule is off) for each rule a suppression names but silences nothing of."""
    by_place: dict[_Place, list[Suppression]] = {}
    for suppression in suppressions:  # where a finding must be for each to apply
        if suppression.scope == "file":
            place: _Place = (suppression.file,)
        elif suppression.scope == "object":
            place = (suppression.file, suppression.object)
        else:
            place = (suppression.file, suppression.applies_to_line)
        by_place.setdefault(place, []).append(suppression)
    kept = []
    for finding in findings:
        candidates = [
            *by_place.get((finding.file,), []),
            *by_place.get((finding.file, finding.object), []),
            *by_place.get((finding.file, finding.line), []),
        ]
        silencers = [s for s in candidates if s.silences(finding)]
        for suppression in silencers:
            suppression.used.add(finding.rule)
        if not silencers:
            kept.append(finding)
    if unused_severity is None:
        return kept
    for suppression in suppressions:
        for rule in sorted(suppression.rules - suppression.used):
            why = f"no such rule{did_you_mean(rule, known_rules)}" if rule not in known_rules else \
                "nothing to suppress"
            where = {"line": "this line", "file": "this file", "object": "this object"}[suppression.scope]
            if suppression.scope == "line" and suppression.applies_to_line != suppression.line:
                where = "the next line"
            kept.append(Finding(
                "unused-suppression", unused_severity, f"suppression of {rule} on {where} is unused ({why}): remove it",
                suppression.file, suppression.line, suppression.column, suppression.object,
                f"metadata.annotations[{ANNOTATION}]" if suppression.scope == "object" else None,
            ))
    return kept
