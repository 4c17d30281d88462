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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from kubelint_svc import pool
from kubelint_svc.cache import Cache, KeptDocuments, key_of, settled, stamp_of
from kubelint_svc.checks.api import RunContext
from kubelint_svc.composing import MAX_NODES, Stream
from kubelint_svc.engine import Registry
from kubelint_svc.file_reads import MAX_FILE_BYTES, Problem, UnreadableFile, decode, read_bounded
from kubelint_svc.findings import Edit, Finding, Fix, Note, ObjectRef
from kubelint_svc.header_only import FULL, HEADER, HEADER_KEYS, SKIP, Wants
from kubelint_svc.identity import tool_fingerprint
from kubelint_svc.index import INDEX_KINDS
from kubelint_svc.inputs import InputFile
from kubelint_svc.kinds import KNOWN_POD_TEMPLATE_KINDS, PodTemplateKind, is_builtin_group
from kubelint_svc.loader import parse_stream
from kubelint_svc.model import NodeSource, Resource, resources_of
from kubelint_svc.paths import resolved
from kubelint_svc.placeholders import may_hold_placeholders, template_problems
from kubelint_svc.suppressions import Suppression, comment_suppressions
from kubelint_svc.units.common import Plan, normal
from kubelint_svc.units.kustomize.light_view import KustomizeIndex, Transform, apply_transform


def index_kinds(pod_templates: tuple[PodTemplateKind, ...] = ()) -> frozenset[str]:
    """The kinds the index reads whole: Pods, what makes them (custom kinds that do included),
    Services and their endpoints, and what names deploy targets."""
    return INDEX_KINDS | {k.kind for k in (*KNOWN_POD_TEMPLATE_KINDS, *pod_templates)}


def wants_of(registry: Registry, pod_templates: tuple[PodTemplateKind, ...] = ()) -> Wants | None:
    """What a run needs of a document, by kind: whole for the kinds rules or the index read
    (custom kinds whose Pods it reads included), the header of any other (custom resources are
    indexed by it); None: every document whole."""
    kinds = registry.kinds_read_whole()
    if kinds is None:
        return None
    whole = kinds | index_kinds(pod_templates)

    def wants(kind: str, api_version: str) -> str:
        return FULL if kind in whole or kind.endswith("List") else HEADER

    return wants


# built-in kinds a context file is read for, header only: a custom resource's CRD is found by its
# name (custom-resource-schema), and is mostly in another file than the one committed
CONTEXT_HEADER_KINDS = ("CustomResourceDefinition",)


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
    index_kinds: frozenset[str] = INDEX_KINDS  # context files are read whole for these and the cross-object kinds
    # each path's real one, resolved once a run (a path is named again by units, keys and objects)
    _real: dict[Path, Path | None] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    # an editor's unsaved texts by real path: read instead of the disk, never kept in the cache
    buffers: Mapping[Path, bytes] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    resolve: Callable[[Path], Path | None] = dataclasses.field(default=resolved, compare=False, repr=False)
    # the files this run's builds parsed, by version: a file a build judges is not parsed again
    documents: KeptDocuments | None = dataclasses.field(default=None, compare=False, repr=False)
    # each named path's normal one (units.common.normal), as the run found it before planning
    normals: dict[Path, Path] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def real_path(self, source: InputFile) -> Path | None:
        """The file's real path (or the path as named when it cannot be resolved: it is then
        reported unreadable); None for standard input."""
        if source.path is None or source.refused is not None:
            return source.path
        if source.path not in self._real:
            self._real[source.path] = source.real or self.resolve(source.path) or source.path
        return self._real[source.path]

    def unit_of(self, source: InputFile) -> str:
        """The apply unit: the file's real path (so context and linted paths compare), or "-"."""
        return str(self.real_path(source)) if source.path is not None else "-"

    @classmethod
    def for_run(cls, registry: Registry, run: RunContext, stdin: Callable[[], bytes], store: Cache | None,
                kept: KeptDocuments | None = None, buffers: Mapping[Path, bytes] | None = None,
                resolve: Callable[[Path], Path | None] = resolved) -> Reading:
        """buffers: an editor's unsaved texts by real path; resolve: real paths as paths.resolved gives
        them (paths.RealPaths: once a folder)."""
        fingerprint = key_of(tool_fingerprint(), repr(run.settings), registry.fingerprint(),
                             f"{MAX_FILE_BYTES} {MAX_NODES}") if store is not None else ""
        return cls(registry, KustomizeIndex(kept), stdin, wants_of(registry, run.settings.pod_templates), cache=store,
                   fingerprint=fingerprint, index_kinds=index_kinds(run.settings.pod_templates),
                   buffers=buffers or {}, resolve=resolve, documents=kept)

    def for_context(self) -> Reading:
        """Files read only for the index and the rules that look across objects: documents they
        do not need are not parsed at all (one-object rules, `schema` above all, never run on them)."""
        if self.wants is None:
            return replace(self, context=True)
        linted = self.wants
        cross = self.registry.kinds_read_whole(cross_object_only=True)

        def wants(kind: str, api_version: str) -> str:
            decision = linted(kind, api_version)
            if decision == FULL and cross is not None and kind not in cross | self.index_kinds \
                    and not kind.endswith("List"):
                decision = HEADER
            if decision == HEADER and is_builtin_group(api_version) and kind not in CONTEXT_HEADER_KINDS:
                return SKIP
            return decision

        return replace(self, wants=wants, context=True)


@dataclass
class Loaded:
    """What reading one file gave: findings on the YAML itself, suppression comments, the
    objects, and (for a linted file) what the one-object rules found on each."""

    findings: list[Finding] = dataclasses.field(default_factory=list)
    comments: list[Suppression] = dataclasses.field(default_factory=list)
    resources: list[Resource] = dataclasses.field(default_factory=list)
    judged: list[list[Finding]] | None = None  # one list per resource; None: not judged
    text: Callable[[], str] | None = None  # the file's text (as read, or read again when asked)


def load_all(sources: list[InputFile], units: Plan, reading: Reading, run: RunContext | None) -> list[Loaded]:
    """Every file as its unit sees it, in order: set aside (with its note), read only for its
    YAML problems and comments when a build judges its objects, or linted as written (and
    judged one object at a time when run is given). What the cache does not hold is read in
    a pool of processes when there is enough of it to pay for one (see pool.pool_size)."""
    results: list[Loaded | None] = []
    jobs: list[tuple[int, _Job]] = []
    for source in sources:
        found = _set_aside_or_cached(source, units, reading, run)
        if isinstance(found, _Job):
            jobs.append((len(results), found))
            results.append(None)
        else:
            results.append(found)
    workers = pool.pool_size([job.size for _, job in jobs])
    if workers > 1:
        pending = [job for _, job in jobs]
        done = pool.in_pool(workers, pending, [job.size for job in pending], partial(_read_in_worker, reading=reading,
                                                                                    run=run))
        for (index, job), read in zip(jobs, done, strict=True):
            results[index] = _kept(job, read if read is not None else _read_job(job, reading, run), reading, run)
    else:
        for index, job in jobs:
            results[index] = _kept(job, _read_job(job, reading, run), reading, run)
    return [found for found in results if found is not None]


@dataclass(frozen=True)
class _Job:
    """A file to read anew: its entry's key and stamp (None without a cache), its size, and the
    digest of the bytes its entry was made from (the same bytes again: nothing is parsed)."""

    source: InputFile
    role: str
    key: str | None = None
    stamp: tuple[int, ...] | None = None
    size: int = 0
    digest: str | None = None


@dataclass(frozen=True)
class FileEntry:
    """What the cache keeps of one file: its stamp and the time it was read (see cache.settled),
    the digest of its bytes (None: it could not be read) and what reading it gave, as plain
    data (_plain_loaded). Stored as a plain mapping (`plain`), read back by `from_stored`."""

    stamp: tuple[int, ...] | None
    read_at: int | None
    digest: str | None
    loaded: Any = None

    def plain(self) -> dict[str, Any]:
        return {"stamp": self.stamp, "read_at": self.read_at, "digest": self.digest, "loaded": self.loaded}

    @classmethod
    def from_stored(cls, stored: Any) -> FileEntry | None:
        """The entry a stored value holds; None for no mapping. A field of another shape (signed,
        so ours, but written by another layout of this code) is None: it matches nothing."""
        if not isinstance(stored, dict):
            return None
        stamp, read_at, digest = stored.get("stamp"), stored.get("read_at"), stored.get("digest")
        return cls(tuple(stamp) if isinstance(stamp, list | tuple) else None,
                   read_at if isinstance(read_at, int) else None,
                   digest if isinstance(digest, str) else None, stored.get("loaded"))


@dataclass
class _Read:
    """A file read anew: the entry to keep; same: its bytes were those the job's entry was made
    from (nothing was parsed); live: the objects, when read in this process (a worker gives
    back the entry only)."""

    entry: FileEntry
    same: bool = False
    live: Loaded | None = None


def _set_aside_or_cached(source: InputFile, units: Plan, reading: Reading, run: RunContext | None) -> Loaded | _Job:
    path = (reading.normals.get(source.path) or normal(source.path)) \
        if source.path is not None and source.refused is None else None
    if path is not None and path in units.set_aside:
        rule, message = units.set_aside[path]
        problems = [Problem(rule, message, 1, 1)] if rule is not None else []
        return Loaded(reading.registry.loader_findings(problems, source.display))
    role = "in-build" if path is not None and path in units.in_build else "context" if reading.context else "linted"
    if path is None or source.path is None:  # standard input, or a path refused: nothing to keep
        return _load(source, reading, run)
    buffer = reading.buffers.get(reading.real_path(source) or path) if reading.buffers else None
    if buffer is not None:  # the disk's stamp says nothing of an unsaved text
        return _in_role(_load(source, reading, run if role == "linted" else None, buffer, role), role)
    try:
        info = os.stat(source.path)
    except (OSError, ValueError):
        return _load(source, reading, run)  # reported unreadable
    store = reading.cache
    stamp = stamp_of(info)
    if store is None:
        unread = _judged_by_builds(source.path, stamp, reading) if role == "in-build" else None
        return unread or _Job(source, role, stamp=stamp, size=info.st_size)
    key = key_of(reading.fingerprint, role, source.display, reading.unit_of(source),
                 repr(_transform(source, reading, role)))
    entry = FileEntry.from_stored(store.get(key))
    file = source.path
    if entry is not None and settled(stamp, entry.stamp, entry.read_at):
        found = _entry_loaded(entry, lambda: _text_of(file))
        if found is not None:
            store.hits += 1
            store.unread += 1
            return _in_role(found, role)
    # read anew; the same bytes (touched, checked out again), if so, keep the entry
    return _Job(source, role, key, stamp, info.st_size, entry.digest if entry is not None else None)


def _judged_by_builds(file: Path, stamp: tuple[int, ...], reading: Reading) -> Loaded | None:
    """What a file a build judges gives, without reading it, when a build of this run parsed it as
    it is now (its stamp) and no comment of it can suppress anything: a build's parse is of the
    bytes it stamped (the same stamp before and after reading them), and refuses any YAML problem,
    so those bytes give no finding; their text is read again only if a finding shows a line of it.
    No comment counts when the text holds no SUPPRESSION_MARK (known when the build read the text
    too) or its documents are no manifest (as _parsed_by_builds). None: read the file."""
    documents = reading.documents
    if documents is None:
        return None
    mark = documents.suppression_mark_at(stamp)
    if mark is None:
        data = documents.parsed_at(stamp)
        if data is None or _may_be_commented(data):
            return None
    elif mark:
        return None
    return Loaded(text=lambda: _text_of(file))


def _may_be_commented(data: list[Any]) -> bool:
    """Could a comment of a file whose documents' data this is count? Not when it is no manifest
    (a kustomization, a JSON patch): as _not_a_manifest, such a file gives no comments."""
    return not data or any(isinstance(each, dict) and ("kind" in each or "apiVersion" in each) for each in data)


def _read_job(job: _Job, reading: Reading, run: RunContext | None) -> _Read:
    """The job's file read anew (in this process or a worker), with its cache entry."""
    read_at = time.time_ns()
    try:
        raw = read_bounded(job.source.path) if job.source.path is not None else b""
    except UnreadableFile:
        raw = None
    if raw is not None and job.digest is not None and key_of(raw) == job.digest:
        return _Read(FileEntry(job.stamp, read_at, job.digest), same=True)
    judge = run if job.role == "linted" else None
    loaded = (_parsed_by_builds(job, reading, raw) if job.role == "in-build" else None) \
        or _load(job.source, reading, judge, raw, job.role)
    if raw is None:  # nothing to keep; but a worker must still give back the file-unreadable finding
        plain = _plain_loaded(loaded) if job.key is not None else None
        return _Read(FileEntry(job.stamp, read_at, None, plain), live=loaded)
    if job.key is None:  # nothing to keep
        return _Read(FileEntry(job.stamp, read_at, None), live=loaded)
    return _Read(FileEntry(job.stamp, read_at, key_of(raw), _plain_loaded(loaded)), live=loaded)


def _parsed_by_builds(job: _Job, reading: Reading, raw: bytes | None) -> Loaded | None:
    """What a file a build judges gives (its comments), without parsing it again when a build of
    this run parsed it as it is now (the same stamp before and after its bytes were read): that
    parse refuses a file with any YAML problem, so this one has none. None: read it in full."""
    path = job.source.path
    data = reading.documents.parsed_at(job.stamp) if reading.documents is not None and job.stamp else None
    if data is None or raw is None or path is None:
        return None
    try:
        if stamp_of(os.stat(path)) != job.stamp:
            return None  # changed meanwhile: these bytes need not be those parsed
    except (OSError, ValueError):
        return None
    text, problem = decode(raw)
    if problem is not None or text is None:
        return None
    loaded = Loaded(text=lambda: text)
    if not _may_be_commented(data):
        return loaded  # not a manifest (a kustomization, a JSON patch): no comments, as _not_a_manifest
    loaded.comments = comment_suppressions(text, job.source.display)
    return loaded


def _kept(job: _Job, read: _Read, reading: Reading, run: RunContext | None) -> Loaded:
    """What a job gave, stored in the cache (unless the file could not be read); as live objects
    when read here, rebuilt when from a worker, or from the entry when the bytes were those it
    was made from (then stamped anew)."""
    entry, live = read.entry, read.live
    store, path = reading.cache, job.source.path
    if read.same and store is not None and job.key is not None:
        previous = FileEntry.from_stored(store.get(job.key))
        found = _entry_loaded(previous, lambda: _text_of(path) if path is not None else "") \
            if previous is not None and previous.digest == entry.digest else None
        if previous is None or found is None:  # the entry went (another run) or was damaged meanwhile: read in full
            return _kept(job, _read_job(replace(job, digest=None), reading, run), reading, run)
        store.hits += 1
        store.put(job.key, replace(previous, stamp=entry.stamp, read_at=entry.read_at).plain())
        return _in_role(found, job.role)
    if store is not None and job.key is not None and entry.digest is not None:
        previous = FileEntry.from_stored(store.get(job.key))
        if previous is not None and previous.digest == entry.digest:
            store.hits += 1  # the same bytes, touched: the entry is stamped anew
        else:
            store.misses += 1
        store.put(job.key, entry.plain())
    if live is None:
        # a file the worker could not read has no text (its finding shows no source line)
        text = (lambda: _text_of(path)) if path is not None and entry.digest is not None else None
        found = _entry_loaded(entry, text)
        live = found if found is not None else Loaded()
    return _in_role(live, job.role)


def _in_role(loaded: Loaded, role: str) -> Loaded:
    """A file a build judges gives its YAML problems and comments only."""
    return Loaded(loaded.findings, loaded.comments, text=loaded.text) if role == "in-build" else loaded


def _read_in_worker(job: _Job, reading: Reading, run: RunContext | None) -> _Read:
    """What a worker of the pool gives back: the entry, as plain data even without a cache (as the
    cache keeps it), without the live objects (they are not pickled)."""
    return replace(_read_job(replace(job, key=job.key or "pool"), reading, run), live=None)


def _entry_loaded(entry: FileEntry, text: Callable[[], str] | None) -> Loaded | None:
    """What a cache entry holds, or None for an entry of another shape (signed, so ours, but
    written by another layout of this code)."""
    try:
        return _loaded_from(entry.loaded, text)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return None


def _text_of(path: Path) -> str:
    """A file's text, read again for the positions of a finding on an object the cache gave."""
    try:
        return decode(read_bounded(path))[0] or ""
    except UnreadableFile:
        return ""


def _load(source: InputFile, reading: Reading, run: RunContext | None, raw: bytes | None = None,
          role: str = "linted") -> Loaded:
    registry = reading.registry
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
    loaded.text = lambda: text
    stream = parse_stream(text, keep_nodes=False, wants=reading.wants, check_skipped=not reading.context)
    if _not_a_manifest(stream):
        return loaded  # a CI config, Helm values, a rule file: no findings at all
    loaded.comments = comment_suppressions(text, source.display)
    # node trees are not kept: NodeSource composes a document again only when a finding needs a position
    loaded.findings = registry.loader_findings(template_problems(stream.problems, text), source.display)
    transform = _transform(source, reading, role)
    placeholders = may_hold_placeholders(text)
    # helm template output: from standard input, findings name the templates (as helm does);
    # committed to a file, they point into that file and name the template in the message
    from_stream = source.path is None
    node_source = NodeSource(text)
    for document in stream.documents:
        file = (document.helm_source if from_stream else None) or source.display
        for p in document.problems:
            line = max(1, p.line - document.line_offset) if from_stream and document.helm_source else p.line
            # helm's output is generated: a repeated key there is fixed in the chart, not by --fix
            removable = p.removable and not document.helm_source
            loaded.findings.extend(registry.loader_findings([replace(p, line=line, removable=removable)], file))
        for resource in resources_of(document, source.display, node_source, attribute_to_template=from_stream):
            if resource is not document.data and reading.wants is not None and \
                    reading.wants(resource.kind, resource.api_version) != FULL:
                # an item of a List (a ConfigMapList of dashboards) no rule reads beyond its header
                resource.body = {key: value for key, value in resource.body.items() if key in HEADER_KEYS}
                resource.header_only = True
            resource.may_hold_placeholders = placeholders
            resource.unit = reading.unit_of(source)
            if transform is not None:
                resource.is_patch = transform.is_patch
                apply_transform(resource, transform)
            loaded.resources.append(resource)
    if run is not None:
        loaded.judged = [list(registry.check_resource(resource, run, cross=False)) for resource in loaded.resources]
    return loaded


def _not_a_manifest(stream: Stream) -> bool:
    """Was every document read, and none names a kind or an apiVersion? (A document that could
    not be read might have been a manifest: its problems are reported.)"""
    return bool(stream.documents) and not stream.problems and not any(
        (isinstance(document.data, dict) and ("kind" in document.data or "apiVersion" in document.data))
        or (document.data is None and document.problems)
        for document in stream.documents
    )


def _transform(source: InputFile, reading: Reading, role: str) -> Transform | None:
    """The light kustomize view of the file's objects; none for a file a build judges (its objects
    are the build's: it gives its YAML problems and comments alone, which no view changes)."""
    if reading.kustomize is None or source.path is None or role == "in-build":
        return None
    return reading.kustomize.transform_for(source.path, reading.real_path(source))


# --- cache entries: plain data (see cache.py) -----------------------------------------------

_FINDING_FIELDS = tuple(field.name for field in dataclasses.fields(Finding))
_RESOURCE_FIELDS = ("api_version", "kind", "body", "file", "line_offset", "unit", "is_patch",
                    "may_hold_placeholders", "rendered_from", "header_only")


def _plain_finding(finding: Finding) -> tuple[Any, ...]:
    fields = {name: getattr(finding, name) for name in _FINDING_FIELDS}
    if fields["object"] is not None:
        fields["object"] = dataclasses.astuple(fields["object"])
    fields["notes"] = tuple(dataclasses.astuple(note) for note in fields["notes"])
    if fields["fix"] is not None:
        fields["fix"] = dataclasses.astuple(fields["fix"])
    return tuple(fields.values())


def _finding_from(values: tuple[Any, ...]) -> Finding:
    fields = dict(zip(_FINDING_FIELDS, values, strict=True))
    if fields["object"] is not None:
        fields["object"] = ObjectRef(*fields["object"])
    fields["notes"] = tuple(Note(*note) for note in fields["notes"])
    fields["help"] = tuple(fields["help"])
    if fields["fix"] is not None:
        safety, title, edits, refused = fields["fix"]
        fields["fix"] = Fix(safety, title, tuple(Edit(*edit) for edit in edits), refused)
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


def _loaded_from(stored: dict[str, Any], text: Callable[[], str] | None) -> Loaded:
    node_source = NodeSource(text or str)
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
        None if judged is None else [[_finding_from(f) for f in found] for found in judged], text,
    )


