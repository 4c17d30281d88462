"""What is applied together, decided before anything is judged: kustomize roots among the files
read are built, Helm charts are rendered (when helm is installed), and files that are never
applied as written are set aside: chart templates, test assertions compared against a live
cluster, and manifests in a kustomize folder that no kustomization lists."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelint_svc import pool
from kubelint_svc.cache import KeptDocuments
from kubelint_svc.file_reads import MAX_FILE_BYTES, UnreadableFile, read_bounded
from kubelint_svc.identity import find_tool
from kubelint_svc.inputs import git_toplevel
from kubelint_svc.loader import YamlFileError, read_documents
from kubelint_svc.nested import mapping_items
from kubelint_svc.paths import GIT_DIRECTORY, RealPaths, is_inside, refusal, resolved
from kubelint_svc.schemas import served_kinds
from kubelint_svc.settings import jobs_from_environment
from kubelint_svc.units.common import (
    KUSTOMIZATION_NAMES,
    HelmOptions,
    Note,
    Plan,
    Render,
    chart_of,
    kustomization_data,
    kustomization_file,
    normal,
    plan_test_fixtures,
    referenced_by,
    repository_of,
)
from kubelint_svc.units.helm_sdk import request, sdk_present
from kubelint_svc.units.kustomize.engines import Build, build
from kubelint_svc.units.kustomize.scan import PathFacts
from kubelint_svc.units.process import run_tool
from kubelint_svc.units.proven import PROVEN_ENGINE, Proofs
from kubelint_svc.units.stored import Inclusions, StoredOutputs

if TYPE_CHECKING:
    import tarfile

BUILD_TIMEOUT = 60.0  # one root
BUILD_BUDGET = 180.0  # all the builds and renders of a run together
HELM_TIMEOUT = 60.0
CHART_FILES = 10_000  # entries of a chart folder checked before helm may read them
VALUES_SCHEMA = "values.schema.json"
_SCHEMA_REFERENCES = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})
_META_SCHEMA = re.compile(r"^https?://json-schema\.org/")


def plan(
    files: list[Path],
    kustomize: str = "auto",
    helm_values: tuple[str, ...] = (),
    jobs: int | None = None,
    confine: Path | None = None,
    stored: StoredOutputs | None = None,
    load_restrictor: str = "rootOnly",
    helm: HelmOptions | None = None,
    real_paths: RealPaths | None = None,
) -> Plan:
    """The units of the files read (normalised paths). confine: no build reads outside it.
    stored: builds and renders kept from earlier runs, used while what they read is unchanged.
    load_restrictor: rootOnly, or none (a kustomization may read files outside its folder)."""
    result = Plan()
    stored = stored or StoredOutputs(None, "")
    deadline = time.monotonic() + _budget_from_environment()  # one budget for every child process
    if kustomize != "off":
        _plan_kustomize(result, files, (kustomize, load_restrictor), jobs, confine, stored, deadline,
                        real_paths or RealPaths())
    _plan_charts(result, files, helm_values, stored, confine, deadline, helm or HelmOptions())
    plan_test_fixtures(result, files)
    result.complete = not any(_cut_short(done) for done in result.builds) \
        and not any(note.rule == "helm-chart-not-rendered" for note in result.notes)
    return result


def _cut_short(done: Build) -> bool:
    """A build skipped for time, or failed without the engine's verdict on its whole chain (a
    timeout, a tool that did not start; a name the scan refused counts too)."""
    return (done.skipped is not None and done.skipped.startswith("not built: ")) \
        or (done.error is not None and not done.answered)


def _plan_kustomize(
    result: Plan,
    files: list[Path],
    how: tuple[str, str],
    jobs: int | None,
    confine: Path | None,
    stored: StoredOutputs,
    deadline: float,
    real_paths: RealPaths,
) -> None:
    engine, restrictor = how
    kept_as = engine if restrictor == "rootOnly" else f"{engine} --load-restrictor {restrictor}"  # kept apart
    folders = list(dict.fromkeys(file.parent for file in files if file.name in KUSTOMIZATION_NAMES))
    facts = PathFacts()  # each path a build names looked at once, for every build that names it
    proofs = Proofs(functools.partial(_documents_of, stored=stored))  # each file's part proved once a run
    # auto builds with the fallback too when neither kubectl nor kustomize is on PATH (engines.build):
    # its builds are made in-process as the configured fallback's are, on both cores
    by_fallback = engine == "fallback" or (engine == "auto" and not any(map(find_tool, ("kubectl", "kustomize"))))

    def in_process(root: Path, fence: Path | None) -> Build | None:
        """root built by the fallback, when that build stands: with the fallback configured (or
        the only engine), else when it is proven alike (None: kubectl builds it, or the run's budget
        is spent: then it is not built, as build_before_deadline says)."""
        if deadline - time.monotonic() < 1:
            return None
        done = build(root, "fallback", confine=fence, load_restrictor=restrictor, kept=stored.documents, facts=facts)
        if by_fallback:
            return done
        return replace(done, engine=PROVEN_ENGINE) if proofs.unproven(done) is None else None

    # what any build of this run read was read after this (a build is kept only if older): the
    # kustomizations read to find the roots, builds made ahead in workers, and every build that takes
    # a folder's scan or build made earlier in the run
    started = time.time_ns()
    with _Helpers(functools.partial(_helper_task, stored, confine, facts, in_process), stored.documents) as helpers:
        roots = stored.roots(folders, confine, facts, functools.partial(helpers.scanned, stored, confine, facts))
        jobs = jobs or jobs_from_environment()
        fences = {root: confine or top for root, top in zip(roots, _repositories_of(roots, real_paths), strict=True)}
        # kept builds first, in this thread: a warm run validates each with one stat a file, no pool
        kept = {root: stored.kept(root, kept_as, fences[root]) for root in roots}
        missing = [root for root in roots if kept[root] is None]
        # auto with a real engine: the roots the fallback is proven to build alike are built in-process
        proving = engine == "auto" and bool(missing) and not by_fallback
        # in-process builds are bound to one core in threads: many are made in forked workers first
        ahead = _built_in_workers(missing, fences, in_process, helpers) if by_fallback or proving else {}
    workers = max(1, min(len(missing), jobs or 2 * (os.cpu_count() or 1)))  # mostly waiting on processes

    def build_before_deadline(root: Path) -> Build:
        """One root, within what is left of the run's budget: a pull request with hundreds of
        slow roots costs minutes, not hours."""
        fence = fences[root]
        made_ahead = ahead.get(root)
        if made_ahead is not None:
            return stored.build(root, kept_as, fence, lambda: made_ahead, started)
        left = deadline - time.monotonic()
        if left < 1:
            return Build(root, engine, [], set(), skipped=f"not built: {_spent()}")

        def make() -> Build:
            if proving and root not in ahead:  # a root a worker proved nothing of is not tried again
                done = in_process(root, fence)
                if done is not None:
                    return done
            return build(root, engine, timeout=min(BUILD_TIMEOUT, left), confine=fence, load_restrictor=restrictor,
                         kept=stored.documents, facts=facts)

        return stored.build(root, kept_as, fence, make, started)

    # a build made ahead is only kept, here (600 handed to threads took 30-40 ms); the others wait on
    # kustomize processes, in threads
    made = {root: build_before_deadline(root) for root in missing if ahead.get(root) is not None}
    left = [root for root in missing if root not in made]
    if left:
        with ThreadPoolExecutor(max_workers=min(workers, len(left))) as threads:
            made.update(zip(left, threads.map(build_before_deadline, left), strict=True))
    result.builds = [kept[root] or made[root] for root in roots]
    _after_builds(result, files, folders, engine, restrictor)


def _after_builds(result: Plan, files: list[Path], folders: list[Path], engine: str, restrictor: str) -> None:
    """The builds' notes, each file's builds, and the files no build reads that kustomize would
    apply or refuse (a patch of a component no root includes, a file no kustomization lists)."""
    normals: dict[Path, Path] = {}  # a base's paths are named by each of its overlays' builds: each made normal once

    def normal_of(path: Path) -> Path:
        found = normals.get(path)
        if found is None:
            found = normals[path] = normal(path)
        return found

    built_folders: set[Path] = set()
    for done in result.builds:  # a note's file looked for only when there is a note (600 stats a run)
        if done.skipped:
            result.notes.append(Note(_kustomization_of(done.root), "kustomize-not-built", done.skipped))
            continue  # its files are linted as written
        read = frozenset(map(normal_of, done.files))
        built_folders |= read
        if done.error:  # its files are linted as written: a file every build of which fails is still judged
            who = "the built-in kustomize fallback" if done.fallback_failed else "kustomize"
            message = f"{who} cannot build this: {shown_error(done.error)}"
            result.notes.append(Note(_kustomization_of(done.root), "kustomize-build-failed", message, read))
            continue
        for path in read:
            result.in_build.setdefault(path, []).append(done)
        if done.engine == "fallback":
            why = "as configured" if engine == "fallback" else "neither kubectl nor kustomize is on PATH"
            result.notes.append(
                Note(
                    _kustomization_of(done.root),
                    "kustomize-fallback",
                    (
                        f"built with kubelint-svc's built-in kustomize fallback ({why}); "
                        "it covers resources, namespace, prefixes, labels, images, replicas, replacements and patches: "
                        "install kubectl "
                        f"for exact builds{'; ignored: ' + '; '.join(done.warnings[:3]) if done.warnings else ''}"
                    ),
                )
            )
    # every name a built kustomization gives (generator files too): as the scan recorded them, or
    # read again where the scan stopped short (a name it refused)
    used = {normal_of(path) for done in result.builds if not done.skipped and (done.error is None or done.answered)
            for path in done.inputs}
    used |= {path for done in result.builds if not done.skipped and done.error is not None and not done.answered
             for file in done.files if file.name in KUSTOMIZATION_NAMES for path in referenced_by(file.parent)}
    for folder in folders:  # a component no root includes here: its patches are partial objects
        if normal(folder) not in built_folders:
            inside, outside = _listed_patches(folder, restrictor == "none")
            for patch in inside:
                result.set_aside.setdefault(patch, (None, "a kustomize patch: a partial object, merged elsewhere"))
            if outside:  # kustomize refuses them: said, and the files are linted as written
                result.notes.append(Note(
                    kustomization_file(folder) or folder / "kustomization.yaml", "kustomize-build-failed",
                    f"kustomize cannot build this: patch {', '.join(map(repr, outside[:3]))} is a file outside "
                    f"{folder.name}/, which kustomize refuses (a patch must lie in or below it)",
                    frozenset(normal(folder / path) for path in outside)))  # shown when a patch alone is linted
    for file in files:
        if file.name in KUSTOMIZATION_NAMES or file in result.in_build:
            continue
        if file.parent in built_folders and kustomization_file(file.parent) is not None and file not in used:
            result.set_aside[file] = (
                "kustomize-unlisted-file",
                (
                    "this folder is applied with `kubectl apply -k`, and no kustomization lists this file: it is part "
                    "of no build (list it under resources, or move it out of the folder)"
                ),
            )


def _kustomization_of(root: Path) -> Path:
    return kustomization_file(root) or root / "kustomization.yaml"


BUILDS_PER_WORKER = 50  # fewer in-process builds than this a core: forking workers costs more than it saves
# this process's share of the builds against a worker's: larger, as a worker's builds are written
# and read back once it made them all (300 builds: about 15 and 20 ms), and a worker pays for the
# pages it inherited as it first writes to each (about 5% more a build)
BUILDS_HERE = 1.1
FOLDERS_PER_WORKER = 100  # kustomizations read to find the roots: fewer a core, a worker costs more than it saves


class _Helpers:
    """Workers forked before the roots are found, when there are enough kustomizations to read: each
    reads the kustomizations of its share of the sorted folders while this process reads the last
    share, and then (_built_in_workers) builds its share of the sorted roots, most of whose chains
    it read already and keeps in its memory. The same worker answers both (pool.Session); work
    carries its data, as it was made before the fork. What a worker gives back with each answer:
    the files it parsed (kept: the run parses each once) and the kustomizations it read anew for
    the cache. Leaving the context ends them."""

    def __init__(self, work: Callable[[tuple[str, list[Any]]], Any], kept: KeptDocuments) -> None:
        self._work = work
        self._kept = kept
        self._running = contextlib.ExitStack()
        self.sessions: list[pool.Session] = []

    def __enter__(self) -> _Helpers:
        return self

    def __exit__(self, *exception: Any) -> None:
        self._running.__exit__(*exception)

    def fork(self, count: int) -> list[pool.Session]:
        """count workers: those forked already, and new ones."""
        while len(self.sessions) < count:
            self.sessions.append(self._running.enter_context(pool.Session(self._work)))
        return self.sessions[:count]

    def share(self, kind: str, items: list[Any], processes: int, last: Callable[[list[Any]], list[Any]],
              here: float = 1.0) -> list[tuple[list[Any], list[Any] | None]]:
        """Each share of items (side by side) with its answers: a worker's share each, then this
        process's, the last, answered by last(share); None for the share of a worker that died.
        here: this process's share against a worker's (it also reads the workers' answers)."""
        size = round(len(items) / (processes - 1 + here))
        shares = [items[start:start + size] for start in range(0, size * (processes - 1), size)]
        shares.append(items[size * (processes - 1):])
        sessions = self.fork(processes - 1)
        for session, each in zip(sessions, shares, strict=False):
            session.send((kind, each))
        mine = last(shares[-1])
        answers: list[list[Any] | None] = []
        for session in sessions:
            given = session.receive()
            if given is not None:
                self._kept.absorb(given[1], given[2])
            answers.append(given[0] if given is not None else None)
        return list(zip(shares, [*answers, mine], strict=True))

    def scanned(self, stored: StoredOutputs, confine: Path | None, facts: PathFacts, folders: list[Path]
                ) -> dict[Path, Inclusions]:
        """stored.inclusions of each folder, read by this process and (with enough of them, and
        cores) by workers forked now; a dead worker's share read here."""
        def here(each: list[Path]) -> list[Inclusions]:
            return [stored.inclusions(folder, confine, facts) for folder in each]

        processes = min(pool.cores(), len(folders) // FOLDERS_PER_WORKER)
        if processes < 2 or not pool.can_fork():
            return dict(zip(folders, here(folders), strict=True))
        found: dict[Path, Inclusions] = {}
        for each, answer in self.share("scan", sorted(folders), processes, here):
            found.update(zip(each, answer if answer is not None else here(each), strict=True))
        return found


def _helper_task(stored: StoredOutputs, confine: Path | None, facts: PathFacts,
                 make: Callable[[Path, Path | None], Build | None], task: tuple[str, list[Any]]
                 ) -> tuple[list[Any], dict[tuple[int, ...], bytes], dict[str, list[Any]]]:
    """A worker's answer to one of _Helpers' calls, with the files it parsed for it and the
    kustomizations it read anew to keep."""
    kind, items = task
    parsed, fresh = stored.documents.parsed().keys(), stored.documents.fresh().keys()
    if kind == "scan":
        answer: list[Any] = [stored.inclusions(folder, confine, facts) for folder in items]
    else:
        answer = [make(root, fence) for root, fence in items]
    return (answer, {stamp: body for stamp, body in stored.documents.parsed().items() if stamp not in parsed},
            {path: entry for path, entry in stored.documents.fresh().items() if path not in fresh})


def _built_in_workers(roots: list[Path], fences: dict[Path, Path | None],
                      make: Callable[[Path, Path | None], Build | None], helpers: _Helpers
                      ) -> dict[Path, Build | None]:
    """make(root, its fence) for each root, made by workers (those that found the roots, else forked
    now) and this process when there are enough roots to pay for them and cores to run them (else
    none here: the caller builds each itself). A worker gets roots that lie side by side (sorted),
    so the overlays of a base are built where it was parsed. What a worker could not give back (it
    died) is missing: the caller builds it."""
    processes = min(pool.cores(), len(roots) // BUILDS_PER_WORKER)
    if processes < 2 or not pool.can_fork():
        return {}
    ordered = [(root, fences[root]) for root in sorted(roots)]
    shares = helpers.share("build", ordered, processes, lambda each: [make(root, fence) for root, fence in each],
                           BUILDS_HERE)
    return {root: done for each, answer in shares if answer is not None
            for (root, _), done in zip(each, answer, strict=True)}


def shown_error(error: str) -> str:
    """A build's error on one line (its line breaks, and the `\\n` kustomize quotes patches with,
    as `; `: a reporter would show them as `\\n`), the working directory's paths relative to it."""
    cwd = str(normal(Path.cwd()))
    text = re.sub(r"\s*(\\n|\n)\s*", "; ", error.strip())
    return text.replace(cwd + os.sep, "") if cwd != os.sep else text


def _budget_from_environment() -> float:
    """KUBELINT_SVC_BUILD_SECONDS: the seconds all kustomize builds and Helm renders of a run may
    take together."""
    value = os.environ.get("KUBELINT_SVC_BUILD_SECONDS", "")
    return float(value) if value.isdigit() and 0 < int(value) <= 86_400 else BUILD_BUDGET


def _spent() -> str:
    return (f"the run's {_budget_from_environment():g} s for kustomize builds and Helm renders were spent "
            "(KUBELINT_SVC_BUILD_SECONDS raises it)")


def _documents_of(path: Path, stored: StoredOutputs) -> list[Any]:
    """A file's documents' data (a kustomization's kept in the cache); none when it cannot be read."""
    try:
        return stored.documents.data_of(path, lambda file: [item.data for item in read_documents(file)],
                                        path.name in KUSTOMIZATION_NAMES)
    except (YamlFileError, UnreadableFile, OSError):
        return []


def _listed_patches(folder: Path, anywhere: bool = False) -> tuple[list[Path], list[str]]:
    """The patch files a kustomization names (for one that is not built), and the entries naming
    a file outside its folder (after every symlink; with anywhere, outside the repository), which
    kustomize would refuse to read."""
    data = kustomization_data(folder)
    inside, outside = [], []
    top = (repository_of(folder) if anywhere else None) or resolved(folder)
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        entries = data.get(key) if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            path = entry.get("path") if isinstance(entry, dict) else entry
            if not isinstance(path, str) or "\n" in path or "\0" in path:
                continue
            if top is not None and refusal(folder / path, top) is None:
                inside.append(normal(folder / path))
            else:
                outside.append(path)
    return inside, outside


def _repositories_of(roots: list[Path], real_paths: RealPaths) -> list[Path | None]:
    """_repository_of each root, git asked once a work tree: roots whose nearest folder holding a
    `.git` is the same (after every symlink) share the answer."""
    tops: dict[str, Path | None] = {}  # by the holder's name: no Path made a root
    holders: dict[str, str | None] = {}  # a real folder -> the nearest folder holding a `.git`: roots share parents
    found = []
    for root in roots:
        real = real_paths.of(root)
        holder = _holder(str(real), holders) if real is not None else None
        if holder is not None and tops.get(holder) is None:
            tops[holder] = git_toplevel(root)
        top = tops.get(holder) if holder is not None else None
        found.append(top if top is not None else repository_of(root))  # no work tree: per root
    return found


def _holder(folder: str, known: dict[str, str | None]) -> str | None:
    """The nearest of folder and its parents holding a `.git` (one lstat a folder of the run)."""
    climbed = []
    while folder not in known:
        if os.path.lexists(os.path.join(folder, GIT_DIRECTORY)):
            known[folder] = folder
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            known[folder] = None
            break
        climbed.append(folder)
        folder = parent
    for below in climbed:
        known[below] = known[folder]
    return known[folder]


def _plan_charts(
    result: Plan,
    files: list[Path],
    helm_values: tuple[str, ...],
    stored: StoredOutputs,
    confine: Path | None,
    deadline: float,
    options: HelmOptions,
) -> None:
    charts: dict[Path, set[Path]] = {}  # chart -> its templates among the files
    for file in files:
        chart = chart_of(file)
        if chart is None:
            continue
        result.set_aside[file] = (None, "a Helm chart template: linted as rendered, not as written")
        charts.setdefault(chart, set()).add(file)
    if not charts:
        return
    engine = _helm_engine()
    options = replace(options, api_versions=(*_api_versions(options.kubernetes_version),
                                             *_crd_versions(files), *options.api_versions))
    for chart, templates in charts.items():
        covers = frozenset(templates)  # the note reaches a run that lints only a template
        for values_file, values in _renders_of(chart, helm_values):
            why = _why_not_rendered(engine, chart, values, confine, deadline)
            if why is not None:
                result.notes.append(Note(chart / "Chart.yaml", "helm-chart-not-rendered", _with(why, values_file),
                                         covers))
                break  # one note a chart: its ci/ renders would say the same
            assert engine is not None  # _why_not_rendered says so when there is none
            left = min(HELM_TIMEOUT, deadline - time.monotonic())
            make = functools.partial(_render, engine, chart, values, left, options)
            text, error = stored.render(chart, values, make, (_engine_identity(engine), repr(options)))
            if error is not None:
                result.notes.append(Note(chart / "Chart.yaml", "helm-chart-not-rendered",
                                         _with(f"{_engine_name(engine)} failed: {error}", values_file), covers))
            else:
                result.renders.append(Render(chart, text, values_file))


def _renders_of(chart: Path, helm_values: tuple[str, ...]) -> list[tuple[str | None, tuple[str, ...]]]:
    """(chart-testing values file or None, values files) of each render of a chart: its values.yaml
    with the configured values files, then once with each values file of its `ci/` folder (chart-testing
    installs the chart once with each)."""
    ci = chart / "ci"
    found = sorted(path.name for path in ci.iterdir() if path.suffix in (".yaml", ".yml")) if ci.is_dir() else []
    return [(None, helm_values), *((f"ci/{name}", (f"ci/{name}",)) for name in found)]


def _with(why: str, values_file: str | None) -> str:
    return why if values_file is None else f"{why} (rendered with {values_file})"


SDK_ENGINE = "helm-python-sdk"


def _helm_engine() -> str | None:
    """What renders charts: a `helm` on PATH, else helm-python-sdk (the `helm` extra), else nothing."""
    return shutil.which("helm") or (SDK_ENGINE if sdk_present() else None)


def helm_engine_description() -> str:
    """For --show-settings: which engine renders charts."""
    engine = _helm_engine()
    if engine is None:
        return "none (charts are not rendered: install kubelint-svc with its helm extra)"
    return SDK_ENGINE if engine == SDK_ENGINE else f"helm ({engine})"


def _engine_identity(engine: str) -> str:
    """What a kept render was made by: helm's binary is told apart by stored.py, the SDK by its version."""
    if engine != SDK_ENGINE:
        return engine
    import importlib.metadata  # 11 ms a run: only runs that render a chart with the SDK pay it

    try:
        return f"{SDK_ENGINE} {importlib.metadata.version(SDK_ENGINE)}"
    except importlib.metadata.PackageNotFoundError:
        return SDK_ENGINE


def _engine_name(engine: str) -> str:
    return SDK_ENGINE if engine == SDK_ENGINE else "helm template"


def _api_versions(kubernetes_version: str) -> list[str]:
    """What .Capabilities.APIVersions lists: every built-in group/version the version serves, and
    each as group/version/kind, as a cluster's discovery gives them."""
    served = served_kinds(kubernetes_version) if kubernetes_version else {}
    return sorted({*served, *(f"{api}/{kind}" for api, kinds in served.items() for kind in kinds)})


def _crd_versions(files: list[Path]) -> list[str]:
    """The group/versions (and kinds) the CustomResourceDefinitions among files serve: a chart asks
    `.Capabilities.APIVersions.Has` for them before writing a custom resource."""
    found: set[str] = set()
    for file in files:
        if chart_of(file) is not None or file.suffix not in (".yaml", ".yml", ".json"):
            continue
        try:
            if b"CustomResourceDefinition" not in read_bounded(file):
                continue
            documents = read_documents(file)
        except (YamlFileError, UnreadableFile):
            continue
        for document in documents:
            found.update(_served_by(document.data))
    return sorted(found)


def _served_by(data: Any) -> list[str]:
    if not isinstance(data, dict) or data.get("kind") != "CustomResourceDefinition":
        return []
    spec: dict[str, Any] = data["spec"] if isinstance(data.get("spec"), dict) else {}
    group, names, versions = spec.get("group"), spec.get("names"), spec.get("versions")
    kind = names.get("kind") if isinstance(names, dict) else None
    served = []
    for version in versions if isinstance(versions, list) else []:
        name = version.get("name") if isinstance(version, dict) else None
        if isinstance(group, str) and isinstance(name, str) and version.get("served", True):
            served.append(f"{group}/{name}")
            if isinstance(kind, str):
                served.append(f"{group}/{name}/{kind}")
    return served


def _why_not_rendered(
    engine: str | None, chart: Path, values: tuple[str, ...], confine: Path | None, deadline: float
) -> str | None:
    """Why the chart is not rendered, or None: no engine, a file the render would read that the run
    may not (a link out of the repository, a git directory), a dependency missing, or no time left."""
    if engine is None:
        shown = os.path.relpath(chart) if is_inside(chart, normal(Path.cwd())) else str(chart)
        return ("a Helm chart: its templates are not linted as written, and neither helm is on PATH nor "
                "helm-python-sdk installed to render them (install kubelint-svc with its helm extra); "
                f"lint the render with `helm template {chart.name} {shown} | kubelint-svc lint -`")
    top = confine or repository_of(chart) or resolved(chart)
    refused = _refused_chart_file(chart, values, top) if top is not None else f"{chart}: cannot be resolved"
    if refused is not None:
        return f"not rendered: helm would read {refused}"
    missing = _missing_dependencies(chart)
    if missing:
        return (f"not rendered: dependency {', '.join(missing[:3])} is not in charts/, and nothing is fetched "
                "(run `helm dependency build` and commit charts/, or lint its render)")
    if deadline - time.monotonic() < 1:
        return f"not rendered: {_spent()}"
    return None


def _missing_dependencies(chart: Path) -> list[str]:
    """The dependencies Chart.yaml names that charts/ does not hold, as a folder or an archive."""
    try:
        documents = read_documents(chart / "Chart.yaml")
    except YamlFileError:
        return []  # the render says what is wrong with it
    data = documents[0].data if documents else None
    entries = data.get("dependencies") if isinstance(data, dict) else None
    present = {path.name for path in (chart / "charts").iterdir()} if (chart / "charts").is_dir() else set()
    missing = []
    for entry in entries if isinstance(entries, list) else []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name not in present and not any(
            found.startswith(f"{name}-") and found.endswith(".tgz") for found in present
        ):
            repository = entry.get("repository")
            missing.append(f"{name!r}" + (f" ({repository})" if isinstance(repository, str) and repository else ""))
    return missing


def _refused_chart_file(chart: Path, values: tuple[str, ...], top: Path) -> str | None:
    """The first file helm may read (`.Files.Get` reads any file of the chart folder, a values file
    is read whole) that a run confined to top may not, with why; None when all may be read. Links
    are not followed by the walk: each is judged where it leads, and a linked folder inside top
    is walked in its turn (helm follows it)."""
    for value in values:
        why = refusal(chart / value, top) or (
            "a name holding a comma or a quote, which helm reads as a list of files (`x.yaml,/etc/passwd`)"
            if any(mark in value for mark in ',"') else None
        )
        if why is not None:
            return f"{chart / value}: {why}"
    pending, seen, count = [chart], set(), 0
    while pending:
        folder = pending.pop()
        real = resolved(folder)
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            return f"{folder}: {error.strerror or error}"
        count += len(entries)
        if count > CHART_FILES:
            return f"{chart}: more than {CHART_FILES:,} files in the chart folder"
        for entry in entries:
            path = Path(entry.path)
            why = refusal(path, top) or (
                _schema_reference(path) if entry.name == VALUES_SCHEMA
                else _archive_reference(path) if folder.name == "charts" and entry.is_file()
                else None
            )
            if why is not None:
                return f"{path}: {why}"
            if entry.is_dir():  # follows a link, judged above
                pending.append(path)
    return None


def _schema_reference(path: Path) -> str | None:
    """Why helm would load a file or URL a chart's values schema names (helm compiles the schema
    with a loader for `file://` references: `{"$ref": "file:///repo/.git/config"}` reads any
    file, a relative one is read from where helm runs), or None: only references within the
    schema (`#...`) and json-schema.org's meta-schemas are left to helm."""
    try:
        with path.open("rb") as stream:
            return _outside_references(stream.read(MAX_FILE_BYTES + 1))
    except OSError as error:
        return f"a values schema that cannot be read ({error.strerror or error})"


def _outside_references(text: bytes) -> str | None:
    """_schema_reference of a schema's bytes."""
    try:
        schema = json.loads(text.decode("utf-8", "replace"))  # as Go reads it
    except (ValueError, RecursionError):
        return "a values schema that is not JSON the linter can check for references"
    for key, child in mapping_items(schema):
        if isinstance(child, str) and (
            (key in _SCHEMA_REFERENCES and not child.startswith("#"))
            or (key == "$schema" and not _META_SCHEMA.match(child))
        ):
            return f"its {key} {child!r} is loaded by helm from outside the schema"
    return None


def _archive_reference(path: Path) -> str | None:
    """_schema_reference for every values schema of a packaged subchart (a file under charts/,
    which helm loads as an archive, and the archives within it); an archive that is not one, or
    whose members pass the file-size limit or the count of chart files, is not checked: refused."""
    import tarfile  # only runs that meet a packaged subchart pay for these
    import zlib

    try:
        with path.open("rb") as stream:
            if stream.read(2) != b"\x1f\x8b":
                return None  # not gzip: helm cannot load it as a chart either
        with tarfile.open(path, "r:gz") as archive:
            return _members_reference(archive, [MAX_FILE_BYTES, CHART_FILES], 0)
    except (OSError, EOFError, tarfile.TarError, zlib.error) as error:
        return f"a chart archive that cannot be checked ({error})"


def _members_reference(archive: tarfile.TarFile, budget: list[int], depth: int) -> str | None:
    """Members are counted and their sizes summed before each is passed over, so a gzip bomb
    is refused after reading at most the limit."""
    import tarfile

    for member in archive:
        budget[0] -= member.size
        budget[1] -= 1
        if budget[0] < 0 or budget[1] < 0 or depth > 3:
            return "a chart archive too large or deep to check (the file-size limit, 10,000 files, 3 levels)"
        name = member.name.rpartition("/")[2]
        if not member.isfile() or not (name == VALUES_SCHEMA or name.endswith((".tgz", ".tar.gz"))):
            continue
        extracted = archive.extractfile(member)
        text = extracted.read() if extracted is not None else b""
        if name == VALUES_SCHEMA:
            why = _outside_references(text)
        else:
            with tarfile.open(fileobj=io.BytesIO(text), mode="r:gz") as inner:
                why = _members_reference(inner, budget, depth + 1)
        if why is not None:
            return f"{member.name}: {why}"
    return None


def _render(engine: str, chart: Path, values: tuple[str, ...], timeout: float,
            options: HelmOptions) -> tuple[str, str | None]:
    """The chart rendered offline, by `helm template` or by helm-python-sdk in a child process: no
    repository is updated, no plugin runs, and the chart's own values.yaml plus the values files
    apply. Its process group dies at timeout or once its output passes the file-size limit; its
    memory is capped (units/process.py)."""
    with tempfile.TemporaryDirectory(prefix="kubelint-svc-helm-") as home:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "HELM_CACHE_HOME": home,
            "HELM_CONFIG_HOME": home,
            "HELM_DATA_HOME": home,
            "HELM_PLUGINS": os.path.join(home, "plugins"),
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "",
        }
        if engine == SDK_ENGINE:  # this Python finds kubelint_svc and the SDK where they are installed
            environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
            environment["PYTHONSAFEPATH"] = "1"  # never the child's working directory first
        arguments = _render_command(engine, chart, values, options, Path(home))
        done = run_tool(arguments, timeout, MAX_FILE_BYTES, environment, cwd=home)
    if done.stopped is not None:
        return "", done.stopped + ("; not rendered" if done.started else "")
    if done.returncode != 0:
        words = done.stderr.decode("utf-8", "replace").strip().splitlines()
        crashed = f" (killed by signal {-done.returncode})" if done.returncode is not None and done.returncode < 0 \
            else ""
        return "", (" ".join(words[:3])[:400] or f"exit code {done.returncode}") + crashed
    return done.stdout.decode("utf-8", "replace"), None


def _render_command(engine: str, chart: Path, values: tuple[str, ...], options: HelmOptions, home: Path
                    ) -> list[str]:
    """helm template's arguments, or the SDK child's, whose request (thousands of API versions
    with many CRDs: past the 128 KiB one argument may hold) goes in a file of the temporary home."""
    if engine == SDK_ENGINE:
        asked = home / "request.json"
        asked.write_text(request(str(chart.absolute()), [str((chart / value).absolute()) for value in values],
                                 options.release, options.namespace, _kube_version(options),
                                 list(options.api_versions)), encoding="utf-8")
        return [sys.executable, "-m", "kubelint_svc.units.helm_sdk", str(asked)]
    arguments = [engine, "template", "--namespace", options.namespace]
    for value_file in values:
        arguments += ["--values", str(chart / value_file)]
    if options.kubernetes_version:
        arguments += ["--kube-version", _kube_version(options)]
    for api_version in options.api_versions:
        arguments += ["--api-versions", api_version]
    # the chart's folder is named by a pull request: `--post-renderer=sh` would be a flag piping the
    # render to a shell; after `--` the release and the chart are only names
    return [*arguments, "--", options.release, str(chart)]


def _kube_version(options: HelmOptions) -> str:
    return f"v{options.kubernetes_version}.0" if options.kubernetes_version else ""
