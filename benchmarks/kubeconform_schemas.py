"""kubeconform's schemas, offline: the bundled schemas of one Kubernetes version written out in a
layout kubeconform's `-schema-location` template reads, so that kubeconform checks the same kinds
against the same strict schemas we do, with no network.

    python benchmarks/kubeconform_schemas.py FOLDER [--version 1.34]
    python benchmarks/kubeconform_schemas.py FOLDER --from .../kubernetes-json-schema/v1.33.0-local-strict

prints the `-schema-location` template to pass to kubeconform. bench.py calls `write` itself.
With --from, the schemas are kubeconform's own, as its default location serves them
(`<version>-standalone-strict/<kind>-<group>-<version>.json`, descriptions kept, every reference
inlined), made from a `-local-strict` folder of the kubernetes-json-schema tree (the one the
PyPI package kubernetes-validate carries): the reference as kubeconform's users run it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kubelint_svc.schemas import reached_definitions

REPO = Path(__file__).resolve().parent.parent


def write(folder: Path, version: str | None = None, standalone: bool = True) -> str:
    """One file a kind, `FOLDER/<group or v1>/<version>/<kind>.json`, standing alone: standalone,
    every `$ref` inlined, as kubeconform's default location serves its schemas (a definition that
    reaches itself stays a `$ref`); else the kind's schema with the definitions it reaches under
    `$defs` (smaller, quicker to compile). Returns the `-schema-location` template."""
    bundles = sorted(REPO.glob("schemas/v1.*.json"), key=lambda path: int(path.stem.split(".")[1]))
    source = REPO / "schemas" / f"v{version}.json" if version else bundles[-1]
    bundle = json.loads(source.read_text())
    for key, schema in bundle["kinds"].items():
        api_version, kind = key.rsplit("/", 1)
        group, _, served = api_version.rpartition("/")
        target = folder / (group or served) / served / f"{kind.lower()}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        definitions = reached_definitions(schema, bundle["$defs"])
        written = _inlined(schema, definitions, ()) if standalone else schema
        if standalone:
            definitions = reached_definitions(written, definitions)
        target.write_text(json.dumps({**written, "$defs": definitions} if definitions else written))
    return str(folder) + "/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}.json"


def write_own(folder: Path, source: Path) -> str:
    """kubeconform's standalone-strict schemas made from a kubernetes-json-schema `-local-strict`
    folder (its `$ref`s point into `_definitions.json`): every reference inlined, one file a
    kind, named as kubeconform names them. Returns the `-schema-location` template."""
    definitions = json.loads((source / "_definitions.json").read_text())
    definitions = definitions.get("$defs") or definitions.get("definitions") or {}
    for path in sorted(source.glob("*.json")):
        if path.name == "_definitions.json":
            continue
        schema = _localised(json.loads(path.read_text()))
        inlined = _inlined(schema, definitions, ())
        reached = reached_definitions(inlined, definitions)
        (folder / path.name).parent.mkdir(parents=True, exist_ok=True)
        (folder / path.name).write_text(json.dumps({**inlined, "$defs": reached} if reached else inlined))
    return str(folder) + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"


def _localised(node: Any) -> Any:
    """`/api/_definitions.json#/$defs/X` (or `_definitions.json#/definitions/X`) -> `#/$defs/X`."""
    if isinstance(node, list):
        return [_localised(item) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and "_definitions.json#/" in ref:
        node = {**node, "$ref": "#/$defs/" + ref.rsplit("/", 1)[1]}
    return {key: _localised(value) for key, value in node.items()}


def _inlined(node: Any, definitions: dict[str, Any], within: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inlined(item, definitions, within) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") not in within:
        name = ref.removeprefix("#/$defs/")
        rest = {key: value for key, value in node.items() if key != "$ref"}
        body = _inlined(definitions[name], definitions, (*within, name))
        return {"allOf": [body], **_inlined(rest, definitions, within)} if rest else body
    return {key: _inlined(value, definitions, within) for key, value in node.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--version", help="a bundled Kubernetes minor version (default: the newest)")
    parser.add_argument("--with-defs", action="store_true", help="keep shared definitions under $defs")
    parser.add_argument("--from", dest="source", type=Path,
                        help="a kubernetes-json-schema -local-strict folder: kubeconform's own schemas")
    arguments = parser.parse_args()
    if arguments.source:
        print(write_own(arguments.folder, arguments.source))
    else:
        print(write(arguments.folder, arguments.version, standalone=not arguments.with_defs))
