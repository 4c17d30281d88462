"""A kustomize root's chain read without building: which folders are roots, every file the chain
reads or names (confined, counted, remote entries noted), its patches and the objects their targets select.
"""

from __future__ import annotations

import functools
import marshal
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

# imported with this module, before a build worker is forked: each worker inherits it, where it
# imported it again after the fork (4-10 ms each) for the first pattern a build matched
import re2

from kubelint_svc.cache import KeptDocuments
from kubelint_svc.loader import YamlFileError, parse_stream, read_documents
from kubelint_svc.nested import mapping_items
from kubelint_svc.paths import RealPaths, refusal, resolved
from kubelint_svc.units.common import KUSTOMIZATION_NAMES, kustomization_file

MAX_INCLUDE_DEPTH = 30
MAX_FILES = 2000
# kustomizations a build applies, counting each inclusion (kustomize builds a folder anew every time
# it is included): a diamond of includes 20 levels deep is a million, refused before any engine runs
MAX_VISITS = 10_000
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"

# what kustomize fetches or clones rather than reads: any URL scheme (file:// too), go-getter's
# `git::`, an scp-style `user@host:`, the hosts it knows, a ref or timeout query; in any case
_REMOTE = re.compile(
    r"^([a-z][a-z0-9+.-]*://|git::|[a-z][a-z0-9-]*@|github\.com[/:]|gitlab\.com/|bitbucket\.org/)"
    r"|[?&](ref|version|submodules|timeout)=",
    re.IGNORECASE,
)
_HOST_LIKE = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/")
# a patch or plugin config written inline rather than a file's name (`kind-patch.yaml` is a name)
_INLINE_PATCH = re.compile(r"\n|^\s*((apiVersion|kind|metadata)\s*:|[{\[]|-\s)")
ENTRY_FIELDS = ("resources", "bases")


def as_mapping(value: Any) -> dict[str, Any]:
    """value when it is a mapping, else an empty one (YAML from a pull request may hold anything)."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Origin:
    file: Path
    document: int
    path: tuple[Any, ...] = ()


class BuildError(Exception):
    """A kustomization the build cannot follow: one line that names the file at fault."""


@dataclass(frozen=True)
class Patch:
    origin: Origin
    body: Any  # a mapping: strategic merge; a list: JSON6902 operations
    target: dict[str, Any] | None  # a selector; None: the patch names its object itself
    inline: bool = False  # written as a string inside the kustomization: no path within it
    scope: frozenset[Path] = frozenset()  # the resource files whose objects it may patch


@dataclass
class Kustomization:
    file: Path
    data: dict[str, Any]
    load_anywhere: bool = False
    facts: PathFacts | None = None  # the run's, when read for a build

    @property
    def directory(self) -> Path:
        return self.file.parent

    @property
    def is_component(self) -> bool:
        return self.data.get("kind") == "Component"


class PathFacts:
    """What a run learns once about each path its builds name, shared by them (three overlays
    name one base): why the run may not read it (`paths.refusal`, the one rule) and its real
    path. Made anew each run: a path may change between runs."""

    def __init__(self) -> None:
        self._refusals: dict[tuple[Path, Path], str | None] = {}
        self._real = RealPaths()  # each folder resolved once: the files of a folder are its entries
        self._real_names: dict[Path, str] = {}
        self._local: dict[tuple[Path, bool, str, str], Path | str] = {}  # a local path, or why none
        # what a kustomization names, by its folder and data: (the paths that exist, those that do not)
        self._named: dict[tuple[Path, bool, bytes], tuple[tuple[Path, ...], frozenset[Path]]] = {}
        # the scan and (fallback.py) the build of each folder a root includes, by (folder, confine,
        # load anywhere): a base three overlays include is scanned and built once a process
        self.folder_scans: dict[tuple[Path, Path | None, bool], FolderScan] = {}
        self.folder_builds: dict[tuple[Path, Path | None, bool], Any] = {}

    def referenced(self, directory: Path, data: Any, config: bool = False
                   ) -> tuple[tuple[Path, ...], frozenset[Path]]:
        """referenced_paths(directory, data, config) and the names it gave that do not exist,
        looked for once a run for every chain that reads the kustomization (finding the roots
        reads each; three overlays' builds read one base's)."""
        try:
            key = (directory, config, marshal.dumps(data))
        except ValueError:  # not plain data (no parse gives such): looked for each time
            key = None
        found = self._named.get(key) if key is not None else None
        if found is None:
            absent: set[Path] = set()
            found = (tuple(referenced_paths(directory, data, config, absent)), frozenset(absent))
            if key is not None:
                self._named[key] = found
        return found

    def refusal(self, path: Path, top: Path) -> str | None:
        if (path, top) not in self._refusals:
            self._refusals[path, top] = refusal(path, top, self._real.of)
        return self._refusals[path, top]

    def resolved(self, path: Path) -> Path | None:
        return self._real.of(path)

    def local_path(self, kustomization: Kustomization, name: str, entry: str) -> Path:
        """_local_path's answer, found once a run for every build whose chain names the entry
        (three overlays name one base's; the scan and the fallback each ask): a path, or the
        BuildError raised anew."""
        key = (kustomization.file, kustomization.load_anywhere, name, entry)
        found = self._local.get(key)
        if found is None:
            try:
                found = _local_path(kustomization, name, entry)
            except BuildError as error:
                found = str(error)
            self._local[key] = found
        if isinstance(found, str):
            raise BuildError(found)
        return found

    def realpath(self, path: Path) -> str:
        """os.path.realpath(path), each folder resolved once (RealPaths): a file is its real folder's entry."""
        if path not in self._real_names:
            real = self._real.of(path)
            self._real_names[path] = str(real) if real is not None else os.path.realpath(path)
        return self._real_names[path]


class Tree:
    """The files one build reads, each read once, at most MAX_FILES of them, and (with confine, the
    repository's work tree) each one `paths.refusal` allows: a pull request's `resources:
    [../../../etc]` or `files: [.git/config]` is refused unread."""

    def __init__(self, confine: Path | None = None, load_anywhere: bool = False,
                 kept: KeptDocuments | None = None, facts: PathFacts | None = None) -> None:
        self.confine = confine
        self.facts = facts or PathFacts()
        self.kept = kept  # kustomizations' data from earlier runs, while each file is unchanged
        self.load_anywhere = load_anywhere  # --load-restrictor LoadRestrictionsNone: files outside a root too
        self.outside: list[str] = []  # why paths the chain names may not be read: no engine runs then
        self.refused: list[str] = []  # files the linter itself would not read: no engine runs then
        self.files: set[Path] = set()
        self.inputs: set[Path] = set()  # files the kustomizations name that the engine may read
        self.absent: set[Path] = set()  # names they give that do not exist (yet)
        self.documents: dict[Path, list[Any]] = {}  # shared with other trees of the run: never changed
        self.kustomizations: dict[Path, Kustomization] = {}
        self.recorders: list[list[Path]] = []  # each gets every path documents_of is asked for

    def key(self, directory: Path) -> tuple[Path, Path | None, bool]:
        """What a folder's scan or build depends on besides the folder: the run (the facts),
        the confinement and the load restrictor."""
        return directory, self.confine, self.load_anywhere

    def check(self, path: Path) -> None:
        """BuildError (remembered: no engine runs) when the run may not read path."""
        why = self.facts.refusal(path, self.confine) if self.confine is not None else None
        if why is not None:
            message = f"{path}: {why}; not read"
            self.outside.append(message)
            raise BuildError(message)

    def _count(self, path: Path) -> None:
        if len(self.files) >= MAX_FILES:
            raise BuildError(f"{path}: the build reads more than {MAX_FILES} files; not built")
        self.files.add(path)

    def documents_of(self, path: Path) -> list[Any]:
        for reads in self.recorders:
            reads.append(path)
        if path not in self.documents:
            self.check(path)
            self._count(path)
            try:
                self.documents[path] = self.kept.data_of(path, _documents_data, path.name in KUSTOMIZATION_NAMES) \
                    if self.kept is not None else _documents_data(path)
            except YamlFileError as error:
                # a file the linter refuses (syntax, an alias bomb, a device) is never handed to an engine
                self.refused.append(str(error))
                raise BuildError(str(error)) from None
        return self.documents[path]

    def text_of(self, path: Path, read: Callable[[Path], str | None]) -> str | None:
        """read(path) (a file documents_of read already: checked then), once a run however many
        builds ask (KeptDocuments.text_of)."""
        return self.kept.text_of(path, read) if self.kept is not None else read(path)

    def kustomization_in(self, directory: Path) -> Kustomization:
        if directory not in self.kustomizations:
            self.check(directory)
            file = kustomization_file(directory)
            if file is None:
                raise BuildError(f"{directory}: no {' / '.join(KUSTOMIZATION_NAMES)} in this folder")
            self._count(directory)
            documents = self.documents_of(file)
            data = documents[0] if documents else {}
            if not isinstance(data, dict):
                raise BuildError(f"{file}: a kustomization must be a mapping")
            self.name_inputs(directory, data)  # generators, transformers, configMap files...
            real = self.facts.resolved(directory)
            if real is not None and real != directory:
                _same_through_link(directory, real, data)
            self.kustomizations[directory] = Kustomization(file, data, self.load_anywhere, self.facts)
        return self.kustomizations[directory]

    def name_inputs(self, directory: Path, data: Any, config: bool = False) -> None:
        """Every existing path a kustomization (or, with config, a plugin config) names, relative
        to directory, is one the engine may read: confined, and recorded so that a kept build
        watches it."""
        found, absent = self.facts.referenced(directory, data, config)
        self.absent |= absent
        for path in found:
            self.check(path)
            self.inputs.add(path)


@dataclass
class Scan:
    """A root's kustomization chain read without building: its files, remote entries, patches."""

    tree: Tree = field(default_factory=Tree)
    remote: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    resource_files: list[Path] = field(default_factory=list)
    # folder -> its files, a component's patches, the kustomizations kustomize applies for it (each
    # inclusion counted): every folder is scanned once, however many paths lead to it
    scanned: dict[Path, tuple[set[Path], list[Patch], int]] = field(default_factory=dict)
    deepest: int = 0  # the longest chain of inclusions it followed (a folder's scan is kept for its depth)
    # the run's scans of the folders it includes are merged into it while each stands (FolderScan);
    # a folder's own scan, and a root's once one would not stand, scan every folder in place
    merging: bool = True


@dataclass(frozen=True)
class FolderScan:
    """An included folder scanned alone (in place, from a Tree of its own) once a run (PathFacts):
    what each root that includes it merges into its own Scan, as if it had scanned the folder
    itself. It stands only where it would read the same in place: without a problem, within the
    depth and file limits, and with none of its folders on the includer's stack (a cycle) or
    scanned by it already (each folder's files and patches count once)."""

    scan: Scan
    result: tuple[set[Path], list[Patch], int]
    folders: frozenset[Path]  # the folder and every folder below it

    def merged(self, into: Scan, stack: tuple[Path, ...]) -> tuple[set[Path], list[Patch], int] | None:
        """result, once everything the scan read is into's too; None when it does not stand there."""
        scan, tree = self.scan, into.tree
        if scan.problems or len(stack) + scan.deepest > MAX_INCLUDE_DEPTH \
                or len(tree.files) + len(scan.tree.files) >= MAX_FILES \
                or not self.folders.isdisjoint(stack) or not self.folders.isdisjoint(into.scanned):
            return None
        tree.files |= scan.tree.files
        tree.inputs |= scan.tree.inputs
        tree.absent |= scan.tree.absent
        tree.documents.update((path, data) for path, data in scan.tree.documents.items() if path not in tree.documents)
        tree.kustomizations.update((path, found) for path, found in scan.tree.kustomizations.items()
                                   if path not in tree.kustomizations)
        into.remote += scan.remote
        into.patches += scan.patches
        into.resource_files += [path for path in scan.resource_files if path not in into.resource_files]
        into.scanned.update(scan.scanned)
        into.deepest = max(into.deepest, len(stack) + scan.deepest)
        return self.result


class _RemoteEntry(BuildError):
    """A path field that names a URL or a repository: kustomize would fetch it."""

    def __init__(self, entry: str) -> None:
        super().__init__(entry)
        self.entry = entry


def referenced_paths(directory: Path, data: Any, config: bool = False, absent: set[Path] | None = None) -> set[Path]:
    """Every existing file or folder a kustomization names in the fields kustomize reads as paths
    (resources, components, patches, generator files and envs, plugin configs, replacements,
    crds, configurations, openapi), or (config) the file keys of a plugin config. Other values
    are values: `delimiter: /` is no path to the repository's root. absent: gets the names that
    do not exist."""
    values = _config_paths(data) if config else _named_paths(as_mapping(data))
    found: set[Path] = set()
    for value in values:
        if not value or _names_remote(value):
            continue
        # any name may be odd (a line break, 1,000 characters of `./`): kustomize cleans it before it
        # opens it, so it is cleaned first; `files: [key=path]` reads path, `crds: [a=b]` the file
        # a=b, so both count
        for name in {value, value.partition("=")[2]} - {""}:
            try:
                candidate = Path(os.path.normpath(directory / name))
                if candidate.exists():
                    found.add(candidate)
                elif absent is not None:
                    absent.add(candidate)
            except (OSError, ValueError):
                continue
    return found


def _same_through_link(directory: Path, real: Path, data: Any) -> None:
    """BuildError when a folder reached through a link names other files from where the link
    leads than from where the scan reads it: kustomize reads them from the real folder, so `..`
    climbs from there (`base -> ../../../real`, and in real `resources: [../../outside]`)."""
    theirs, ours = referenced_paths(real, data), referenced_paths(directory, data)
    if {resolved(path) for path in theirs} != {resolved(path) for path in ours}:
        raise BuildError(
            f"{directory}: a link to {real}, whose kustomization names other files from there (as kustomize "
            "reads it) than from the link's place; not built"
        )


def _named_paths(data: dict[str, Any]) -> list[str]:
    """The strings of a kustomization that name files or folders, in every field kustomize reads so."""
    values = [entry for name in (*ENTRY_FIELDS, "components", *_PLUGIN_FIELDS) for entry in as_list(data.get(name))]
    # a patchesStrategicMerge entry is a file's name, or a patch written inline
    values += [entry for entry in as_list(data.get("patchesStrategicMerge"))
               if isinstance(entry, str) and not _INLINE_PATCH.search(entry)]
    for name in ("patches", "patchesJson6902"):
        values += [as_mapping(entry).get("path") for entry in as_list(data.get(name))]
    values += path_values(data)
    return [value for value in values if isinstance(value, str)]


def _documents_data(path: Path) -> list[Any]:
    return [document.data for document in read_documents(path)]


def find_roots(kustomization_dirs: Iterable[Path], confine: Path | None = None,
               kept: KeptDocuments | None = None, facts: PathFacts | None = None,
               included_by: Callable[[Path], set[Path]] | None = None) -> list[Path]:
    """Of the folders holding a kustomization, those no other one of them includes (via
    resources/bases/components, in any direction, e.g. ../manager); absolute, in the given order.
    included_by: inclusions(folder)'s folders, from a store that keeps them (units/stored.py)."""
    directories = absolute_folders(kustomization_dirs)
    facts = facts or PathFacts()
    included: set[Path] = set()
    for directory in directories:
        included |= included_by(directory) if included_by is not None \
            else inclusions(directory, confine, kept, facts)[0]
    return [directory for directory in directories if directory not in included]


def absolute_folders(folders: Iterable[Path]) -> list[Path]:
    """folders made absolute and normal, each once, in their order."""
    return list(dict.fromkeys(map(_absolute, folders)))


def _absolute(folder: Path) -> Path:
    text = str(folder)
    if os.path.isabs(text) and os.path.normpath(text) == text:
        return folder  # already so (a run's folders are): no new Path
    return Path(os.path.normpath(Path(folder).absolute()))


def inclusions(directory: Path, confine: Path | None, kept: KeptDocuments | None, facts: PathFacts
               ) -> tuple[set[Path], Tree | None]:
    """The folders one kustomization includes (a component includes itself: it is built only as
    part of what includes it), and the Tree that read it (its files, and the names it gives that
    exist and do not); nothing and None when the scan cannot read it whole (its build says why).
    A Tree of its own: each kustomization counts against the file limit alone."""
    tree = Tree(confine, kept=kept, facts=facts)
    try:
        kustomization = tree.kustomization_in(directory)
    except BuildError:
        return set(), None
    included = {directory} if kustomization.is_component else set()
    for name in (*ENTRY_FIELDS, "components", *_PLUGIN_FIELDS):  # plugin config folders are read, not applied
        entries = kustomization.data.get(name)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, str) and not _INLINE_PATCH.search(entry) and not _is_remote(entry):
                included.add(Path(os.path.normpath(directory / entry)))
    return included, tree


def _is_remote(entry: str, local: Path | None = None) -> bool:
    if _REMOTE.search(entry):
        return True
    try:
        return bool(_HOST_LIKE.match(entry)) and local is not None and not local.exists()
    except (OSError, ValueError):  # a NUL or an overlong name: nothing local either
        return True


def _names_remote(value: str) -> bool:
    """A path value (or the path of a generator's `key=path`) that kustomize would fetch."""
    return _is_remote(value) or ("=" in value and _is_remote(value.partition("=")[2]))


def path_entries(kustomization: Kustomization, name: str) -> list[str]:
    entries = kustomization.data.get(name)
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
        raise BuildError(f"{kustomization.file}: {name} must be a list of paths")
    return entries


def local_path(kustomization: Kustomization, name: str, entry: str) -> Path:
    """The path an entry of a kustomization names (BuildError: none kustomize would read)."""
    if kustomization.facts is not None:
        return kustomization.facts.local_path(kustomization, name, entry)
    return _local_path(kustomization, name, entry)


def _local_path(kustomization: Kustomization, name: str, entry: str) -> Path:
    path = Path(os.path.normpath(kustomization.directory / entry))
    if not path.exists():
        raise BuildError(f"{kustomization.file}: {name} entry {entry!r} not found ({path})")
    realpath = kustomization.facts.realpath if kustomization.facts is not None else os.path.realpath
    inside = realpath(kustomization.directory)
    if kustomization.load_anywhere:
        return path  # the repository's confinement still holds: the tree checks every path it reads
    if path.is_file() and os.path.commonpath([realpath(path), inside]) != inside:
        # kustomize's default load restrictor: folders may be anywhere, files only at or below
        raise BuildError(
            f"{kustomization.file}: {name} entry {entry!r} is a file outside {kustomization.directory}, "
            "which kustomize refuses (unless built with --kustomize-load-restrictor none)"
        )
    return path


def scan_directory(
    scan: Scan, directory: Path, stack: tuple[Path, ...]
) -> tuple[set[Path], list[Patch], int]:
    """The resource files under a kustomization, (for a component) its patches, which its includer
    scopes, and how many kustomizations kustomize applies for it; every problem is noted and the
    walk goes on, so no remote entry is missed."""
    if directory in stack or len(stack) > MAX_INCLUDE_DEPTH:
        why = "includes itself" if directory in stack else f"is included more than {MAX_INCLUDE_DEPTH} levels deep"
        scan.problems.append(f"{directory}: {why} ({' -> '.join(map(str, (*stack, directory)))})")
        return set(), [], 1
    scan.deepest = max(scan.deepest, len(stack))
    if directory not in scan.scanned:
        found = _included_folder(scan, directory, stack) if stack and scan.merging else None
        scan.scanned[directory] = found or _scanned_folder(scan, directory, (*stack, directory))
    return scan.scanned[directory]


def _included_folder(scan: Scan, directory: Path, stack: tuple[Path, ...]
                     ) -> tuple[set[Path], list[Patch], int] | None:
    """scan_directory's answer for a folder a kustomization includes, from its scan of this run
    (FolderScan: scanned once for every root that includes it), or None: it is scanned in place,
    and so is every folder after it (a chain of folders whose scans do not stand is not scanned
    twice over: a folder's own scan merges none)."""
    tree = scan.tree
    key = tree.key(directory)
    kept = tree.facts.folder_scans.get(key)
    if kept is None:
        alone = Scan(Tree(tree.confine, tree.load_anywhere, tree.kept, tree.facts), merging=False)
        result = _scanned_folder(alone, directory, (directory,))
        kept = FolderScan(alone, result, frozenset({directory, *alone.scanned}))
        tree.facts.folder_scans[key] = kept
    found = kept.merged(scan, stack)
    scan.merging = found is not None
    return found


def _scanned_folder(scan: Scan, directory: Path, stack: tuple[Path, ...]) -> tuple[set[Path], list[Patch], int]:
    try:
        kustomization = scan.tree.kustomization_in(directory)
    except BuildError as error:
        scan.problems.append(str(error))
        return set(), [], 1
    closure: set[Path] = set()
    pending: list[Patch] = []
    visits = 1
    for name in (*ENTRY_FIELDS, "components"):
        for path in _scan_entries(scan, kustomization, name):
            if path.is_dir():
                files, patches, below = scan_directory(scan, path, stack)
                closure |= files
                pending += patches
                visits += below
            else:
                _scan_resource_file(scan, path, closure)
    visits += _scan_plugins(scan, kustomization, stack)
    scan.remote += [entry for entry in path_values(kustomization.data) if _names_remote(entry)]
    try:
        early, late = patches_of(scan.tree, kustomization)
        pending += early + late
    except _RemoteEntry as remote:
        scan.remote.append(remote.entry)
    except BuildError as error:
        scan.problems.append(str(error))
    if kustomization.is_component:
        return closure, pending, visits
    scan.patches += [replace(patch, scope=frozenset(closure)) for patch in pending]
    return closure, [], visits


# fields of a kustomization kustomize reads as files (resources, components and patches aside)
_FILE_FIELDS = ("crds", "configurations")
_GENERATOR_FILE_KEYS = ("files", "envs", "env")
# keys of the builtin generators' and transformers' configs that name files (PatchTransformer
# path, PatchStrategicMergeTransformer paths, ReplacementTransformer replacements[].path, ...)
_CONFIG_FILE_KEYS = frozenset(
    {"path", "paths", "files", "envs", "env", "targetFilePath", "valuesFile", "additionalValuesFiles", "chartHome"}
)
_PLUGIN_FIELDS = ("generators", "transformers", "validators")


def path_values(data: dict[str, Any]) -> list[str]:
    """The strings of a kustomization's fields that kustomize reads as paths, besides resources,
    components, patches and plugin configs."""
    values = [entry for name in _FILE_FIELDS for entry in as_list(data.get(name))]
    values += [str(as_mapping(data.get("openapi")).get("path", ""))]
    values += [str(as_mapping(entry).get("path", "")) for entry in as_list(data.get("replacements"))]
    for name in ("configMapGenerator", "secretGenerator"):
        for entry in as_list(data.get(name)):
            for key in _GENERATOR_FILE_KEYS:
                values += as_list(as_mapping(entry).get(key))
    return [value for value in values if isinstance(value, str) and value]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if isinstance(value, str) else []


def _config_paths(data: Any) -> Iterator[str]:
    """Strings under the keys of plugin configs that name files, at any depth."""
    for key, child in mapping_items(data):
        if key in _CONFIG_FILE_KEYS:
            yield from (entry for entry in as_list(child) if isinstance(entry, str))


def _scan_plugins(scan: Scan, kustomization: Kustomization, stack: tuple[Path, ...]) -> int:
    """The generator, transformer and validator configs a kustomization names (a file, a folder
    of them with its own kustomization, or a config written inline), and every file those configs
    name: kustomize reads them all, relative to this kustomization's folder. The kustomizations
    applied for the folders among them."""
    visits = 0
    for name in _PLUGIN_FIELDS:
        for entry in as_list(kustomization.data.get(name)):
            if not isinstance(entry, str):
                scan.problems.append(f"{kustomization.file}: {name} must be a list of paths or configs")
                continue
            configs: list[Any] = []
            try:
                if _INLINE_PATCH.search(entry):
                    configs = [document.data for document in parse_stream(entry, keep_nodes=False).documents]
                elif _is_remote(entry, kustomization.directory / entry):
                    scan.remote.append(entry)
                elif (kustomization.directory / entry).is_dir():
                    files, _, below = scan_directory(scan, Path(os.path.normpath(kustomization.directory / entry)),
                                                      stack)
                    visits += below
                    configs = [data for file in sorted(files) for data in scan.tree.documents_of(file)]
                else:
                    configs = scan.tree.documents_of(local_path(kustomization, name, entry))
                _scan_config(scan, kustomization, configs)
            except BuildError as error:
                scan.problems.append(str(error))
    return visits


def _scan_config(scan: Scan, kustomization: Kustomization, configs: list[Any]) -> None:
    scan.remote += [entry for entry in _config_paths(configs) if _names_remote(entry)]
    scan.tree.name_inputs(kustomization.directory, configs, config=True)


def _scan_entries(scan: Scan, kustomization: Kustomization, name: str) -> list[Path]:
    """The local entries of a resources, bases or components list; remote ones are noted."""
    try:
        entries = path_entries(kustomization, name)
    except BuildError as error:
        scan.problems.append(str(error))
        return []
    paths = []
    for entry in entries:
        if _is_remote(entry, kustomization.directory / entry):
            scan.remote.append(entry)
            continue
        try:
            paths.append(local_path(kustomization, name, entry))
        except BuildError as error:
            scan.problems.append(str(error))
    return paths


def _scan_resource_file(scan: Scan, path: Path, closure: set[Path]) -> None:
    try:
        scan.tree.documents_of(path)
    except BuildError as error:
        scan.problems.append(str(error))
        return
    closure.add(path)
    if path not in scan.resource_files:
        scan.resource_files.append(path)


def patches_of(tree: Tree, kustomization: Kustomization) -> tuple[list[Patch], list[Patch]]:
    """A kustomization's patches: those applied before its other transformers, and the
    patchesJson6902 applied after its names and labels (kustomize's order)."""
    early: list[Patch] = []
    for index, entry in enumerate(path_entries(kustomization, "patchesStrategicMerge")):
        if _INLINE_PATCH.search(entry):
            early += _inline_patches(kustomization, entry, ("patchesStrategicMerge", index), None)
        else:
            early += _file_patches(tree, kustomization, "patchesStrategicMerge", entry, None)
    early += _listed_patches(tree, kustomization, "patches")
    return early, _listed_patches(tree, kustomization, "patchesJson6902")


def _listed_patches(tree: Tree, kustomization: Kustomization, name: str) -> list[Patch]:
    entries = kustomization.data.get(name) or []
    if not isinstance(entries, list):
        raise BuildError(f"{kustomization.file}: {name} must be a list")
    found = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("path", entry.get("patch")), str):
            raise BuildError(f"{kustomization.file}: {name}[{index}] needs a path or a patch string")
        target = entry.get("target")
        if target is not None and not (isinstance(target, dict) and all(isinstance(v, str) for v in target.values())):
            raise BuildError(f"{kustomization.file}: {name}[{index}].target must map selector fields to strings")
        for key, pattern in (target or {}).items():
            why = _refused_pattern(pattern) if key in _PATTERN_FIELDS else None
            if why is not None:
                raise BuildError(f"{kustomization.file}: {name}[{index}] target {key} {pattern!r}: {why}")
        if name == "patchesJson6902" and target is None:
            raise BuildError(f"{kustomization.file}: {name}[{index}] needs a target")
        if isinstance(entry.get("patch"), str):
            found += _inline_patches(kustomization, entry["patch"], (name, index, "patch"), target)
        else:
            found += _file_patches(tree, kustomization, name, entry["path"], target)
    return found


def _file_patches(
    tree: Tree, kustomization: Kustomization, name: str, entry: str, target: dict[str, Any] | None
) -> list[Patch]:
    if _is_remote(entry):
        raise _RemoteEntry(entry)
    path = local_path(kustomization, name, entry)
    documents = tree.documents_of(path)
    return [
        _patch(kustomization, Origin(path, index), data, target, False)
        for index, data in enumerate(documents)
        if data is not None
    ]


def _inline_patches(
    kustomization: Kustomization, text: str, where: tuple[Any, ...], target: dict[str, Any] | None
) -> list[Patch]:
    stream = parse_stream(text, keep_nodes=False)
    problems = stream.problems + [p for document in stream.documents for p in document.problems]
    if problems:
        raise BuildError(f"{kustomization.file}: {'.'.join(map(str, where))}: {problems[0].message}")
    origin = Origin(kustomization.file, 0, where)
    return [
        _patch(kustomization, origin, document.data, target, True)
        for document in stream.documents
        if document.data is not None
    ]


def _patch(
    kustomization: Kustomization, origin: Origin, data: Any, target: dict[str, Any] | None, inline: bool
) -> Patch:
    if isinstance(data, list) and all(isinstance(op, dict) and isinstance(op.get("path"), str) for op in data):
        if target is None:
            raise BuildError(f"{kustomization.file}: JSON6902 patch {origin.file.name} needs a target")
        return Patch(origin, data, target, inline)
    if not isinstance(data, dict):
        raise BuildError(
            f"{kustomization.file}: patch in {origin.file.name} is neither an object nor a list of operations"
        )
    if target is None and not (isinstance(data.get("kind"), str) and isinstance(object_name(data), str)):
        raise BuildError(f"{kustomization.file}: patch in {origin.file.name} names no kind and metadata.name")
    return Patch(origin, data, target, inline)


def object_name(data: Any) -> Any:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    return metadata.get("name") if isinstance(metadata, dict) else None


def target_selects(target: dict[str, Any], body: dict[str, Any], names: set[str]) -> bool:
    """A patch target selector: group, version, kind, name, namespace (anchored regular
    expressions, as kustomize reads them) and label or annotation selectors."""
    group, _, version = str(body.get("apiVersion", "")).rpartition("/")
    metadata = as_mapping(body.get("metadata"))
    actual = {
        "group": [group],
        "version": [version],
        "kind": [str(body.get("kind", ""))],
        "name": list(names),
        "namespace": [str(metadata.get("namespace") or "")],
    }
    for key, candidates in actual.items():
        if key in target and not any(_full_match(target[key], c) for c in candidates):
            return False
    return labels_match(target.get("labelSelector"), metadata.get("labels")) and labels_match(
        target.get("annotationSelector"), metadata.get("annotations")
    )


_PATTERN_FIELDS = frozenset({"group", "version", "kind", "name", "namespace"})


class _Regex(Protocol):
    """What is used of a pattern compiled by RE2 (google-re2 ships no types)."""

    def fullmatch(self, text: str) -> object: ...

    def search(self, text: Any) -> object: ...


@functools.lru_cache(maxsize=16)
def linear_pattern(pattern: str | bytes) -> _Regex:
    """One of our patterns compiled by RE2, for a search in time linear in the text: Python's re
    tries a pattern that begins with many alternatives at every position (the YAML 1.1 scalars
    kustomize reads otherwise: 230 µs a 2 KB manifest, RE2 4 µs). A bytes pattern reads each byte
    as one character, as Python's re does; the pattern spells out what RE2 reads otherwise than
    Python's re (its `\\s` has no vertical tab and is ASCII: kyaml.py and proven.py write theirs)."""
    options = re2.Options()
    options.log_errors = False
    if isinstance(pattern, bytes):
        options.encoding = re2.Options.Encoding.LATIN1
    compiled: _Regex = re2.compile(pattern, options)
    return compiled


@functools.lru_cache(maxsize=1024)
def _target_pattern(pattern: str) -> _Regex:
    """A patch target's pattern as kustomize's Go regexp reads it: RE2, in time linear in the
    name, whatever the pattern (`(a|aa)*b` backtracks for ever in Python's re)."""
    options = re2.Options()
    options.log_errors = False  # the reason is reported once, in the build's error
    compiled: _Regex = re2.compile(pattern, options)
    return compiled


def _refused_pattern(pattern: str) -> str | None:
    """Why RE2 cannot match with pattern (a lookaround, a backreference, a repeat past 1000), or None."""
    try:
        _target_pattern(pattern)
    except Exception as error:  # re2.error
        reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        return f"not a pattern RE2 can match ({reason}), as kustomize matches targets with Go's RE2 syntax"
    return None


def _full_match(pattern: str, text: str) -> bool:
    """Patterns were checked by the scan (`_refused_pattern`); one that slipped by matches itself."""
    try:
        return _target_pattern(pattern).fullmatch(text) is not None
    except Exception:  # re2.error
        return pattern == text


_SELECTOR_TERM = r"(!?[^!=]+?)\s*(!=|==|=|)\s*(.*)"


def labels_match(selector: str | None, labels: Any) -> bool:
    labels = labels if isinstance(labels, dict) else {}
    for term in filter(None, (t.strip() for t in (selector or "").split(","))):
        match: Any = _target_pattern(_SELECTOR_TERM).fullmatch(term)  # RE2: Python's re is quadratic here
        if match is None:
            return False
        key, op, value = match.groups()
        if op == "" and (key.startswith("!") == (key.lstrip("!") in labels)):
            return False
        if (op in ("=", "==") and str(labels.get(key)) != value) or (op == "!=" and str(labels.get(key)) == value):
            return False
    return True
