"""Engine: rules/*.yaml -> a registry; runs each rule on the objects it applies to.

A rule is data: an id, a severity, documentation, the kinds it applies to, and its check:
either a named function of `kubelint_svc.checks.<module>` with parameters, a JSON Schema
fragment evaluated with jsonschema, or `reported-by: loader` for problems of the YAML itself.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from kubelint_svc.findings import SEVERITIES, Finding, format_field_path
from kubelint_svc.loader import Problem, decode, parse_stream
from kubelint_svc.model import Resource


class RuleError(Exception):
    """A rule definition is malformed (our bug, or a user's rule pack)."""


@dataclass(frozen=True)
class Hit:
    """What a check reports: the rule's id, severity and the object are filled in by the engine."""

    message: str
    path: tuple = ()
    at_key: bool = True
    severity: str | None = None
    # hits on a `${VAR}` value are dropped (the object is a template) unless they are about it
    about_placeholder: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    rationale: str
    kinds: tuple[str, ...]
    check: dict[str, Any]
    failing_example: str
    passing_example: str
    source: Path

    @property
    def stage(self) -> str:
        return "loader" if self.check.get("reported-by") == "loader" else "object"


CheckFunction = Callable[[Resource, "RunContext", dict], Iterable[Hit]]


@dataclass
class RunContext:
    """What a run knows beyond one object: its settings and shared, lazily built helpers."""

    kubernetes_version: str
    node_port_range: tuple[int, int] = (30000, 32767)
    default_namespace: str = "default"
    resources: list[Resource] = field(default_factory=list)
    # objects read only to know the surroundings (--context): indexed, never reported on
    context_resources: list[Resource] = field(default_factory=list)
    # (file, line) of documents that could not be read: they may hold what a rule looks for
    unreadable: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, real folder)
    # per-run indexes that checks build on first use (keyed by the check that owns them)
    cache: dict[str, Any] = field(default_factory=dict)
    _schemas: Any = None

    @property
    def index(self) -> Any:
        if "index" not in self.cache:
            from kubelint_svc.index import Index

            self.cache["index"] = Index(self.resources + self.context_resources, self.default_namespace)
        return self.cache["index"]

    @property
    def minor(self) -> int:
        return int(self.kubernetes_version.split(".")[1])

    @property
    def schemas(self) -> Any:
        if self._schemas is None:
            from kubelint_svc.schemas import SchemaStore

            self._schemas = SchemaStore(self.kubernetes_version)
        return self._schemas


class Registry:
    """Every rule of a run, by id, each with its check ready to call."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = {rule.id: rule for rule in rules}
        self._checks: dict[str, CheckFunction] = {}
        self._by_kind: dict[str, list[tuple[Rule, CheckFunction]]] = {}
        for rule in rules:
            if rule.stage == "object":
                self._checks[rule.id] = _resolve_check(rule)

    @classmethod
    def load(cls, folders: Iterable[Path]) -> "Registry":
        rules: list[Rule] = []
        seen: dict[str, Path] = {}
        for folder in folders:
            for path in sorted(Path(folder).glob("*.yaml")):
                for rule in _read_rule_file(path):
                    if rule.id in seen:
                        raise RuleError(f"{path}: rule {rule.id!r} is already defined in {seen[rule.id]}")
                    seen[rule.id] = path
                    rules.append(rule)
        return cls(rules)

    @classmethod
    def builtin(cls) -> "Registry":
        from kubelint_svc.schemas import data_dir

        return cls.load([data_dir("rules")])

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def sorted_rules(self) -> list[Rule]:
        return sorted(self.rules.values(), key=lambda rule: rule.id)

    def check_resource(self, resource: Resource, run: RunContext) -> Iterator[Finding]:
        if resource.is_patch:
            return  # a partial object: kustomize merges it into a whole one elsewhere
        for rule, check in self._checks_for(resource.kind):
            for hit in check(resource, run, rule.check.get("params") or {}):
                if (
                    resource.may_hold_placeholders
                    and not hit.about_placeholder
                    and _is_placeholder(resource.get(hit.path))
                ):
                    continue  # a template's value: unrendered-placeholder speaks for it
                yield finding_for(rule, resource, hit)

    def _checks_for(self, kind: str) -> list[tuple[Rule, CheckFunction]]:
        if kind not in self._by_kind:
            self._by_kind[kind] = [
                (self.rules[rule_id], check)
                for rule_id, check in self._checks.items()
                if not self.rules[rule_id].kinds or kind in self.rules[rule_id].kinds
            ]
        return self._by_kind[kind]

    def problem_finding(self, problem: Problem, file: str) -> Finding:
        rule = self.rules[problem.rule]
        return Finding(rule.id, rule.severity, problem.message, file, problem.line, problem.column)


def _is_placeholder(value: Any) -> bool:
    from kubelint_svc.checks.json_schema import is_placeholder

    return is_placeholder(value)


def finding_for(rule: Rule, resource: Resource, hit: Hit) -> Finding:
    line, column = resource.position(hit.path, hit.at_key)
    return Finding(
        rule=rule.id,
        severity=hit.severity or rule.severity,
        message=hit.message,
        file=resource.file,
        line=line,
        column=column,
        object=resource.ref(),
        field=format_field_path(hit.path) or None,
    )


def _read_rule_file(path: Path) -> list[Rule]:
    raw, problem = decode(path.read_bytes())
    stream = parse_stream(raw) if raw is not None else None
    if stream is None or stream.problems or len(stream.documents) != 1:
        raise RuleError(f"{path}: not a readable YAML rule file")
    data = stream.documents[0].data
    entries = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RuleError(f"{path}: expected a top-level 'rules:' list")
    return [_rule_from(entry, path) for entry in entries]


def _rule_from(entry: Any, path: Path) -> Rule:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise RuleError(f"{path}: every rule needs an 'id'")
    rule_id = entry["id"]
    unknown = set(entry) - {"id", "severity", "summary", "rationale", "kinds", "check", "examples"}
    if unknown:
        raise RuleError(f"{path}: rule {rule_id!r} has unknown keys: {', '.join(sorted(unknown))}")
    severity = entry.get("severity")
    if severity not in SEVERITIES:
        raise RuleError(f"{path}: rule {rule_id!r}: severity must be one of {', '.join(SEVERITIES)}")
    check = entry.get("check")
    if not isinstance(check, dict) or not ({"function", "json-schema", "reported-by"} & set(check)):
        raise RuleError(f"{path}: rule {rule_id!r}: 'check' needs a function, a json-schema or reported-by")
    examples = entry.get("examples") or {}
    return Rule(
        id=rule_id,
        severity=severity,
        summary=str(entry.get("summary", "")).strip(),
        rationale=str(entry.get("rationale", "")).strip(),
        kinds=tuple(entry.get("kinds") or ()),
        check=check,
        failing_example=str(examples.get("failing", "")),
        passing_example=str(examples.get("passing", "")),
        source=path,
    )


def _resolve_check(rule: Rule) -> CheckFunction:
    if "json-schema" in rule.check:
        from kubelint_svc.checks.json_schema import fragment_check

        return fragment_check(rule.check["json-schema"], rule.check.get("message"))
    target = rule.check["function"]
    module_name, _, function_name = str(target).rpartition(".")
    try:
        module = importlib.import_module(f"kubelint_svc.checks.{module_name}")
        return getattr(module, function_name)
    except (ImportError, AttributeError) as error:
        raise RuleError(f"{rule.source}: rule {rule.id!r}: no check function {target!r}") from error
