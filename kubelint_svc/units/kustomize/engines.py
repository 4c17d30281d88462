"""Kustomize roots built by the real engine (`kubectl kustomize` or `kustomize build`, found once
per process), run outside the user's tree without plugins or network; the built-in fallback when
neither is installed.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kubelint_svc.cache import KeptDocuments
from kubelint_svc.file_reads import MAX_FILE_BYTES
from kubelint_svc.identity import find_tool
from kubelint_svc.units.kustomize.fallback import built_objects
from kubelint_svc.units.kustomize.scan import MAX_VISITS, BuildError, PathFacts, Scan, Tree, scan_directory
from kubelint_svc.units.kustomize.tracing import BuiltObject, documents_in, traced
from kubelint_svc.units.process import run_tool

_KLOG_PREFIX = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err=')


@dataclass
class Build:
    root: Path
    engine: str
    objects: list[BuiltObject]
    files: set[Path]
    error: str | None = None
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)  # kustomize's warnings; what the fallback ignored
    inputs: set[Path] = field(default_factory=set)  # the other files the chain names (generator files, envs...)
    fallback_failed: bool = False  # the error is the built-in fallback's own (not the scan's): kustomize may build it
    # the error is an engine's verdict on the whole chain (it ran to its end, no timeout): as true
    # as a build while the files, and the absence of the names below, are unchanged
    answered: bool = False
    absent: set[Path] = field(default_factory=set)  # names the chain gives that do not exist
    content: str | None = None  # kept in the cache: a digest of the bytes of every file it read


def build(
    root: Path, engine: str = "auto", timeout: float = 60.0, confine: Path | None = None,
    load_restrictor: str = "rootOnly", kept: KeptDocuments | None = None, facts: PathFacts | None = None,
) -> Build:
    """engine: auto (kubectl if `kubectl` is on PATH and has kustomize, else `kustomize` binary,
    else the built-in fallback) | kubectl | kustomize | fallback. With confine, a chain that
    reaches outside that folder is an error, found before any engine runs. load_restrictor none:
    a kustomization may name files outside its folder (as Flux and Config Sync build), never
    outside confine. facts: what the run's other builds learnt about the paths they named."""
    root = Path(os.path.normpath(Path(root).absolute()))
    scan = Scan(Tree(confine, load_restrictor == "none", kept, facts))
    command, name = _command_for(engine)
    if command is not None and load_restrictor == "none":
        command = [*command, "--load-restrictor", "LoadRestrictionsNone"]
    result = Build(root, name, [], scan.tree.files, inputs=scan.tree.inputs, absent=scan.tree.absent)
    try:
        visits = scan_directory(scan, root, ())[2]
        if visits > MAX_VISITS:
            scan.problems.insert(0, (
                f"{root}: the chain applies {visits} kustomizations, more than {MAX_VISITS} (a folder included "
                "along many paths is built anew along each); not built"))
        _build_scanned(scan, root, engine, command, timeout, result)
    except OSError as error:  # the tree changed or became unreadable while it was read
        result.objects, result.error = [], f"{error.filename or root}: {error.strerror or error}"
    return result


def _build_scanned(
    scan: Scan, root: Path, engine: str, command: list[str] | None, timeout: float, result: Build
) -> None:
    if scan.tree.outside:
        result.error = scan.tree.outside[0]
    elif scan.tree.refused:
        result.error = scan.tree.refused[0]
    elif scan.remote:
        result.skipped = f"remote resources: {', '.join(sorted(set(scan.remote)))} (nothing is fetched)"
    elif any(_HELM_KEYS & set(kustomization.data) for kustomization in scan.tree.kustomizations.values()):
        result.skipped = "helmCharts: kustomize would need --enable-helm and the network to inflate them"
    elif scan.problems:  # what the scan could not follow is never left to an engine to read
        result.error = scan.problems[0]
    elif command is None and engine in ("kubectl", "kustomize"):  # asked for by name: no stand-in
        result.error = f"{engine} is not on PATH (or has no kustomize)"
    elif command is None:
        _run_fallback(scan, root, result)
    else:
        _run_real(scan, root, command, timeout, result)


def _run_fallback(scan: Scan, root: Path, result: Build) -> None:
    try:
        result.objects += built_objects(scan, root, result.warnings)
    except BuildError as error:
        result.error, result.fallback_failed, result.answered = str(error), True, True


def _command_for(engine: str) -> tuple[list[str] | None, str]:
    if engine == "fallback":
        return None, engine  # no tool to look for on PATH (each root of a run asked twice)
    kubectl, kustomize = find_tool("kubectl"), find_tool("kustomize")
    if engine in ("auto", "kubectl") and kubectl and _has_kustomize(kubectl):
        return [kubectl, "kustomize"], "kubectl"
    if engine in ("auto", "kustomize") and kustomize:
        return [kustomize, "build"], "kustomize"
    return None, engine if engine in ("kubectl", "kustomize") else "fallback"


@functools.lru_cache(maxsize=8)
def _has_kustomize(kubectl: str) -> bool:
    """Asked once per kubectl per process: every root of a run is built with the same one."""
    try:
        return (
            subprocess.run(
                [kubectl, "kustomize", "--help"], capture_output=True, timeout=20, stdin=subprocess.DEVNULL,
                check=False,
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


def _run_real(scan: Scan, root: Path, command: list[str], timeout: float, result: Build) -> None:
    """Build through a throwaway kustomization outside the tree that includes the root and asks
    for origin annotations; on failure, build the root itself so the error is in its own terms."""
    with tempfile.TemporaryDirectory(prefix="kubelint-kustomize-") as temporary:
        wrapper = Path(temporary).resolve()
        relative = os.path.relpath(root, wrapper)
        (wrapper / "kustomization.yaml").write_text(
            f"resources:\n- {json.dumps(relative)}\nbuildMetadata: [originAnnotations]\n", encoding="utf-8"
        )
        deadline = time.monotonic() + timeout
        output, error, warnings, answered = _run([*command, str(wrapper)], timeout)
        left = deadline - time.monotonic()
        if error is not None and not error.endswith(_TIMED_OUT) and left >= 1:  # a timeout is not tried twice
            # within the root's one share of time
            output, error, warnings, answered = _run([*command, str(root)], left)
        result.warnings += warnings
        if error is not None:
            result.error, result.answered = error, answered
            return
        for body in documents_in(output):
            result.objects.append(traced(scan, wrapper, body))


_TIMED_OUT = "; not built"
_HELM_KEYS = {"helmCharts", "helmChartInflationGenerator", "helmGlobals"}


def _run(command: list[str], timeout: float) -> tuple[str, str | None, list[str], bool]:
    """stdout, kustomize's own words on failure, its warnings, whether it ran to its end; plugins stay off, network is
    pointed at a closed port, and the whole process group dies at the time limit or once its
    output passes the file-size limit (its memory capped: see units/process.py)."""
    environment = {
        **os.environ,
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "",
    }
    done = run_tool(command, timeout, MAX_FILE_BYTES, environment)
    if not done.started:
        return "", done.stopped, [], False
    if done.stopped is not None:
        return "", f"{' '.join(command[:2])} {done.stopped}{_TIMED_OUT}", [], False
    stdout, stderr = done.stdout, done.stderr
    lines = stderr.decode("utf-8", "replace").splitlines()
    warnings = [line.lstrip("# ") for line in lines if line.startswith("# Warning")]
    if done.returncode == 0:
        return stdout.decode("utf-8", "replace"), None, warnings, True
    # a signal (a negative status) is not kustomize's verdict on the files
    answered = done.returncode is not None and done.returncode > 0
    return "", _kustomize_words(lines) or f"exit status {done.returncode}", warnings, answered


def _kustomize_words(lines: list[str]) -> str:
    """kustomize's error lines (at most 4), klog's prefix and quoting taken off: `err="a \\"b\\""` is `a "b"`."""
    words = []
    for line in lines:
        if not line.strip() or line.startswith("# Warning"):
            continue
        text = _KLOG_PREFIX.sub("", line).strip()
        if _KLOG_PREFIX.search(line) is not None and len(text) > 1 and text[0] == text[-1] == '"':
            text = re.sub(r'\\(["\\])', r"\1", text[1:-1])  # klog's Go quoting, taken off once
        else:
            text = text.strip('"')
        words.append(text)
    return "\n".join(line[:400] for line in words[:4])
