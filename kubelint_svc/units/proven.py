"""Which kustomize roots the built-in fallback is proven to build exactly as kubectl does: those
whose whole chain uses only what the differential test (tests/test_kustomize_verdicts.py) covers.
A cold run builds them in-process and leaves kubectl to the rest (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubelint_svc.file_reads import UnreadableFile, read_bounded
from kubelint_svc.units.common import KUSTOMIZATION_NAMES
from kubelint_svc.units.kustomize.engines import Build
from kubelint_svc.units.kustomize.scan import linear_pattern

PROVEN_ENGINE = "fallback, proven alike"  # a Build's engine: the fallback's build, which kubectl's equals

# the kustomization fields, the object kinds and the pod-spec fields the differential test covers
_FIELDS = frozenset({"apiVersion", "kind", "resources", "namespace", "commonLabels", "commonAnnotations", "labels",
                     "images", "patches"})
_KINDS = frozenset({("v1", "Service"), ("v1", "ConfigMap"), ("apps/v1", "Deployment")})
_LABEL_ENTRY = frozenset({"pairs", "includeSelectors", "includeTemplates"})
_IMAGE_ENTRY = frozenset({"name", "newName", "newTag", "digest"})
# kustomize adds commonLabels to the label selectors of these pod-spec fields too; the fallback does not
_SELECTING_POD_FIELDS = frozenset({"affinity", "topologySpreadConstraints"})
# What kustomize (YAML 1.2) reads otherwise than the linter (YAML 1.1, as kubectl apply): `on`, `yes`,
# `017`, `1e3`, `1:20`, a date, as a key or a value, and merge keys, anchors, aliases and tags. Any
# such text, wherever it stands (a comment too: this errs towards kubectl), and kubectl builds the root.
_SPACE = rb" \t\n\r\f\v"  # Python's \s in a bytes pattern, spelled out for RE2 (whose \s has no \v)
_YAML11_SCALAR = (
    rb"(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|[-+]?0[0-9_]+|[-+]?0[bBxXoO][0-9a-fA-F_]+"
    rb"|[-+]?[0-9][0-9_]*:[0-9:._]*|[-+]?[0-9._]+[eE][-+]?[0-9]+|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[^" + _SPACE + rb"]*"
    rb"|[-+]?[0-9]+_[0-9_]*)"
)
_READ_OTHERWISE = (  # searched with RE2 (linear_pattern): once a file, 1,600 files a run on the benchmark tree
    rb"(?m)(?:^|[" + _SPACE + rb"\[{,])" + _YAML11_SCALAR + rb"[ \t]*(?:[,}\]]|:(?:[" + _SPACE + rb"]|$)|#.*$|$)"
    rb"|<<|(?:^|[" + _SPACE + rb"\[{,])[&*!]"
)


def read_otherwise(path: Path) -> str | None:
    """Why kustomize may read a file otherwise than kubectl apply does (its text), or None."""
    try:
        if linear_pattern(_READ_OTHERWISE).search(read_bounded(path)):
            return f"{path}: YAML that kustomize reads otherwise than kubectl apply"
    except UnreadableFile as error:
        return str(error)
    return None


class Proofs:
    """What the proof reads of each file, once a run in each process that proves (three overlays
    include one base): its documents, its text's verdict, and a kustomization's own verdict with
    the patches it names. The verdicts on a root's objects and patch targets are the root's."""

    def __init__(self, documents: Callable[[Path], list[Any]]) -> None:
        self._read = documents
        self._documents: dict[Path, list[Any]] = {}
        self._texts: dict[Path, str | None] = {}
        self._kustomizations: dict[Path, tuple[str | None, list[dict[str, Any]]]] = {}

    def unproven(self, done: Build) -> str | None:
        """unproven(done), from what this run read already."""
        return unproven(done, self.documents, self.text_verdict, self.kustomization_verdict)

    def documents(self, path: Path) -> list[Any]:
        if path not in self._documents:
            self._documents[path] = self._read(path)
        return self._documents[path]

    def text_verdict(self, path: Path) -> str | None:
        if path not in self._texts:
            self._texts[path] = read_otherwise(path)
        return self._texts[path]

    def kustomization_verdict(self, path: Path) -> tuple[str | None, list[dict[str, Any]]]:
        if path not in self._kustomizations:
            self._kustomizations[path] = kustomization_verdict(path, self.documents)
        return self._kustomizations[path]


def unproven(done: Build, documents: Callable[[Path], list[Any]],
             text_verdict: Callable[[Path], str | None] = read_otherwise,
             kustomization: Callable[[Path], tuple[str | None, list[dict[str, Any]]]] | None = None) -> str | None:
    """Why the fallback's build of a root is not proven to be kubectl's, or None when it is.
    documents: a file's documents' data; text_verdict: read_otherwise, and kustomization:
    kustomization_verdict, or the run's memo of them (Proofs)."""
    if done.error is not None or done.skipped is not None or done.warnings:
        return "the fallback did not build it cleanly"
    files = sorted(path for path in done.files if not path.is_dir())
    for path in files:
        why = text_verdict(path)
        if why is not None:
            return why
    patches: list[dict[str, Any]] = []
    for path in files:
        if path.name in KUSTOMIZATION_NAMES:
            why, named = kustomization(path) if kustomization is not None else kustomization_verdict(path, documents)
            if why is not None:
                return why
            patches += named
    for item in done.objects:
        why = _unproven_object(item.body)
        if why is not None:
            return why
    originals = [_original(item.origin, documents) for item in done.objects]
    for patch in patches:
        why = _unproven_target(patch, originals)
        if why is not None:
            return why
    return None


def kustomization_verdict(path: Path, documents: Callable[[Path], list[Any]]
                          ) -> tuple[str | None, list[dict[str, Any]]]:
    """Why a kustomization is not one the differential test covers (or None), and the patches it
    names, whose targets each root that reads it is held to."""
    patches: list[dict[str, Any]] = []
    found = documents(path)
    return _unproven_kustomization(path, found[0] if found else None, documents, patches), patches


def _unproven_kustomization(path: Path, data: Any, documents: Callable[[Path], list[Any]],
                            patches: list[dict[str, Any]]) -> str | None:
    if not isinstance(data, dict) or data.get("kind", "Kustomization") != "Kustomization":
        return f"{path}: not a Kustomization"
    if not _FIELDS.issuperset(data):
        return f"{path}: {', '.join(sorted(set(data) - _FIELDS))}"
    if not (_texts(data.get("commonLabels")) and _texts(data.get("commonAnnotations"))
            and isinstance(data.get("namespace", ""), str)
            and _entries_within(data.get("labels"), _LABEL_ENTRY, "pairs")
            and _entries_within(data.get("images"), _IMAGE_ENTRY, "")):
        return f"{path}: a value other than text where kustomize reads text, or an entry of other keys"
    for entry in data.get("patches") or []:
        if not (isinstance(entry, dict) and set(entry) == {"path"} and isinstance(entry["path"], str)):
            return f"{path}: a patch with a target or written inline"
        found = documents(path.parent / entry["path"])
        if len(found) != 1 or not _plain_merge(found[0]):
            return f"{path}: patch {entry['path']} is not one strategic merge of mappings"
        patches.append(found[0])
    return None


def _texts(pairs: Any) -> bool:
    """A mapping of text to text, or nothing (kustomize refuses a number or a boolean there)."""
    return pairs is None or (isinstance(pairs, dict) and all(isinstance(key, str) and isinstance(value, str)
                                                             for key, value in pairs.items()))


def _entries_within(entries: Any, keys: frozenset[str], pairs: str) -> bool:
    """A list of mappings of these keys, each value text (the pairs key: a mapping of text; the
    include flags: booleans)."""
    return entries is None or (isinstance(entries, list) and all(
        isinstance(entry, dict) and keys.issuperset(entry) and all(
            _texts(value) if key == pairs else isinstance(value, bool) if key.startswith("include")
            else isinstance(value, str) for key, value in entry.items())
        for entry in entries))


def _plain_merge(patch: Any) -> bool:
    """A patch of mappings and scalars alone: no list (merged by keys the schema names), no null
    (a deletion), no `$patch` directive."""
    if isinstance(patch, dict):
        return all(isinstance(key, str) and not key.startswith("$") and _plain_merge(value)
                   for key, value in patch.items())
    return patch is not None and not isinstance(patch, list)


def _unproven_object(body: dict[str, Any]) -> str | None:
    kind = (body.get("apiVersion"), body.get("kind"))
    if kind not in _KINDS:
        return f"a {'/'.join(map(str, kind))}"
    spec = body.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    if isinstance(pod, dict) and _SELECTING_POD_FIELDS.intersection(pod):
        return f"a {kind[1]} whose pods select others ({', '.join(sorted(_SELECTING_POD_FIELDS.intersection(pod)))})"
    return None


def _original(origin: Any, documents: Callable[[Path], list[Any]]) -> Any:
    """The object as its resource file wrote it."""
    if origin is None:
        return None
    found = documents(origin.file)
    return found[origin.document] if origin.document < len(found) else None


def _unproven_target(patch: dict[str, Any], originals: list[Any]) -> str | None:
    """The fallback patches every object of the patch's kind and name; kustomize the one object whose
    apiVersion, kind, name and namespace (`default` when none) the patch names, else it fails. Alike
    when exactly one object of the build has that kind and name, and it was written with the rest."""
    kind, metadata = patch.get("kind"), patch.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    hits = [data for data in originals if isinstance(data, dict) and data.get("kind") == kind
            and isinstance(data.get("metadata"), dict) and data["metadata"].get("name") == name]
    if len(hits) != 1 or hits[0].get("apiVersion") != patch.get("apiVersion") \
            or _namespace(hits[0]["metadata"]) != _namespace(metadata):
        return f"patch of {kind} {name!r}: not exactly one object so written"
    return None


def _namespace(metadata: Any) -> Any:
    return (metadata.get("namespace") if isinstance(metadata, dict) else None) or "default"
