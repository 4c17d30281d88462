"""What a kept result depends on outside the work tree, found without reading a manifest: this
tool (its version, code, bundled schemas and built-in rules) and the kubectl, kustomize and helm
a build or render would run. Light on imports: the front door (front_door.py) asks before
anything else is loaded."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import kubelint_svc
from kubelint_svc import schemas
from kubelint_svc.cache import key_of


@functools.cache
def tool_fingerprint() -> str:
    """The version, and the size and time of every module of the package, of every bundled
    Kubernetes schema and of every built-in rule file (packs too): a new version, or an edited
    checkout, never reads entries an older one wrote. The rules count here although the registry
    has a fingerprint of its own: a whole run kept (replay.py, front_door.py) is keyed by this one
    alone, and a rule's severity and message are in the findings it kept."""
    parts = [kubelint_svc.__version__, *_stamps(Path(kubelint_svc.__file__).parent, "kubelint_svc", ".py")]
    for data in ("schemas", "rules"):
        with contextlib.suppress(FileNotFoundError):  # an installation missing it: its run says so
            parts += _stamps(schemas.data_dir(data), data)
    return key_of(*parts)


def _stamps(top: Path, label: str, suffix: str = "") -> list[str]:
    """The size and time of every file below top whose name ends with suffix, named from top."""
    found = []
    for folder, _, names in sorted(os.walk(top)):
        for each in sorted(name for name in names if name.endswith(suffix)):
            path = os.path.join(folder, each)
            info = os.stat(path)
            found.append(f"{label}/{os.path.relpath(path, top)} {info.st_size} {info.st_mtime_ns}")
    return found


def runtime_identity() -> list[str]:
    """The Python a run is made with and the packages installed for it: the interpreter, its
    version, and each folder packages are installed in, stamped (installing, upgrading or removing
    one, jsonschema-rs, ruamel.yaml or helm-python-sdk, adds and removes entries there)."""
    stamps = [sys.executable, sys.version]
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")):
            try:
                info = os.stat(entry)
            except OSError:
                continue
            stamps.append(f"{entry} {info.st_mtime_ns} {info.st_ctime_ns} {info.st_ino}")
    return stamps


def cache_generation() -> str:
    """The folder of this version of the tool inside the cache folder: the version, and the
    digest of its code and bundled schemas (an edited checkout is a version of its own)."""
    return f"{kubelint_svc.__version__}-{tool_fingerprint()[:12]}"


def find_tool(name: str) -> str | None:
    """A tool on PATH, or installed beside this Python (the `kustomize` extra's kubectl wheel
    puts it there, and a venv's bin need not be on PATH)."""
    found = shutil.which(name)
    if found is None:
        beside = Path(sys.executable).parent / name
        found = str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None
    return found


def sdk_origin() -> str | None:
    """The file helm-python-sdk is imported from (rewritten by each install of it), or None."""
    try:
        spec = importlib.util.find_spec("helm_python")
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def tools_identity(*names: str) -> str:
    """Which binaries of these names a build would run: their paths, sizes and times (found as
    the build finds them: on PATH, or beside this Python); for helm without a binary, the
    helm-python-sdk installed (an upgrade may render otherwise)."""
    parts = []
    for name in names:
        found = find_tool(name)
        if found is None and name == "helm":
            found = sdk_origin()
        if found is None:
            parts.append(f"{name}: none")
            continue
        try:
            info = os.stat(found)
        except OSError:
            parts.append(f"{name}: {found}")
            continue
        parts.append(f"{name}: {found} {info.st_size} {info.st_mtime_ns}")
    return "; ".join(parts)
