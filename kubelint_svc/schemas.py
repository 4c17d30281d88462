"""Bundled Kubernetes JSON schemas: one file per minor version, validators compiled once per run;
and the built-in apiVersions and kinds each bundled version serves."""

from __future__ import annotations

import json
import re
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from jsonschema_rs import Validator as FastValidator

# one file of schemas/: a schema per `apiVersion/kind`, and the definitions their $refs name
_Bundle = TypedDict("_Bundle", {"kinds": dict[str, Any], "$defs": dict[str, Any]})

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`schemas/` or `rules/`: inside the installed package, or at the top of a source checkout."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"kubelint-svc installation is missing its {name}/ folder")


def bundled_versions() -> list[str]:
    """Kubernetes minor versions with a bundled schema, oldest first ("1.30", ...)."""
    found = []
    for path in data_dir("schemas").glob("v1.*.json"):
        match = re.fullmatch(r"v(1\.\d+)\.json", path.name)
        if match:
            found.append(match.group(1))
    return sorted(found, key=lambda v: int(v.split(".")[1]))


def normalise_version(text: str) -> str | None:
    """"1.33", "v1.33", "1.33.2" -> "1.33"; None when not a Kubernetes 1.x version."""
    match = re.fullmatch(r"v?(1)\.(\d{1,4})(\.\d{1,6})?", text.strip())
    return f"1.{int(match.group(2))}" if match else None


@cache
def _served_tables() -> dict[str, dict[str, tuple[str, ...]]]:
    # read once a process: about 20 KB for every version, so no schema is loaded to answer it
    with open(data_dir("schemas") / "served.json", encoding="utf-8") as handle:
        tables: dict[str, dict[str, list[str]]] = json.load(handle)
    return {version: {api: tuple(kinds) for api, kinds in table.items()} for version, table in tables.items()}


def served_kinds(version: str) -> dict[str, set[str]]:
    """Every built-in apiVersion a bundled Kubernetes version serves ("v1" for core), with its
    kinds (neither `*List` kinds nor the API machinery's own, such as Status); empty for a version
    not bundled. Alpha and beta versions count even when a cluster must enable them first."""
    return {api: set(kinds) for api, kinds in _served_tables().get(version, {}).items()}


def builtin_groups() -> set[str]:
    """Every API group some bundled version serves ("" for core, "apps", "networking.k8s.io", ...)."""
    return {api.rpartition("/")[0] for table in _served_tables().values() for api in table}


_STORES: dict[str, tuple[tuple[object, ...], SchemaStore]] = {}


def store_for(version: str) -> SchemaStore:
    """The store of a version, one a process while its bundle is unchanged: a long-lived process
    (the editor server, which lints on every change) loads the bundle and compiles a kind's
    validators once, not every run (the bundle's JSON alone is 5 ms a run)."""
    path = data_dir("schemas") / f"v{version}.json"
    try:
        info = path.stat()
    except OSError:
        return SchemaStore(version)  # the run says what is missing, as before
    stamp = (str(path), info.st_size, info.st_mtime_ns, info.st_ino)
    kept = _STORES.get(version)
    if kept is None or kept[0] != stamp:
        kept = _STORES[version] = (stamp, SchemaStore(version))
    return kept[1]


class SchemaStore:
    """The schemas of one Kubernetes version; a validator per kind, built on first use."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._inlined: dict[str, dict[str, Any]] = {}
        self._fast_validators: dict[str, FastValidator | None] = {}
        self._validators: dict[str, Draft202012Validator] = {}

    @cached_property
    def _bundle(self) -> _Bundle:
        with open(data_dir("schemas") / f"v{self.version}.json", encoding="utf-8") as handle:
            bundle: _Bundle = json.load(handle)
        return bundle

    def has_schema(self, api_version: str, kind: str) -> bool:
        return f"{api_version}/{kind}" in self._bundle["kinds"]

    def errors(self, api_version: str, kind: str, instance: Any) -> list[ValidationError]:
        """jsonschema errors of instance; a valid object costs only the fast compiled check (and
        jsonschema is not even imported while every object is valid)."""
        key = f"{api_version}/{kind}"
        fast = self._fast(key)
        if fast is not None:
            try:
                if fast.is_valid(instance):
                    return []
            except Exception:  # a value the Rust validator cannot take (NaN): ask jsonschema
                pass
        return list(self._full(key).iter_errors(instance))

    def _schema(self, key: str) -> dict[str, Any]:
        if key not in self._inlined:
            schema, definitions = self._bundle["kinds"][key], self._bundle["$defs"]
            try:
                self._inlined[key] = _inline_refs(schema, definitions, {}, ())
            except RecursionError:  # a definition that holds itself: resolved by reference instead
                self._inlined[key] = {**schema, "$defs": reached_definitions(schema, definitions)}
        return self._inlined[key]

    def _fast(self, key: str) -> FastValidator | None:
        if key not in self._fast_validators:
            self._fast_validators[key] = _fast_validator(self._schema(key))
        return self._fast_validators[key]

    def _full(self, key: str) -> Draft202012Validator:
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            self._validators[key] = Draft202012Validator(self._schema(key))
        return self._validators[key]


def _fast_validator(schema: dict[str, Any]) -> FastValidator | None:
    """jsonschema-rs, when installed: about 100 times faster at saying "valid"; the errors a user
    reads always come from jsonschema, so both give the same findings."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    try:
        return jsonschema_rs.Draft202012Validator(schema)
    except Exception:
        return None


def _inline_refs(schema: Any, definitions: dict[str, Any], done: dict[str, Any], stack: tuple[str, ...]) -> Any:
    """Replace each local $ref by the definition itself (shared, not copied): validation skips
    reference resolution. RecursionError when a definition reaches itself (it cannot be inlined)."""
    if isinstance(schema, list):
        return [_inline_refs(item, definitions, done, stack) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/"):]
        if name in stack:
            raise RecursionError(name)
        if name not in done:
            done[name] = _inline_refs(definitions[name], definitions, done, (*stack, name))
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return done[name] if not rest else {"allOf": [done[name]], **rest}
    return {key: _inline_refs(value, definitions, done, stack) for key, value in schema.items()}


def reached_definitions(schema: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions schema's $refs reach, directly or through each other."""
    found: dict[str, Any] = {}
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[len("#/$defs/"):] not in found:
                name = ref[len("#/$defs/"):]
                found[name] = definitions[name]
                pending.append(definitions[name])
            pending.extend(value for key, value in node.items() if key != "$ref")
    return found
