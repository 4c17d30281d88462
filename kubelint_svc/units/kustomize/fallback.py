"""The built-in engine: the common kustomization fields applied as kustomize applies them, for when
neither kubectl nor kustomize is installed.
"""

from __future__ import annotations

import copy
import functools
import marshal
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubelint_svc.composing import resolve_plain_scalar
from kubelint_svc.kinds import api_group
from kubelint_svc.units.kustomize import kyaml
from kubelint_svc.units.kustomize.scan import (
    ENTRY_FIELDS,
    BuildError,
    Kustomization,
    Origin,
    Patch,
    Scan,
    Tree,
    as_list,
    as_mapping,
    labels_match,
    local_path,
    object_name,
    patches_of,
    path_entries,
    path_values,
    target_selects,
)
from kubelint_svc.units.kustomize.tracing import (
    MISSING,
    BuiltObject,
    merge_key,
    paired_index,
    patched_fields,
    pointer_tokens,
    value_at,
)

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
_SCALARS = (str, int, float, bool, type(None))  # what copy.deepcopy gives back as it is
_KIND_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


@dataclass
class _Object:
    body: dict[str, Any]
    origin: Origin | None
    names: set[str]
    # (kind, name, namespace) before each transformer that moved or renamed it, the first as read:
    # kustomize finds a patch's object by any of them (its build annotations `previousNames`...)
    previous: list[tuple[str, str, str]] = field(default_factory=list)

    def store_id(self) -> None:
        self.previous.append(_current_id(self.body))


def built_objects(scan: Scan, root: Path, notes: list[str]) -> list[BuiltObject]:
    """The root built by the built-in engine, in kustomize's legacy order, each object traced; what
    it does not apply is added to notes. BuildError: the chain is one it cannot build."""
    built = []
    for item in sorted(_kustomize(scan.tree, root, [], notes, root=True), key=_legacy_order):
        annotations = item.body.get("metadata", {}).get("annotations")
        if annotations == {}:
            del item.body["metadata"]["annotations"]  # as kustomize drops it
        built.append(BuiltObject(item.body, item.origin, patched_fields(scan, item.body, item.origin)))
    return built


def _kustomize(tree: Tree, directory: Path, objects: list[_Object], notes: list[str], root: bool = False
               ) -> list[_Object]:
    """One kustomization applied in kustomize's order: resources, components, patches, namespace,
    names, labels, annotations, JSON6902 patches, replicas, images. A component works on the
    objects of what includes it. root: the folders it includes are built once a run (_included);
    theirs are not kept apart (a chain kept at every level would hold its objects once a level)."""
    kustomization = tree.kustomization_in(directory)
    for name in ENTRY_FIELDS:
        for entry in path_entries(kustomization, name):
            path = local_path(kustomization, name, entry)
            added = (_included(tree, path, notes) if root else _kustomize(tree, path, [], notes)) if path.is_dir() \
                else _objects_in(tree, path, kustomization)
            _accumulate(objects, added, kustomization)
    for entry in path_entries(kustomization, "components"):
        objects = _kustomize(tree, local_path(kustomization, "components", entry), objects, notes)
    for value in path_values(kustomization.data):  # what kustomize would read: missing, it fails too
        name = value.partition("=")[2] if "=" in value and not (directory / value).exists() else value
        if not (directory / name).exists():
            raise BuildError(f"{kustomization.file}: {value!r} not found ({Path(os.path.normpath(directory / name))})")
    notes += [
        f"{kustomization.file}: {name} is not applied by the built-in engine"
        for name in _UNSUPPORTED_FIELDS
        if kustomization.data.get(name)
    ]
    if _renaming_patches(kustomization):
        notes.append(f"{kustomization.file}: patches options allowNameChange and allowKindChange are not applied "
                     "by the built-in engine (the object keeps its name and kind)")
    early, late = patches_of(tree, kustomization)
    early = _as_kustomize_reads(tree, kustomization, early)
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


@dataclass(frozen=True)
class _FolderBuild:
    """A folder's objects as built for a kustomization that includes it, before the includer
    transforms them: kept for the run (PathFacts), so that a base is built once a process and
    each overlay gets a copy of its own."""

    bodies: bytes  # marshalled: every copy is made in one call
    objects: tuple[tuple[Origin | None, frozenset[str], tuple[tuple[str, str, str], ...]], ...]
    notes: tuple[str, ...]  # what the built-in engine did not apply
    reads: tuple[Path, ...]  # every file it asked the tree for: read again by an includer's tree (no parse)

    def copy(self) -> list[_Object]:
        return [_Object(body, origin, set(names), list(previous))
                for body, (origin, names, previous) in zip(marshal.loads(self.bodies), self.objects, strict=True)]


def _included(tree: Tree, directory: Path, notes: list[str]) -> list[_Object]:
    """_kustomize of a folder a kustomization includes, from its build of this run when there is
    one (only a build that stood is kept: an error is met anew). The includer's tree asks for
    every file the build read, as if it had built the folder itself (each is read once a run)."""
    key = tree.key(directory)
    kept = tree.facts.folder_builds.get(key)
    if isinstance(kept, _FolderBuild):
        for path in kept.reads:
            tree.documents_of(path)
        notes += kept.notes
        return kept.copy()
    reads: list[Path] = []
    noted = len(notes)
    tree.recorders.append(reads)
    try:
        objects = _kustomize(tree, directory, [], notes)
    finally:
        tree.recorders.pop()  # reads: they nest
    try:
        bodies = marshal.dumps([item.body for item in objects])
    except ValueError:  # not plain data (the built-in engine makes none): not kept
        return objects
    tree.facts.folder_builds[key] = _FolderBuild(
        bodies, tuple((item.origin, frozenset(item.names), tuple(item.previous)) for item in objects),
        tuple(notes[noted:]), tuple(dict.fromkeys(reads)))
    return objects


def _renaming_patches(kustomization: Kustomization) -> bool:
    entries = as_list(kustomization.data.get("patches"))
    return any(as_mapping(as_mapping(entry).get("options")).get(option) is True
               for entry in entries for option in ("allowNameChange", "allowKindChange"))


def _as_kustomize_reads(tree: Tree, kustomization: Kustomization, patches: list[Patch]) -> list[Patch]:
    """Strategic-merge patches as kustomize reads them (YAML 1.2, kyaml); JSON6902 operations stay
    as read (kustomize reads them with YAML 1.1, as the linter does)."""
    read: list[Patch] = []
    inline: dict[tuple[Any, ...], list[Any]] = {}  # an inline patch's documents, taken in order
    for patch in patches:
        if patch.inline:
            where = patch.origin.path
            if where not in inline:
                text = value_at(kustomization.data, where)
                inline[where] = kyaml.text_documents(text if isinstance(text, str) else "", str(kustomization.file))
            body = inline[where].pop(0) if inline[where] else patch.body
            if isinstance(patch.body, dict):
                patch = replace(patch, body=body)  # noqa: PLW2901
        elif isinstance(patch.body, dict):
            found = _as_kustomize_builds(tree, patch.origin.file)
            patch = replace(patch, body=found[patch.origin.document])  # noqa: PLW2901
        read.append(patch)
    return read


def _as_kustomize_builds(tree: Tree, path: Path) -> list[Any]:
    """A file's documents as kustomize reads them (kyaml), its text read once a run."""
    return kyaml.documents(path, tree.documents_of(path), functools.partial(tree.text_of, read=kyaml.text_of))


def _objects_in(tree: Tree, path: Path, kustomization: Kustomization) -> list[_Object]:
    found = []
    for index, data in enumerate(_as_kustomize_builds(tree, path)):
        if data is None:
            continue
        if not (isinstance(data, dict) and isinstance(data.get("kind"), str) and isinstance(object_name(data), str)):
            raise BuildError(
                f"{kustomization.file}: {path} document {index} is no object with a kind and metadata.name"
            )
        found.append(_Object(_copied(data), Origin(path, index), {object_name(data)}))
    return found


def _copied(data: Any) -> Any:
    """copy.deepcopy(data), in one call for plain data (the objects the built-in engine transforms)."""
    try:
        return marshal.loads(marshal.dumps(data))
    except ValueError:  # not plain data
        return copy.deepcopy(data)


def _accumulate(objects: list[_Object], added: list[_Object], kustomization: Kustomization) -> None:
    known = {_identity(item.body) for item in objects}
    for item in added:
        if _identity(item.body) in known:
            raise BuildError(f"{kustomization.file}: {'/'.join(_identity(item.body)[1:])} is included twice")
        known.add(_identity(item.body))
        objects.append(item)


def _identity(body: dict[str, Any]) -> tuple[str, str, str, str]:
    group = api_group(str(body.get("apiVersion", "")))
    return group, str(body.get("kind")), str(body["metadata"].get("namespace") or ""), str(object_name(body))


def _applied(objects: list[_Object], patch: Patch, kustomization: Kustomization) -> list[_Object]:
    kept = []
    hits = 0
    for item in objects:
        hit = _targeted(patch.target, item) if patch.target is not None else _identified(patch.body, item)
        hits += hit
        if not hit:
            kept.append(item)
        elif isinstance(patch.body, list):
            item.store_id()  # as kustomize does before a JSON6902 patch, which may rename
            item.body = _operated(item.body, patch.body, kustomization)
            kept.append(item)
        elif patch.body.get("$patch") != "delete":
            item.body = _identity_kept(_merged(item.body, patch.body, ""), item.body)
            kept.append(item)
    if hits != 1 and patch.target is None:
        raise BuildError(
            f"{kustomization.file}: patch {patch.origin.file.name} matches {'no' if not hits else 'more than one'} "
            f"{patch.body.get('kind')} named {object_name(patch.body)!r} (apiVersion {patch.body.get('apiVersion')}, "
            f"namespace {_current_id(patch.body)[2] or 'default'})"
        )
    return kept


def _current_id(body: dict[str, Any]) -> tuple[str, str, str]:
    metadata = as_mapping(body.get("metadata"))
    return str(body.get("kind")), str(metadata.get("name")), str(metadata.get("namespace") or "")


def _effective_namespace(kind: str, namespace: str) -> str:
    """kustomize's EffectiveNamespace: none is `default`; a cluster-scoped kind has none at all."""
    return "~X" if kind in _CLUSTER_SCOPED else namespace or "default"


def _identified(patch: dict[str, Any], item: _Object) -> bool:
    """kustomize's GetById for a patch without a target: the patch's apiVersion is the object's, and
    its kind, name and namespace (`default` when none) are the object's now or at any earlier step
    of the build (before a namespace or a prefix moved it), as kustomize's previous ids keep them."""
    if patch.get("apiVersion") != item.body.get("apiVersion"):
        return False
    kind, name, namespace = _current_id(patch)
    wanted = (kind, name, _effective_namespace(kind, namespace))
    return any((k, n, _effective_namespace(k, ns)) == wanted for k, n, ns in (*item.previous, _current_id(item.body)))


def _targeted(target: dict[str, Any], item: _Object) -> bool:
    """kustomize's Select: the name and the namespace (`default` when none) match as the object was
    first read or as it is now, the rest as it is now."""
    kind, name, namespace = _current_id(item.body)
    first = item.previous[0] if item.previous else (kind, name, namespace)
    rest = {key: value for key, value in target.items() if key != "namespace"}
    if not target_selects(rest, item.body, {first[1], name}):
        return False
    pattern = target.get("namespace")
    return not pattern or any(  # the pattern matched as scan matches it (RE2, anchored)
        target_selects({"namespace": pattern}, {"metadata": {"namespace": candidate}}, set())
        for candidate in (_effective_namespace(first[0], first[2]), _effective_namespace(kind, namespace)))


def _identity_kept(merged: Any, before: dict[str, Any]) -> Any:
    """kustomize keeps the object's kind, name and namespace through a strategic merge: the patch's
    only find the object (options allowing a change of name or kind are not applied here)."""
    if not isinstance(merged, dict):
        return merged
    metadata = _at(merged, ("metadata",))
    namespace = _current_id(before)[2]
    merged["kind"], metadata["name"] = before.get("kind"), before["metadata"].get("name")
    if namespace:
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    return merged


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
    if isinstance(patch, list) and isinstance(base, list) and any(merge_key(list_name, i) for i in patch + base):
        merged, used = [], set()
        for index, item in enumerate(patch):
            at = paired_index(list_name, item, base, index) if merge_key(list_name, item) else None
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
    return value if isinstance(value, _SCALARS) else copy.deepcopy(value)


def _operated(body: dict[str, Any], operations: list[Any], kustomization: Kustomization) -> dict[str, Any]:
    """JSON6902 add, replace and remove; a pointer that does not resolve is kustomize's error too."""
    body = copy.deepcopy(body)
    for index, operation in enumerate(operations):
        op, tokens = operation.get("op"), pointer_tokens(operation["path"])
        try:
            if op not in ("add", "replace", "remove") or not tokens:
                raise ValueError(f"{op!r} is not applied by the built-in engine")
            parent = value_at(body, _path_of(body, tokens[:-1]))
            key: Any = tokens[-1] if isinstance(parent, dict) else len(parent) if tokens[-1] == "-" else int(tokens[-1])
            value = kyaml.json_value(copy.deepcopy(operation.get("value")))  # kustomize applies them to JSON
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
                f"does not apply to {object_name(body)}: {error}"
            ) from None
    kyaml.annotations_as_text(body)
    return body


def _path_of(body: Any, tokens: list[str]) -> tuple[Any, ...]:
    path: list[Any] = []
    for token in tokens:
        path.append(int(token) if isinstance(value_at(body, tuple(path)), list) else token)
    if value_at(body, tuple(path)) is MISSING:
        raise KeyError("missing path")
    return tuple(path)


def _rename_service_references(objects: list[_Object], renamed: dict[str, str]) -> None:
    """What kustomize's name-reference transformer does for the Services the linter follows:
    Ingress backends and a StatefulSet's serviceName follow a renamed Service."""
    for item in objects:
        kind, spec = item.body.get("kind"), as_mapping(item.body.get("spec"))
        service_name = spec.get("serviceName")
        if kind == "StatefulSet" and isinstance(service_name, str) and service_name in renamed:
            spec["serviceName"] = renamed[service_name]
        if kind != "Ingress":
            continue
        backends = [spec.get("defaultBackend")]
        rules = spec.get("rules")
        for rule in rules if isinstance(rules, list) else []:
            paths = as_mapping(as_mapping(rule).get("http")).get("paths")
            backends += [as_mapping(path).get("backend") for path in paths] if isinstance(paths, list) else []
        for backend in backends:
            service = backend.get("service") if isinstance(backend, dict) else None
            if isinstance(service, dict) and service.get("name") in renamed:
                service["name"] = renamed[service["name"]]


def _transform(objects: list[_Object], kustomization: Kustomization) -> None:
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
        if namespace:
            item.store_id()
        if namespace and kind not in _CLUSTER_SCOPED:
            metadata["namespace"] = namespace
        elif namespace and kind == "Namespace":  # kustomize renames the Namespace objects it holds
            metadata["name"] = namespace
            item.names.add(namespace)
        if (prefix or suffix) and kind not in _NOT_RENAMED:
            old = metadata["name"]
            if prefix:  # kustomize's prefix, then its suffix transformer: each keeps the id it changes
                item.store_id()
                metadata["name"] = f"{prefix}{metadata['name']}"
            if suffix:
                item.store_id()
                metadata["name"] = f"{metadata['name']}{suffix}"
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
        if create or isinstance(value_at(body, path), dict):
            _at(body, path).update(pairs)


def _set_replicas(objects: list[_Object], kustomization: Kustomization) -> None:
    entries = kustomization.data.get("replicas") or []
    for entry in entries if isinstance(entries, list) else [None]:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("count"), int)):
            raise BuildError(f"{kustomization.file}: replicas entries need a name and an integer count")
        for item in objects:
            if item.body.get("kind") in _REPLICATED and entry["name"] in item.names:
                _at(item.body, ("spec",))["replicas"] = entry["count"]


def _set_images(objects: list[_Object], kustomization: Kustomization) -> None:
    entries = kustomization.data.get("images") or []
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
    ):
        raise BuildError(f"{kustomization.file}: images entries need a name")
    if not all(isinstance(e.get(key), (str, type(None))) for e in entries for key in ("newName", "newTag", "digest")):
        raise BuildError(f"{kustomization.file}: images newName, newTag and digest must be text (quote a number)")
    for item in objects:
        for container in _containers(item.body):
            if isinstance(container.get("image"), str):
                container["image"] = _image(container["image"], entries)


def _replacements(tree: Tree, kustomization: Kustomization) -> list[dict[str, Any]]:
    """The replacements a kustomization writes, and those of the files its `path:` entries name."""
    found = []
    for entry in as_list(kustomization.data.get("replacements")):
        entry = as_mapping(entry)  # noqa: PLW2901 (a replacement, or a mapping naming a file of them)
        if isinstance(entry.get("path"), str):
            for document in tree.documents_of(local_path(kustomization, "replacements", entry["path"])):
                found += [as_mapping(item) for item in (document if isinstance(document, list) else [document])]
        else:
            found.append(entry)
    return found


def _replace(objects: list[_Object], replacement: dict[str, Any], kustomization: Kustomization) -> None:
    """kustomize's ReplacementTransformer: one source object's field (a part of it, with a
    delimiter) copied to fields of the selected targets; a scalar target keeps its type."""
    source = as_mapping(replacement.get("source"))
    where = f"{kustomization.file}: replacements"
    chosen = [item for item in objects if _resource_selected(source, item)]
    if len(chosen) != 1:
        raise BuildError(f"{where}: {'nothing' if not chosen else 'more than one object'} selected by source {source}")
    field_path = str(source.get("fieldPath") or "metadata.name")
    found = _field_nodes(chosen[0].body, _field_path(field_path), create=False)
    if not found or found[0][1] in (None, "", {}, []):
        raise BuildError(f"{where}: fieldPath `{field_path}` is missing for replacement source")
    value = _delimited_part(found[0][1], as_mapping(source.get("options")), where)
    for target in as_list(replacement.get("targets")):
        target = as_mapping(target)  # noqa: PLW2901
        if not isinstance(target.get("select"), dict):
            raise BuildError(f"{where}: a target must specify resources to select")
        options = as_mapping(target.get("options"))
        for item in objects:
            if not _resource_selected(target["select"], item) or any(
                _resource_selected(as_mapping(reject), item) for reject in as_list(target.get("reject"))
            ):
                continue
            for path in [str(p) for p in as_list(target.get("fieldPaths"))] or ["metadata.name"]:
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
    metadata = as_mapping(item.body.get("metadata"))
    actual = {"group": {group}, "version": {version}, "kind": {str(item.body.get("kind"))}, "name": item.names,
              "namespace": {str(metadata.get("namespace") or "")}}
    if any(key in selector and str(selector[key]) not in values for key, values in actual.items()):
        return False
    return labels_match(selector.get("labelSelector"), metadata.get("labels")) and labels_match(
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


def _containers(data: Any, found: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The containers and init containers anywhere in data, in document order."""
    found = [] if found is None else found
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                found += [c for c in value if isinstance(c, dict)]
            elif isinstance(value, dict | list):  # a scalar holds none: not called for each one
                _containers(value, found)
    elif isinstance(data, list):
        for value in data:
            if isinstance(value, dict | list):
                _containers(value, found)
    return found


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
    if not all(isinstance(v, str) or v is None for v in value.values()):
        # kustomize reads the kustomization as YAML 1.1 into text fields: `on` or 42 there is its error
        raise BuildError(f"{file}: {key} values must be text (quote a number or a boolean)")
    return {str(k): v or "" for k, v in value.items()}


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
