"""Reading one file for a run: its YAML problems, suppression comments and objects, and what the
rules on one object at a time found in them; from the cache when nothing they depend on changed.

What an entry depends on is all in its key: the tool (version and code), the settings and
rules of the run, how the file is read (linted, judged by a build, or context; its name as
shown; its kustomizations' light view) and its bytes. Rules that look across objects (the
index) are never cached: they run on every run, on objects read from the cache or anew.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import kubelint_svc
from kubelint_svc.cache import Cache, key_of
from kubelint_svc.checks.api import RunContext
from kubelint_svc.engine import Registry
from kubelint_svc.findings import Finding, ObjectRef
from kubelint_svc.index import BUILTIN_GROUPS, INDEX_KINDS, api_group
from kubelint_svc.inputs import InputFile
from kubelint_svc.kustomize import KustomizeIndex, apply_transform
from kubelint_svc.loader import (
    FULL,
    HEADER,
    HEADER_KEYS,
    MAX_FILE_BYTES,
    MAX_NODES,
    SKIP,
    Problem,
    UnreadableFile,
    Wants,
    decode,
    parse_stream,
    read_bounded,
)
from kubelint_svc.model import NodeSource, Resource, resources_of
from kubelint_svc.paths import resolved
from kubelint_svc.placeholders import may_hold_placeholders, template_problems
from kubelint_svc.suppressions import Suppression, comment_suppressions
from kubelint_svc.units.plan import Plan, normal


def wants_of(registry: Registry) -> Wants | None:
    """What a run needs of a document, by kind: whole for the kinds rules or the index read, the
    header of any other (custom resources are indexed by it); None: every document whole."""
    kinds = registry.kinds_read_whole()
    if kinds is None:
        return None
    whole = kinds | INDEX_KINDS

    def wants(kind: str, api_version: str) -> str:
        return FULL if kind in whole or kind.endswith("List") else HEADER

    return wants


@dataclass(frozen=True)
class Reading:
    """How files are read for one run: the rules' needs, the kustomize light view, standard
    input, the cache and the run's fingerprint (what every entry of this run depends on)."""

    registry: Registry
    kustomize: KustomizeIndex | None
    stdin: Callable[[], bytes]
    wants: Wants | None
    context: bool = False
    cache: Cache | None = None
    fingerprint: str = ""

    @classmethod
    def for_run(cls, registry: Registry, run: RunContext, stdin: Callable[[], bytes], store: Cache | None) -> Reading:
        fingerprint = key_of(_tool_fingerprint(), repr(run.settings), registry.fingerprint(),
                             f"{MAX_FILE_BYTES} {MAX_NODES}") if store is not None else ""
        return cls(registry, KustomizeIndex(), stdin, wants_of(registry), cache=store, fingerprint=fingerprint)

    def for_context(self) -> Reading:
        """Files read only for the index: documents it does not need are not parsed at all."""
        if self.wants is None:
            return replace(self, context=True)
        linted = self.wants

        def wants(kind: str, api_version: str) -> str:
            decision = linted(kind, api_version)
            return SKIP if decision == HEADER and api_group(api_version) in BUILTIN_GROUPS else decision

        return replace(self, wants=wants, context=True)


@dataclass
class Loaded:
    """What reading one file gave: findings on the YAML itself, suppression comments, the
    objects, and (for a linted file) what the one-object rules found on each."""

    findings: list[Finding] = dataclasses.field(default_factory=list)
    comments: list[Suppression] = dataclasses.field(default_factory=list)
    resources: list[Resource] = dataclasses.field(default_factory=list)
    judged: list[list[Finding]] | None = None  # one list per resource; None: not judged


def load_unit_aware(source: InputFile, units: Plan, reading: Reading, run: RunContext | None) -> Loaded:
    """A file as its unit sees it: set aside (with its note), read only for its YAML problems
    and comments when a build judges its objects, or linted as written (and judged one object
    at a time when run is given)."""
    path = normal(source.path) if source.path is not None and source.refused is None else None
    if path is not None and path in units.set_aside:
        rule, message = units.set_aside[path]
        problems = [Problem(rule, message, 1, 1)] if rule is not None else []
        return Loaded(reading.registry.loader_findings(problems, source.display))
    if path is not None and path in units.in_build:
        loaded = _cached_load(source, reading, None, "in-build")
        return Loaded(loaded.findings, loaded.comments)
    return _cached_load(source, reading, run, "context" if reading.context else "linted")


def real_path(source: InputFile) -> Path | None:
    if source.path is None or source.refused is not None:
        return source.path
    return resolved(source.path) or source.path  # a link loop: read as named, and reported unreadable


def unit_of(source: InputFile) -> str:
    """The apply unit: the file's real path (so context and linted paths compare), or "-"."""
    return str(real_path(source)) if source.path is not None else "-"


def _cached_load(source: InputFile, reading: Reading, run: RunContext | None, role: str) -> Loaded:
    if reading.cache is None or source.path is None or source.refused is not None:
        return _load(source, reading, run)
    try:
        raw = read_bounded(source.path)
    except UnreadableFile:
        return _load(source, reading, run)
    transform = reading.kustomize.transform_for(source.path) if reading.kustomize is not None else None
    key = key_of(reading.fingerprint, role, source.display, unit_of(source), repr(transform), raw)
    stored = reading.cache.get(key)
    if stored is not None:
        try:
            return _loaded_from(stored, raw)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            pass  # an entry of another shape (signed, so ours, but from an older layout): read anew
    loaded = _load(source, reading, run, raw)
    reading.cache.put(key, _plain_loaded(loaded))
    return loaded


def _load(source: InputFile, reading: Reading, run: RunContext | None, raw: bytes | None = None) -> Loaded:
    registry, kustomize = reading.registry, reading.kustomize
    loaded = Loaded()
    if source.refused is not None:
        loaded.findings = registry.loader_findings([Problem("path-outside-tree", source.refused, 1, 1)],
                                                   source.display)
        return loaded
    try:
        if raw is None:
            raw = reading.stdin() if source.path is None else read_bounded(source.path)
    except (OSError, UnreadableFile) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        loaded.findings = registry.loader_findings([Problem("file-unreadable", f"cannot read file: {reason}", 1, 1)],
                                                   source.display)
        return loaded
    text, problem = decode(raw)
    if problem is not None or text is None:
        loaded.findings = registry.loader_findings([problem] if problem else [], source.display)
        return loaded
    stream = parse_stream(text, keep_nodes=False, wants=reading.wants, check_skipped=not reading.context)
    loaded.comments = comment_suppressions(text, source.display)
    # node trees are not kept: NodeSource composes a document again only when a finding needs a position
    loaded.findings = registry.loader_findings(template_problems(stream.problems, text), source.display)
    transform = kustomize.transform_for(source.path) if kustomize is not None and source.path is not None else None
    placeholders = may_hold_placeholders(text)
    # helm template output: from standard input, findings name the templates (as helm does);
    # committed to a file, they point into that file and name the template in the message
    from_stream = source.path is None
    node_source = NodeSource(text)
    for document in stream.documents:
        file = (document.helm_source if from_stream else None) or source.display
        for p in document.problems:
            line = max(1, p.line - document.line_offset) if from_stream and document.helm_source else p.line
            loaded.findings.extend(registry.loader_findings([replace(p, line=line)], file))
        for resource in resources_of(document, source.display, node_source, attribute_to_template=from_stream):
            if resource is not document.data and reading.wants is not None and \
                    reading.wants(resource.kind, resource.api_version) != FULL:
                # an item of a List (a ConfigMapList of dashboards) no rule reads beyond its header
                resource.body = {key: value for key, value in resource.body.items() if key in HEADER_KEYS}
            resource.may_hold_placeholders = placeholders
            resource.unit = unit_of(source)
            if transform is not None:
                resource.is_patch = transform.is_patch
                apply_transform(resource, transform)
            loaded.resources.append(resource)
    if run is not None:
        loaded.judged = [list(registry.check_resource(resource, run, cross=False)) for resource in loaded.resources]
    return loaded


# --- cache entries: plain data (see cache.py) -----------------------------------------------

_FINDING_FIELDS = tuple(field.name for field in dataclasses.fields(Finding))
_RESOURCE_FIELDS = ("api_version", "kind", "body", "file", "line_offset", "unit", "is_patch",
                    "may_hold_placeholders", "rendered_from", "header_only")


def _plain_finding(finding: Finding) -> tuple[Any, ...]:
    values = [getattr(finding, name) for name in _FINDING_FIELDS]
    return tuple(dataclasses.astuple(value) if isinstance(value, ObjectRef) else value for value in values)


def _finding_from(values: tuple[Any, ...]) -> Finding:
    fields = dict(zip(_FINDING_FIELDS, values, strict=True))
    if fields["object"] is not None:
        fields["object"] = ObjectRef(*fields["object"])
    return Finding(**fields)


def _plain_loaded(loaded: Loaded) -> dict[str, Any]:
    return {
        "findings": [_plain_finding(f) for f in loaded.findings],
        "comments": [(sorted(c.rules), c.file, c.line, c.column, c.scope, c.applies_to_line,
                      dataclasses.astuple(c.object) if c.object is not None else None) for c in loaded.comments],
        "resources": [(tuple(getattr(r, name) for name in _RESOURCE_FIELDS),
                       r.node_origin[1:] if r.node_origin is not None else None) for r in loaded.resources],
        "judged": None if loaded.judged is None else [[_plain_finding(f) for f in found] for found in loaded.judged],
    }


def _loaded_from(stored: dict[str, Any], raw: bytes) -> Loaded:
    node_source = NodeSource(lambda: decode(raw)[0] or "")
    resources = []
    for values, origin in stored["resources"]:
        resource = Resource(**dict(zip(_RESOURCE_FIELDS, values, strict=True)))
        if origin is not None:
            resource.node_origin = (node_source, origin[0], origin[1])
        resources.append(resource)
    comments = [Suppression(set(rules), file, line, column, scope, applies, ObjectRef(*ref) if ref else None)
                for rules, file, line, column, scope, applies, ref in stored["comments"]]
    judged = stored["judged"]
    return Loaded(
        [_finding_from(f) for f in stored["findings"]], comments, resources,
        None if judged is None else [[_finding_from(f) for f in found] for found in judged],
    )


@cache
def _tool_fingerprint() -> str:
    """The version, and the size and time of every module of the package: a new version, or an
    edited checkout, never reads entries an older one wrote."""
    package = Path(kubelint_svc.__file__).parent
    parts = [kubelint_svc.__version__]
    for folder, _, names in sorted(os.walk(package)):
        for name in sorted(names):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                parts.append(f"{name} {info.st_size} {info.st_mtime_ns}")
    return key_of(*parts)
