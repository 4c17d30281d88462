"""Findings settled, in one place: suppressions applied (the unused ones reported), then each
finding as the configuration governing its file wants it (its rule off there: dropped; the
severity set there, a check's own milder verdict kept), sorted. What `settled` returns is final:
no stage changes a finding after it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from kubelint_svc.engine import Registry
from kubelint_svc.findings import Finding, rule_or_verdict, sort_findings
from kubelint_svc.suppressions import Suppression
from kubelint_svc.suppressions import apply as apply_suppressions

# The rules governing a file, as findings name it (config_tree.ConfigTree.file_rules).
FileRules = Callable[[str], Registry]


def settled(findings: Iterable[Finding], registry: Registry, suppressions: list[Suppression],
            file_rules: FileRules | None = None) -> list[Finding]:
    """The run's final findings. registry: the run's (every rule some configuration turns on);
    file_rules: the rules of each file's own configuration, None when the run's govern them all
    (the findings then already have the severities it sets)."""
    unused = registry["unused-suppression"].severity if registry.is_enabled("unused-suppression") else None
    kept = apply_suppressions(list(findings), suppressions, set(registry.rules), unused)
    if file_rules is not None:
        kept = [governed for governed in (as_governed(finding, file_rules(finding.file)) for finding in kept)
                if governed is not None]
    return sort_findings(kept)


def as_governed(finding: Finding, rules: Registry) -> Finding | None:
    """The finding as these rules want it: None when its rule is off, else at the rule's severity,
    or at the check's own verdict when that is milder."""
    rule = rules.rules.get(finding.rule)
    if rule is None or not rule.enabled:
        return None
    severity = rule_or_verdict(rule.severity, finding.verdict)
    return finding if severity == finding.severity else dataclasses.replace(finding, severity=severity)
