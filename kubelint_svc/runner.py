"""Runner: wires inputs -> loader -> model -> engine for one run, and returns its findings."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kubelint_svc.checks.api import RunContext
from kubelint_svc.engine import Registry
from kubelint_svc.findings import Finding, Report, sort_findings
from kubelint_svc.inputs import InputFile
from kubelint_svc.kustomize import KustomizeIndex, apply_transform
from kubelint_svc.loader import (
    MAX_FILE_BYTES,
    Problem,
    Stream,
    UnreadableFile,
    decode,
    parse_stream,
    read_bounded,
)
from kubelint_svc.model import NodeSource, Resource, resources_of
from kubelint_svc.paths import is_inside, resolved
from kubelint_svc.placeholders import may_hold_placeholders, template_problems
from kubelint_svc.settings import Settings
from kubelint_svc.suppressions import (
    Suppression,
    comment_suppressions,
    object_suppression,
)
from kubelint_svc.suppressions import apply as apply_suppressions
from kubelint_svc.units.built import BuiltResource, SourceFiles, built_resources
from kubelint_svc.units.kustomize import KUSTOMIZATION_NAMES, kustomization_file
from kubelint_svc.units.plan import Plan, normal, plan

__all__ = ["Report", "Settings", "lint"]


def read_stdin() -> bytes:
    return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)  # one byte past the limit says it is too large


UNREADABLE_RULES = ("yaml-syntax", "yaml-limit-exceeded", "yaml-encoding", "file-unreadable")


def lint(
    inputs: list[InputFile],
    settings: Settings,
    registry: Registry,
    stdin: Callable[[], bytes] = read_stdin,
    context: list[InputFile] | None = None,
) -> Report:
    """Lint inputs; context files are read into the index too but never reported on."""
    # A run allocates millions of small, long-lived objects; with the default thresholds the
    # cyclic collector walks them again and again (40% of the time on a large stream). Rarer
    # collections keep the speed without letting cyclic garbage pile up.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        return _lint(inputs, settings, registry, stdin, context)
    finally:
        gc.set_threshold(*thresholds)


def _lint(
    inputs: list[InputFile],
    settings: Settings,
    registry: Registry,
    stdin: Callable[[], bytes],
    context: list[InputFile] | None,
) -> Report:
    report = Report()
    run = RunContext(settings)
    linted: dict[Path, InputFile] = {}
    for source in inputs:
        if source.path is not None and source.refused is None:
            linted.setdefault(normal(source.path), source)
    known: dict[Path, InputFile] = dict(linted)
    context_files: list[InputFile] = []
    read = {_real_path(source) for source in linted.values()}  # each file once, however named
    for source in context or []:
        if source.path is not None and source.refused is None and normal(source.path) not in known:
            real = _real_path(source)
            if real in read:
                continue
            read.add(real)
            known[normal(source.path)] = source
            context_files.append(source)
    units = plan(list(known), settings.kustomize, settings.helm_values)
    display = _Displays(known)
    # files linted as written still get their kustomizations' light view: patches set aside,
    # labels and namespaces merged (every file with `--kustomize off`; else those no build judges)
    kustomize = KustomizeIndex()
    comments: list[Suppression] = []
    context_findings: list[Finding] = []
    texts: dict[str, str] = {}  # each linted file's text as read: the source lines of its findings
    for source in inputs:
        report.files += 1
        run.resources.extend(_load_unit_aware(source, units, registry, kustomize, stdin, report.findings, comments,
                                              texts))
    for source in context_files:
        run.context_resources.extend(_load_unit_aware(source, units, registry, kustomize, stdin, context_findings, []))
    linted_displays = {source.display for source in inputs}
    built = _built_resources(units, display, set(linted))
    for resource, is_linted in built:
        (run.resources if is_linted else run.context_resources).append(resource)
    for resource, is_linted in _rendered_resources(units, display, set(linted), registry, report.findings):
        (run.resources if is_linted else run.context_resources).append(resource)
    for note in units.notes:
        if normal(note.file) in linted or any(path in linted for path in note.covers):
            report.findings.extend(registry.loader_findings([Problem(note.rule, note.message, 1, 1)],
                                                            display(note.file)))
    folders = {source.display: os.path.dirname(_unit(source)) for source in [*inputs, *context_files]}
    run.unreadable = sorted(
        {
            (f.file, f.line, folders.get(f.file, "-"))
            for f in report.findings + context_findings
            if f.rule in UNREADABLE_RULES
        }
    )
    report.objects = len(run.resources)
    report.object_refs = [(resource.file, resource.ref()) for resource in run.resources]
    object_findings: list[Finding] = []
    shared: dict[tuple[object, ...], tuple[Finding, set[str]]] = {}
    for resource in run.resources:
        for finding in registry.check_resource(resource, run):
            if isinstance(resource, BuiltResource):
                if finding.file not in linted_displays:
                    continue  # a base or patch read only as context: its own run reports it
                # the same finding from several builds of one base: reported once, naming them
                key = (finding.rule, finding.file, finding.line, finding.column, finding.field, finding.severity)
                shared.setdefault(key, (finding, set()))[1].add(display(resource.root))
                continue
            object_findings.append(finding)
    object_findings += [_naming_roots(finding, names) for finding, names in shared.values()]
    report.findings.extend(object_findings)
    suppressions = [*comments, *filter(None, map(object_suppression, run.resources))]
    unused = registry["unused-suppression"].severity if registry.is_enabled("unused-suppression") else None
    report.findings = sort_findings(apply_suppressions(report.findings, suppressions, set(registry.rules), unused))
    report.source_lines = _source_lines(report.findings, texts)
    return report


MAX_SOURCE_LINE = 400  # characters of a source line kept for a report


def _source_lines(findings: list[Finding], texts: dict[str, str]) -> dict[tuple[str, int], str]:
    """The lines findings and their notes point at, from the text as it was read (bounded)."""
    wanted: dict[str, set[int]] = {}
    for finding in findings:
        for file, line in ((finding.file, finding.line), *((note.file, note.line) for note in finding.notes)):
            if file in texts:
                wanted.setdefault(file, set()).add(line)
    found = {}
    for file, numbers in wanted.items():
        lines = texts[file].split("\n", max(numbers))
        for number in numbers:
            if 0 < number <= len(lines):
                found[(file, number)] = lines[number - 1][:MAX_SOURCE_LINE].rstrip("\r")
    return found


class _Displays:
    """How findings name a file: as the user named it, else relative to the working directory."""

    def __init__(self, known: dict[Path, InputFile]) -> None:
        self._known = {path: source.display for path, source in known.items()}
        self._cwd = Path.cwd()

    def __call__(self, path: Path) -> str:
        shown = self._known.get(normal(path))
        if shown is not None:
            return shown
        try:
            return str(normal(path).relative_to(normal(self._cwd)))
        except ValueError:
            return str(normal(path))


def _naming_roots(finding: Finding, roots: set[str]) -> Finding:
    """One finding for every build that shares it, naming them when its file is a base of
    other folders' builds."""
    if len(roots) == 1 and (next(iter(roots)) in (".", "") or finding.file.startswith(next(iter(roots)) + os.sep)):
        return finding
    names = ", ".join(sorted(roots)[:4]) + (f" and {len(roots) - 4} more" if len(roots) > 4 else "")
    what = "the kustomize build of" if len(roots) == 1 else "the kustomize builds of"
    return replace(finding, message=f"{finding.message} (in {what} {names})")


def _built_resources(units: Plan, display: _Displays, linted: set[Path]) -> list[tuple[Resource, bool]]:
    """(object, linted?) for every object of every kustomize build; an object is linted when
    its build reads a linted file (findings are kept only for linted files)."""
    found: list[tuple[Resource, bool]] = []
    sources = SourceFiles(display)
    for done in units.builds:
        if done.error or done.skipped:
            continue
        kustomization = kustomization_file(done.root) or done.root
        is_linted = any(normal(path) in linted for path in done.files)
        chain = sorted((path for path in done.files if path.name in KUSTOMIZATION_NAMES),
                       key=lambda path: (path.parent != done.root, str(path)))  # the root's first
        found += [(resource, is_linted) for resource in
                  built_resources(done.objects, done.root, display(kustomization), sources, chain)]
    return found


def _rendered_resources(
    units: Plan, display: _Displays, linted: set[Path], registry: Registry, findings: list[Finding]
) -> list[tuple[Resource, bool]]:
    """The objects of each rendered Helm chart, attributed to their templates by `# Source:`."""
    found: list[tuple[Resource, bool]] = []
    for render in units.renders:
        is_linted = any(is_inside(path, normal(render.chart)) for path in linted)
        stream = parse_stream(render.text, keep_nodes=False)
        node_source = NodeSource(render.text)
        shown = display(render.chart / "Chart.yaml")
        for index, document in enumerate(stream.documents):
            template = display(render.chart.parent / document.helm_source) if document.helm_source else shown
            if is_linted:
                findings.extend(registry.loader_findings(document.problems, template))
            for resource in resources_of(document, template, (node_source, index)):
                resource.file = template
                resource.unit = f"helm:{render.chart}"
                resource.may_hold_placeholders = may_hold_placeholders(render.text)
                found.append((resource, is_linted))
    return found


def _real_path(source: InputFile) -> Path | None:
    if source.path is None or source.refused is not None:
        return source.path
    return resolved(source.path) or source.path  # a link loop: read as named, and reported unreadable


def _unit(source: InputFile) -> str:
    """The apply unit: the file's real path (so context and linted paths compare), or "-"."""
    return str(_real_path(source)) if source.path is not None else "-"


def _load_unit_aware(
    source: InputFile,
    units: Plan,
    registry: Registry,
    kustomize: KustomizeIndex | None,
    stdin: Callable[[], bytes],
    findings: list[Finding],
    comments: list[Suppression],
    texts: dict[str, str] | None = None,
) -> list[Resource]:
    """A file as its unit sees it: set aside (with its note), read only for its YAML problems
    and comments when a build judges its objects, or linted as written."""
    path = normal(source.path) if source.path is not None and source.refused is None else None
    if path is not None and path in units.set_aside:
        rule, message = units.set_aside[path]
        if rule is not None:
            findings.extend(registry.loader_findings([Problem(rule, message, 1, 1)], source.display))
        return []
    resources = _load(source, registry, kustomize, stdin, findings, comments, texts)
    return [] if path is not None and path in units.in_build else resources


def _load(
    source: InputFile,
    registry: Registry,
    kustomize: KustomizeIndex | None,
    stdin: Callable[[], bytes],
    findings: list[Finding],
    comments: list[Suppression],
    texts: dict[str, str] | None = None,
) -> list[Resource]:
    if source.refused is not None:
        findings.extend(registry.loader_findings([Problem("path-outside-tree", source.refused, 1, 1)], source.display))
        return []
    try:
        raw = stdin() if source.path is None else read_bounded(source.path)
    except (OSError, UnreadableFile) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        findings.extend(registry.loader_findings(
            [Problem("file-unreadable", f"cannot read file: {reason}", 1, 1)], source.display))
        return []
    text, problem = decode(raw)
    if problem is not None or text is None:
        findings.extend(registry.loader_findings([problem] if problem else [], source.display))
        return []
    assert text is not None  # decode() gives the text or a problem
    if texts is not None:
        texts[source.display] = text
    stream = parse_stream(text, keep_nodes=False)
    if _not_a_manifest(stream):
        return []  # a CI config, Helm values, a rule file: no findings at all
    comments.extend(comment_suppressions(text, source.display))
    # node trees are not kept: NodeSource composes a file again only when a finding needs a position
    findings.extend(registry.loader_findings(template_problems(stream.problems, text), source.display))
    transform = kustomize.transform_for(source.path) if kustomize is not None and source.path is not None else None
    placeholders = may_hold_placeholders(text)
    # helm template output: from standard input, findings name the templates (as helm does);
    # committed to a file, they point into that file and name the template in the message
    from_stream = source.path is None
    resources: list[Resource] = []
    node_source = NodeSource(text)
    for index, document in enumerate(stream.documents):
        file = (document.helm_source if from_stream else None) or source.display
        for p in document.problems:
            line = max(1, p.line - document.line_offset) if from_stream and document.helm_source else p.line
            findings.extend(registry.loader_findings([replace(p, line=line)], file))
        for resource in resources_of(document, source.display, (node_source, index), attribute_to_template=from_stream):
            resource.may_hold_placeholders = placeholders
            resource.unit = _unit(source)
            if transform is not None:
                resource.is_patch = transform.is_patch
                apply_transform(resource, transform)
            resources.append(resource)
    return resources


def _not_a_manifest(stream: Stream) -> bool:
    """Was every document read, and none names a kind or an apiVersion? (A document that could
    not be read might have been a manifest: its problems are reported.)"""
    return bool(stream.documents) and not stream.problems and not any(
        (isinstance(document.data, dict) and ("kind" in document.data or "apiVersion" in document.data))
        or (document.data is None and document.problems)
        for document in stream.documents
    )
