"""Running a tool a build or a render needs (kubectl, kustomize, helm) within limits a pull
request cannot move: its own process group killed at the time left, its output read through the
pipe up to the run's file-size limit, its address space capped."""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_MEMORY_BYTES = 2 << 30
# Go reserves address space up front: kubectl needs about 700 MiB of it to start, about 1 GiB to
# build 800 KB of Deployments; a hostile 1 MB kustomization drove it past 3.6 GB.
_MEMORY_FLOOR = 1 << 30
_STDERR_KEPT = 64 * 1024  # the first lines are the tool's words; the rest is read and dropped
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Finished:
    """What a tool gave: its output (empty when cut short), the start of its stderr, its exit
    status, and why it was stopped (did not start, past the time, past the output limit), if it was."""

    stdout: bytes
    stderr: bytes
    returncode: int | None
    stopped: str | None = None
    started: bool = True


def memory_from_environment() -> int:
    """KUBELINT_SVC_TOOL_MEMORY_MIB, set by whoever runs the linter: the address space each tool
    may take (2 GiB by default, 1 GiB at least: less and Go cannot start)."""
    value = os.environ.get("KUBELINT_SVC_TOOL_MEMORY_MIB", "").strip()
    if value.isdigit() and 0 < len(value) <= 9:
        return max(int(value) << 20, _MEMORY_FLOOR)
    return DEFAULT_MEMORY_BYTES


def run_tool(
    command: list[str],
    timeout: float,
    output_limit: int,
    environment: Mapping[str, str],
    cwd: str | None = None,
) -> Finished:
    """Run command with no input; kill its process group past timeout seconds or once its output
    passes output_limit bytes."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(environment),
            cwd=cwd,
            start_new_session=True,  # killed with everything it starts
            preexec_fn=_memory_cap(memory_from_environment()),  # noqa: PLW1509 (see _memory_cap)
        )
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        return Finished(b"", b"", None, f"{command[0]}: {getattr(error, 'strerror', None) or error}", started=False)
    try:
        stdout, stderr, stopped = _read(process, time.monotonic() + timeout, output_limit)
    finally:
        _kill_group(process)  # a child left running (cut short, or a grandchild) dies with its group
        process.wait()
    if stopped == "time":
        return Finished(b"", stderr, None, f"did not finish within {timeout:g} s")
    if stopped == "output":
        return Finished(b"", stderr, None, f"output over {_mib(output_limit)}")
    return Finished(stdout, stderr, process.returncode)


def _memory_cap(limit: int) -> Callable[[], None] | None:
    """The child's own RLIMIT_AS, set between fork and exec (Linux; elsewhere no cap). Builds run
    from threads, where preexec_fn is unsafe when it runs Python code that may wait on a lock another
    thread held at the fork: this is a C function bound to its arguments, which takes none."""
    if not sys.platform.startswith("linux"):
        return None
    import resource

    return functools.partial(resource.setrlimit, resource.RLIMIT_AS, (limit, limit))


def _read(process: subprocess.Popen[bytes], deadline: float, limit: int) -> tuple[bytes, bytes, str | None]:
    """Both pipes until they close, at most limit + 1 bytes of stdout kept: (stdout, stderr, why
    reading stopped early: 'time' or 'output', else None)."""
    assert process.stdout is not None  # both are pipes
    assert process.stderr is not None
    out: list[bytes] = []
    err: list[bytes] = []
    sizes = {"out": 0, "err": 0}
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "out")
        selector.register(process.stderr, selectors.EVENT_READ, "err")
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return b"", b"".join(err), "time"
            for key, _ in selector.select(timeout=left):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                sizes[key.data] += len(chunk)
                if key.data == "out":
                    out.append(chunk)
                    if sizes["out"] > limit:
                        return b"", b"".join(err), "output"
                elif sizes["err"] - len(chunk) < _STDERR_KEPT:
                    err.append(chunk)
    if not _exits_before(process, deadline):  # pipes closed, still running
        return b"", b"".join(err), "time"
    return b"".join(out), b"".join(err)[:_STDERR_KEPT], None


def _exits_before(process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Has the child exited by deadline? Asked without reaping it (WNOWAIT): until it is reaped,
    its id cannot name another process's group, so killing the group stays safe."""
    while True:
        if _exited(process):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _exited(process: subprocess.Popen[bytes]) -> bool:
    if hasattr(os, "waitid"):
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    return process.poll() is not None  # no waitid (macOS): reaped here, so its id is free again (a rare race)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group; the leader is not reaped yet, so its id still names the group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # none left
        os.killpg(process.pid, signal.SIGKILL)


def _mib(count: int) -> str:
    return f"{count / (1 << 20):g} MiB"
