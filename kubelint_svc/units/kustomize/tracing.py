"""Every built object, and every field a patch set, traced back to the file that wrote it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelint_svc.loader import parse_stream
from kubelint_svc.placeholders import data_may_hold_placeholders
from kubelint_svc.units.kustomize.scan import (
    ORIGIN_ANNOTATION,
    BuildError,
    Origin,
    Patch,
    Scan,
    as_mapping,
    object_name,
    target_selects,
)

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
MISSING: Any = object()


@dataclass
class BuiltObject:
    body: dict[str, Any]
    origin: Origin | None
    patched: dict[tuple[Any, ...], Origin] = field(default_factory=dict)
    # kustomize passes `$PORT` through (envsubst fills it after the build): worked out where the
    # object is made, in the process that builds it (a forked worker's objects bring it back)
    may_hold_placeholders: bool = field(init=False)

    def __post_init__(self) -> None:
        self.may_hold_placeholders = data_may_hold_placeholders(self.body)


def documents_in(output: str) -> list[dict[str, Any]]:
    return [d.data for d in parse_stream(output, keep_nodes=False).documents if isinstance(d.data, dict)]


def traced(scan: Scan, wrapper: Path, body: dict[str, Any]) -> BuiltObject:
    """A built object without our annotation, its origin and the fields patches set."""
    metadata = as_mapping(body.get("metadata"))
    annotations = as_mapping(metadata.get("annotations"))
    written = annotations.pop(ORIGIN_ANNOTATION, None)
    if "annotations" in metadata and not annotations:
        del metadata["annotations"]
    origin = _annotated_origin(scan, wrapper, written, body) or _origin_in(scan, scan.resource_files, body)
    return BuiltObject(body, origin, patched_fields(scan, body, origin))


def _annotated_origin(scan: Scan, wrapper: Path, written: Any, body: dict[str, Any]) -> Origin | None:
    """`path:` is relative to the wrapper: the base file; `configuredIn` alone: a generator's output
    (or an object a patch stripped the annotation from: then None, and kind/name decide). The
    annotation is believed only when it names a file the scan read: `commonAnnotations` can
    write any origin, and a finding sent to a file no one lints would be dropped."""
    documents = documents_in(written) if isinstance(written, str) else []
    data = as_mapping(documents[0] if documents else {})
    named = data.get("path", data.get("configuredIn"))
    file = Path(os.path.normpath(wrapper / named)) if isinstance(named, str) and "\0" not in named else None
    if file is None or file not in scan.tree.documents:
        return None
    if isinstance(data.get("path"), str):
        return _origin_in(scan, [file], body)
    by = as_mapping(data.get("configuredBy"))
    return Origin(file, 0) if str(by.get("kind", "")).endswith("Generator") else None


def _origin_in(scan: Scan, files: list[Path], body: dict[str, Any]) -> Origin | None:
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
    built = str(object_name(body) or "")
    candidates = [
        (len(str(object_name(d))), -i)
        for i, d in enumerate(documents)
        if isinstance(d, dict) and d.get("kind") == body.get("kind") and str(object_name(d)) in built
    ]
    return -max(candidates)[1] if candidates else None


def patched_fields(scan: Scan, body: dict[str, Any], origin: Origin | None) -> dict[tuple[Any, ...], Origin]:
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


def _may_touch(patch: Patch, body: dict[str, Any], base: dict[str, Any]) -> bool:
    names = {str(object_name(body)), str(object_name(base))}
    if patch.target is None:
        wanted = str(object_name(patch.body))
        same_name = wanted in names or (str(object_name(base)) in wanted and wanted in str(object_name(body)))
        return patch.body.get("kind") == body.get("kind") and same_name
    return target_selects(patch.target, body, names)


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
        if base is MISSING and built_path:
            yield built_path, patch_path
        for key, value in patch.items():
            if not key.startswith("$") and key in built:
                child = base.get(key, MISSING) if isinstance(base, dict) else MISSING
                yield from _merged_nodes(value, built[key], child, key, (*built_path, key), (*patch_path, key))
    elif isinstance(patch, list) and isinstance(built, list):
        if base is MISSING:
            yield built_path, patch_path
        for index, item in enumerate(patch):
            at = paired_index(list_name, item, built, index)
            if at is not None:
                before = paired_index(list_name, item, base, index) if isinstance(base, list) else None
                yield from _merged_nodes(
                    item,
                    built[at],
                    base[before] if before is not None else MISSING,
                    list_name,
                    (*built_path, at),
                    (*patch_path, index),
                )
    elif built == patch and base != patch:
        yield built_path, patch_path


def paired_index(list_name: str, item: Any, items: list[Any], index: int) -> int | None:
    key = merge_key(list_name, item)
    if key is None:
        return index if index < len(items) else None
    return next((i for i, other in enumerate(items) if isinstance(other, dict) and other.get(key) == item[key]), None)


def merge_key(list_name: str, item: Any) -> str | None:
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
                if value_at(base, (*path, *sub)) != value:
                    yield (*path, *sub), (index, "value", *sub)


def _pointer_in_built(pointer: str, built: Any, value: Any) -> tuple[Any, ...] | None:
    """The built path a JSON pointer wrote to, if the value is still there (`-`: the last equal item)."""
    path: list[Any] = []
    current = built
    for token in pointer_tokens(pointer):
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


def value_at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        else:
            return MISSING
    return data


def pointer_tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]] if pointer else []
