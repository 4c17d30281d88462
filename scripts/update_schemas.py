"""Regenerate schemas/ from the kubernetes-validate package (run by hand, never at lint time).

Downloads one release of kubernetes-validate from PyPI, takes the strict JSON schemas of the
kinds kubelint-svc validates for each bundled Kubernetes minor version, keeps only the shared
definitions they reference, drops descriptions, and writes one self-contained file per version.

    python scripts/update_schemas.py [--package-version 1.37.0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MINOR_VERSIONS = range(30, 38)
KIND_FILES = {
    "v1/Service": "service-v1.json",
    "v1/Pod": "pod-v1.json",
    "v1/ReplicationController": "replicationcontroller-v1.json",
    "v1/Endpoints": "endpoints-v1.json",
    "apps/v1/Deployment": "deployment-apps-v1.json",
    "apps/v1/ReplicaSet": "replicaset-apps-v1.json",
    "apps/v1/StatefulSet": "statefulset-apps-v1.json",
    "apps/v1/DaemonSet": "daemonset-apps-v1.json",
    "batch/v1/Job": "job-batch-v1.json",
    "batch/v1/CronJob": "cronjob-batch-v1.json",
    "discovery.k8s.io/v1/EndpointSlice": "endpointslice-discovery-v1.json",
}
DEFS_PREFIXES = ("/api/_definitions.json#/$defs/", "_definitions.json#/$defs/", "#/$defs/")
DROPPED_KEYS = {"description", "$id", "$schema", "x-kubernetes-group-version-kind"}


def slim(schema: object, refs: set[str]) -> object:
    """Copy a schema without prose, with every $ref rewritten to a local #/$defs/ pointer."""
    if isinstance(schema, list):
        return [slim(item, refs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, object] = {}
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


def build_version(folder: zipfile.Path, minor: int) -> dict:
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    kinds: dict[str, object] = {}
    pending: set[str] = set()
    for key, filename in KIND_FILES.items():
        kinds[key] = slim(json.loads((folder / filename).read_text()), pending)
    kept: dict[str, object] = {}
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        refs: set[str] = set()
        kept[name] = slim(definitions[name], refs)
        pending |= refs - kept.keys()
    return {
        "kubernetesVersion": f"1.{minor}",
        "kinds": kinds,
        "$defs": dict(sorted(kept.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-version", default="1.37.0")
    parser.add_argument("--wheel", type=Path, help="use this kubernetes-validate wheel instead of downloading")
    args = parser.parse_args()
    out_dir = Path(__file__).resolve().parent.parent / "schemas"
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
            folder = root / f"v1.{minor}.0-local-strict"
            bundle = build_version(folder, minor)
            target = out_dir / f"v1.{minor}.json"
            target.write_text(json.dumps(bundle, separators=(",", ":"), sort_keys=False) + "\n")
            print(f"{target.name}: {len(bundle['$defs'])} definitions, {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
