"""Runner: wires inputs -> loader -> model -> engine for one run, and returns its findings."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path

from kubelint_svc.checks.api import RunContext
from kubelint_svc.engine import Registry
from kubelint_svc.findings import Finding, Report, sort_findings
from kubelint_svc.inputs import InputFile
from kubelint_svc.kustomize import KustomizeIndex, apply_transform
from kubelint_svc.loader import (
    MAX_FILE_BYTES,
    Problem,
    UnreadableFile,
    decode,
    parse_stream,
    read_bounded,
)
from kubelint_svc.model import NodeSource, Resource, resources_of
from kubelint_svc.placeholders import may_hold_placeholders, template_problems
from kubelint_svc.settings import Settings
from kubelint_svc.suppressions import (
    Suppression,
    comment_suppressions,
    object_suppression,
)
from kubelint_svc.suppressions import apply as apply_suppressions

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
    kustomize = KustomizeIndex()
    linted = set()
    comments: list[Suppression] = []
    for source in inputs:
        report.files += 1
        linted.add(_real_path(source))
        run.resources.extend(_load(source, registry, kustomize, stdin, report.findings, comments))
    context_findings: list[Finding] = []
    for source in context or []:
        if source.path is not None and source.refused is None and _real_path(source) not in linted:
            linted.add(_real_path(source))  # each file once, however many ways it was named
            run.context_resources.extend(_load(source, registry, kustomize, stdin, context_findings, []))
    folders = {source.display: os.path.dirname(_unit(source)) for source in [*inputs, *(context or [])]}
    run.unreadable = sorted(
        {
            (f.file, f.line, folders.get(f.file, "-"))
            for f in report.findings + context_findings
            if f.rule in UNREADABLE_RULES
        }
    )
    report.objects = len(run.resources)
    report.object_refs = [(resource.file, resource.ref()) for resource in run.resources]
    for resource in run.resources:
        report.findings.extend(registry.check_resource(resource, run))
    suppressions = [*comments, *filter(None, map(object_suppression, run.resources))]
    unused = registry["unused-suppression"].severity if registry.is_enabled("unused-suppression") else None
    report.findings = sort_findings(apply_suppressions(report.findings, suppressions, set(registry.rules), unused))
    return report


def _real_path(source: InputFile) -> Path | None:
    if source.path is None or source.refused is not None:
        return source.path
    try:
        return source.path.resolve()
    except (OSError, RuntimeError):  # a link loop: read as named, and reported unreadable
        return source.path


def _unit(source: InputFile) -> str:
    """The apply unit: the file's real path (so context and linted paths compare), or "-"."""
    return str(_real_path(source)) if source.path is not None else "-"


def _load(
    source: InputFile,
    registry: Registry,
    kustomize: KustomizeIndex,
    stdin: Callable[[], bytes],
    findings: list[Finding],
    comments: list[Suppression],
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
    if problem is not None:
        findings.extend(registry.loader_findings([problem], source.display))
        return []
    assert text is not None  # decode() gives the text or a problem
    stream = parse_stream(text, keep_nodes=False)
    comments.extend(comment_suppressions(text, source.display))
    # node trees are not kept: NodeSource composes a file again only when a finding needs a position
    findings.extend(registry.loader_findings(template_problems(stream.problems, text), source.display))
    transform = kustomize.transform_for(source.path) if source.path is not None else None
    placeholders = may_hold_placeholders(text)
    resources: list[Resource] = []
    node_source = NodeSource(text)
    for index, document in enumerate(stream.documents):
        file = document.helm_source or source.display
        for p in document.problems:
            moved = Problem(p.rule, p.message, max(1, p.line - document.line_offset), p.column)
            findings.extend(registry.loader_findings([moved], file))
        for resource in resources_of(document, source.display, (node_source, index)):
            resource.may_hold_placeholders = placeholders
            resource.unit = _unit(source)
            if transform is not None:
                resource.is_patch = transform.is_patch
                apply_transform(resource, transform)
            resources.append(resource)
    return resources
