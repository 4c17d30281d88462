"""kubeconform's schemas, offline: the bundled schemas of one Kubernetes version written out in a
layout kubeconform's `-schema-location` template reads, so that kubeconform checks the same kinds
against the same strict schemas we do, with no network.

    python benchmarks/kubeconform_schemas.py FOLDER [--version 1.34]

prints the `-schema-location` template to pass to kubeconform. bench.py calls `write` itself.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

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
        definitions = _reached(schema, bundle["$defs"])
        written = _inlined(schema, definitions, ()) if standalone else schema
        if standalone:
            definitions = _reached(written, definitions)
        target.write_text(json.dumps({**written, "$defs": definitions} if definitions else written))
    return str(folder) + "/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}.json"


def _reached(schema: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    reached: dict[str, Any] = {}
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in reached:
                    reached[name] = definitions[name]
                    pending.append(definitions[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return reached


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
    arguments = parser.parse_args()
    print(write(arguments.folder, arguments.version, standalone=not arguments.with_defs))
