"""Engine: rules/*.yaml -> a registry; runs each rule on the objects it applies to.

A rule is data: an id, a severity, documentation, the kinds it applies to, and its check:
either a named function of `kubelint_svc.checks.<module>` with parameters, a JSON Schema
fragment evaluated with jsonschema, or `reported-by: loader` for problems of the YAML itself.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
import json
import re
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelint_svc import pool
from kubelint_svc.checks.api import (
    OTHER_OBJECTS,
    CheckFunction,
    Hit,
    NoParams,
    Related,
    RunContext,
    is_cross_object,
    reads_header_only,
)
from kubelint_svc.checks.safe_schema import StepBudgetExceeded, step_budget
from kubelint_svc.composing import locate
from kubelint_svc.file_reads import Problem
from kubelint_svc.findings import (
    FIX_SAFETIES,
    SEVERITIES,
    Edit,
    FieldPath,
    Finding,
    Fix,
    Note,
    format_field_path,
    rule_or_verdict,
)
from kubelint_svc.kinds import api_group, kind_selected
from kubelint_svc.loader import YamlFileError, read_documents
from kubelint_svc.model import Change, FixProposal, Resource
from kubelint_svc.paths import is_inside, refusal, resolved
from kubelint_svc.placeholders import bare_placeholder, is_placeholder, placeholder_note
from kubelint_svc.suggestions import clipped, did_you_mean

if TYPE_CHECKING:
    from kubelint_svc.checks.safe_schema import SchemaValidator


Judged = typing.TypeVar("Judged")
OBJECTS_PER_WORKER = 500  # fewer objects than this a core: forking a worker costs more than it saves


class RuleError(Exception):
    """A rule definition is malformed (our bug, or a user's rule pack)."""


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
    pack: str | None = None  # a built-in policy pack's name, or a user rule pack's folder
    enabled: bool = True
    namespaces: tuple[str, ...] = ()  # globs; "!glob" excludes
    where: dict[str, Any] | None = None  # JSON Schema an object must match to be in scope
    params: Any = None  # a function check's typed parameters, built when the rule is read
    fix: str | None = None  # "safe" | "unsafe": the fixes its findings offer (--fix, --unsafe-fixes)

    @property
    def stage(self) -> str:
        """"object" for rules a check function or schema decides; else who reports it (loader, ...)."""
        return str(self.check.get("reported-by", "object"))

    def in_namespace(self, namespace: str) -> bool:
        if not self.namespaces:
            return True
        included = [g for g in self.namespaces if not g.startswith("!")]
        excluded = [g[1:] for g in self.namespaces if g.startswith("!")]
        return (not included or any(fnmatch.fnmatchcase(namespace, g) for g in included)) and not any(
            fnmatch.fnmatchcase(namespace, g) for g in excluded
        )


class Registry:
    """Every rule of a run, by id, each with its check ready to call."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = {rule.id: rule for rule in rules}
        self._checks: dict[str, CheckFunction[Any]] = {}
        self._scopes: dict[str, SchemaValidator] = {}
        self._by_kind: dict[tuple[str, str], list[tuple[Rule, CheckFunction[Any]]]] = {}
        self._runs: dict[tuple[str, str, bool | None],
                         list[tuple[Rule, CheckFunction[Any], Any, bool, bool, SchemaValidator | None]]] = {}
        for rule in rules:
            if rule.stage == "object" and rule.enabled:
                self._checks[rule.id] = _resolve_check(rule)
                if rule.where is not None:
                    from kubelint_svc.checks.safe_schema import validator_for

                    self._scopes[rule.id] = validator_for(rule.where)

    @classmethod
    def load(cls, folders: Iterable[Path]) -> Registry:
        rules: list[Rule] = []
        for folder in folders:
            rules.extend(read_rule_folder(Path(folder)))
        return cls(_unique(rules))

    @classmethod
    def builtin(cls) -> Registry:
        """The built-in rules, with the policy packs' rules known but off."""
        return cls.configured()

    @classmethod
    def configured(cls, config: Any = None) -> Registry:
        """Built-in rules, built-in policy packs (on when the config names them), the config's
        rule packs, and its per-rule settings."""
        from kubelint_svc.schemas import data_dir

        rules_dir = data_dir("rules")
        rules = read_rule_folder(rules_dir)
        enabled_packs = set(getattr(config, "policy_packs", []) or [])
        packs_dir = rules_dir / "packs"
        for pack_dir in sorted(p for p in packs_dir.iterdir() if p.is_dir()) if packs_dir.is_dir() else []:
            for rule in read_rule_folder(pack_dir, pack=pack_dir.name):
                rules.append(dataclasses.replace(rule, enabled=pack_dir.name in enabled_packs))
        root = getattr(config, "root", None)
        for pack_dir in getattr(config, "rule_packs", []) or []:
            rules.extend(read_rule_folder(Path(pack_dir), pack=str(pack_dir), user=True, root=root))
        rules = _unique(rules)
        settings = getattr(config, "rules", {}) or {}
        by_id = {rule.id: rule for rule in rules}
        for rule_id, setting in settings.items():
            if rule_id not in by_id:
                where = config.where(f"rules.{rule_id}") if hasattr(config, "where") else "config"
                raise RuleError(f"{where}: unknown rule id {clipped(rule_id)!r}{did_you_mean(rule_id, by_id)} "
                                "(`kubelint-svc rules` lists them)")
            rule = by_id[rule_id]
            if setting == "off":
                by_id[rule_id] = dataclasses.replace(rule, enabled=False)
            elif setting == "on":
                by_id[rule_id] = dataclasses.replace(rule, enabled=True)
            else:
                by_id[rule_id] = dataclasses.replace(rule, enabled=True, severity=setting)
        return cls(list(by_id.values()))

    def fingerprint(self) -> str:
        """Text that changes whenever a rule of the registry would judge differently."""
        return "\n".join(repr(rule) for rule in self.sorted_rules())

    def kinds_read_whole(self, cross_object_only: bool = False) -> frozenset[str] | None:
        """The kinds some enabled rule reads beyond apiVersion, kind and metadata; None when a
        rule on every kind does (then every object is read whole). cross_object_only: of the
        rules that look across objects alone (what a context file is read for)."""
        kinds: set[str] = set()
        for rule_id, check in self._checks.items():
            if cross_object_only and not is_cross_object(check):
                continue
            rule = self.rules[rule_id]
            if rule.kinds:
                kinds.update(entry.rpartition("/")[2] for entry in rule.kinds)  # a group's kind too
            elif rule.where is not None or not reads_header_only(check):
                return None
        return frozenset(kinds)

    def is_enabled(self, rule_id: str) -> bool:
        rule = self.rules.get(rule_id)
        return rule is not None and rule.enabled

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def sorted_rules(self) -> list[Rule]:
        return sorted(self.rules.values(), key=lambda rule: rule.id)

    def check_resource(
        self, resource: Resource, run: RunContext, cross: bool | None = None, noted: bool = False
    ) -> Iterator[Finding]:
        """The findings of every rule on one object; cross: only the rules that look across
        objects (True) or only those that do not (False); noted: the object already has an
        unrendered-placeholder note (from the other half)."""
        if resource.is_patch:
            return  # a partial object: kustomize merges it into a whole one elsewhere
        bare_placeholders: dict[str, FieldPath] = {}
        views = (run.one_object_view, run)  # what a check sees: by whether it looks across objects
        for rule, check, params, looks_across, limited, scope in self._to_run(resource.api_version, resource.kind,
                                                                              cross):
            try:
                if limited and not _applies(rule, scope, resource, run):
                    continue
                hits = list(check(resource, views[looks_across], params))
            except StepBudgetExceeded as error:  # a pack's `where:` too costly on this object
                hit = Hit(f"{error} (in its where:); not evaluated", (), severity="warning")
                yield finding_for(rule, resource, hit)
                continue
            except Exception as error:  # our bug: report it on the object, keep linting the rest
                yield self._internal_error(rule, resource, error)
                continue
            for hit in hits:
                if resource.may_hold_placeholders and not hit.about_placeholder:
                    value = resource.get(hit.path)
                    if is_placeholder(value):
                        continue  # a template's value: unrendered-placeholder speaks for it
                    bare = bare_placeholder(value)
                    if bare is not None:  # `$NAME` where a check wanted a number, CIDR, name or IP
                        bare_placeholders.setdefault(bare, hit.path)
                        continue
                if rule.id == "unrendered-placeholder":
                    noted = True
                yield finding_for(rule, resource, hit)
        if bare_placeholders and not noted and self.is_enabled("unrendered-placeholder"):
            first, path = next(iter(bare_placeholders.items()))
            note = Hit(placeholder_note(first, len(bare_placeholders) - 1), path, at_key=False, about_placeholder=True)
            yield finding_for(self.rules["unrendered-placeholder"], resource, note)

    def object_findings(self, resources: list[Resource], run: RunContext, judged: dict[int, list[Finding]]
                        ) -> list[list[Finding]]:
        """Each object's cross-object findings (check_resource(cross=True)), in their order, with
        judged (by id) given the one-object findings of those it lacks. The run's objects, index and
        unreadable documents must be final: the cross-object rules read them. With enough objects, on
        every core: workers forked now inherit the objects, the rules and the run (each process makes
        the run's index and memos alike, from the same objects), and send back only their findings,
        one-object and cross-object alike; what a worker could not give back is judged here."""
        pending = sum(1 for resource in resources if id(resource) not in judged)
        workers = min(pool.cores(), pending // OBJECTS_PER_WORKER)

        def both(at: int) -> tuple[list[Finding] | None, list[Finding]]:
            resource = resources[at]
            one_object = judged.get(id(resource))
            made = None if one_object is not None else list(self.check_resource(resource, run, cross=False))
            noted = any(finding.rule == "unrendered-placeholder" for finding in one_object or made or [])
            return made, list(self.check_resource(resource, run, cross=True, noted=noted))

        found: list[tuple[list[Finding] | None, list[Finding]] | None] = [None] * len(resources)
        if workers >= 2 and pool.can_fork():
            # the first object of each kind judged before the fork, the index and the run's memos
            # with it: what every process would make on first use is made once
            first: dict[tuple[str, str], int] = {}
            for at, resource in enumerate(resources):
                first.setdefault((resource.api_version, resource.kind), at)
            for at in first.values():
                found[at] = both(at)
            rest = [at for at in range(len(resources)) if found[at] is None]
            shares, given = self._sliced(rest, workers, both)
            for share, results in zip(shares, given, strict=True):
                for at, result in zip(share, results or [], strict=False):
                    found[at] = result
        cross: list[list[Finding]] = []
        for at, resource in enumerate(resources):
            made, checked = found[at] or both(at)  # what a worker could not give back (it died) is judged here
            if made is not None:
                judged[id(resource)] = made
            cross.append(checked)
        return cross

    @staticmethod
    def _sliced(order: list[int], workers: int, judge: Callable[[int], Judged]) -> tuple[list[list[int]],
                                                                                       list[list[Judged] | None]]:
        """The objects at order, cut into a slice a process (this one's the largest, as a worker
        also forks and sends its findings back), and judge's answers for each slice (None: not given back)."""
        size = len(order) * 9 // (10 * workers)
        shares = [order[start:start + size] for start in range(0, size * (workers - 1), size)]
        shares.append(order[size * (workers - 1):])

        def each(share: list[int]) -> list[Judged]:
            return [judge(at) for at in share]

        return shares, pool.in_pool(workers, shares, [len(share) for share in shares], each, here=True)

    def _internal_error(self, rule: Rule, resource: Resource, error: Exception) -> Finding:
        crash = self.rules.get("internal-error")
        line, column = resource.position(())
        return Finding(
            "internal-error", crash.severity if crash else "error",
            f"rule {rule.id} failed on this object ({type(error).__name__}: {error}); the other rules ran. "
            "This is a bug in kubelint-svc: please report it with this manifest",
            resource.file, line, column, resource.ref(),
        )

    def _to_run(self, api_version: str, kind: str, cross: bool | None
                ) -> list[tuple[Rule, CheckFunction[Any], Any, bool, bool, SchemaValidator | None]]:
        """The checks of _checks_for that look across objects (cross True), or not (False), or all
        (None), each with its parameters, whether it looks across objects, whether its rule is
        limited to some namespaces or objects, and its `where:` scope: worked out once a kind, not
        once an object (a run of thousands of objects has few kinds)."""
        key = (api_group(api_version), kind, cross)
        found = self._runs.get(key)
        if found is None:
            found = self._runs[key] = [
                (rule, check, rule.params, looks_across, bool(rule.namespaces) or scope is not None, scope)
                for rule, check in self._checks_for(api_version, kind)
                for looks_across, scope in ((is_cross_object(check), self._scopes.get(rule.id)),)
                if cross is None or looks_across == cross
            ]
        return found

    def _checks_for(self, api_version: str, kind: str) -> list[tuple[Rule, CheckFunction[Any]]]:
        """The checks of the rules that judge this kind of this group (see kinds.kind_selected)."""
        key = (api_group(api_version), kind)
        if key not in self._by_kind:
            self._by_kind[key] = [
                (self.rules[rule_id], check)
                for rule_id, check in self._checks.items()
                if not self.rules[rule_id].kinds
                or any(kind_selected(entry, api_version, kind) for entry in self.rules[rule_id].kinds)
            ]
        return self._by_kind[key]

    def problem_finding(self, problem: Problem, file: str) -> Finding:
        rule = self.rules[problem.rule]
        fix = None
        if problem.removable and rule.fix is not None:  # a repeated key with the same value: nothing is lost
            fix = Fix(rule.fix, "remove the repeated key", (Edit(file, problem.line, problem.column, "delete"),),
                      "it was read from standard input" if file == "-" else "")
        return Finding(rule.id, rule_or_verdict(rule.severity, problem.severity), problem.message, file, problem.line,
                       problem.column, fix=fix, verdict=problem.severity)

    def loader_findings(self, problems: Iterable[Problem], file: str) -> list[Finding]:
        """Findings for the YAML problems of one file, leaving out those of rules turned off."""
        return [self.problem_finding(p, file) for p in problems if self.is_enabled(p.rule)]


def _applies(rule: Rule, scope: SchemaValidator | None, resource: Resource, run: RunContext) -> bool:
    """Is the object in the rule's namespaces and does it match its `where:` (scope)?"""
    if rule.namespaces and not rule.in_namespace(resource.namespace or run.default_namespace):
        return False
    if scope is None:
        return True
    with step_budget():
        return bool(scope.is_valid(resource.body))


def finding_for(rule: Rule, resource: Resource, hit: Hit) -> Finding:
    file, line, column, end_line, end_column = resource.locate(hit.path, hit.at_key)
    return Finding(
        rule=rule.id,
        severity=rule_or_verdict(rule.severity, hit.severity),
        message=hit.message + (f" (rendered from {resource.rendered_from})" if resource.rendered_from else ""),
        file=file,
        line=line,
        column=column,
        object=resource.ref(),
        field=format_field_path(hit.path) or None,
        end_line=end_line,
        end_column=end_column,
        help=hit.help,
        notes=tuple(_note(related) for related in hit.related),
        fix=_fix(rule, resource, hit.fix) if hit.fix is not None and rule.fix is not None else None,
        verdict=hit.severity,
    )


def _fix(rule: Rule, resource: Resource, proposal: FixProposal) -> Fix:
    """A check's proposal as edits of the nodes that wrote the values (a kustomize patch's, a
    base's), each with the value the object has there now: the file must still hold it."""
    assert rule.fix is not None
    refused = resource.fix_refusal()
    edits: list[Edit] = []
    for change in () if refused else proposal.changes:
        edit = _edit(resource, change)
        if isinstance(edit, str):
            return Fix(rule.fix, proposal.title, (), edit)
        edits.append(edit)
    return Fix(rule.fix, proposal.title, tuple(edits), refused)


def _edit(resource: Resource, change: Change) -> Edit | str:
    at_key = change.action != "replace"  # a replace names the value; a delete or an insert its entry's key
    place = resource.fix_location(change.path, at_key)
    if isinstance(place, str):
        return place
    old = None if change.action == "insert" else resource.get(change.path)
    return Edit(*place, change.action, json.dumps(old), json.dumps(change.value), change.key)


def _note(related: Related) -> Note:
    file, line, column, _, _ = related.resource.locate(related.path, True)
    return Note(related.message, file, line, column)


CHECK_KEYS = {
    "function": {"function", "params"},
    "json-schema": {"json-schema", "message"},
    "reported-by": {"reported-by"},
}
RULE_KEYS = {"id", "severity", "summary", "rationale", "kinds", "check", "examples", "namespaces", "where", "fix"}


def _unique(rules: list[Rule]) -> list[Rule]:
    seen: dict[str, Path] = {}
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"{rule.source}: rule {rule.id!r} is already defined in {seen[rule.id]}")
        seen[rule.id] = rule.source
    return rules


def read_rule_folder(
    folder: Path, pack: str | None = None, user: bool = False, root: Path | None = None
) -> list[Rule]:
    """The rules of every `*.yaml` in folder; with root, each file must really lie inside it (a
    pack from a pull request cannot name `/etc/passwd` through a symlink)."""
    if not folder.is_dir():
        raise RuleError(f"{folder}: rule pack folder not found")
    rules: list[Rule] = []
    for path in sorted(folder.glob("*.yaml")):
        if root is not None and refusal(path, root) is not None:  # outside it, or inside a git directory
            real = resolved(path)
            where = "into a git directory" if real is not None and is_inside(real, root) else "outside the repository"
            raise RuleError(f"{path}: rule file leads {where} ({real or 'a symlink loop'}) through a symlink")
        rules.extend(_read_rule_file_once(path, pack, user))
    return rules


# A long-lived process (the editor server) builds a registry on every change of a buffer: a rule
# file (built-in or a pack's) is read again only when its size, times or inode changed. Rules are
# frozen values, so registries may share them.
_READ_RULE_FILES: dict[tuple[Path, str | None, bool], tuple[tuple[int, ...], list[Rule]]] = {}


def _read_rule_file_once(path: Path, pack: str | None, user: bool) -> list[Rule]:
    try:
        info = path.stat()
    except OSError:
        return _read_rule_file(path, pack, user)  # its own one-line error
    stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
    key = (path, pack, user)
    kept = _READ_RULE_FILES.get(key)
    if kept is not None and kept[0] == stamp:
        return list(kept[1])
    rules = _read_rule_file(path, pack, user)  # read after the stat: a change meanwhile reads it again next time
    _READ_RULE_FILES[key] = (stamp, rules)
    return list(rules)


def _read_rule_file(path: Path, pack: str | None = None, user: bool = False) -> list[Rule]:
    try:
        documents = read_documents(path)
    except YamlFileError as error:
        raise RuleError(str(error)) from None
    if len(documents) != 1:
        raise RuleError(f"{path}:1: a rule file holds exactly one YAML document")
    document = documents[0]
    entries = document.data.get("rules") if isinstance(document.data, dict) else None
    if not isinstance(entries, list):
        raise RuleError(f"{path}:1: expected a top-level 'rules:' list")
    rules = []
    for index, entry in enumerate(entries):
        def where(*keys: Any, _index: int = index) -> str:
            return f"{path}:{locate(document.node, ('rules', _index, *keys))[0]}"

        rules.append(_rule_from(entry, path, where, pack, user))
    return rules


RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")


def _rule_from(entry: Any, path: Path, where: Callable[..., str], pack: str | None, user: bool) -> Rule:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise RuleError(f"{where()}: every rule needs an 'id'")
    rule_id = entry["id"]
    if not RULE_ID.fullmatch(rule_id):
        raise RuleError(f"{where('id')}: rule id {rule_id[:60]!r} must be letters, digits, '-', '.', '_' or '/' "
                        "(kebab-case reads best: service-port-name), at most 100 characters")
    unknown = set(entry) - RULE_KEYS
    declared = unknown & {"cross-object", "cross_object"}
    if declared:
        raise RuleError(f"{where(sorted(declared)[0])}: rule {rule_id!r}: a check that reads other objects is "
                        "marked @cross_object in its module (checks/api.py), never in the rule file")
    if unknown:
        key = sorted(unknown)[0]
        raise RuleError(f"{where(key)}: rule {rule_id!r} has unknown keys: {', '.join(sorted(unknown))}")
    severity = entry.get("severity")
    if severity not in SEVERITIES:
        raise RuleError(f"{where('severity')}: rule {rule_id!r}: severity must be one of {', '.join(SEVERITIES)}")
    fix = entry.get("fix")
    if fix is not None and (user or fix not in FIX_SAFETIES):
        raise RuleError(f"{where('fix')}: rule {rule_id!r}: fix must be one of {', '.join(FIX_SAFETIES)}"
                        + (" (and only a built-in rule's check offers one)" if user else ""))
    check = entry.get("check")
    kind = next((k for k in CHECK_KEYS if isinstance(check, dict) and k in check), None)
    if not isinstance(check, dict) or kind is None:
        raise RuleError(f"{where('check')}: rule {rule_id!r}: 'check' needs a function, a json-schema or reported-by")
    unknown_keys = sorted(set(check) - CHECK_KEYS[kind])
    if unknown_keys:
        raise RuleError(f"{where('check', unknown_keys[0])}: rule {rule_id!r}: unknown key {unknown_keys[0]!r} in a "
                        f"{kind} check (it takes {', '.join(sorted(CHECK_KEYS[kind]))})")
    if user and "json-schema" not in check:
        raise RuleError(f"{where('check')}: rule {rule_id!r}: a rule pack's checks are declarative: use "
                        "'json-schema' (nothing in a rule pack is executed)")
    for key in ("summary", "rationale"):
        if not isinstance(entry.get(key, ""), str):
            raise RuleError(f"{where(key)}: rule {rule_id!r}: {key} must be a string")
    examples = entry.get("examples") or {}
    if not isinstance(examples, dict) or not all(isinstance(examples.get(k, ""), str) for k in ("failing", "passing")):
        raise RuleError(f"{where('examples')}: rule {rule_id!r}: examples must map 'failing' and 'passing' to "
                        "YAML text")
    if not isinstance(check.get("message", ""), str):
        raise RuleError(f"{where('check', 'message')}: rule {rule_id!r}: check.message must be a string")
    for key in ("kinds", "namespaces"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise RuleError(f"{where(key)}: rule {rule_id!r}: {key} must be a list of strings")
    schemas = {"json-schema": check.get("json-schema"), "where": entry.get("where")}
    for key, schema in schemas.items():
        if schema is None:
            continue
        line = where("check", "json-schema") if key == "json-schema" else where("where")
        resolved = _prepared_schema(schema, path.parent, line, rule_id, key, checked=user)
        if key == "json-schema":
            check = {**check, "json-schema": resolved}
        else:
            entry = {**entry, "where": resolved}
    params = _params_for(check, where, rule_id) if kind == "function" else None
    return Rule(
        params=params,
        id=rule_id,
        severity=severity,
        summary=str(entry.get("summary", "")).strip(),
        rationale=str(entry.get("rationale", "")).strip(),
        kinds=tuple(entry.get("kinds") or ()),
        check=check,
        failing_example=str(examples.get("failing", "")),
        passing_example=str(examples.get("passing", "")),
        source=path,
        pack=pack,
        namespaces=tuple(entry.get("namespaces") or ()),
        where=entry.get("where"),
        fix=fix,
    )


def _params_for(check: dict[str, Any], where: Callable[..., str], rule_id: str) -> Any:
    """The typed parameters of a function check, built from the rule's `params:` and checked
    against the dataclass its function's `params` annotation names: an unknown, missing or
    mistyped parameter is a rule error at load, never a crash at run time."""
    function = _check_function(str(check["function"]), where, rule_id)
    read = None if is_cross_object(function) else _other_objects_read(function)
    if read is not None:
        raise RuleError(f"{where('check', 'function')}: rule {rule_id!r}: {check['function']} reads run.{read}, "
                        "which only a check marked @cross_object may (checks/api.py): mark it")
    params_type = _params_type(function)
    raw = check.get("params") or {}
    if not isinstance(raw, dict):
        raise RuleError(f"{where('check', 'params')}: rule {rule_id!r}: params must be a mapping")
    types = typing.get_type_hints(params_type) if raw else {}  # each evaluated: 0.2 ms a type, 60 a run
    fields = {f.name: f for f in dataclasses.fields(params_type)}
    takes = ", ".join(fields) or "no parameters"
    for name in raw:
        if name not in fields:
            raise RuleError(f"{where('check', 'params', name)}: rule {rule_id!r}: {check['function']} has no "
                            f"parameter {name!r} (it takes {takes})")
    for name, spec in fields.items():
        if name not in raw and spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise RuleError(f"{where('check')}: rule {rule_id!r}: {check['function']} needs the parameter {name!r}")
    for name, value in raw.items():
        expected = typing.get_origin(types[name]) or types[name]
        mistyped = isinstance(expected, type) and (
            not isinstance(value, expected) or isinstance(value, bool) != (expected is bool)
        )
        if mistyped:
            raise RuleError(f"{where('check', 'params', name)}: rule {rule_id!r}: parameter {name!r} must be "
                            f"{expected.__name__}, not {type(value).__name__}")
    return params_type(**raw)


def _params_type(function: Callable[..., Any]) -> Any:
    """The class the function's `params` annotation names: looked up by its name when it is one
    (`params: ServicePorts`), else evaluated with every other annotation (get_type_hints compiles
    each: 10 ms for the built-in rules)."""
    annotation = getattr(function, "__annotations__", {}).get("params", NoParams)
    if isinstance(annotation, str) and annotation.isidentifier():
        found = getattr(function, "__globals__", {}).get(annotation)
        if isinstance(found, type):
            return found
    return typing.get_type_hints(function).get("params", NoParams)


def _other_objects_read(function: Callable[..., Any]) -> str | None:
    """What of the run's other objects (run.index, ...) the function's own code reads from its
    second parameter, or None: the marker is the one declaration, and this finds the check that
    forgot it when its rule loads (a read through a helper is caught when it runs: OneObjectRun).
    Only a function naming such an attribute at all is disassembled, so loading stays cheap."""
    code = getattr(function, "__code__", None)
    if code is None or code.co_argcount < 2 or not OTHER_OBJECTS & set(code.co_names):
        return None
    import dis

    run, previous = code.co_varnames[1], None
    for instruction in dis.get_instructions(code):
        if (instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and instruction.argval in OTHER_OBJECTS
                and previous is not None and previous.opname.startswith("LOAD_FAST") and previous.argval == run):
            return str(instruction.argval)
        previous = instruction
    return None


def _check_function(target: str, where: Callable[..., str], rule_id: str) -> CheckFunction[Any]:
    module_name, _, function_name = target.rpartition(".")
    try:
        module = importlib.import_module(f"kubelint_svc.checks.{module_name}")
        function: CheckFunction[Any] = getattr(module, function_name)
    except (ImportError, AttributeError, ValueError):
        raise RuleError(f"{where('check', 'function')}: rule {rule_id!r}: no check function {target!r} "
                        "in kubelint_svc/checks/") from None
    return function


def _prepared_schema(schema: Any, folder: Path, where: str, rule_id: str, key: str, checked: bool = True) -> Any:
    """A pack schema with its `$ref`s expanded and its patterns compiled for linear-time matching
    (see checks/safe_schema.py), checked against the JSON Schema 2020-12 metaschema when it comes
    from a user's pack (the built-in ones are checked by the tests, not on every run)."""
    from kubelint_svc.checks.safe_schema import SchemaRefused, prepare

    if not isinstance(schema, (dict, bool)):
        raise RuleError(f"{where}: rule {rule_id!r}: {key} must be a JSON Schema (a mapping)")

    def read_file(path: Path) -> Any:
        try:
            documents = read_documents(path)
        except YamlFileError as error:
            raise SchemaRefused(str(error)) from None
        return documents[0].data if documents else None

    try:
        prepared = prepare(schema, folder, read_file)
    except SchemaRefused as error:
        raise RuleError(f"{where}: rule {rule_id!r}: {key}: {error}") from None
    if checked:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(prepared)
        except SchemaError as error:
            raise RuleError(f"{where}: rule {rule_id!r}: {key} is not a valid JSON Schema: {error.message}") from None
    return prepared


def _resolve_check(rule: Rule) -> CheckFunction[Any]:
    if "json-schema" in rule.check:
        from kubelint_svc.checks.json_schema import fragment_check

        return fragment_check(rule.check["json-schema"], rule.check.get("message"))
    return _check_function(str(rule.check["function"]), lambda *keys: str(rule.source), rule.id)
