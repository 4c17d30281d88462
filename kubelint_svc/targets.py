"""Which folders are separate deploy targets (a cluster, an environment): objects in one are
never judged against those in another. Recognised from the repository itself, so a verdict
depends on a file's own place and the objects read, not on which unrelated folders exist."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from typing import Any

from kubelint_svc.model import Resource

# Folders whose every child is one target: `clusters/prod`, `environments/staging`
TARGET_PARENTS = frozenset({"clusters", "environments", "envs", "overlays"})
# Objects a repository may define in several folders that one cluster applies together
_SHARED_KINDS = frozenset({"Namespace", "CustomResourceDefinition"})
_ARGO_GROUP = "argoproj.io"
_FLUX_GROUP = "kustomize.toolkit.fluxcd.io"
# kinds read whole so the paths they name are known (see reading.wants_of)
TARGET_KINDS = frozenset({"Application", "ApplicationSet", "Kustomization"})
UNIT_PREFIXES = ("kustomize:", "helm:")  # the unit of a built or rendered object
_GLOB_CHARS = frozenset("*?[")
# each glob a manifest declares is matched against every folder: a pull request's thousands
# of them would cost globs x folders, so only the first (sorted) are followed
MAX_DEPLOYED_GLOBS = 100
_END = "\0"  # marks a path's end in _ending_in's tree: no folder name holds a NUL


def plain_folder(resource: Resource) -> str | None:
    """The folder of an object read from a plain file (not a build, a render or stdin)."""
    if resource.unit == "-" or resource.unit.startswith(UNIT_PREFIXES):
        return None
    return os.path.dirname(resource.unit)


def target_roots(resources: Iterable[Resource], known: Iterable[str] = ()) -> frozenset[str]:
    """The folders (real paths) that are separate targets: kustomize roots (known), the paths
    Flux Kustomizations and Argo CD Applications and ApplicationSets deploy, every child of a
    `clusters/`, `environments/`, `envs/` or `overlays/` folder, and the folders that define
    the same object (group, kind, namespace, name), which one cluster cannot hold twice."""
    resources = list(resources)
    folders = {folder for r in resources if (folder := plain_folder(r)) is not None}
    every = set(folders)
    for folder in folders:
        every.update(_ancestors(folder))
    roots = set(known)
    roots.update(folder for folder in every if os.path.basename(os.path.dirname(folder)) in TARGET_PARENTS)
    declared = {path.strip("/").removeprefix("./").rstrip("/") for r in resources for path in _deployed_paths(r)}
    globs = sorted(path for path in declared if _GLOB_CHARS.intersection(path))
    roots.update(_ending_in(declared.difference(globs), every))
    for glob in globs[:MAX_DEPLOYED_GLOBS]:
        roots.update(fnmatch.filter(every, "*" + os.sep + glob))
    roots.update(_duplicate_roots(resources))
    return frozenset(roots)


def _ending_in(paths: Iterable[str], folders: Iterable[str]) -> Iterator[str]:
    """The folders whose last components are one of paths: each folder's components are walked
    from its end through a tree of the paths' reversed components, so thousands of paths (an
    ApplicationSet's generator list) cost no more than one each, never one per folder."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in reversed(path.split(os.sep)):
            node = node.setdefault(part, {})
        node[_END] = {}
    for folder in folders:
        node = tree
        for part in reversed(folder.split(os.sep)):
            if part not in node:
                break
            node = node[part]
            if _END in node:
                yield folder
                break


def _ancestors(folder: str) -> Iterator[str]:
    while os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
        yield folder


def _duplicate_roots(resources: list[Resource]) -> set[str]:
    """For an object defined in files of several folders, the child of their common folder
    that holds each: `clusters/a/app` and `clusters/b/app` give `clusters/a` and `clusters/b`."""
    where: dict[tuple[str, str, str | None, str | None], set[str]] = {}
    for resource in resources:
        folder = plain_folder(resource)
        if folder is None or not resource.name or resource.is_patch or resource.builtin_kind in _SHARED_KINDS:
            continue  # a patch is a partial object, merged into the one it names
        where.setdefault((resource.group, resource.kind, resource.namespace, resource.name), set()).add(folder)
    roots: set[str] = set()
    for folders in where.values():
        if len(folders) < 2:
            continue
        common = os.path.commonpath(sorted(folders))
        for folder in folders:
            if folder != common:
                roots.add(os.path.join(common, os.path.relpath(folder, common).split(os.sep)[0]))
    return roots


def _deployed_paths(resource: Resource) -> list[str]:
    """The repository paths a Flux Kustomization or an Argo CD Application/ApplicationSet
    deploys (ApplicationSet git directory globs included; templated paths are left out)."""
    found: list[Any] = []
    if resource.group == _FLUX_GROUP and resource.kind == "Kustomization":
        found.append(resource.get(("spec", "path")))
    elif resource.group == _ARGO_GROUP and resource.kind == "Application":
        found += _source_paths(resource.get(("spec",)))
    elif resource.group == _ARGO_GROUP and resource.kind == "ApplicationSet":
        found += _source_paths(resource.get(("spec", "template", "spec")))
        found += _git_directories(resource.get(("spec", "generators")))
    return [p for p in found if isinstance(p, str) and p.strip("./") and "{{" not in p and len(p) < 1024]


def _source_paths(spec: Any) -> list[Any]:
    if not isinstance(spec, dict):
        return []
    listed = spec.get("sources")
    sources = [spec.get("source"), *(listed if isinstance(listed, list) else [])]
    return [source.get("path") for source in sources if isinstance(source, dict)]


def _git_directories(generators: Any, depth: int = 0) -> list[Any]:
    """`git.directories[].path` of every generator, matrix and merge generators' included."""
    found: list[Any] = []
    for generator in generators if isinstance(generators, list) and depth < 4 else []:
        if not isinstance(generator, dict):
            continue
        git = generator.get("git")
        directories = git.get("directories") if isinstance(git, dict) else None
        found.extend(entry.get("path") for entry in (directories if isinstance(directories, list) else [])
                     if isinstance(entry, dict) and entry.get("exclude") is not True)
        for nested in ("matrix", "merge"):
            inner = generator.get(nested)
            if isinstance(inner, dict):
                found += _git_directories(inner.get("generators"), depth + 1)
    return found
