"""Custom resources judged by the CustomResourceDefinitions read in the same run: the versions a
CRD serves, and each version's `openAPIV3Schema` applied as the API server applies it.

Both objects are read for their header only (trees full of CRDs stay cheap); the two documents
are composed again, whole, only when a custom resource of a group meets a CRD named for that
group (`<plural>.<group>`), and each CRD once a run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelint_svc.checks.api import Hit, NoParams, RunContext, cross_object, header_only
from kubelint_svc.checks.json_schema import hits_from_errors
from kubelint_svc.kinds import api_group, is_builtin_group
from kubelint_svc.model import Resource

if TYPE_CHECKING:
    from jsonschema_rs import Validator as FastValidator

    from kubelint_svc.checks.safe_schema import SchemaValidator

# Imported with the rules, before the files are read: the pool's forked readers then inherit it
# (each imported it, 15-30 ms, to say which objects the built-in schemas accept), and so does this
# check. A run answered by the replay loads no rule, so pays nothing for it.
with contextlib.suppress(ImportError):
    import jsonschema_rs  # noqa: F401

CRD_GROUP = "apiextensions.k8s.io"
# checked by the API server itself, never by a CRD's schema
SERVER_FIELDS = ("apiVersion", "kind", "metadata")
# a CRD schema's keywords that validate (OpenAPI v3 as Kubernetes takes it); anything else
# (description, default, format, example, x-kubernetes-validations, a forbidden $ref) is dropped
_VALUE_KEYWORDS = (
    "type", "enum", "maximum", "minimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "multipleOf", "maxProperties", "minProperties", "required",
)
_JUNCTORS = ("allOf", "anyOf", "oneOf")
_NODE_BUDGET = 100_000  # schema nodes of one version, as for a rule pack (real CRDs: a few thousand)
# schema nodes x object nodes up to which jsonschema-rs may say "valid" (a tenth of a second at worst)
_FAST_BOUND = 100_000_000


@dataclass
class _Version:
    served: bool
    schema: Any = None  # the openAPIV3Schema as written; None: the version has none
    prepared: _Prepared | None = field(default=None, repr=False)


@dataclass
class _Prepared:
    """One version's schema made safe to evaluate, or why it could not be."""

    schema: Any = None  # None: refused
    refused: str | None = None
    fast: FastValidator | None = None  # says "valid" much faster; errors always come from validator
    nodes: int = 0  # of the schema: its cost on an object is at most nodes x the object's nodes
    _validator: SchemaValidator | None = field(default=None, repr=False)

    @property
    def validator(self) -> SchemaValidator:
        """jsonschema's, made when an object is not valid (importing jsonschema costs a warm run
        more than all the valid objects do)."""
        if self._validator is None:
            from kubelint_svc.checks.safe_schema import validator_for

            self._validator = validator_for(self.schema)
        return self._validator


@dataclass(frozen=True)
class _Definition:
    name: str
    group: str
    kind: str
    versions: dict[str, _Version]


@header_only  # both objects are composed again, whole, only when a CR meets its CRD
@cross_object
def custom_resource_schema(resource: Resource, run: RunContext, params: NoParams) -> Iterator[Hit]:
    group = resource.group
    if not group or is_builtin_group(resource.api_version):
        return  # built-in kinds: the `schema` rule
    candidates = run.once(_crds_by_group).get(group)
    if not candidates:
        return  # no CRD of this group read: nothing known about the kind
    key = _verdict_key(run, resource, group) if run.cache is not None else None
    stored = _hits_from(run.cache.get(key)) if run.cache is not None and key is not None else None
    if stored is not None:
        if stored:
            resource.read_whole()  # the positions of what was found
        yield from stored
        return
    hits = list(_judged(resource, run, candidates))
    if run.cache is not None and key is not None:
        run.cache.put(key, [(h.message, list(h.path), h.at_key, h.severity, list(h.help)) for h in hits])
    yield from hits


def _verdict_key(run: RunContext, resource: Resource, group: str) -> str | None:
    """A verdict depends on the run (tool, settings, rules), the resource's text and the texts of
    its group's CRDs, in their order: kept in the cache under all of them, a warm run composes
    neither again. None: some were not read from a file's text (built by kustomize)."""
    written = resource.written_as()
    crds = run.once_per(_group_texts, group)
    if written is None or crds is None:
        return None
    from kubelint_svc.cache import key_of

    return key_of(run.fingerprint, "custom-resource-schema", resource.api_version, resource.kind, written, crds)


def _group_texts(run: RunContext, group: str) -> str | None:
    from kubelint_svc.cache import key_of

    texts = [crd.written_as() for crd in run.once(_crds_by_group).get(group, [])]
    return None if any(text is None for text in texts) else key_of(*(text or "" for text in texts))


def _hits_from(stored: Any) -> list[Hit] | None:
    try:
        return [Hit(message, tuple(path), at_key, severity, help=tuple(help_lines))
                for message, path, at_key, severity, help_lines in stored]
    except (TypeError, ValueError):
        return None  # not an entry of this shape (none yet, or another version's)


def _judged(resource: Resource, run: RunContext, candidates: list[Resource]) -> Iterator[Hit]:
    version = resource.api_version.rpartition("/")[2]
    unreadable: list[tuple[Resource, str]] = []
    defining: list[_Definition] = []
    fewest: list[Hit] | None = None
    body: dict[str, Any] | None = None
    # the same CRD twice (two copies, two releases): any that serves and accepts it will do, so a
    # copy is composed only when the one before it found a problem
    for definition in _definitions_of(run, candidates, resource, unreadable):
        defining.append(definition)
        served = definition.versions.get(version)
        if served is None or not served.served:
            continue
        if body is None:
            problem = resource.read_whole()
            if problem is not None:
                yield Hit(f"not checked against CustomResourceDefinition {definition.name}: the object could not "
                          f"be read whole ({problem})", (), severity="warning")
                return
            body = _pruned({k: v for k, v in resource.body.items() if k not in (*SERVER_FIELDS, "status")})
        hits = _evaluate(definition, served, body, resource.kind)
        if not hits:
            return
        if fewest is None or len(hits) < len(fewest):
            fewest = hits
    if fewest is not None:
        yield from fewest
    elif defining:
        yield _unserved(resource, version, defining[0])
    else:  # a CRD of the group that could not be read may be this kind's: say so rather than pass
        for crd, problem in unreadable:
            yield Hit(f"not checked against CustomResourceDefinition {crd.name}, which could not be read whole "
                      f"({problem})", (), severity="warning")


def _definitions_of(
    run: RunContext, candidates: list[Resource], resource: Resource, unreadable: list[tuple[Resource, str]]
) -> Iterator[_Definition]:
    """The run's CRDs that define the resource's kind, each composed whole when first asked for;
    those that could not be read are added to unreadable."""
    name: str | None = None
    for crd in _most_likely_first(candidates, resource.kind):
        if name is not None and crd.name != name:
            continue  # one name per kind in a group (the server refuses a second): only copies remain
        definition = run.once_per(_definition, crd)
        if isinstance(definition, str):
            unreadable.append((crd, definition))
        elif definition is not None and definition.group == resource.group and definition.kind == resource.kind:
            name = crd.name
            yield definition


def _most_likely_first(crds: list[Resource], kind: str) -> list[Resource]:
    """The CRDs of a group, those whose plural looks like the kind's first: each is composed
    whole to learn its kind, and a group's CRDs are many (kube-prometheus: 10) where one is wanted."""
    singular = kind.lower()
    plurals = {singular, singular + "s", singular + "es", singular[:-1] + "ies"}

    def distance(crd: Resource) -> int:
        plural = (crd.name or "").partition(".")[0]
        return 0 if plural in plurals else 1 if plural.startswith(singular[:4]) else 2

    return sorted(crds, key=distance)


def _unserved(resource: Resource, version: str, definition: _Definition) -> Hit:
    served = sorted(name for name, v in definition.versions.items() if v.served)
    listed = version in definition.versions
    why = "lists it with served: false" if listed else "does not list it"
    hint = (f"use {definition.group}/{served[-1]}",) if served else ()
    return Hit(f"version {version!r} of {definition.kind} is not served: CustomResourceDefinition "
               f"{definition.name} {why} (served: {', '.join(served) or 'none'})", ("apiVersion",), at_key=False,
               help=hint)


def _evaluate(definition: _Definition, version: _Version, body: dict[str, Any], kind: str) -> list[Hit]:
    if version.prepared is None:
        if version.schema is None:
            return []  # a version without a schema accepts any fields (v1beta1 CRDs)
        version.prepared, version.schema = _prepared(version.schema), None  # descriptions are most of it
    prepared = version.prepared
    if prepared.schema is None:
        return [Hit(f"not checked against CustomResourceDefinition {definition.name}: {prepared.refused}", (),
                    severity="warning")]
    # the fast validator counts no steps: it is asked only where the bound on its work is low
    if prepared.fast is not None and prepared.nodes * _nodes(body) <= _FAST_BOUND \
            and _fast_says_valid(prepared.fast, body):
        return []
    from kubelint_svc.checks.safe_schema import StepBudgetExceeded, step_budget

    try:
        with step_budget():
            errors = list(prepared.validator.iter_errors(body))
    except (StepBudgetExceeded, RecursionError) as error:
        reason = str(error) if isinstance(error, StepBudgetExceeded) else "it nests too deeply"
        return [Hit(f"not checked against CustomResourceDefinition {definition.name}: {reason}", (),
                    severity="warning")]
    errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
    return list(hits_from_errors(errors, kind))


def _crds_by_group(run: RunContext) -> dict[str, list[Resource]]:
    """Every CRD of the run (context files included), by the group its name ends with: the API
    server requires the name `<plural>.<group>`, so the header alone says which group it serves."""
    found: dict[str, list[Resource]] = {}
    for crd in (*run.resources, *run.context_resources):
        if crd.kind != "CustomResourceDefinition" or api_group(crd.api_version) != CRD_GROUP or crd.is_patch:
            continue
        plural, _, group = (crd.name or "").partition(".")
        if plural and group:
            found.setdefault(group, []).append(crd)
    return found


def _definition(run: RunContext, crd: Resource) -> _Definition | str | None:
    """What a CRD serves, read from its whole document (not kept: only its schemas are); or why
    it could not be read; None when it defines no kind."""
    ahead = run.once(_read_ahead)
    return _with_fast(ahead.pop(crd)) if crd in ahead else _made(crd)


def _made(crd: Resource, ahead: bool = False) -> _Definition | str | None:
    """_definition, from the CRD's whole document. ahead: made in a worker of _read_ahead too,
    so made ready there: each served version's schema prepared (but for its fast validator,
    which cannot be sent back: _with_fast), the schemas no resource is judged by dropped."""
    body = crd.whole_body()
    if isinstance(body, str):
        return body
    spec = body.get("spec")
    if not isinstance(spec, dict):
        return None
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, dict) else None
    group = spec.get("group")
    if not isinstance(kind, str) or not isinstance(group, str):
        return None
    definition = _Definition(crd.name or "", group, kind, _versions(spec))
    for version in definition.versions.values() if ahead else ():
        if version.served and version.schema is not None:
            version.prepared = _prepared(version.schema, fast=False)
        version.schema = None  # an unserved version's is never evaluated (_judged)
    return definition


def _with_fast(made: _Definition | str | None) -> _Definition | str | None:
    """A definition made ahead, with the fast validators its prepared schemas lack."""
    for version in made.versions.values() if isinstance(made, _Definition) else ():
        if version.prepared is not None and version.prepared.schema is not None:
            version.prepared.fast = _fast_validator(version.prepared.schema)
    return made


# CRD text read whole, in all, above which the CRDs a run needs are read on both cores (a fork
# costs a few milliseconds; the Prometheus CRD, 0.8 MB, takes 50 to read)
_AHEAD_MIN_BYTES = 256 * 1024


def _read_ahead(run: RunContext) -> dict[Resource, _Definition | str | None]:
    """The definitions of the CRDs the run's custom resources will be judged by (for each
    resource whose verdict is not kept, its group's most likely CRD), each read whole and its
    schemas prepared (_made), in two halves of about equal size: one by this process, one by a
    forked worker, at once. Empty when they are few or small, or there is one core: each is then
    made when first asked for."""
    from kubelint_svc.pool import can_fork, cores, in_pool

    by_group = run.once(_crds_by_group)
    wanted: dict[Resource, int] = {}
    for resource in run.resources:
        candidates = by_group.get(resource.group) if resource.group else None
        if not candidates or is_builtin_group(resource.api_version) or _kept_verdict(run, resource) is not None:
            continue
        crd = _most_likely_first(candidates, resource.kind)[0]
        wanted.setdefault(crd, len(crd.written_as() or ""))
    if len(wanted) < 2 or sum(wanted.values()) < _AHEAD_MIN_BYTES or cores() < 2 or not can_fork():
        return {}
    halves: tuple[list[Resource], list[Resource]] = ([], [])
    sizes = [0, 0]
    for crd in sorted(wanted, key=lambda each: -wanted[each]):  # each to the lighter half
        lighter = sizes.index(min(sizes))
        halves[lighter].append(crd)
        sizes[lighter] += wanted[crd]
    try:  # a half is named by its index: the worker inherits the objects (they are not pickled); here=True
        read = in_pool(2, [0, 1], sizes, lambda half: [_made(crd, ahead=True) for crd in halves[half]], True)
    except OSError:  # no process could be forked (a limit on them): each is made when asked for
        return {}
    return {crd: made for half, definitions in zip(halves, read, strict=True) if definitions is not None
            for crd, made in zip(half, definitions, strict=True)}


def _kept_verdict(run: RunContext, resource: Resource) -> list[Hit] | None:
    """The verdict on resource kept in the cache, if any (custom_resource_schema's)."""
    if run.cache is None or not resource.group:
        return None
    key = _verdict_key(run, resource, resource.group)
    return _hits_from(run.cache.get(key)) if key is not None else None


def _versions(spec: dict[str, Any]) -> dict[str, _Version]:
    """apiextensions.k8s.io/v1: a schema per version; v1beta1: `version`, and one `validation` for all."""
    shared = _open_api(spec.get("validation"))
    listed = spec.get("versions")
    if not isinstance(listed, list):
        single = spec.get("version")
        return {single: _Version(True, shared)} if isinstance(single, str) else {}
    found: dict[str, _Version] = {}
    for entry in listed:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            own = _open_api(entry.get("schema"))
            found[entry["name"]] = _Version(entry.get("served") is True, own if own is not None else shared)
    return found


def _open_api(holder: Any) -> Any:
    schema = holder.get("openAPIV3Schema") if isinstance(holder, dict) else None
    return schema if isinstance(schema, dict) else None


def _prepared(open_api: dict[str, Any], fast: bool = True) -> _Prepared:
    """A validator for one version's schema, made safe as a rule pack's is (a CRD comes with the
    pull request): RE2 patterns, a node budget, nothing retrieved; or why it cannot be made.
    fast: with jsonschema-rs's validator (not for a worker's: it cannot be sent back)."""
    from kubelint_svc.checks.safe_schema import SchemaRefused, prepare

    try:
        schema = prepare(_Conversion().root(open_api), Path("."), _no_files)
        return _Prepared(schema, fast=_fast_validator(schema) if fast else None, nodes=_nodes(schema))
    except SchemaRefused as error:
        why = str(error)
        if why.startswith("the schema expands"):  # worded for rule packs, which share through $ref: a CRD has none
            why = "its schema is too large to check safely (more than the node budget of a rule pack's schema)"
        return _Prepared(None, why)
    except RecursionError:
        return _Prepared(None, "its schema nests too deeply")


def _fast_validator(schema: dict[str, Any]) -> FastValidator | None:
    """jsonschema-rs with Rust's `regex` (linear time, as RE2), retrieving nothing: a CR read with
    its CRD is mostly valid, and saying so costs a hundredth of jsonschema's time."""
    try:
        import jsonschema_rs

        return jsonschema_rs.Draft202012Validator(schema, pattern_options=jsonschema_rs.RegexOptions(),
                                                  offline=True)
    except Exception:  # not installed, or a pattern its regex syntax refuses: jsonschema alone
        return None


def _nodes(value: Any) -> int:
    count, pending = 0, [value]
    while pending:
        current = pending.pop()
        count += 1
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return count


def _fast_says_valid(fast: FastValidator, body: dict[str, Any]) -> bool:
    try:
        return bool(fast.is_valid(body))
    except Exception:  # a value the Rust validator cannot take (NaN): ask jsonschema
        return False


def _no_files(path: Path) -> Any:
    raise AssertionError("a converted CRD schema holds no $ref")  # every $ref was dropped


class _Conversion:
    """A CRD's structural schema -> JSON Schema 2020-12, with what the API server does around it:
    fields a `properties` node does not name are unknown (the server prunes them; kubectl's strict
    field validation reports them) unless `x-kubernetes-preserve-unknown-fields`; int-or-string;
    an embedded object's apiVersion, kind and metadata."""

    def __init__(self) -> None:
        self.budget = _NODE_BUDGET

    def root(self, schema: dict[str, Any]) -> dict[str, Any]:
        converted = self.node(schema, closed=True)
        properties = {k: v for k, v in converted.get("properties", {}).items() if k not in SERVER_FIELDS}
        if "properties" in converted:
            converted["properties"] = {**properties, **{name: {} for name in SERVER_FIELDS}}
        if isinstance(converted.get("required"), list):
            converted["required"] = [k for k in converted["required"] if k not in (*SERVER_FIELDS, "status")]
        return converted

    def node(self, schema: Any, closed: bool) -> dict[str, Any]:
        """closed: a `properties` node here lists every field (not so inside allOf/anyOf/oneOf/not,
        whose properties only add checks to fields the structural part names)."""
        from kubelint_svc.checks.safe_schema import SchemaRefused

        self.budget -= 1
        if self.budget < 0:
            raise SchemaRefused(f"its schema holds more than {_NODE_BUDGET:,} nodes")
        if not isinstance(schema, dict):
            return {}
        result: dict[str, Any] = {key: schema[key] for key in _VALUE_KEYWORDS if key in schema}
        for bound, limit in (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum")):
            if schema.get(bound) is True and limit in result:  # OpenAPI 3.0's boolean form
                result[bound] = result.pop(limit)
        if schema.get("x-kubernetes-int-or-string") is True:
            result.pop("type", None)
            result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if isinstance(schema.get("properties"), dict):
            result["properties"] = {str(name): self.node(sub, closed) for name, sub in schema["properties"].items()}
        if isinstance(schema.get("items"), dict):
            result["items"] = self.node(schema["items"], closed)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            result["additionalProperties"] = self.node(additional, closed)
        elif isinstance(additional, bool):
            result["additionalProperties"] = additional
        for junctor in _JUNCTORS:  # each kept apart in allOf: int-or-string's anyOf stays its own
            if isinstance(schema.get(junctor), list):
                branches = [self.node(sub, closed=False) for sub in schema[junctor]]
                result.setdefault("allOf", []).append({junctor: branches})
        if isinstance(schema.get("not"), dict):
            result["not"] = self.node(schema["not"], closed=False)
        if schema.get("x-kubernetes-embedded-resource") is True and "properties" in result:
            result["properties"] = {**{name: {} for name in SERVER_FIELDS}, **result["properties"]}
        structural = "properties" in result and "additionalProperties" not in result
        if closed and structural and schema.get("x-kubernetes-preserve-unknown-fields") is not True:
            result["additionalProperties"] = False
        return result


def _pruned(value: Any) -> Any:
    """The object without its null fields: the API server drops a null it is not told to keep
    (`nullable`) before validating, and kubectl apply reads one as "delete this field"."""
    if isinstance(value, dict):
        return {key: _pruned(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value
