"""Objects of a kustomize build as Resources: judged as built, each field located in the file
where it was written (the base resource, or the patch that set it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml.nodes import Node, ScalarNode

from kubelint_svc.composing import child_node, locate_span, resolve_plain_scalar
from kubelint_svc.file_reads import UnreadableFile, decode, read_bounded
from kubelint_svc.model import NodeSource, Resource

if TYPE_CHECKING:  # a run that builds nothing never imports kustomize's modules
    from kubelint_svc.units.kustomize.scan import Origin
    from kubelint_svc.units.kustomize.tracing import BuiltObject


class SourceFiles:
    """The files builds came from: node trees composed once each, and only when a finding needs
    a position; texts read once."""

    def __init__(self, display: Callable[[Path], str]) -> None:
        self.display = display
        self._texts: dict[Path, str | None] = {}
        self._sources: dict[Path, NodeSource | None] = {}

    def text(self, file: Path) -> str | None:
        if file not in self._texts:
            try:
                self._texts[file], _ = decode(read_bounded(file))
            except UnreadableFile:
                self._texts[file] = None
        return self._texts[file]

    def root(self, origin: Origin) -> Node | None:
        if origin.file not in self._sources:
            text = self.text(origin.file)
            self._sources[origin.file] = NodeSource(text) if text is not None else None
        source = self._sources[origin.file]
        return source.root(origin.document) if source is not None else None

    def setting(self, files: list[Path], keys: tuple[str, ...]) -> tuple[Path, int, int] | None:
        """(file, line, column) of the first `key:` of keys written in files, in their order."""
        pattern = re.compile(r"^(\s*-?\s*)[\"']?(" + "|".join(map(re.escape, keys)) + r")[\"']?\s*:", re.MULTILINE)
        for file in files:
            text = self.text(file) or ""
            match = pattern.search(text)
            if match:
                return file, text.count("\n", 0, match.start()) + 1, len(match.group(1)) + 1
        return None


# A built value the base does not hold was set by a kustomization of the build: where it says so
_SETTINGS_FOR = {
    "namespace": ("namespace",),
    "name": ("namePrefix", "nameSuffix"),
    "image": ("newName", "newTag", "digest", "images"),
    "replicas": ("count", "replicas"),
}


@dataclass(eq=False)
class BuiltResource(Resource):
    """One object of a kustomize build."""

    built: BuiltObject | None = None
    sources: SourceFiles | None = None
    fallback_file: str = "-"  # the root's kustomization, for an object of unknown origin
    root: Path = field(default_factory=Path)
    kustomizations: list[Path] = field(default_factory=list)  # of the build, the root's first

    def locate(self, path: tuple[Any, ...], at_key: bool = True) -> tuple[str, int, int, int, int]:
        origin, inner = self._origin_of(path)
        if origin is None or self.sources is None:
            return self.fallback_file, 1, 1, 1, 2
        node = self.sources.root(origin)
        if self.built is not None and origin is self.built.origin and not self._as_written(node, path):
            keys = _SETTINGS_FOR.get(str(path[-1]), (str(path[-1]),))
            setting = self.sources.setting(self.kustomizations, keys)
            if setting is not None:  # the kustomization's value (namespace, labels, prefix, images)
                file, line, column = setting
                return self.sources.display(file), line, column, line, column + 1
        line, column, end_line, end_column = locate_span(node, inner, at_key)
        return self.sources.display(origin.file), line, column, end_line, end_column

    def _as_written(self, node: Node | None, path: tuple[Any, ...]) -> bool:
        """Does the base document hold the built value at path?"""
        if not path or node is None:
            return True
        current: Node | None = node
        for part in path:
            found = child_node(current, part) if current is not None else None
            if found is None:
                return False
            current = found[1]
        built = self.get(path)
        if isinstance(current, ScalarNode) and not isinstance(built, (dict, list)):
            value = current.value if current.style else resolve_plain_scalar(current.value)
            return bool(value == built or str(value) == str(built))
        return True

    def position(self, path: tuple[Any, ...], at_key: bool = True) -> tuple[int, int]:
        _, line, column, _, _ = self.locate(path, at_key)
        return line, column

    def span(self, path: tuple[Any, ...], at_key: bool = True) -> tuple[int, int, int, int]:
        return self.locate(path, at_key)[1:]

    def _origin_of(self, path: tuple[Any, ...]) -> tuple[Origin | None, tuple[Any, ...]]:
        """The patch that set path (or an ancestor of it), else the base resource."""
        if self.built is None:
            return None, path
        for length in range(len(path), 0, -1):
            patch = self.built.patched.get(path[:length])
            if patch is not None:
                return patch, (*patch.path, *path[length:])
        return self.built.origin, path

    def files(self) -> set[str]:
        """Every file a field of this object was written in."""
        if self.built is None or self.sources is None:
            return {self.fallback_file}
        origins = [self.built.origin, *self.built.patched.values()]
        return {self.sources.display(origin.file) for origin in origins if origin is not None}


def built_resources(
    objects: list[BuiltObject], root: Path, kustomization: str, sources: SourceFiles,
    kustomizations: list[Path] | None = None,
) -> list[BuiltResource]:
    found = []
    for built in objects:
        body = built.body
        if not isinstance(body.get("apiVersion"), str) or not isinstance(body.get("kind"), str):
            continue
        file = sources.display(built.origin.file) if built.origin is not None else kustomization
        found.append(
            BuiltResource(
                body["apiVersion"],
                body["kind"],
                body,
                file,
                unit=f"kustomize:{root}",
                built=built,
                sources=sources,
                fallback_file=kustomization,
                root=root,
                kustomizations=kustomizations or [],
                # kustomize passes `$PORT` through (envsubst fills it after the build): noted, not judged
                may_hold_placeholders=built.may_hold_placeholders,
            )
        )
    return found
