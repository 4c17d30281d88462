"""Rendering a chart with helm-python-sdk (Helm's Go SDK through ctypes), run as a child process
(`python -m kubelint_svc.units.helm_sdk REQUEST-FILE`) so that a crash, a loop or a memory blow-up in
the native library costs the parent one finding: it prints what `helm template` would, with
`# Source:` comments, and a one-line error on stderr with exit code 1 when the chart fails."""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

_NOT_MANIFESTS = ("NOTES.txt",)  # rendered, but helm template never prints it


def sdk_present() -> bool:
    """Is helm-python-sdk installed (`pip install 'kubelint-svc[helm]'`)? Asked without importing
    it: the native library is 85 MB, and only the child loads it."""
    try:
        return importlib.util.find_spec("helm_python") is not None
    except (ImportError, ValueError):  # a broken installation, or an import made to fail
        return False


def request(chart: str, values: list[str], release: str, namespace: str, kube_version: str,
            api_versions: list[str]) -> str:
    """What the child reads from the file its one argument names: everything it needs, none of it
    from the environment."""
    return json.dumps({"chart": chart, "values": values, "release": release, "namespace": namespace,
                       "kube_version": kube_version, "api_versions": api_versions})


def main(arguments: list[str]) -> int:
    try:
        with open(arguments[0], encoding="utf-8") as handle:
            asked = json.load(handle)
        manifests = _render(asked)
    except Exception as error:  # the SDK's errors and our own: one line for the parent
        words = " ".join(str(error).split()) or type(error).__name__
        print(words[:2000], file=sys.stderr)
        return 1
    out = sys.stdout
    for template in sorted(manifests):
        text = manifests[template]
        if template.rsplit("/", 1)[-1] in _NOT_MANIFESTS or not text.strip():
            continue
        out.write(f"---\n# Source: {template}\n{text}")
        if not text.endswith("\n"):
            out.write("\n")
    out.flush()
    return 0


def _render(asked: dict[str, Any]) -> dict[str, str]:
    import helm_python
    from helm_python import _native

    values: dict[str, Any] = {}
    for path in asked["values"]:  # each checked by the parent (paths.refusal) before this runs
        with open(path, encoding="utf-8", errors="replace") as handle:
            values = _coalesced(values, helm_python.values_from_yaml(handle.read()) or {})
    options = {"name": asked["release"], "namespace": asked["namespace"], "is_install": True,
               "kube_version": asked["kube_version"], "api_versions": asked["api_versions"]}
    with helm_python.Chart.load(asked["chart"]) as chart:
        # Chart.render does not pass the capabilities on; the library reads them from its options
        rendered = _native.call_string("helm_render", chart._raw(), json.dumps(values), json.dumps(options))
    manifests: dict[str, str] = json.loads(rendered)
    return manifests


def _coalesced(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """helm's merge of values files: maps merge key by key, a later file's value wins (a null
    too: helm then removes the chart's default)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _coalesced(merged[key], value)
        else:
            merged[key] = value
    return merged


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
