"""What every run asks of the units layer, without importing what builds and renders (kustomize's
engines and fallback, the YAML 1.2 reader, subprocess, threads: 20-40 ms of a cold process): the
Plan and its parts, the form of its paths, the kustomization names, the plan of files holding no
kustomization and no chart (`plain_plan`: test assertions set aside, nothing built), and the
search for the kustomizations that include a named file. units/plan.py plans the other runs."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelint_svc import inputs
from kubelint_svc.inputs import git_toplevel
from kubelint_svc.loader import YamlFileError, read_documents
from kubelint_svc.paths import GIT_DIRECTORY, confined, is_inside, resolved

if TYPE_CHECKING:
    from kubelint_svc.units.kustomize.engines import Build

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# KUTTL's assertion files (`01-assert.yaml`, `02-errors.yaml`): compared against a cluster, never applied
_KUTTL_ASSERTION = re.compile(r"^\d+-(assert|errors)([-_.][^/]*)?\.ya?ml$")
_CHAINSAW_TESTS = ("chainsaw-test.yaml", "chainsaw-test.yml")
MAX_KUSTOMIZATIONS = 5000  # of a repository, read to find the builds that include a named file
MAX_WALKED = 50_000  # entries of a repository walked for them outside git


@dataclass(frozen=True)
class Note:
    """One info (or error) about a unit, at a file: a root built with the fallback, a build that
    failed, a chart not rendered, a folder of test assertions set aside."""

    file: Path
    rule: str
    message: str
    covers: frozenset[Path] = frozenset()  # the files it concerns: reported when any of them is linted


@dataclass
class Render:
    """A Helm chart rendered by `helm template` or helm-python-sdk: a stream whose `# Source:`
    comments name the templates, relative to the chart's parent folder."""

    chart: Path
    text: str
    values_file: str | None = None  # the chart-testing values file (`ci/*.yaml`) of this render, if any


@dataclass(frozen=True)
class HelmOptions:
    """How charts are rendered: `helm template`'s release name, namespace and capabilities."""

    release: str = "release-name"  # helm template's default
    namespace: str = "default"
    kubernetes_version: str = ""  # "1.33": .Capabilities.KubeVersion; "" leaves the engine's own
    api_versions: tuple[str, ...] = ()  # .Capabilities.APIVersions besides the built-in ones


@dataclass
class Plan:
    builds: list[Build] = field(default_factory=list)
    in_build: dict[Path, list[Build]] = field(default_factory=dict)  # file -> the builds that read it
    # file -> (the rule of the info each such file gets, or None when its unit's note speaks for it; why)
    set_aside: dict[Path, tuple[str | None, str]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    renders: list[Render] = field(default_factory=list)
    # every build and render ran to its end, or was kept: what this plan gave, a run would give again
    # while the files are unchanged (not so after a timeout, a time budget spent, a tool not started)
    complete: bool = True


def _plainly_normal(text: str) -> bool:
    """Is text absolute and normalised, seen without normpath (slow, and asked 20,000 times a
    run)? A POSIX path with no `//`, no `/.` (`/./`, `/../` and hidden names alike) and no
    trailing `/` is; False says only "look closer"."""
    return text.startswith("/") and "/." not in text and "//" not in text and not text.endswith("/")


_SURELY_NORMAL = _plainly_normal if os.sep == "/" and os.altsep is None else (lambda text: False)


def normal(path: Path) -> Path:
    """The form every path of a plan takes: absolute and normalised, symlinks kept (as kustomize
    reports them)."""
    text = str(path)
    if _SURELY_NORMAL(text) or (os.path.isabs(text) and os.path.normpath(text) == text):
        return path  # already so (every path of a build is): no new Path, asked tens of thousands of times
    return Path(os.path.abspath(text))  # abspath normalises



def plain_plan(files: list[Path], kustomize: str) -> Plan | None:
    """The plan of files (normalised paths) holding no kustomization (or read with kustomize off)
    and no chart template: the test assertions set aside, nothing built or rendered, as
    units/plan.plan would give it; None when units/plan.py must plan them."""
    if kustomize != "off" and any(file.name in KUSTOMIZATION_NAMES for file in files):
        return None
    if any(chart_of(file) is not None for file in files):
        return None
    result = Plan()
    plan_test_fixtures(result, files)
    return result


def kustomization_file(directory: Path) -> Path | None:
    folder = str(directory)  # a Path made for the one found, not for every name tried (2,800 a run)
    return next((directory / name for name in KUSTOMIZATION_NAMES if os.path.isfile(os.path.join(folder, name))), None)


def including_kustomizations(named: list[Path], read: frozenset[str] = frozenset()) -> list[Path]:
    """The kustomization files of the repositories holding the named files and folders whose
    builds read one of them (a base, a patch, a generator's file, a kustomization), through any
    chain of inclusions: what a run naming only a base needs to judge it as built. Found with
    `git ls-files` in a work tree, else by a bounded walk of the working directory; each one
    confined to its repository. read: files the run reads anyway (absolute, normalised): a
    repository whose every kustomization is among them adds none, and is not searched."""
    wanted = {normal(path) for path in named}
    found: list[Path] = []
    for top in dict.fromkeys(filter(None, (repository_of(path if path.is_dir() else path.parent) for path in wanted))):
        readers: dict[Path, set[Path]] = {}  # a path -> the kustomization folders naming it
        kustomizations = _kustomizations_in(top, read)
        if kustomizations is None or read.issuperset(map(str, kustomizations)):
            continue
        for kustomization in kustomizations:
            for path in {*referenced_by(kustomization.parent), kustomization}:
                readers.setdefault(path, set()).add(kustomization.parent)
        pending = [path for path in wanted if is_inside(resolved(path), top)]
        pending += [k.parent for k in kustomizations if any(is_inside(k.parent, path) for path in pending)]
        reached: set[Path] = set()
        while pending:
            for folder in readers.get(pending.pop(), set()) - reached:
                reached.add(folder)
                pending.append(folder)
        found += sorted(file for file in map(kustomization_file, reached) if file is not None)
    return found


def _kustomizations_in(top: Path, read: frozenset[str] | None = None) -> list[Path] | None:
    """The kustomization files of the work tree top (at most MAX_KUSTOMIZATIONS), each one the
    repository's confinement allows; None when every one git lists is among read (the normal
    names of the files the run reads anyway: a run of the whole tree), before any is confined."""
    listed = inputs._git("-C", str(top), "ls-files", "-z", "--", *(f"*{name}" for name in KUSTOMIZATION_NAMES)) \
        if (top / GIT_DIRECTORY).exists() else None
    if listed is not None and read is not None:
        joined = [os.path.normpath(os.path.join(top, name)) for name in listed.split("\0") if name]
        if all(name in read for name in joined if os.path.basename(name) in KUSTOMIZATION_NAMES):
            return None
    names = [top / name for name in listed.split("\0") if name] if listed is not None else _walked(top)
    files = [normal(file) for file in names if file.name in KUSTOMIZATION_NAMES]
    return [file for file in files[:MAX_KUSTOMIZATIONS] if confined(file, top) is not None and file.is_file()]


def _walked(top: Path) -> list[Path]:
    """Kustomization files below top, walking at most MAX_WALKED entries, never into hidden
    folders (a `.git` among them) nor through links."""
    found: list[Path] = []
    seen = 0
    pending = [str(top)]  # a stack, not os.walk's recursion: a tree 1,000 folders deep is walked too
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue  # as os.walk: a folder that cannot be listed is passed over
        seen += len(entries)
        if seen > MAX_WALKED:
            break
        subfolders = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if not is_folder:
                if entry.name in KUSTOMIZATION_NAMES:
                    found.append(Path(entry.path))
            elif not entry.name.startswith(".") and not entry.is_symlink():
                subfolders.append(entry.path)
        pending += sorted(subfolders, reverse=True)  # the first in name order walked first
    return found



def kustomization_data(folder: Path) -> Any:
    """The data of a folder's kustomization, or None (none there, or not readable: the build or
    the file's own lint reports that)."""
    kustomization = kustomization_file(folder)
    try:
        documents = read_documents(kustomization) if kustomization is not None else []
    except YamlFileError:
        return None
    return documents[0].data if documents else None



def referenced_by(folder: Path) -> set[Path]:
    """Every file a folder's kustomization names, in whatever field."""
    from kubelint_svc.units.kustomize.scan import referenced_paths  # only runs that meet a kustomization

    return {normal(path) for path in referenced_paths(folder, kustomization_data(folder))}


def repository_of(root: Path) -> Path | None:
    """What a build may read: the git work tree holding the root, else the working directory
    when the root is in it; a root named outside both is the user's own choice."""
    top = git_toplevel(root)
    if top is not None:
        return top
    cwd = resolved(Path.cwd())
    return cwd if cwd is not None and is_inside(resolved(root), cwd) else None


def chart_of(file: Path) -> Path | None:
    """The chart whose templates/ holds file, if any."""
    parts = file.parts
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] == "templates" and (Path(*parts[:index]) / "Chart.yaml").is_file():
            return Path(*parts[:index])
    return None


def plan_test_fixtures(result: Plan, files: list[Path]) -> None:
    """KUTTL and chainsaw assertions describe what a cluster should hold, partially, by design."""
    chainsaw: dict[str, set[Path]] = {}  # by the folder's name: no Path made a file (1,600 a pre-commit run)
    folders: dict[Path, Path] = {}  # folder -> its first assertion file, where the note goes
    for file in files:
        folder, name = os.path.split(str(file))
        if folder not in chainsaw:
            chainsaw[folder] = _chainsaw_assertions(folder)
        if _KUTTL_ASSERTION.match(name) or (chainsaw[folder] and file in chainsaw[folder]):
            result.set_aside[file] = (None, "a test assertion (KUTTL or chainsaw), compared against a live cluster")
            folders[file.parent] = min(folders.get(file.parent, file), file)
    for first in sorted(folders.values()):
        result.notes.append(
            Note(
                first,
                "test-fixture-skipped",
                (
                    "test assertions in this folder (KUTTL `NN-assert.yaml` / `NN-errors.yaml`, chainsaw assert "
                    "and error "
                    "files) describe part of what a cluster should hold, so they are not linted as manifests; the "
                    "install steps beside them are"
                ),
            )
        )


def _chainsaw_assertions(folder: str) -> set[Path]:
    for name in _CHAINSAW_TESTS:
        if os.path.isfile(os.path.join(folder, name)):  # asked of every folder: no Path made unless one is there
            test = Path(folder, name)
            try:
                documents = read_documents(test)
            except YamlFileError:
                return set()
            return {normal(Path(folder, entry)) for document in documents for entry in _assertion_files(document.data)}
    return set()


def _assertion_files(data: Any, inside: bool = False) -> list[str]:
    """`file:` values under `assert:` and `error:` entries of a chainsaw Test."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if inside and key == "file" and isinstance(value, str):
                found.append(value)
            else:
                found += _assertion_files(value, inside or key in ("assert", "error"))
    elif isinstance(data, list):
        for item in data:
            found += _assertion_files(item, inside)
    return found
