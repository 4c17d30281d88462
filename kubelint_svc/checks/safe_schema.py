"""JSON Schemas from rule packs, made safe to evaluate: a pack travels with pull requests, so its
schema may be written to hang the run, read files or reach the network.

At load time every `$ref` is expanded in place (to `#/...` inside its own document, or to a file
of the pack's folder), within a budget of nodes and without cycles; keywords that load other
resources (`$id`, `$dynamicRef`, ...) are refused; every regular expression is compiled by RE2,
whose matching time is linear, so no pattern can backtrack. At run time the validator has no
reference registry to retrieve from, and evaluates patterns with RE2 only.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from kubelint_svc.paths import resolved

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.validators import _Validator

    # an instance of any class jsonschema.validators.create or extend makes (the stubs' name for
    # it has no runtime twin)
    SchemaValidator: TypeAlias = _Validator

    # what a keyword of a validator class is given: (validator, keyword's value, instance, schema)
    KeywordCheck = Callable[[SchemaValidator, Any, Any, Any], Iterator[ValidationError]]

# Nodes a pack schema may hold once every $ref is expanded: real packs hold hundreds.
MAX_EXPANDED_NODES = 100_000
# Keywords that would make the validator load or look up another resource.
REFUSED_KEYWORDS = ("$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor")

# Where JSON Schema 2020-12 holds subschemas (anything else is data, or a keyword it ignores).
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_VALUES = (
    "additionalProperties", "unevaluatedProperties", "items", "additionalItems", "unevaluatedItems",
    "contains", "not", "if", "then", "else", "propertyNames",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


class SchemaRefused(Exception):
    """A pack schema that cannot be made safe, worded for the pack's author."""


class Pattern(Protocol):
    """What is used of a pattern compiled by RE2 (google-re2 ships no types)."""

    def search(self, text: str) -> object: ...


def _compile(pattern: str) -> Pattern:
    import re2

    options = re2.Options()
    options.log_errors = False  # the reason is reported once, as a SchemaRefused
    result: Pattern = re2.compile(pattern, options)
    return result


@functools.lru_cache(maxsize=4096)
def compiled(pattern: str) -> Pattern:
    return _compile(pattern)


class _Expansion:
    """Expands the `$ref`s of one schema, counting every node it produces."""

    def __init__(self, folder: Path, read_file: Callable[[Path], Any]) -> None:
        self.folder = folder.resolve()
        self.read_file = read_file
        self.budget = MAX_EXPANDED_NODES
        self.files: dict[Path, Any] = {}
        self.active: list[tuple[str, str]] = []  # the $refs being expanded, for cycles

    def schema(self, node: Any, root: Any, file: str) -> Any:
        self._spend()
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise SchemaRefused(f"a schema must be a mapping or a boolean, not {type(node).__name__}")
        for keyword in REFUSED_KEYWORDS:
            if keyword in node:
                raise SchemaRefused(f"{keyword} is not allowed in a rule pack: refer to other schemas only with "
                                    "$ref to '#/...' or to a file beside the rule")
        result: dict[str, Any] = {}
        for keyword, value in node.items():
            if keyword == "$ref":
                continue
            if keyword in _SCHEMA_MAPS and isinstance(value, dict):
                result[keyword] = {name: self.schema(sub, root, file) for name, sub in value.items()}
            elif keyword in _SCHEMA_VALUES and isinstance(value, (dict, bool)):
                result[keyword] = self.schema(value, root, file)
            elif keyword in _SCHEMA_LISTS and isinstance(value, list):
                result[keyword] = [self.schema(sub, root, file) for sub in value]
            else:
                self._spend(_size(value))
                result[keyword] = value
        ref = node.get("$ref")
        if ref is None:
            return result
        if not isinstance(ref, str):
            raise SchemaRefused("$ref must be a string")
        target = self._follow(ref, root, file)
        return {"allOf": [target], **result} if result else target

    def _follow(self, ref: str, root: Any, file: str) -> Any:
        location, _, pointer = ref.partition("#")
        if pointer and not pointer.startswith("/"):
            raise SchemaRefused(f"$ref {ref!r}: only JSON pointers ('#/...') are supported, not anchors")
        if location:
            path = self._pack_file(ref, location)
            file, root = str(path), self._document(path)
        key = (file, pointer)
        if key in self.active:
            raise SchemaRefused(f"$ref {ref!r} refers back to itself (a cycle); recursive schemas are not "
                                "supported in rule packs")
        self.active.append(key)
        try:
            return self.schema(_pointer(root, pointer, ref), root, file)
        finally:
            self.active.pop()

    def _pack_file(self, ref: str, location: str) -> Path:
        scheme_like = ":" in location.split("/", maxsplit=1)[0]
        if scheme_like or location.startswith(("/", "\\")) or ".." in Path(location).parts:
            raise SchemaRefused(f"$ref {ref!r} leaves the rule pack's folder; only files beside the rule may be "
                                "referenced")
        path = resolved(self.folder / location)
        if path is None or self.folder not in path.parents or not path.is_file():
            raise SchemaRefused(f"$ref {ref!r} does not name a file in the rule pack's folder")
        return path

    def _document(self, path: Path) -> Any:
        if path not in self.files:
            self.files[path] = self.read_file(path)
        return self.files[path]

    def _spend(self, count: int = 1) -> None:
        self.budget -= count
        if self.budget < 0:
            raise SchemaRefused(f"the schema expands to more than {MAX_EXPANDED_NODES:,} nodes through $ref; "
                                "share less, or split the rule")


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_size(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(v) for v in value)
    return 1


def _pointer(root: Any, pointer: str, ref: str) -> Any:
    value = root
    for token in [p for p in pointer.split("/") if p]:
        part = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise SchemaRefused(f"$ref {ref!r}: nothing at {pointer!r}")
    return value


def prepare(schema: Any, folder: Path, read_file: Callable[[Path], Any]) -> Any:
    """The schema with every `$ref` expanded and every pattern compiled by RE2, or SchemaRefused."""
    try:
        expanded = _Expansion(folder, read_file).schema(schema, schema, "<rule>")
    except RecursionError:
        raise SchemaRefused("the schema nests too deeply through $ref") from None
    nodes = list(_walk(expanded))  # walked once for the patterns and the keywords (a CRD's: 4,600 nodes)
    for pattern in _patterns(nodes):
        try:
            compiled(pattern)
        except Exception as error:  # re2.error: a lookaround, a backreference, a bad pattern
            reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
            raise SchemaRefused(f"pattern {pattern!r} cannot be matched in linear time ({reason}); rule packs allow "
                                "RE2 syntax only: no lookaround, no backreferences") from None
    if _has_keyword(nodes, "unevaluatedProperties") and _has_keyword(nodes, "patternProperties"):
        raise SchemaRefused("unevaluatedProperties together with patternProperties is not supported in rule packs; "
                            "use additionalProperties")
    return expanded


def _subschemas(schema: Any) -> Iterator[Any]:
    if not isinstance(schema, dict):
        return
    for keyword, value in schema.items():
        if keyword in _SCHEMA_MAPS and isinstance(value, dict):
            yield from value.values()
        elif keyword in _SCHEMA_VALUES:
            yield value
        elif keyword in _SCHEMA_LISTS and isinstance(value, list):
            yield from value


def _walk(schema: Any) -> Iterator[dict[str, Any]]:
    stack = [schema]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(_subschemas(current))


def _patterns(nodes: list[dict[str, Any]]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        if isinstance(node.get("patternProperties"), dict):
            yield from node["patternProperties"]


def _has_keyword(nodes: list[dict[str, Any]], keyword: str) -> bool:
    return any(keyword in node for node in nodes)


def _pattern(validator: SchemaValidator, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: SchemaValidator, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if compiled(pattern).search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: SchemaValidator, additional: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = [compiled(p) for p in schema.get("patternProperties", {})]
    extras = [key for key in instance if key not in known and not any(p.search(key) for p in patterns)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in sorted(extras))
        verb = "was" if len(extras) == 1 else "were"
        yield ValidationError(f"Additional properties are not allowed ({listed} {verb} unexpected)")


def _canonical(value: Any) -> Any:
    """A hashable form under which two JSON values are equal exactly when JSON Schema says so
    (1 == 1.0, but true != 1; key order does not matter)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    return ("other", repr(value))


def _unique_items(validator: SchemaValidator, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """uniqueItems in linear time (jsonschema compares unhashable items pairwise: quadratic)."""
    from jsonschema.exceptions import ValidationError

    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements"[:200])
            return
        seen.add(key)


# each enum list of a prepared schema (kept alive here, so its id stays its own) -> its values' set
_ENUM_SETS: dict[int, tuple[list[Any], frozenset[Any]]] = {}


def _enum(validator: SchemaValidator, enums: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """enum by one lookup in the set of its values, made once per list: jsonschema compared the
    value with each one and quoted them all in its message (a CRD's enum of 20,000 values over a
    list of 3,000 items took minutes per object)."""
    from jsonschema.exceptions import ValidationError

    if not isinstance(enums, list):
        yield from _DRAFT_ENUM(validator, enums, instance, schema)
        return
    if id(enums) not in _ENUM_SETS:
        _ENUM_SETS[id(enums)] = (enums, frozenset(_canonical(value) for value in enums))
    if _canonical(instance) not in _ENUM_SETS[id(enums)][1]:
        yield ValidationError(f"{instance!r} is not one of {enums[:20]!r}"[:200])  # never all of them


def _draft_enum(validator: SchemaValidator, enums: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema import Draft202012Validator

    check: KeywordCheck = Draft202012Validator.VALIDATORS["enum"]
    return check(validator, enums, instance, schema)


_DRAFT_ENUM: KeywordCheck = _draft_enum


@functools.lru_cache(maxsize=1)
def _validator_class() -> type[SchemaValidator]:
    from jsonschema import Draft202012Validator, validators

    keywords: dict[str, KeywordCheck] = {
        **Draft202012Validator.VALIDATORS,
        "pattern": _pattern, "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties, "uniqueItems": _unique_items, "enum": _enum,
    }
    # types-jsonschema leaves extend() unannotated; it returns a class as create() does
    extended: type[SchemaValidator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {name: _counted(check) for name, check in keywords.items()}
    )
    return extended


class StepBudgetExceeded(Exception):
    """A pack schema needed more keyword evaluations on one object than MAX_STEPS."""


# Keyword evaluations one pack schema may make on one object: a schema of 100,000 nodes applied
# to a document of a million nodes would otherwise run for hours.
MAX_STEPS = 1_000_000
_STEPS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("kubelint_svc_schema_steps", default=None)


def _counted(check: KeywordCheck) -> KeywordCheck:
    def counted(validator: SchemaValidator, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        steps = _STEPS.get()
        if steps is not None:
            steps[0] -= 1
            if steps[0] < 0:
                raise StepBudgetExceeded(f"the rule's schema needs more than {MAX_STEPS:,} steps on this object")
        return check(validator, value, instance, schema)

    return counted


@contextlib.contextmanager
def step_budget(steps: int | None = None) -> Iterator[None]:
    """Evaluations inside count against one budget; past it, StepBudgetExceeded."""
    token = _STEPS.set([MAX_STEPS if steps is None else steps])
    try:
        yield
    finally:
        _STEPS.reset(token)


def validator_for(schema: Any) -> SchemaValidator:
    """A validator for a prepared schema: RE2 for every pattern, and an empty reference registry
    (nothing is ever retrieved, whatever the schema says)."""
    from referencing import Registry

    return _validator_class()(schema, registry=Registry())
