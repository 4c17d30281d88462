"""Regenerate schemas/ from the kubernetes-validate package (run by hand, never at lint time).

Downloads one release of kubernetes-validate from PyPI and, for each bundled Kubernetes minor
version, writes one self-contained file: the strict JSON schema of every built-in kind that
version serves (descriptions dropped) and only the shared definitions they reference. The
table of every built-in apiVersion and kind each version serves goes to schemas/served.json
(small: a run reads it without any schema). It also rewrites the `kinds:` of the `schema` rule
in rules/schema.yaml, so the kinds the rule reads whole are the kinds the bundle can check.

    python scripts/update_schemas.py [--package-version 1.37.0] [--wheel kubernetes_validate-*.whl]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

MINOR_VERSIONS = range(30, 38)
# served, but not checked: CustomResourceDefinitions are most of the bytes of CRD-heavy trees,
# and reading them header-only is what keeps those trees fast
NOT_VALIDATED = {"apiextensions.k8s.io/v1/CustomResourceDefinition"}
# the API machinery's own types (Status, WatchEvent, APIGroup, DeleteOptions ...) carry a
# group-version-kind too, but nobody applies them
META_PREFIX = "io.k8s.apimachinery."
DEFS_PREFIXES = ("/api/_definitions.json#/$defs/", "_definitions.json#/$defs/", "#/$defs/")
DROPPED_KEYS = {"description", "$id", "$schema", "x-kubernetes-group-version-kind"}
TOP = Path(__file__).resolve().parent.parent
RULE_FILE = TOP / "rules" / "schema.yaml"
KINDS_LINE = re.compile(r"(?ms)^(    # kinds: written by scripts/update_schemas.py[^\n]*\n    kinds: )\[[^\]]*\]")


def slim(schema: Any, refs: set[str]) -> Any:
    """Copy a schema without prose, with every $ref rewritten to a local #/$defs/ pointer."""
    if isinstance(schema, list):
        return [slim(item, refs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in DROPPED_KEYS and not isinstance(value, (dict, list)):
            continue
        if key == "x-kubernetes-group-version-kind":
            continue
        if key == "$ref":
            name = next(value[len(p):] for p in DEFS_PREFIXES if value.startswith(p))
            refs.add(name)
            result[key] = "#/$defs/" + name
        elif key in ("properties", "patternProperties", "$defs"):
            result[key] = {name: slim(sub, refs) for name, sub in value.items()}
        else:
            result[key] = slim(value, refs)
    return result


def kinds_of(definitions: dict[str, Any]) -> dict[str, str]:
    """`apiVersion/kind` -> definition name, for every kind one could apply: one group-version-kind,
    not a list, not the API machinery's own."""
    found: dict[str, str] = {}
    for name, definition in definitions.items():
        gvks = definition.get("x-kubernetes-group-version-kind") or []
        if name.startswith(META_PREFIX) or len(gvks) != 1 or gvks[0]["kind"].endswith("List"):
            continue
        group, version, kind = gvks[0]["group"], gvks[0]["version"], gvks[0]["kind"]
        found[f"{group}/{version}/{kind}" if group else f"{version}/{kind}"] = name
    return found


def kind_file(definition: str) -> str:
    """The package's file for a kind: io.k8s.api.networking.v1.Ingress -> ingress-networking-v1.json
    (core kinds have no group part: service-v1.json)."""
    *_, package, version, kind = definition.split(".")
    return f"{kind.lower()}-{version}.json" if package == "core" else f"{kind.lower()}-{package}-{version}.json"


def served_table(kinds: dict[str, str]) -> dict[str, list[str]]:
    served: dict[str, list[str]] = {}
    for key in sorted(kinds):
        api_version, _, kind = key.rpartition("/")
        served.setdefault(api_version, []).append(kind)
    return dict(sorted(served.items()))


def build_version(folder: zipfile.Path, minor: int) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The version's bundle, and its served table."""
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    kinds = kinds_of(definitions)
    schemas: dict[str, Any] = {}
    pending: set[str] = set()
    for key, definition in sorted(kinds.items()):
        if key in NOT_VALIDATED:
            continue
        schemas[key] = slim(json.loads((folder / kind_file(definition)).read_text()), pending)
    kept: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        refs: set[str] = set()
        kept[name] = slim(definitions[name], refs)
        pending |= refs - kept.keys()
    return {
        "kubernetesVersion": f"1.{minor}",
        "kinds": schemas,
        "$defs": dict(sorted(kept.items())),
    }, served_table(kinds)


def write_rule_kinds(kinds: set[str]) -> None:
    """The schema rule's `kinds:`: every kind some bundled version has a schema for."""
    text = RULE_FILE.read_text(encoding="utf-8")
    listed = textwrap.fill(", ".join(sorted(kinds)), width=100, initial_indent="      ", subsequent_indent="      ")
    new, count = KINDS_LINE.subn(lambda m: m.group(1) + "[\n" + listed + "\n    ]", text)
    if count != 1:
        raise SystemExit(f"{RULE_FILE}: the generated `kinds:` of the schema rule was not found")
    RULE_FILE.write_text(new, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--package-version", default="1.37.0")
    parser.add_argument("--wheel", type=Path, help="use this kubernetes-validate wheel instead of downloading")
    args = parser.parse_args()
    out_dir = TOP / "schemas"
    validated: set[str] = set()
    served: dict[str, dict[str, list[str]]] = {}
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "-d", tmp, f"kubernetes-validate=={args.package_version}"],
                check=True,
            )
            wheel = next(Path(tmp).glob("kubernetes_validate-*.whl"))
        archive = zipfile.ZipFile(wheel)
        root = zipfile.Path(archive, "kubernetes_validate/kubernetes-json-schema/")
        for minor in MINOR_VERSIONS:
            bundle, served[f"1.{minor}"] = build_version(root / f"v1.{minor}.0-local-strict", minor)
            validated |= {key.rpartition("/")[2] for key in bundle["kinds"]}
            target = out_dir / f"v1.{minor}.json"
            target.write_text(json.dumps(bundle, separators=(",", ":"), sort_keys=False) + "\n")
            total += target.stat().st_size
            print(f"{target.name}: {len(bundle['kinds'])} kinds, {len(bundle['$defs'])} definitions, "
                  f"{target.stat().st_size} bytes")
    table = out_dir / "served.json"
    table.write_text(json.dumps(served, separators=(",", ":")) + "\n")
    total += table.stat().st_size
    write_rule_kinds(validated)
    print(f"total {total} bytes; {len(validated)} kinds in {RULE_FILE.relative_to(TOP)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
