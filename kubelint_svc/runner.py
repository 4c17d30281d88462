"""Runner: wires inputs -> loader -> model -> engine for one run, and returns its findings."""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kubelint_svc.cache import Cache, key_of
from kubelint_svc.checks.api import RunContext
from kubelint_svc.engine import Registry
from kubelint_svc.file_reads import MAX_FILE_BYTES, Problem, UnreadableFile, decode, read_bounded
from kubelint_svc.findings import Finding, Report
from kubelint_svc.identity import tool_fingerprint
from kubelint_svc.inputs import InputFile
from kubelint_svc.loader import parse_stream
from kubelint_svc.model import NodeSource, Resource, resources_of
from kubelint_svc.paths import RealPaths, is_inside, refusal, resolved
from kubelint_svc.placeholders import may_hold_placeholders
from kubelint_svc.reading import Reading, _finding_from, _plain_finding, load_all
from kubelint_svc.settings import Settings
from kubelint_svc.settling import FileRules, settled
from kubelint_svc.suppressions import (
    YAML_LINE_BREAK,
    Suppression,
    comment_suppressions,
    object_suppression,
)
from kubelint_svc.units.built import BuiltResource, SourceFiles, built_resources
from kubelint_svc.units.common import KUSTOMIZATION_NAMES, HelmOptions, Plan, kustomization_file, normal, plain_plan
from kubelint_svc.units.rendered import RenderedResource, TemplateMap, chart_helpers, rendered_text_of
from kubelint_svc.units.stored import StoredOutputs

if TYPE_CHECKING:
    from kubelint_svc.units.kustomize.engines import Build

__all__ = ["KeptUnits", "Report", "Settings", "lint_files", "lint_with_objects"]


@dataclass
class KeptUnits:
    """A run's plan of builds and renders and the real paths it found, for the next run of the same
    files while nothing on disk changed (the editor server's, app.Reuse): builds and renders read
    the saved files, never an editor's buffers, so a buffer's edit leaves them as they were."""

    files: tuple[Path, ...] = ()
    units: Plan | None = None
    real_paths: RealPaths = field(default_factory=RealPaths)


def read_stdin() -> bytes:
    return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)  # one byte past the limit says it is too large


UNREADABLE_RULES = ("yaml-syntax", "yaml-limit-exceeded", "yaml-encoding", "file-unreadable")
RUN_COLLECTION_THRESHOLD = 100_000  # new objects between two passes of the cyclic collector, at least, in a run


def lint_files(
    inputs: list[InputFile],
    settings: Settings,
    registry: Registry,
    stdin: Callable[[], bytes] = read_stdin,
    context: list[InputFile] | None = None,
    cache: Cache | None = None,
    file_rules: FileRules | None = None,
) -> Report:
    """Lint inputs; context files are read into the index too but never reported on. With a
    cache, files whose bytes (and everything else their reading depends on) are unchanged are
    not read again: their objects and one-object findings come from it. file_rules: the rules of
    each file's own configuration, when they are not the registry's (see settling.settled)."""
    return lint_with_objects(inputs, settings, registry, stdin, context, cache, file_rules)[0]


def lint_with_objects(
    inputs: list[InputFile],
    settings: Settings,
    registry: Registry,
    stdin: Callable[[], bytes] = read_stdin,
    context: list[InputFile] | None = None,
    cache: Cache | None = None,
    file_rules: FileRules | None = None,
    buffers: Mapping[Path, bytes] | None = None,
    kept: KeptUnits | None = None,
) -> tuple[Report, RunContext]:
    """lint_files(), and the run's objects and index, for the views that draw or derive from them
    (expose, graph). buffers: an editor's unsaved texts by real path, read instead of those files.
    kept: the plan to use when it is of these files, else the one made here is kept in it."""
    # A run allocates millions of small, long-lived objects; with the default thresholds the
    # cyclic collector walks them again and again (40% of the time on a large stream). Rarer
    # collections keep the speed without letting cyclic garbage pile up. Rarer ones set by the
    # caller stay (a lint command's process: front_door.py): lowered again when the run ends,
    # the thresholds would make the collector walk at once all the young objects the run left.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], RUN_COLLECTION_THRESHOLD), 50, 1000)
    try:
        return _lint(inputs, settings, registry, stdin, context, cache, file_rules, buffers, kept)
    finally:
        gc.set_threshold(*thresholds)


def _lint(
    inputs: list[InputFile],
    settings: Settings,
    registry: Registry,
    stdin: Callable[[], bytes],
    context: list[InputFile] | None,
    cache: Cache | None,
    file_rules: FileRules | None,
    buffers: Mapping[Path, bytes] | None = None,
    kept: KeptUnits | None = None,
) -> tuple[Report, RunContext]:
    report = Report()
    gathered: list[Finding] = []  # every finding of the run, settled once at its end
    run = RunContext(settings)
    # files linted as written still get their kustomizations' light view: patches set aside,
    # labels and namespaces merged (every file with `--kustomize off`; else those no build judges)
    # with no cache too: its documents are the run's parse of each file, shared by every build
    stored = StoredOutputs(cache, tool_fingerprint() if cache is not None else "")
    real_paths = kept.real_paths if kept is not None else RealPaths()
    reading = Reading.for_run(registry, run, stdin, cache, stored.documents, buffers, real_paths.of)
    run.cache, run.fingerprint = cache, reading.fingerprint
    linted: dict[Path, InputFile] = {}
    for source in inputs:
        if source.path is not None and source.refused is None:
            linted.setdefault(source.normal or normal(source.path), source)
    known: dict[Path, InputFile] = dict(linted)
    context_files: list[InputFile] = []
    read = {reading.real_path(source) for source in linted.values()}  # each file once, however named
    for source in context or []:
        if source.path is not None and source.refused is None:
            path = source.normal or normal(source.path)
            if path in known:
                continue
            real = reading.real_path(source)
            if real in read:
                continue
            read.add(real)
            known[path] = source
            context_files.append(source)
    units = _plan_of(list(known), settings, stored, real_paths, kept)
    reading.normals.update((source.path, path) for path, source in known.items() if source.path is not None)
    display = _Displays(known)
    run.target_roots = frozenset(str(real_paths.of(done.root) or done.root) for done in units.builds)
    comments: list[Suppression] = []
    context_findings: list[Finding] = []
    judged: dict[int, list[Finding]] = {}  # id of an object -> what the one-object rules found on it
    texts: dict[str, Callable[[], str]] = {}  # each linted file's text: the source lines of its findings
    report.files += len(inputs)
    report.complete = units.complete
    for source, loaded in zip(inputs, load_all(inputs, units, reading, run), strict=True):
        if loaded.text is not None:
            texts[source.display] = loaded.text
        gathered += loaded.findings
        comments += loaded.comments
        run.resources += loaded.resources
        for resource, found in zip(loaded.resources, loaded.judged or [], strict=False):
            judged[id(resource)] = found
    # a context file a build judges gives nothing: its objects are the build's, whose strict parse
    # refused any problem it could have had, and a context file's comments suppress nothing here
    # (a pre-commit run's 1,600 files of context, each a cache entry, are the builds')
    unjudged = [source for source in context_files if source.path is None or normal(source.path) not in units.in_build]
    for loaded in load_all(unjudged, units, reading.for_context(), None):
        context_findings += loaded.findings
        run.context_resources += loaded.resources
    beside = _named_by_kustomizations(units, display, set(linted))
    linted_displays = {source.display for source in inputs} | set(beside)
    named_displays = {source.display for source in inputs}
    for shown, path in beside.items():  # their findings show their lines too
        if shown not in texts:  # (each a linted file's mostly: a cached reader made for the others alone)
            texts[shown] = functools.cache(functools.partial(_text_of, path))
        if shown not in named_displays:  # and their comments silence them, as naming the folder does
            comments += comment_suppressions(texts[shown](), shown)
    built = _built_resources(units, display, set(linted))
    for resource, is_linted, _ in built:
        (run.resources if is_linted else run.context_resources).append(resource)
    for resource, is_linted in _rendered_resources(units, display, set(linted), reading, gathered, texts):
        (run.resources if is_linted else run.context_resources).append(resource)
    for note in units.notes:
        if normal(note.file) in linted or any(path in linted for path in note.covers):
            gathered.extend(registry.loader_findings([Problem(note.rule, note.message, 1, 1)],
                                                     display(note.file)))
    unreadable = [f for f in gathered + context_findings if f.rule in UNREADABLE_RULES]
    named = {f.file for f in unreadable}  # the folders of these alone: asking every file's costs a Path each
    folders = {source.display: os.path.dirname(reading.unit_of(source))
               for source in [*inputs, *context_files] if source.display in named}
    run.unreadable = sorted({(f.file, f.line, folders.get(f.file, "-")) for f in unreadable})
    # the run is final from here (its objects, context and unreadable documents): the rules judge it
    cross = _judge_the_rest(built, display, reading, run, judged)
    report.objects = len(run.resources)
    report.context_files, report.context_objects = len(context_files), len(run.context_resources)
    report.object_refs = [(resource.file, resource.ref()) for resource in run.resources]
    object_findings: list[Finding] = []
    shared: dict[tuple[object, ...], tuple[Finding, set[str]]] = {}
    rendered_seen: set[tuple[object, ...]] = set()
    for resource, across in zip(run.resources, cross, strict=True):
        one_object = judged[id(resource)]  # the one-object rules ran when the file was read, or before
        checked = across
        if isinstance(resource, (BuiltResource, RenderedResource)):
            checked = one_object + checked  # a build's or a render's: kept to linted files and shared, as below
        else:
            object_findings += one_object
        for finding in checked:
            if isinstance(resource, BuiltResource):
                if finding.file not in linted_displays:
                    continue  # a base or patch read only as context: its own run reports it
                # the same finding from several builds of one base: reported once, naming them
                key = (finding.rule, finding.file, finding.line, finding.column, finding.field, finding.severity)
                shared.setdefault(key, (finding, set()))[1].add(display(resource.root))
                continue
            if isinstance(resource, RenderedResource):
                object_findings += _rendered_once([finding], resource, rendered_seen)
                continue
            object_findings.append(finding)
    object_findings += [_naming_roots(finding, names) for finding, names in shared.values()]
    gathered.extend(object_findings)
    # a built object of a file no path names: its findings were left to the run naming it, and so is its annotation
    reported = [resource for resource in run.resources
                if not isinstance(resource, BuiltResource) or resource.file in linted_displays]
    suppressions = [*comments, *filter(None, map(object_suppression, reported))]
    report.findings = settled(gathered, registry, suppressions, file_rules)  # final from here on
    report.source_lines = _source_lines(report.findings, texts)
    stored.documents.save()
    return report, run


def _plan_of(files: list[Path], settings: Settings, stored: StoredOutputs, real_paths: RealPaths,
             kept: KeptUnits | None) -> Plan:
    if kept is not None and kept.units is not None and kept.files == tuple(files):
        return kept.units
    units = plain_plan(files, settings.kustomize)  # no kustomization, no chart: nothing to build
    if units is None:
        units = _planned(files, settings, stored, real_paths)
    if kept is not None:
        kept.files, kept.units = tuple(files), units
    return units


def _planned(files: list[Path], settings: Settings, stored: StoredOutputs, real_paths: RealPaths) -> Plan:
    """The plan of files holding a kustomization or a chart: units/plan.py (and kustomize's
    engines, subprocess, threads) imported only for these."""
    from kubelint_svc.units.plan import plan

    return plan(files, settings.kustomize, settings.helm_values,
                load_restrictor=settings.kustomize_load_restrictor,
                stored=stored, real_paths=real_paths,
                helm=HelmOptions(settings.helm_release, settings.namespace, settings.kubernetes_version))


MAX_SOURCE_LINE = 400  # characters of a source line kept past the last column a finding points at


def _source_lines(findings: list[Finding], texts: dict[str, Callable[[], str]]) -> dict[tuple[str, int], str]:
    """The lines findings and their notes point at, from the text as it was read, or read again
    when the cache spared reading it (bounded)."""
    wanted: dict[str, dict[int, int]] = {}  # file -> line -> the furthest column pointed at
    for finding in findings:
        for file, line, column in ((finding.file, finding.line, finding.column),
                                   *((note.file, note.line, note.column) for note in finding.notes)):
            if file in texts:
                columns = wanted.setdefault(file, {})
                columns[line] = max(columns.get(line, 0), column)
    found = {}
    for file, numbers in wanted.items():
        lines = YAML_LINE_BREAK.split(texts[file](), max(numbers))  # CR alone, NEL and LS end lines too
        for number, column in numbers.items():
            if 0 < number <= len(lines):  # a long line (minified JSON) is kept up to a little past its spans
                found[(file, number)] = lines[number - 1][:column + MAX_SOURCE_LINE]
    return found


class _Displays:
    """How findings name a file: as the user named it, else relative to the working directory."""

    def __init__(self, known: dict[Path, InputFile]) -> None:
        self._known = {path: source.display for path, source in known.items()}
        self._cwd = Path.cwd()
        self._shown: dict[Path, str] = {}  # each path named once a run: the builds name a base's files again and again

    def __call__(self, path: Path) -> str:
        shown = self._shown.get(path)
        if shown is None:
            shown = self._shown[path] = self._named(path)
        return shown

    def _named(self, path: Path) -> str:
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


def _named_by_kustomizations(units: Plan, display: _Displays, linted: set[Path]) -> dict[str, Path]:
    """The files in a linted kustomization's folder that its builds read (its patches, its own
    resources), by how findings name them: naming overlays/prod/kustomization.yaml reports what
    naming overlays/prod does."""
    found: dict[str, Path] = {}
    # a base's files are read by the builds of each of its overlays: each path seen once, as text
    # ending in a separator (a file is in a folder when its text starts with the folder's)
    texts: dict[Path, str] = {}
    folders: dict[Path, tuple[str, bool]] = {}  # a kustomization -> its folder, and is it linted?
    is_file: dict[Path, bool] = {}
    for done in units.builds:
        for path in done.files:
            if path not in texts:
                texts[path] = _folder_text(normal(path))
                if path.name in KUSTOMIZATION_NAMES:
                    folders[path] = (texts[path][:texts[path].rindex(os.sep, 0, -1) + 1], normal(path) in linted)
        kustomizations = [folders[path] for path in done.files if path in folders]
        named = tuple(folder for folder, is_linted in kustomizations if is_linted)
        if not named:
            continue
        # a build's paths are the files it read and the folders of its kustomizations: those folders
        # are its paths that are no file (a build that failed may have stopped short: each is asked)
        scanned = {folder for folder, _ in kustomizations}
        for path in done.files:
            if path in is_file or not texts[path].startswith(named):
                continue
            is_file[path] = path.is_file() if done.error else texts[path] not in scanned
            if is_file[path]:
                found[display(path)] = path
    return found


def _folder_text(path: Path) -> str:
    """A path as text ending in a separator, as a folder's is compared."""
    text = str(path)
    return text if text.endswith(os.sep) else text + os.sep


def _text_of(path: Path) -> str:
    """A file's text for the lines its findings show ("" when it can no longer be read)."""
    try:
        return decode(read_bounded(path))[0] or ""
    except UnreadableFile:
        return ""


def _built_resources(units: Plan, display: _Displays, linted: set[Path]) -> list[tuple[Resource, bool, Build]]:
    """(object, linted?, its build) for every object of every kustomize build; an object is linted
    when its build reads a linted file (findings are kept only for linted files)."""
    found: list[tuple[Resource, bool, Build]] = []
    sources = SourceFiles(display)
    linted_texts = {str(path) for path in linted}  # compared as text: 600 builds name 3,600 paths
    for done in units.builds:
        if done.error or done.skipped:
            continue
        root = str(done.root)
        is_linted = any(str(normal(path)) in linted_texts for path in done.files)
        chain = sorted((os.path.dirname(str(path)) != root, str(path), path) for path in done.files
                       if path.name in KUSTOMIZATION_NAMES)  # the root's first
        own = [path for elsewhere, _, path in chain if not elsewhere]
        # the root's kustomization, as its build read it (it was found on disk again for each build)
        kustomization = own[0] if len(own) == 1 else kustomization_file(done.root) or done.root
        found += [(resource, is_linted, done) for resource in
                  built_resources(done.objects, done.root, display(kustomization), sources,
                                  [path for _, _, path in chain])]
    return found


def _judge_the_rest(built: list[tuple[Resource, bool, Build]], display: _Displays, reading: Reading,
                    run: RunContext, judged: dict[int, list[Finding]]) -> list[list[Finding]]:
    """The one-object findings of the linted objects that reading their files did not give: of each
    build the cache holds, from the cache (its content digest names the bytes of every file it
    read: the same objects at the same lines; the run's fingerprint the rules and settings); the
    others' judged here, all at once (on every core when they are many), and each build's kept.
    Gives each linted object's cross-object findings, worked out in the same pass (its workers too)."""
    missed = _kept_build_findings(built, display, reading, judged)
    cross = reading.registry.object_findings(run.resources, run, judged)
    for key, resources in missed:
        assert reading.cache is not None
        reading.cache.put(key, [[_plain_finding(finding) for finding in judged[id(resource)]]
                                for resource in resources])
    return cross


def _kept_build_findings(built: list[tuple[Resource, bool, Build]], display: _Displays, reading: Reading,
                         judged: dict[int, list[Finding]]) -> list[tuple[str, list[Resource]]]:
    """Fills judged with the one-object findings of the linted objects of each build the cache
    holds; gives the cache key and the linted objects of each build it does not."""
    if reading.cache is None:
        return []
    groups: dict[int, tuple[Build, list[Resource]]] = {}
    for resource, is_linted, done in built:
        if is_linted and done.content is not None:
            groups.setdefault(id(done), (done, []))[1].append(resource)
    missed: list[tuple[str, list[Resource]]] = []
    for done, resources in groups.values():
        key = key_of(reading.fingerprint, "one-object findings of a build", done.content or "", str(done.root),
                     *sorted(display(path) for path in done.files), *(resource.file for resource in resources))
        stored = reading.cache.get(key)
        try:
            if isinstance(stored, list) and len(stored) == len(resources):
                found = [[_finding_from(tuple(values)) for values in each] for each in stored]
                judged.update((id(resource), each) for resource, each in zip(resources, found, strict=True))
                continue
        except (TypeError, ValueError, KeyError):
            pass  # another layout of this code: judged anew
        missed.append((key, resources))
    return missed


def _rendered_resources(
    units: Plan, display: _Displays, linted: set[Path], reading: Reading, findings: list[Finding],
    texts: dict[str, Callable[[], str]],
) -> list[tuple[Resource, bool]]:
    """The objects of each rendered Helm chart, located in their templates (units/rendered.py);
    texts gets each template's, for the source lines of findings."""
    found: list[tuple[Resource, bool]] = []
    registry = reading.registry
    sources = SourceFiles(display)
    for render in units.renders:
        is_linted = any(is_inside(path, normal(render.chart)) for path in linted)
        wants = (reading if is_linted else reading.for_context()).wants
        stream = parse_stream(render.text, keep_nodes=False, wants=wants)
        node_source = NodeSource(render.text)
        shown = display(render.chart / "Chart.yaml")
        helpers = functools.cache(functools.partial(chart_helpers, render.chart, sources.text, display))
        mapped: dict[int, TemplateMap] = {}  # first line of a template's render -> its lines
        for document in stream.documents:
            source = _template_file(render.chart, document.helm_source)
            template = display(source) if source is not None else shown
            if is_linted:
                rendered = [replace(problem, removable=False) for problem in document.problems]  # not the template's
                findings.extend(registry.loader_findings(rendered, template))
            if source is not None and document.line_offset not in mapped:
                written = functools.partial(sources.text, source)
                texts.setdefault(template, functools.partial(lambda read: read() or "", written))
                mapped[document.line_offset] = TemplateMap(
                    written, functools.partial(rendered_text_of, render.text, document.line_offset), helpers)
            for plain in resources_of(document, template, node_source):
                resource = RenderedResource(**{item.name: getattr(plain, item.name) for item in fields(Resource)},
                                            template_map=mapped.get(document.line_offset),
                                            values_file=render.values_file, chart=render.chart)
                resource.file = template
                resource.unit = f"helm:{render.chart}" + (f":{render.values_file}" if render.values_file else "")
                resource.may_hold_placeholders = may_hold_placeholders(render.text)
                found.append((resource, is_linted))
    return found


def _template_file(chart: Path, helm_source: str | None) -> Path | None:
    """The template file a render's `# Source: NAME/templates/x.yaml` names: NAME is the chart's
    name in its Chart.yaml, not its folder's, so the rest is taken under the chart's folder. A
    template writes its own text, `# Source:` lines too: one that leads out of the chart's folder
    (`..`, a link) names no file, and the object is placed at the chart's Chart.yaml."""
    parts = Path(helm_source).parts[1:] if helm_source else ()
    if not parts or any(part in ("..", "") for part in parts) or Path(helm_source or "").is_absolute():
        return None
    path = chart.joinpath(*parts)
    return path if refusal(path, resolved(chart) or chart) is None else None


def _rendered_once(findings: list[Finding], resource: RenderedResource, seen: set[tuple[object, ...]]
                   ) -> list[Finding]:
    """A rendered object's findings, each naming its helper and `ci/` values file; one a `ci/`
    render shares with the chart's default render (or another) is reported once."""
    kept = []
    for finding in findings:
        key = (finding.rule, finding.file, finding.line, finding.column, finding.field, finding.severity)
        if key not in seen:
            seen.add(key)
            kept.append(resource.explained(finding))
    return kept
