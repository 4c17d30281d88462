"""Kustomize roots built as kustomize builds them, so the linter judges what is applied, with
every built object (and every field a patch set) traced back to the file that wrote it.

The real engine is `kubectl kustomize` or `kustomize build`, run outside the user's tree, without
plugins or network; a small built-in engine covers the common fields when neither is installed.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from kubelint_svc.cache import KeptDocuments
from kubelint_svc.kinds import api_group
from kubelint_svc.loader import MAX_FILE_BYTES, YamlFileError, parse_stream, read_documents, resolve_plain_scalar
from kubelint_svc.nested import mapping_items
from kubelint_svc.paths import refusal, resolved
from kubelint_svc.units.process import run_tool

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
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
_KLOG_PREFIX = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err=')
# a patch or plugin config written inline rather than a file's name (`kind-patch.yaml` is a name)
_INLINE_PATCH = re.compile(r"\n|^\s*((apiVersion|kind|metadata)\s*:|[{\[]|-\s)")
_ENTRY_FIELDS = ("resources", "bases")
_UNSUPPORTED_FIELDS = (
    "configMapGenerator",
    "secretGenerator",
    "generators",
    "transformers",
    "validators",
    "vars",
    "helmCharts",
    "helmGlobals",
    "openapi",
    "crds",
    "configurations",
    "generatorOptions",
    "sortOptions",
)
_CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "IngressClass",
        "RuntimeClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "PodSecurityPolicy",
        "CertificateSigningRequest",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "ComponentStatus",
    }
)
_NOT_RENAMED = frozenset({"Namespace", "CustomResourceDefinition", "APIService"})
_WORKLOADS = ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController")
# where pod-template metadata sits, per kind (kustomize's label and annotation field specs)
_TEMPLATES: dict[str, tuple[tuple[str, ...], ...]] = {
    **dict.fromkeys(_WORKLOADS, (("spec", "template", "metadata"),)),
    "CronJob": (("spec", "jobTemplate", "metadata"), ("spec", "jobTemplate", "spec", "template", "metadata")),
}
# selector label maps, and whether kustomize creates them when absent
_SELECTORS: dict[str, tuple[tuple[str, ...], bool]] = {
    "Service": (("spec", "selector"), True),
    "ReplicationController": (("spec", "selector"), True),
    **dict.fromkeys(
        ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"), (("spec", "selector", "matchLabels"), True)
    ),
    "Job": (("spec", "selector", "matchLabels"), False),
    "CronJob": (("spec", "jobTemplate", "spec", "selector", "matchLabels"), False),
    "PodDisruptionBudget": (("spec", "selector", "matchLabels"), False),
    "NetworkPolicy": (("spec", "podSelector", "matchLabels"), False),
}
_REPLICATED = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"})
# strategic-merge keys of the lists kustomize merges item by item (others are replaced whole)
_MERGE_KEYS = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "imagePullSecrets": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "ports": ("containerPort", "port"),
}
_KIND_ORDER = (
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
_KIND_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_MISSING: Any = object()


def _mapping(value: Any) -> dict[str, Any]:
    """value when it is a mapping, else an empty one (YAML from a pull request may hold anything)."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Origin:
    file: Path
    document: int
    path: tuple[Any, ...] = ()


@dataclass
class BuiltObject:
    body: dict[str, Any]
    origin: Origin | None
    patched: dict[tuple[Any, ...], Origin] = field(default_factory=dict)


@dataclass
class Build:
    root: Path
    engine: str
    objects: list[BuiltObject]
    files: set[Path]
    error: str | None = None
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)  # kustomize's warnings; what the fallback ignored
    inputs: set[Path] = field(default_factory=set)  # the other files the chain names (generator files, envs...)
    fallback_failed: bool = False  # the error is the built-in fallback's own (not the scan's): kustomize may build it
    # the error is an engine's verdict on the whole chain (it ran to its end, no timeout): as true
    # as a build while the files, and the absence of the names below, are unchanged
    answered: bool = False
    absent: set[Path] = field(default_factory=set)  # names the chain gives that do not exist
    content: str | None = None  # kept in the cache: a digest of the bytes of every file it read


class BuildError(Exception):
    """A kustomization the build cannot follow: one line that names the file at fault."""


@dataclass(frozen=True)
class _Patch:
    origin: Origin
    body: Any  # a mapping: strategic merge; a list: JSON6902 operations
    target: dict[str, Any] | None  # a selector; None: the patch names its object itself
    inline: bool = False  # written as a string inside the kustomization: no path within it
    scope: frozenset[Path] = frozenset()  # the resource files whose objects it may patch


@dataclass
class _Kustomization:
    file: Path
    data: dict[str, Any]
    load_anywhere: bool = False

    @property
    def directory(self) -> Path:
        return self.file.parent

    @property
    def is_component(self) -> bool:
        return self.data.get("kind") == "Component"


class _Tree:
    """The files one build reads, each read once, at most MAX_FILES of them, and (with confine, the
    repository's work tree) each one `paths.refusal` allows: a pull request's `resources:
    [../../../etc]` or `files: [.git/config]` is refused unread."""

    def __init__(self, confine: Path | None = None, load_anywhere: bool = False,
                 kept: KeptDocuments | None = None) -> None:
        self.confine = confine
        self.kept = kept  # kustomizations' data from earlier runs, while each file is unchanged
        self.load_anywhere = load_anywhere  # --load-restrictor LoadRestrictionsNone: files outside a root too
        self.outside: list[str] = []  # why paths the chain names may not be read: no engine runs then
        self.refused: list[str] = []  # files the linter itself would not read: no engine runs then
        self.files: set[Path] = set()
        self.inputs: set[Path] = set()  # files the kustomizations name that the engine may read
        self.absent: set[Path] = set()  # names they give that do not exist (yet)
        self.documents: dict[Path, list[Any]] = {}
        self.kustomizations: dict[Path, _Kustomization] = {}

    def check(self, path: Path) -> None:
        """BuildError (remembered: no engine runs) when the run may not read path."""
        why = refusal(path, self.confine) if self.confine is not None else None
        if why is not None:
            message = f"{path}: {why}; not read"
            self.outside.append(message)
            raise BuildError(message)

    def _count(self, path: Path) -> None:
        if len(self.files) >= MAX_FILES:
            raise BuildError(f"{path}: the build reads more than {MAX_FILES} files; not built")
        self.files.add(path)

    def documents_of(self, path: Path) -> list[Any]:
        if path not in self.documents:
            self.check(path)
            self._count(path)
            try:
                self.documents[path] = self.kept.data_of(path, _documents_data) \
                    if self.kept is not None and path.name in KUSTOMIZATION_NAMES else _documents_data(path)
            except YamlFileError as error:
                # a file the linter refuses (syntax, an alias bomb, a device) is never handed to an engine
                self.refused.append(str(error))
                raise BuildError(str(error)) from None
        return self.documents[path]

    def kustomization_in(self, directory: Path) -> _Kustomization:
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
            real = resolved(directory)
            if real is not None and real != directory:
                _same_through_link(directory, real, data)
            self.kustomizations[directory] = _Kustomization(file, data, self.load_anywhere)
        return self.kustomizations[directory]

    def name_inputs(self, directory: Path, data: Any, config: bool = False) -> None:
        """Every existing path a kustomization (or, with config, a plugin config) names, relative
        to directory, is one the engine may read: confined, and recorded so that a kept build
        watches it."""
        for path in referenced_paths(directory, data, config, self.absent):
            self.check(path)
            self.inputs.add(path)


@dataclass
class _Scan:
    """A root's kustomization chain read without building: its files, remote entries, patches."""

    tree: _Tree = field(default_factory=_Tree)
    remote: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    patches: list[_Patch] = field(default_factory=list)
    resource_files: list[Path] = field(default_factory=list)
    # folder -> its files, a component's patches, the kustomizations kustomize applies for it (each
    # inclusion counted): every folder is scanned once, however many paths lead to it
    scanned: dict[Path, tuple[set[Path], list[_Patch], int]] = field(default_factory=dict)


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
    values = _config_paths(data) if config else _named_paths(_mapping(data))
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
    values = [entry for name in (*_ENTRY_FIELDS, "components", *_PLUGIN_FIELDS) for entry in _list(data.get(name))]
    # a patchesStrategicMerge entry is a file's name, or a patch written inline
    values += [entry for entry in _list(data.get("patchesStrategicMerge"))
               if isinstance(entry, str) and not _INLINE_PATCH.search(entry)]
    for name in ("patches", "patchesJson6902"):
        values += [_mapping(entry).get("path") for entry in _list(data.get(name))]
    values += _path_values(data)
    return [value for value in values if isinstance(value, str)]


def kustomization_file(directory: Path) -> Path | None:
    return next((directory / name for name in KUSTOMIZATION_NAMES if (directory / name).is_file()), None)


def _documents_data(path: Path) -> list[Any]:
    return [document.data for document in read_documents(path)]


def find_roots(kustomization_dirs: Iterable[Path], confine: Path | None = None,
               kept: KeptDocuments | None = None) -> list[Path]:
    """Of the folders holding a kustomization, those no other one of them includes (via
    resources/bases/components, in any direction, e.g. ../manager); absolute, in the given order."""
    directories = [Path(os.path.normpath(Path(d).absolute())) for d in kustomization_dirs]
    tree, included = _Tree(confine, kept=kept), set()
    for directory in directories:
        try:
            kustomization = tree.kustomization_in(directory)
        except BuildError:
            continue
        if kustomization.is_component:
            included.add(directory)  # built only as part of what includes it
        for name in (*_ENTRY_FIELDS, "components", *_PLUGIN_FIELDS):  # plugin config folders are read, not applied
            entries = kustomization.data.get(name)
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, str) and not _INLINE_PATCH.search(entry) and not _is_remote(entry):
                    included.add(Path(os.path.normpath(directory / entry)))
    return [directory for directory in dict.fromkeys(directories) if directory not in included]


def build(
    root: Path, engine: str = "auto", timeout: float = 60.0, confine: Path | None = None,
    load_restrictor: str = "rootOnly", kept: KeptDocuments | None = None,
) -> Build:
    """engine: auto (kubectl if `kubectl` is on PATH and has kustomize, else `kustomize` binary,
    else the built-in fallback) | kubectl | kustomize | fallback. With confine, a chain that
    reaches outside that folder is an error, found before any engine runs. load_restrictor none:
    a kustomization may name files outside its folder (as Flux and Config Sync build), never
    outside confine."""
    root = Path(os.path.normpath(Path(root).absolute()))
    scan = _Scan(_Tree(confine, load_restrictor == "none", kept))
    command, name = _command_for(engine)
    if command is not None and load_restrictor == "none":
        command = [*command, "--load-restrictor", "LoadRestrictionsNone"]
    result = Build(root, name, [], scan.tree.files, inputs=scan.tree.inputs, absent=scan.tree.absent)
    try:
        visits = _scan_directory(scan, root, ())[2]
        if visits > MAX_VISITS:
            scan.problems.insert(0, (
                f"{root}: the chain applies {visits} kustomizations, more than {MAX_VISITS} (a folder included "
                "along many paths is built anew along each); not built"))
        _build_scanned(scan, root, engine, command, timeout, result)
    except OSError as error:  # the tree changed or became unreadable while it was read
        result.objects, result.error = [], f"{error.filename or root}: {error.strerror or error}"
    return result


def _build_scanned(
    scan: _Scan, root: Path, engine: str, command: list[str] | None, timeout: float, result: Build
) -> None:
    if scan.tree.outside:
        result.error = scan.tree.outside[0]
    elif scan.tree.refused:
        result.error = scan.tree.refused[0]
    elif scan.remote:
        result.skipped = f"remote resources: {', '.join(sorted(set(scan.remote)))} (nothing is fetched)"
    elif any(_HELM_KEYS & set(kustomization.data) for kustomization in scan.tree.kustomizations.values()):
        result.skipped = "helmCharts: kustomize would need --enable-helm and the network to inflate them"
    elif scan.problems:  # what the scan could not follow is never left to an engine to read
        result.error = scan.problems[0]
    elif command is None and engine in ("kubectl", "kustomize"):  # asked for by name: no stand-in
        result.error = f"{engine} is not on PATH (or has no kustomize)"
    elif command is None:
        _run_fallback(scan, root, result)
    else:
        _run_real(scan, root, command, timeout, result)


def find_tool(name: str) -> str | None:
    """A tool on PATH, or installed beside this Python (the `kustomize` extra's kubectl wheel
    puts it there, and a venv's bin need not be on PATH)."""
    found = shutil.which(name)
    if found is None:
        beside = Path(sys.executable).parent / name
        found = str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None
    return found


def _command_for(engine: str) -> tuple[list[str] | None, str]:
    kubectl, kustomize = find_tool("kubectl"), find_tool("kustomize")
    if engine in ("auto", "kubectl") and kubectl and _has_kustomize(kubectl):
        return [kubectl, "kustomize"], "kubectl"
    if engine in ("auto", "kustomize") and kustomize:
        return [kustomize, "build"], "kustomize"
    return None, engine if engine in ("kubectl", "kustomize") else "fallback"


@functools.lru_cache(maxsize=8)
def _has_kustomize(kubectl: str) -> bool:
    """Asked once per kubectl per process: every root of a run is built with the same one."""
    try:
        return (
            subprocess.run(
                [kubectl, "kustomize", "--help"], capture_output=True, timeout=20, stdin=subprocess.DEVNULL,
                check=False,
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


# ---- reading the chain ---------------------------------------------------------------------


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


def _entries(kustomization: _Kustomization, name: str) -> list[str]:
    entries = kustomization.data.get(name)
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
        raise BuildError(f"{kustomization.file}: {name} must be a list of paths")
    return entries


def _local(kustomization: _Kustomization, name: str, entry: str) -> Path:
    path = Path(os.path.normpath(kustomization.directory / entry))
    if not path.exists():
        raise BuildError(f"{kustomization.file}: {name} entry {entry!r} not found ({path})")
    inside = os.path.realpath(kustomization.directory)
    if kustomization.load_anywhere:
        return path  # the repository's confinement still holds: the tree checks every path it reads
    if path.is_file() and os.path.commonpath([os.path.realpath(path), inside]) != inside:
        # kustomize's default load restrictor: folders may be anywhere, files only at or below
        raise BuildError(
            f"{kustomization.file}: {name} entry {entry!r} is a file outside {kustomization.directory}, "
            "which kustomize refuses (unless built with --kustomize-load-restrictor none)"
        )
    return path


def _scan_directory(
    scan: _Scan, directory: Path, stack: tuple[Path, ...]
) -> tuple[set[Path], list[_Patch], int]:
    """The resource files under a kustomization, (for a component) its patches, which its includer
    scopes, and how many kustomizations kustomize applies for it; every problem is noted and the
    walk goes on, so no remote entry is missed."""
    if directory in stack or len(stack) > MAX_INCLUDE_DEPTH:
        why = "includes itself" if directory in stack else f"is included more than {MAX_INCLUDE_DEPTH} levels deep"
        scan.problems.append(f"{directory}: {why} ({' -> '.join(map(str, (*stack, directory)))})")
        return set(), [], 1
    if directory not in scan.scanned:
        scan.scanned[directory] = _scanned_folder(scan, directory, (*stack, directory))
    return scan.scanned[directory]


def _scanned_folder(scan: _Scan, directory: Path, stack: tuple[Path, ...]) -> tuple[set[Path], list[_Patch], int]:
    try:
        kustomization = scan.tree.kustomization_in(directory)
    except BuildError as error:
        scan.problems.append(str(error))
        return set(), [], 1
    closure: set[Path] = set()
    pending: list[_Patch] = []
    visits = 1
    for name in (*_ENTRY_FIELDS, "components"):
        for path in _scan_entries(scan, kustomization, name):
            if path.is_dir():
                files, patches, below = _scan_directory(scan, path, stack)
                closure |= files
                pending += patches
                visits += below
            else:
                _scan_resource_file(scan, path, closure)
    visits += _scan_plugins(scan, kustomization, stack)
    scan.remote += [entry for entry in _path_values(kustomization.data) if _names_remote(entry)]
    try:
        early, late = _patches_of(scan.tree, kustomization)
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


def _path_values(data: dict[str, Any]) -> list[str]:
    """The strings of a kustomization's fields that kustomize reads as paths, besides resources,
    components, patches and plugin configs."""
    values = [entry for name in _FILE_FIELDS for entry in _list(data.get(name))]
    values += [str(_mapping(data.get("openapi")).get("path", ""))]
    values += [str(_mapping(entry).get("path", "")) for entry in _list(data.get("replacements"))]
    for name in ("configMapGenerator", "secretGenerator"):
        for entry in _list(data.get(name)):
            for key in _GENERATOR_FILE_KEYS:
                values += _list(_mapping(entry).get(key))
    return [value for value in values if isinstance(value, str) and value]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if isinstance(value, str) else []


def _config_paths(data: Any) -> Iterator[str]:
    """Strings under the keys of plugin configs that name files, at any depth."""
    for key, child in mapping_items(data):
        if key in _CONFIG_FILE_KEYS:
            yield from (entry for entry in _list(child) if isinstance(entry, str))


def _scan_plugins(scan: _Scan, kustomization: _Kustomization, stack: tuple[Path, ...]) -> int:
    """The generator, transformer and validator configs a kustomization names (a file, a folder
    of them with its own kustomization, or a config written inline), and every file those configs
    name: kustomize reads them all, relative to this kustomization's folder. The kustomizations
    applied for the folders among them."""
    visits = 0
    for name in _PLUGIN_FIELDS:
        for entry in _list(kustomization.data.get(name)):
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
                    files, _, below = _scan_directory(scan, Path(os.path.normpath(kustomization.directory / entry)),
                                                      stack)
                    visits += below
                    configs = [data for file in sorted(files) for data in scan.tree.documents_of(file)]
                else:
                    configs = scan.tree.documents_of(_local(kustomization, name, entry))
                _scan_config(scan, kustomization, configs)
            except BuildError as error:
                scan.problems.append(str(error))
    return visits


def _scan_config(scan: _Scan, kustomization: _Kustomization, configs: list[Any]) -> None:
    scan.remote += [entry for entry in _config_paths(configs) if _names_remote(entry)]
    scan.tree.name_inputs(kustomization.directory, configs, config=True)


def _scan_entries(scan: _Scan, kustomization: _Kustomization, name: str) -> list[Path]:
    """The local entries of a resources, bases or components list; remote ones are noted."""
    try:
        entries = _entries(kustomization, name)
    except BuildError as error:
        scan.problems.append(str(error))
        return []
    paths = []
    for entry in entries:
        if _is_remote(entry, kustomization.directory / entry):
            scan.remote.append(entry)
            continue
        try:
            paths.append(_local(kustomization, name, entry))
        except BuildError as error:
            scan.problems.append(str(error))
    return paths


def _scan_resource_file(scan: _Scan, path: Path, closure: set[Path]) -> None:
    try:
        scan.tree.documents_of(path)
    except BuildError as error:
        scan.problems.append(str(error))
        return
    closure.add(path)
    if path not in scan.resource_files:
        scan.resource_files.append(path)


def _patches_of(tree: _Tree, kustomization: _Kustomization) -> tuple[list[_Patch], list[_Patch]]:
    """A kustomization's patches: those applied before its other transformers, and the
    patchesJson6902 applied after its names and labels (kustomize's order)."""
    early: list[_Patch] = []
    for index, entry in enumerate(_entries(kustomization, "patchesStrategicMerge")):
        if _INLINE_PATCH.search(entry):
            early += _inline_patches(kustomization, entry, ("patchesStrategicMerge", index), None)
        else:
            early += _file_patches(tree, kustomization, "patchesStrategicMerge", entry, None)
    early += _listed_patches(tree, kustomization, "patches")
    return early, _listed_patches(tree, kustomization, "patchesJson6902")


def _listed_patches(tree: _Tree, kustomization: _Kustomization, name: str) -> list[_Patch]:
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
    tree: _Tree, kustomization: _Kustomization, name: str, entry: str, target: dict[str, Any] | None
) -> list[_Patch]:
    if _is_remote(entry):
        raise _RemoteEntry(entry)
    path = _local(kustomization, name, entry)
    documents = tree.documents_of(path)
    return [
        _patch(kustomization, Origin(path, index), data, target, False)
        for index, data in enumerate(documents)
        if data is not None
    ]


def _inline_patches(
    kustomization: _Kustomization, text: str, where: tuple[Any, ...], target: dict[str, Any] | None
) -> list[_Patch]:
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
    kustomization: _Kustomization, origin: Origin, data: Any, target: dict[str, Any] | None, inline: bool
) -> _Patch:
    if isinstance(data, list) and all(isinstance(op, dict) and isinstance(op.get("path"), str) for op in data):
        if target is None:
            raise BuildError(f"{kustomization.file}: JSON6902 patch {origin.file.name} needs a target")
        return _Patch(origin, data, target, inline)
    if not isinstance(data, dict):
        raise BuildError(
            f"{kustomization.file}: patch in {origin.file.name} is neither an object nor a list of operations"
        )
    if target is None and not (isinstance(data.get("kind"), str) and isinstance(_name(data), str)):
        raise BuildError(f"{kustomization.file}: patch in {origin.file.name} names no kind and metadata.name")
    return _Patch(origin, data, target, inline)


# ---- the real engine -----------------------------------------------------------------------


def _run_real(scan: _Scan, root: Path, command: list[str], timeout: float, result: Build) -> None:
    """Build through a throwaway kustomization outside the tree that includes the root and asks
    for origin annotations; on failure, build the root itself so the error is in its own terms."""
    with tempfile.TemporaryDirectory(prefix="kubelint-kustomize-") as temporary:
        wrapper = Path(temporary).resolve()
        relative = os.path.relpath(root, wrapper)
        (wrapper / "kustomization.yaml").write_text(
            f"resources:\n- {json.dumps(relative)}\nbuildMetadata: [originAnnotations]\n", encoding="utf-8"
        )
        deadline = time.monotonic() + timeout
        output, error, warnings, answered = _run([*command, str(wrapper)], timeout)
        left = deadline - time.monotonic()
        if error is not None and not error.endswith(_TIMED_OUT) and left >= 1:  # a timeout is not tried twice
            # within the root's one share of time
            output, error, warnings, answered = _run([*command, str(root)], left)
        result.warnings += warnings
        if error is not None:
            result.error, result.answered = error, answered
            return
        for body in _documents(output):
            result.objects.append(_traced(scan, wrapper, body))


_TIMED_OUT = "; not built"
_HELM_KEYS = {"helmCharts", "helmChartInflationGenerator", "helmGlobals"}


def _run(command: list[str], timeout: float) -> tuple[str, str | None, list[str], bool]:
    """stdout, kustomize's own words on failure, its warnings, whether it ran to its end; plugins stay off, network is
    pointed at a closed port, and the whole process group dies at the time limit or once its
    output passes the file-size limit (its memory capped: see units/process.py)."""
    environment = {
        **os.environ,
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "",
    }
    done = run_tool(command, timeout, MAX_FILE_BYTES, environment)
    if not done.started:
        return "", done.stopped, [], False
    if done.stopped is not None:
        return "", f"{' '.join(command[:2])} {done.stopped}{_TIMED_OUT}", [], False
    stdout, stderr = done.stdout, done.stderr
    lines = stderr.decode("utf-8", "replace").splitlines()
    warnings = [line.lstrip("# ") for line in lines if line.startswith("# Warning")]
    if done.returncode == 0:
        return stdout.decode("utf-8", "replace"), None, warnings, True
    # a signal (a negative status) is not kustomize's verdict on the files
    answered = done.returncode is not None and done.returncode > 0
    return "", _kustomize_words(lines) or f"exit status {done.returncode}", warnings, answered


def _kustomize_words(lines: list[str]) -> str:
    """kustomize's error lines (at most 4), klog's prefix and quoting taken off: `err="a \\"b\\""` is `a "b"`."""
    words = []
    for line in lines:
        if not line.strip() or line.startswith("# Warning"):
            continue
        text = _KLOG_PREFIX.sub("", line).strip()
        if _KLOG_PREFIX.search(line) is not None and len(text) > 1 and text[0] == text[-1] == '"':
            text = re.sub(r'\\(["\\])', r"\1", text[1:-1])  # klog's Go quoting, taken off once
        else:
            text = text.strip('"')
        words.append(text)
    return "\n".join(line[:400] for line in words[:4])


def _documents(output: str) -> list[dict[str, Any]]:
    return [d.data for d in parse_stream(output, keep_nodes=False).documents if isinstance(d.data, dict)]


def _traced(scan: _Scan, wrapper: Path, body: dict[str, Any]) -> BuiltObject:
    """A built object without our annotation, its origin and the fields patches set."""
    metadata = _mapping(body.get("metadata"))
    annotations = _mapping(metadata.get("annotations"))
    written = annotations.pop(ORIGIN_ANNOTATION, None)
    if "annotations" in metadata and not annotations:
        del metadata["annotations"]
    origin = _annotated_origin(scan, wrapper, written, body) or _origin_in(scan, scan.resource_files, body)
    return BuiltObject(body, origin, _attribute(scan, body, origin))


def _annotated_origin(scan: _Scan, wrapper: Path, written: Any, body: dict[str, Any]) -> Origin | None:
    """`path:` is relative to the wrapper: the base file; `configuredIn` alone: a generator's output
    (or an object a patch stripped the annotation from: then None, and kind/name decide). The
    annotation is believed only when it names a file the scan read: `commonAnnotations` can
    write any origin, and a finding sent to a file no one lints would be dropped."""
    documents = _documents(written) if isinstance(written, str) else []
    data = _mapping(documents[0] if documents else {})
    named = data.get("path", data.get("configuredIn"))
    file = Path(os.path.normpath(wrapper / named)) if isinstance(named, str) and "\0" not in named else None
    if file is None or file not in scan.tree.documents:
        return None
    if isinstance(data.get("path"), str):
        return _origin_in(scan, [file], body)
    by = _mapping(data.get("configuredBy"))
    return Origin(file, 0) if str(by.get("kind", "")).endswith("Generator") else None


def _origin_in(scan: _Scan, files: list[Path], body: dict[str, Any]) -> Origin | None:
    for file in files:
        try:
            index = _best_document(scan.tree.documents_of(file), body)
        except BuildError:
            continue
        if index is not None:
            return Origin(file, index)
    return None


def _best_document(documents: list[Any], body: dict[str, Any]) -> int | None:
    """The document of the object's kind whose name the built name keeps (prefixes and suffixes
    only add to it); the longest such name wins."""
    built = str(_name(body) or "")
    candidates = [
        (len(str(_name(d))), -i)
        for i, d in enumerate(documents)
        if isinstance(d, dict) and d.get("kind") == body.get("kind") and str(_name(d)) in built
    ]
    return -max(candidates)[1] if candidates else None


# ---- which patch set which field -----------------------------------------------------------


def _attribute(scan: _Scan, body: dict[str, Any], origin: Origin | None) -> dict[tuple[Any, ...], Origin]:
    base = scan.tree.documents[origin.file][origin.document] if origin and origin.file in scan.tree.documents else {}
    base = base if isinstance(base, dict) else {}
    patched: dict[tuple[Any, ...], Origin] = {}
    for patch in scan.patches:
        if (origin is not None and origin.file not in patch.scope) or not _may_touch(patch, body, base):
            continue
        pairs = (
            _operation_nodes(patch.body, body, base)
            if isinstance(patch.body, list)
            else _merged_nodes(patch.body, body, base)
        )
        for built_path, patch_path in pairs:
            path = patch.origin.path if patch.inline else patch.origin.path + patch_path
            patched[built_path] = Origin(patch.origin.file, patch.origin.document, path)
    return patched


def _may_touch(patch: _Patch, body: dict[str, Any], base: dict[str, Any]) -> bool:
    names = {str(_name(body)), str(_name(base))}
    if patch.target is None:
        wanted = str(_name(patch.body))
        same_name = wanted in names or (str(_name(base)) in wanted and wanted in str(_name(body)))
        return patch.body.get("kind") == body.get("kind") and same_name
    return _selected(patch.target, body, names)


def _merged_nodes(
    patch: Any,
    built: Any,
    base: Any,
    list_name: str = "",
    built_path: tuple[Any, ...] = (),
    patch_path: tuple[Any, ...] = (),
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(built path, patch path) of each node a strategic-merge patch set: a value the base lacked
    or held differently; list items are paired by their merge key, as kustomize pairs them."""
    if isinstance(patch, dict) and isinstance(built, dict):
        if base is _MISSING and built_path:
            yield built_path, patch_path
        for key, value in patch.items():
            if not key.startswith("$") and key in built:
                child = base.get(key, _MISSING) if isinstance(base, dict) else _MISSING
                yield from _merged_nodes(value, built[key], child, key, (*built_path, key), (*patch_path, key))
    elif isinstance(patch, list) and isinstance(built, list):
        if base is _MISSING:
            yield built_path, patch_path
        for index, item in enumerate(patch):
            at = _paired(list_name, item, built, index)
            if at is not None:
                before = _paired(list_name, item, base, index) if isinstance(base, list) else None
                yield from _merged_nodes(
                    item,
                    built[at],
                    base[before] if before is not None else _MISSING,
                    list_name,
                    (*built_path, at),
                    (*patch_path, index),
                )
    elif built == patch and base != patch:
        yield built_path, patch_path


def _paired(list_name: str, item: Any, items: list[Any], index: int) -> int | None:
    key = _merge_key(list_name, item)
    if key is None:
        return index if index < len(items) else None
    return next((i for i, other in enumerate(items) if isinstance(other, dict) and other.get(key) == item[key]), None)


def _merge_key(list_name: str, item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    return next((key for key in _MERGE_KEYS.get(list_name, ()) if key in item), None)


def _operation_nodes(
    operations: list[Any], built: dict[str, Any], base: dict[str, Any]
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    for index, operation in enumerate(operations):
        if operation.get("op") not in ("add", "replace") or "value" not in operation:
            continue
        path = _pointer_in_built(operation["path"], built, operation["value"])
        if path is not None:
            for sub, value in _nodes(operation["value"]):
                if _get(base, (*path, *sub)) != value:
                    yield (*path, *sub), (index, "value", *sub)


def _pointer_in_built(pointer: str, built: Any, value: Any) -> tuple[Any, ...] | None:
    """The built path a JSON pointer wrote to, if the value is still there (`-`: the last equal item)."""
    path: list[Any] = []
    current = built
    for token in _tokens(pointer):
        if isinstance(current, list):
            index = (
                next((i for i in range(len(current) - 1, -1, -1) if current[i] == value), None)
                if token == "-"
                else int(token)
                if token.isdigit()
                else None
            )
            if index is None or index >= len(current):
                return None
            path.append(index)
            current = current[index]
            continue
        if not isinstance(current, dict) or token not in current:
            return None
        path.append(token)
        current = current[token]
    return tuple(path) if current == value else None


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _nodes(child, (*path, key))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        else:
            return _MISSING
    return data


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []


def _name(data: Any) -> Any:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    return metadata.get("name") if isinstance(metadata, dict) else None


def _selected(target: dict[str, Any], body: dict[str, Any], names: set[str]) -> bool:
    """A patch target selector: group, version, kind, name, namespace (anchored regular
    expressions, as kustomize reads them) and label or annotation selectors."""
    group, _, version = str(body.get("apiVersion", "")).rpartition("/")
    metadata = _mapping(body.get("metadata"))
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
    return _labels_match(target.get("labelSelector"), metadata.get("labels")) and _labels_match(
        target.get("annotationSelector"), metadata.get("annotations")
    )


_PATTERN_FIELDS = frozenset({"group", "version", "kind", "name", "namespace"})


class _Regex(Protocol):
    """What is used of a pattern compiled by RE2 (google-re2 ships no types)."""

    def fullmatch(self, text: str) -> object: ...


@functools.lru_cache(maxsize=1024)
def _target_pattern(pattern: str) -> _Regex:
    """A patch target's pattern as kustomize's Go regexp reads it: RE2, in time linear in the
    name, whatever the pattern (`(a|aa)*b` backtracks for ever in Python's re)."""
    import re2

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


def _labels_match(selector: str | None, labels: Any) -> bool:
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


# ---- the built-in fallback -----------------------------------------------------------------


@dataclass
class _Object:
    body: dict[str, Any]
    origin: Origin | None
    names: set[str]


def _run_fallback(scan: _Scan, root: Path, result: Build) -> None:
    if scan.problems:
        result.error = scan.problems[0]
        return
    try:
        objects = _kustomize(scan.tree, root, [], result.warnings)
    except BuildError as error:
        result.error, result.fallback_failed, result.answered = str(error), True, True
        return
    for item in sorted(objects, key=_legacy_order):
        annotations = item.body.get("metadata", {}).get("annotations")
        if annotations == {}:
            del item.body["metadata"]["annotations"]  # as kustomize drops it
        result.objects.append(BuiltObject(item.body, item.origin, _attribute(scan, item.body, item.origin)))


def _kustomize(tree: _Tree, directory: Path, objects: list[_Object], notes: list[str]) -> list[_Object]:
    """One kustomization applied in kustomize's order: resources, components, patches, namespace,
    names, labels, annotations, JSON6902 patches, replicas, images. A component works on the
    objects of what includes it."""
    kustomization = tree.kustomization_in(directory)
    for name in _ENTRY_FIELDS:
        for entry in _entries(kustomization, name):
            path = _local(kustomization, name, entry)
            added = _kustomize(tree, path, [], notes) if path.is_dir() else _objects_in(tree, path, kustomization)
            _accumulate(objects, added, kustomization)
    for entry in _entries(kustomization, "components"):
        objects = _kustomize(tree, _local(kustomization, "components", entry), objects, notes)
    for value in _path_values(kustomization.data):  # what kustomize would read: missing, it fails too
        name = value.partition("=")[2] if "=" in value and not (directory / value).exists() else value
        if not (directory / name).exists():
            raise BuildError(f"{kustomization.file}: {value!r} not found ({Path(os.path.normpath(directory / name))})")
    notes += [
        f"{kustomization.file}: {name} is not applied by the built-in engine"
        for name in _UNSUPPORTED_FIELDS
        if kustomization.data.get(name)
    ]
    early, late = _patches_of(tree, kustomization)
    for patch in early:
        objects = _applied(objects, patch, kustomization)
    _transform(objects, kustomization)
    for patch in late:
        objects = _applied(objects, patch, kustomization)
    _set_replicas(objects, kustomization)
    _set_images(objects, kustomization)
    for replacement in _replacements(tree, kustomization):
        _replace(objects, replacement, kustomization)
    return objects


def _objects_in(tree: _Tree, path: Path, kustomization: _Kustomization) -> list[_Object]:
    found = []
    for index, data in enumerate(tree.documents_of(path)):
        if data is None:
            continue
        if not (isinstance(data, dict) and isinstance(data.get("kind"), str) and isinstance(_name(data), str)):
            raise BuildError(
                f"{kustomization.file}: {path} document {index} is no object with a kind and metadata.name"
            )
        found.append(_Object(copy.deepcopy(data), Origin(path, index), {_name(data)}))
    return found


def _accumulate(objects: list[_Object], added: list[_Object], kustomization: _Kustomization) -> None:
    known = {_identity(item.body) for item in objects}
    for item in added:
        if _identity(item.body) in known:
            raise BuildError(f"{kustomization.file}: {'/'.join(_identity(item.body)[1:])} is included twice")
        known.add(_identity(item.body))
        objects.append(item)


def _identity(body: dict[str, Any]) -> tuple[str, str, str, str]:
    group = api_group(str(body.get("apiVersion", "")))
    return group, str(body.get("kind")), str(body["metadata"].get("namespace") or ""), str(_name(body))


def _applied(objects: list[_Object], patch: _Patch, kustomization: _Kustomization) -> list[_Object]:
    kept = []
    matched = False
    for item in objects:
        hit = (
            _selected(patch.target, item.body, item.names)
            if patch.target is not None
            else (patch.body.get("kind") == item.body.get("kind") and _name(patch.body) in item.names)
        )
        matched = matched or hit
        if not hit:
            kept.append(item)
        elif isinstance(patch.body, list):
            item.body = _operated(item.body, patch.body, kustomization)
            kept.append(item)
        elif patch.body.get("$patch") != "delete":
            item.body = _merged(item.body, patch.body, "")
            kept.append(item)
    if not matched and patch.target is None:
        raise BuildError(
            f"{kustomization.file}: patch {patch.origin.file.name} matches no "
            f"{patch.body.get('kind')} named {_name(patch.body)!r}"
        )
    return kept


def _merged(base: Any, patch: Any, list_name: str) -> Any:
    """Strategic merge: mappings merged key by key (null deletes), lists with a merge key item by
    item (patch items first, then the base's others, as kustomize orders them), others replaced."""
    if isinstance(patch, dict) and isinstance(base, dict) and patch.get("$patch") != "replace":
        result = dict(base)
        for key, value in patch.items():
            if key.startswith("$"):
                continue
            if value is None:
                result.pop(key, None)
            else:
                result[key] = _merged(base[key], value, key) if key in base else _clean(value)
        return result
    if isinstance(patch, list) and isinstance(base, list) and any(_merge_key(list_name, i) for i in patch + base):
        merged, used = [], set()
        for index, item in enumerate(patch):
            at = _paired(list_name, item, base, index) if _merge_key(list_name, item) else None
            used.add(at)
            if isinstance(item, dict) and item.get("$patch") == "delete":
                continue
            merged.append(_merged(base[at], item, list_name) if at is not None else _clean(item))
        return merged + [item for index, item in enumerate(base) if index not in used]
    return _clean(patch)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return copy.deepcopy(value)


def _operated(body: dict[str, Any], operations: list[Any], kustomization: _Kustomization) -> dict[str, Any]:
    """JSON6902 add, replace and remove; a pointer that does not resolve is kustomize's error too."""
    body = copy.deepcopy(body)
    for index, operation in enumerate(operations):
        op, tokens = operation.get("op"), _tokens(operation["path"])
        try:
            if op not in ("add", "replace", "remove") or not tokens:
                raise ValueError(f"{op!r} is not applied by the built-in engine")
            parent = _get(body, _path_of(body, tokens[:-1]))
            key: Any = tokens[-1] if isinstance(parent, dict) else len(parent) if tokens[-1] == "-" else int(tokens[-1])
            value = copy.deepcopy(operation.get("value"))
            if op == "add" and isinstance(parent, list) and key <= len(parent):
                parent.insert(key, value)
            elif op == "add":
                parent[key] = value
            elif key not in (parent if isinstance(parent, dict) else range(len(parent))):
                raise KeyError("missing path")
            elif op == "remove":
                del parent[key]
            else:
                parent[key] = value
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as error:
            raise BuildError(
                f"{kustomization.file}: JSON6902 operation {index} ({op} {operation['path']}) "
                f"does not apply to {_name(body)}: {error}"
            ) from None
    return body


def _path_of(body: Any, tokens: list[str]) -> tuple[Any, ...]:
    path: list[Any] = []
    for token in tokens:
        path.append(int(token) if isinstance(_get(body, tuple(path)), list) else token)
    if _get(body, tuple(path)) is _MISSING:
        raise KeyError("missing path")
    return tuple(path)


def _rename_service_references(objects: list[_Object], renamed: dict[str, str]) -> None:
    """What kustomize's name-reference transformer does for the Services the linter follows:
    Ingress backends and a StatefulSet's serviceName follow a renamed Service."""
    for item in objects:
        kind, spec = item.body.get("kind"), _mapping(item.body.get("spec"))
        service_name = spec.get("serviceName")
        if kind == "StatefulSet" and isinstance(service_name, str) and service_name in renamed:
            spec["serviceName"] = renamed[service_name]
        if kind != "Ingress":
            continue
        backends = [spec.get("defaultBackend")]
        rules = spec.get("rules")
        for rule in rules if isinstance(rules, list) else []:
            paths = _mapping(_mapping(rule).get("http")).get("paths")
            backends += [_mapping(path).get("backend") for path in paths] if isinstance(paths, list) else []
        for backend in backends:
            service = backend.get("service") if isinstance(backend, dict) else None
            if isinstance(service, dict) and service.get("name") in renamed:
                service["name"] = renamed[service["name"]]


def _transform(objects: list[_Object], kustomization: _Kustomization) -> None:
    """namespace, namePrefix/nameSuffix, labels and commonLabels, commonAnnotations."""
    data, file = kustomization.data, kustomization.file
    namespace, prefix, suffix = (_string(data, key, file) for key in ("namespace", "namePrefix", "nameSuffix"))
    label_sets = [(_strings(data.get("commonLabels"), file, "commonLabels"), True, True)]
    labels = data.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(entry, dict) for entry in labels):
        raise BuildError(f"{file}: labels must be a list of mappings with pairs")
    for entry in labels:  # kustomize applies `labels` before `commonLabels`
        selectors = entry.get("includeSelectors") is True
        label_sets.insert(
            -1,
            (
                _strings(entry.get("pairs"), file, "labels.pairs"),
                selectors,
                selectors or entry.get("includeTemplates") is True,
            ),
        )
    annotations = _strings(data.get("commonAnnotations"), file, "commonAnnotations")
    renamed: dict[str, str] = {}  # Service names before and after the prefix and suffix
    for item in objects:
        kind, metadata = str(item.body.get("kind")), _at(item.body, ("metadata",))
        if namespace and kind not in _CLUSTER_SCOPED:
            metadata["namespace"] = namespace
        elif namespace and kind == "Namespace":  # kustomize renames the Namespace objects it holds
            metadata["name"] = namespace
            item.names.add(namespace)
        if (prefix or suffix) and kind not in _NOT_RENAMED:
            old = metadata["name"]
            metadata["name"] = f"{prefix or ''}{old}{suffix or ''}"
            item.names.add(metadata["name"])
            if kind == "Service" and isinstance(old, str):
                renamed[old] = metadata["name"]
        for pairs, selectors, templates in label_sets:
            _label(item.body, pairs, selectors, templates)
        if annotations:
            for path in (("metadata",), *_TEMPLATES.get(kind, ())):
                _at(item.body, (*path, "annotations")).update(annotations)
    if renamed:
        _rename_service_references(objects, renamed)


def _label(body: dict[str, Any], pairs: dict[str, str], selectors: bool, templates: bool) -> None:
    if not pairs:
        return
    kind = str(body.get("kind"))
    _at(body, ("metadata", "labels")).update(pairs)
    for path in _TEMPLATES.get(kind, ()) if templates else ():
        _at(body, (*path, "labels")).update(pairs)
    if selectors and kind in _SELECTORS:
        path, create = _SELECTORS[kind]
        if create or isinstance(_get(body, path), dict):
            _at(body, path).update(pairs)


def _set_replicas(objects: list[_Object], kustomization: _Kustomization) -> None:
    entries = kustomization.data.get("replicas") or []
    for entry in entries if isinstance(entries, list) else [None]:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("count"), int)):
            raise BuildError(f"{kustomization.file}: replicas entries need a name and an integer count")
        for item in objects:
            if item.body.get("kind") in _REPLICATED and entry["name"] in item.names:
                _at(item.body, ("spec",))["replicas"] = entry["count"]


def _set_images(objects: list[_Object], kustomization: _Kustomization) -> None:
    entries = kustomization.data.get("images") or []
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
    ):
        raise BuildError(f"{kustomization.file}: images entries need a name")
    for item in objects:
        for container in _containers(item.body):
            if isinstance(container.get("image"), str):
                container["image"] = _image(container["image"], entries)


def _replacements(tree: _Tree, kustomization: _Kustomization) -> list[dict[str, Any]]:
    """The replacements a kustomization writes, and those of the files its `path:` entries name."""
    found = []
    for entry in _list(kustomization.data.get("replacements")):
        entry = _mapping(entry)  # noqa: PLW2901 (a replacement, or a mapping naming a file of them)
        if isinstance(entry.get("path"), str):
            for document in tree.documents_of(_local(kustomization, "replacements", entry["path"])):
                found += [_mapping(item) for item in (document if isinstance(document, list) else [document])]
        else:
            found.append(entry)
    return found


def _replace(objects: list[_Object], replacement: dict[str, Any], kustomization: _Kustomization) -> None:
    """kustomize's ReplacementTransformer: one source object's field (a part of it, with a
    delimiter) copied to fields of the selected targets; a scalar target keeps its type."""
    source = _mapping(replacement.get("source"))
    where = f"{kustomization.file}: replacements"
    chosen = [item for item in objects if _resource_selected(source, item)]
    if len(chosen) != 1:
        raise BuildError(f"{where}: {'nothing' if not chosen else 'more than one object'} selected by source {source}")
    field_path = str(source.get("fieldPath") or "metadata.name")
    found = _field_nodes(chosen[0].body, _field_path(field_path), create=False)
    if not found or found[0][1] in (None, "", {}, []):
        raise BuildError(f"{where}: fieldPath `{field_path}` is missing for replacement source")
    value = _delimited_part(found[0][1], _mapping(source.get("options")), where)
    for target in _list(replacement.get("targets")):
        target = _mapping(target)  # noqa: PLW2901
        if not isinstance(target.get("select"), dict):
            raise BuildError(f"{where}: a target must specify resources to select")
        options = _mapping(target.get("options"))
        for item in objects:
            if not _resource_selected(target["select"], item) or any(
                _resource_selected(_mapping(reject), item) for reject in _list(target.get("reject"))
            ):
                continue
            for path in [str(p) for p in _list(target.get("fieldPaths"))] or ["metadata.name"]:
                places = _field_nodes(item.body, _field_path(path), create=options.get("create") is True)
                if not places:
                    raise BuildError(f"{where}: unable to find field {path!r} in replacement target")
                for parent, _ in places:
                    container, key = parent
                    container[key] = _replaced(container[key], value, options, where)


def _resource_selected(selector: dict[str, Any], item: _Object) -> bool:
    """A replacement's select or reject: every field it names equal (no patterns), any of the
    object's names (before and after prefixes), and its label and annotation selectors."""
    group, _, version = str(item.body.get("apiVersion", "")).rpartition("/")
    metadata = _mapping(item.body.get("metadata"))
    actual = {"group": {group}, "version": {version}, "kind": {str(item.body.get("kind"))}, "name": item.names,
              "namespace": {str(metadata.get("namespace") or "")}}
    if any(key in selector and str(selector[key]) not in values for key, values in actual.items()):
        return False
    return _labels_match(selector.get("labelSelector"), metadata.get("labels")) and _labels_match(
        selector.get("annotationSelector"), metadata.get("annotations"))


def _field_path(text: str) -> list[str]:
    """kustomize's path splitter: dots part the fields, except inside brackets (`[name=a.b]`)."""
    parts, current, depth = [], "", 0
    for character in text:
        depth += {"[": 1, "]": -1}.get(character, 0)
        if character == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += character
    return [*parts, current]


def _field_nodes(body: Any, path: list[str], create: bool) -> list[tuple[tuple[Any, Any], Any]]:
    """((container, key), value) of every field path reaches: `[k=v]` picks list items, a number
    an index, `*` every item; with create, missing mappings are made on the way."""
    places: list[tuple[tuple[Any, Any], Any]] = [((None, None), body)]
    for depth, part in enumerate(path, 1):
        following: list[tuple[tuple[Any, Any], Any]] = []
        for _, current in places:
            if isinstance(current, list):
                if part == "*":
                    keys: list[Any] = list(range(len(current)))
                elif part.startswith("[") and "=" in part:
                    name, _, wanted = part[1:-1].partition("=")
                    keys = [i for i, x in enumerate(current) if isinstance(x, dict) and str(x.get(name)) == wanted]
                else:
                    keys = [int(part)] if part.isdigit() and int(part) < len(current) else []
                following += [((current, key), current[key]) for key in keys]
            elif isinstance(current, dict):
                key = part[1:-1] if part.startswith("[") and part.endswith("]") else part
                if key not in current and create:
                    current[key] = {} if depth < len(path) else None  # filled in by the replacement
                if key in current:
                    following.append(((current, key), current[key]))
        places = following
    return places


def _scalar_text(value: Any) -> str:
    return "true" if value is True else "false" if value is False else "" if value is None else str(value)


def _delimited_part(value: Any, options: dict[str, Any], where: str) -> Any:
    delimiter = options.get("delimiter")
    if not delimiter:
        return copy.deepcopy(value)
    if isinstance(value, (dict, list)):
        raise BuildError(f"{where}: delimiter option can only be used with scalar nodes")
    parts, index = _scalar_text(value).split(str(delimiter)), options.get("index", 0)
    if not isinstance(index, int) or not 0 <= index < len(parts):
        raise BuildError(f"{where}: options.index {index} is out of bounds for value {_scalar_text(value)}")
    return parts[index]


def _replaced(old: Any, value: Any, options: dict[str, Any], where: str) -> Any:
    """The target's new value: a part of it replaced (delimiter), a scalar's type kept."""
    delimiter, index = options.get("delimiter"), options.get("index", 0)
    if delimiter:
        if isinstance(old, (dict, list)):
            raise BuildError(f"{where}: delimiter option can only be used with scalar nodes")
        parts, text = _scalar_text(old).split(str(delimiter)), _scalar_text(value)
        index = index if isinstance(index, int) else 0
        parts = [text, *parts] if index < 0 else [*parts, text] if index >= len(parts) else \
            [*parts[:index], text, *parts[index + 1:]]
        value = str(delimiter).join(parts)
    if old is None and not isinstance(value, (dict, list)):  # a field created: its text read as plain YAML
        return resolve_plain_scalar(_scalar_text(value))
    if isinstance(old, (dict, list)) or old is None or isinstance(value, (dict, list)):
        return copy.deepcopy(value)
    text = _scalar_text(value)
    if isinstance(old, (bool, str)):
        return text if isinstance(old, str) else text == "true"
    try:
        return type(old)(text)
    except ValueError:
        raise BuildError(f"{where}: cannot set {text!r} where a {type(old).__name__} is") from None


def _containers(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from _containers(value)
    elif isinstance(data, list):
        for value in data:
            yield from _containers(value)


def _image(image: str, entries: list[dict[str, Any]]) -> str:
    name, at, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    name, tag = (name[:colon], name[colon + 1 :]) if colon > slash else (name, "")
    for entry in entries:
        if entry["name"] == name:
            name = str(entry.get("newName") or name)
            if entry.get("digest"):
                return f"{name}@{entry['digest']}"
            if entry.get("newTag") is not None:
                return f"{name}:{entry['newTag']}"
            break
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if at else "")


def _string(data: dict[str, Any], key: str, file: Path) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise BuildError(f"{file}: {key} must be a string")
    return value


def _strings(value: Any, file: Path, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildError(f"{file}: {key} must map names to values")
    return {
        str(k): v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()
    }


def _at(body: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    current = body
    for part in path:
        if not isinstance(current.get(part), dict):
            current[part] = {}
        current = current[part]
    return current


def _legacy_order(item: _Object) -> tuple[Any, ...]:
    kind = str(item.body.get("kind"))
    rank = (
        _KIND_ORDER.index(kind)
        if kind in _KIND_ORDER
        else len(_KIND_ORDER) + 1 + _KIND_LAST.index(kind)
        if kind in _KIND_LAST
        else len(_KIND_ORDER)
    )
    return (rank, str(item.body.get("apiVersion")), kind, *_identity(item.body)[2:])
