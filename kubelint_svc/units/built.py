"""Objects of a kustomize build as Resources: judged as built, each field located in the file
where it was written (the base resource, or the patch that set it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.nodes import Node

from kubelint_svc.loader import UnreadableFile, decode, locate_span, read_bounded
from kubelint_svc.model import NodeSource, Resource
from kubelint_svc.units.kustomize import BuiltObject, Origin


class SourceFiles:
    """The node trees of the files builds came from, composed once each and only when a
    finding needs a position."""

    def __init__(self, display: Callable[[Path], str]) -> None:
        self.display = display
        self._sources: dict[Path, NodeSource | None] = {}

    def root(self, origin: Origin) -> Node | None:
        if origin.file not in self._sources:
            try:
                text, _ = decode(read_bounded(origin.file))
            except UnreadableFile:
                text = None
            self._sources[origin.file] = NodeSource(text) if text is not None else None
        source = self._sources[origin.file]
        return source.root(origin.document) if source is not None else None


@dataclass(eq=False)
class BuiltResource(Resource):
    """One object of a kustomize build."""

    built: BuiltObject | None = None
    sources: SourceFiles | None = None
    fallback_file: str = "-"  # the root's kustomization, for an object of unknown origin
    root: Path = field(default_factory=Path)

    def locate(self, path: tuple[Any, ...], at_key: bool = True) -> tuple[str, int, int, int, int]:
        origin, inner = self._origin_of(path)
        if origin is None or self.sources is None:
            return self.fallback_file, 1, 1, 1, 2
        line, column, end_line, end_column = locate_span(self.sources.root(origin), inner, at_key)
        return self.sources.display(origin.file), line, column, end_line, end_column

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
    objects: list[BuiltObject], root: Path, kustomization: str, sources: SourceFiles
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
            )
        )
    return found
