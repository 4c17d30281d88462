"""The light view of kustomizations (`--kustomize off`): which files are patches, and what a
kustomization plainly adds to a resource.

Only what a kustomization says outright is applied (commonLabels, labels with
includeSelectors/includeTemplates, namespace), from the kustomization beside or above a file
and the chain of kustomizations above that include it; nothing is rendered or fetched.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelint_svc.cache import KeptDocuments
from kubelint_svc.loader import YamlFileError, read_documents
from kubelint_svc.model import POD_TEMPLATE_PATHS, Resource
from kubelint_svc.paths import is_inside, refusal, resolved
from kubelint_svc.units.common import KUSTOMIZATION_NAMES

_SELECTOR_MAP_PATHS = {
    "Service": ("spec", "selector"),
    "ReplicationController": ("spec", "selector"),
}
_MATCH_LABELS_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}


@dataclass
class Kustomization:
    directory: Path
    resources: set[Path] = field(default_factory=set)
    patches: set[Path] = field(default_factory=set)
    namespace: str | None = None
    # (labels, include_selectors, include_templates), in the order kustomize applies them
    label_sets: list[tuple[dict[str, str], bool, bool]] = field(default_factory=list)


@dataclass
class Transform:
    """What kustomize will do to one file's objects before they reach the cluster."""

    is_patch: bool = False
    namespace: str | None = None
    label_sets: list[tuple[dict[str, str], bool, bool]] = field(default_factory=list)

    @property
    def changes_objects(self) -> bool:
        return self.namespace is not None or bool(self.label_sets)


class KustomizeIndex:
    """Reads each kustomization once per run and answers per file."""

    def __init__(self, kept: KeptDocuments | None = None) -> None:
        self._kept = kept  # kustomizations' data from earlier runs, while each file is unchanged
        self._by_directory: dict[Path, Kustomization | None] = {}
        self._ancestors: dict[Path, list[Kustomization]] = {}

    def kustomization_in(self, directory: Path, top: Path | None = None) -> Kustomization | None:
        """The kustomization of directory (a real path), read only when it lies inside top (the
        work tree it belongs to; default: the directory itself, no link out of it)."""
        if directory not in self._by_directory:
            self._by_directory[directory] = _read_kustomization(directory, self._kept, top or directory)
        return self._by_directory[directory]

    def _ancestors_with_kustomization(self, start: Path) -> list[Kustomization]:
        if start not in self._ancestors:  # every file of a folder asks the same
            top = _work_tree_of(start)
            found = []
            for directory in (start, *start.parents):
                if top is not None and not is_inside(directory, top):  # above the checkout: not the PR's, not ours
                    break
                kustomization = self.kustomization_in(directory, top)
                if kustomization is not None:
                    found.append(kustomization)
            self._ancestors[start] = found
        return self._ancestors[start]

    def transform_for(self, file: Path, real: Path | None = None) -> Transform:
        """What kustomize does to the objects of file (whose real path is real, when known)."""
        path = real if real is not None else resolved(file)
        if path is None:
            return Transform()
        if path.name in KUSTOMIZATION_NAMES:
            return Transform()
        ancestors = self._ancestors_with_kustomization(path.parent)
        transform = Transform(is_patch=any(path in k.patches for k in ancestors))
        if transform.is_patch:
            return transform
        chain: list[Kustomization] = []
        target = path
        for kustomization in ancestors:
            if target in kustomization.resources:
                chain.append(kustomization)
                target = kustomization.directory
        for kustomization in chain:  # innermost first, as kustomize applies them
            if kustomization.namespace:
                transform.namespace = kustomization.namespace
            transform.label_sets.extend(kustomization.label_sets)
        return transform


def _documents_data(path: Path) -> list[Any]:
    return [document.data for document in read_documents(path)]


def _work_tree_of(folder: Path) -> Path | None:
    """The top a file's kustomizations are looked for up to: the nearest folder holding `.git`
    (a checkout: what a pull request controls ends there), else None: no limit (one stat a level)."""
    for directory in (folder, *folder.parents):
        if (directory / ".git").exists():
            return directory
    return None


def _read_kustomization(directory: Path, kept: KeptDocuments | None = None,
                        top: Path | None = None) -> Kustomization | None:
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if candidate.is_file():
            break
    else:
        return None
    if refusal(candidate, top or directory) is not None:  # a link out of the tree (or into .git): not read
        return None
    try:
        documents = kept.data_of(candidate, _documents_data) if kept is not None else _documents_data(candidate)
    except YamlFileError:
        return None  # linted as a file of its own, which reports the problem
    data = documents[0] if documents else None
    if not isinstance(data, dict):
        return None
    result = Kustomization(directory)

    def paths(entries: Any) -> set[Path]:
        found = set()
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                entry = entry.get("path")  # noqa: PLW2901 (an entry is a path, or a mapping holding one)
            if isinstance(entry, str) and "://" not in entry:
                found.add(Path(os.path.normpath(directory / entry)))
        return found

    result.resources = paths(data.get("resources")) | paths(data.get("bases"))
    result.patches = (
        paths(data.get("patchesStrategicMerge"))
        | paths(data.get("patches"))
        | paths(data.get("patchesJson6902"))
    )
    if isinstance(data.get("namespace"), str):
        result.namespace = data["namespace"]
    if isinstance(data.get("commonLabels"), dict):
        result.label_sets.append((_strings(data["commonLabels"]), True, True))
    labels = data.get("labels")
    for entry in labels if isinstance(labels, list) else []:  # any other shape: kustomize refuses it
        if isinstance(entry, dict) and isinstance(entry.get("pairs"), dict):
            selectors = entry.get("includeSelectors") is True
            templates = selectors or entry.get("includeTemplates") is True
            result.label_sets.append((_strings(entry["pairs"]), selectors, templates))
    return result


def _strings(mapping: dict[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items()}


def apply_transform(resource: Resource, transform: Transform) -> None:
    """Merge a kustomization's labels and namespace into a copy of the resource's body."""
    if not transform.changes_objects:
        return
    body = copy.deepcopy(resource.body)
    if transform.namespace:
        _mapping_at(body, ("metadata",))["namespace"] = transform.namespace
    for labels, selectors, templates in transform.label_sets:
        _mapping_at(body, ("metadata", "labels")).update(labels)
        template = POD_TEMPLATE_PATHS.get(resource.kind)
        if templates and template:
            _mapping_at(body, (*template, "metadata", "labels")).update(labels)
        if not selectors:
            continue
        if resource.kind in _SELECTOR_MAP_PATHS:
            _mapping_at(body, _SELECTOR_MAP_PATHS[resource.kind]).update(labels)
        elif resource.kind in _MATCH_LABELS_KINDS:
            _mapping_at(body, ("spec", "selector", "matchLabels")).update(labels)
    resource.body = body


def _mapping_at(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    current = body
    for part in path:
        child = current.get(part)
        if not isinstance(child, dict):
            child = {}
            current[part] = child
        current = child
    return current
