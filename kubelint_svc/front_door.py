"""The front door of the `kubelint-svc` command: a `lint` run whose whole output was kept is
answered before the command line is even parsed (neither typer nor the rules nor the schemas are
imported), while nothing it depends on has changed:

- the same arguments, working directory and environment (PATH, KUBELINT_SVC_*, NO_COLOR, ...),
  and whether standard output and error are terminals (colour);
- the same tool (identity.tool_fingerprint), Python and installed packages (each site-packages
  folder's stamp: an install or upgrade adds and removes entries in it), and the same kubectl,
  kustomize and helm a build would run;
- every entry of the git work tree as stamped when the run was kept whole (replay.py: every folder,
  file and link, the git index; one lstat each), or, for paths in no work tree, of those paths and
  of the names a run looks for above them (replay.outside_git).

A lint command line of paths and a few plain flags that is not answered so runs without typer
(lint_command.plain_arguments); any other goes to cli.main.

A run is kept here only when replay.py kept it (a git work tree or paths in none, a cache, nothing
outside named, every build complete, settled stamps) and it wrote nothing but its report on standard output
and its warnings on standard error: no --output, --fix, --diff or --show-*. The entry is signed as
every cache entry is (cache.py): a pull request cannot forge one. Anything else, and the command
runs as usual (cli.main), and is kept again when it may be.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import gc
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

_FORMAT = "front door 1"
_COMPLETE_VARIABLE = "_KUBELINT_SVC_COMPLETE"  # set, a shell asks typer for completions (cli.main)
_COMMAND = "lint"
_NO_CACHE = "--no-cache"
LINT_COLLECTION_THRESHOLD = 1_000_000  # new objects between two passes of the cyclic collector


class _Door:
    """Where a run of these arguments keeps its output, and under which key."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder  # the cache of this version of the tool
        self.key = key


_ARMED: list[_Door] = []  # the door of this process's run, for keep()


def main() -> None:
    """The console script: the kept output when it still holds, else cli.main()."""
    try:
        door = _door_for(sys.argv[1:])
        kept = _kept(door) if door is not None else None
    except Exception:  # a shortcut only (a working directory deleted, a folder unreadable): run as usual
        door = kept = None
    if kept is not None:
        _answer(*kept)
    _ARMED[:] = [door] if door is not None else []  # what keep() keeps under: this run's door, or none
    _no_collection_at_exit()
    _null_for_closed_streams()
    if sys.argv[1:2] == [_COMMAND]:
        _rarer_collections()
    from kubelint_svc.lint_command import plain_arguments, run_plain

    plain = plain_arguments(sys.argv[1:]) if not os.environ.get(_COMPLETE_VARIABLE) else None
    if plain is not None:
        run_plain(plain)  # typer is not imported: the run's own work is the same
    from kubelint_svc.cli import main as cli_main

    cli_main()


_FROZEN_AT_EXIT: list[bool] = []


def _no_collection_at_exit() -> None:
    """The command's process ends after one run: at its exit the interpreter would still walk every
    object left (the modules, the rules, the schemas and their memos: 0.2-0.3 s after a cold run
    of the 600-root tree) to free what it finds in cycles, memory the exit returns anyway. Frozen
    at exit, after atexit's other work, nothing is walked. Once a process (the suite runs many)."""
    if not _FROZEN_AT_EXIT:
        _FROZEN_AT_EXIT.append(True)
        atexit.register(gc.freeze)  # registered first: run last


def _null_for_closed_streams() -> None:
    """A stream the shell closed (`>&-`) is None in Python: what would be written to it goes to the
    null device, as print() drops it, and the exit code is the run's (it was an internal error)."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - the process's own stream


def _rarer_collections() -> None:
    """A lint command's process makes one run: from its start, the cyclic collector passes only
    after LINT_COLLECTION_THRESHOLD new objects (the interpreter's default: 700), so the imports and
    the walk (a few hundred thousand objects that live to the end) are not walked some fifty times
    before the run, nor a run of a few hundred thousand objects (the 600-root tree: about 180,000)
    at all. The cyclic garbage left between two passes (builds' scans: a few percent of what a run
    allocates) stays within a million objects."""
    gc.set_threshold(LINT_COLLECTION_THRESHOLD, 50, 1000)


def _answer(stdout: str, stderr: str, code: int) -> NoReturn:
    """Write what the run wrote, and exit with its code; a stream that fails ends the command as
    it ends a run: a reader gone (`| head`) as click ends it (exit 1, nothing said), any other
    failure (a full disk) in one line as cli.main says an error of ours (exit 2)."""
    try:
        for stream, text in ((sys.stderr, stderr), (sys.stdout, stdout)):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")  # as cli.main does
            stream.write(text)
            stream.flush()
    except OSError as error:
        silence()  # what is left in the buffers is never written: no second error at exit
        if error.errno == errno.EPIPE:
            raise SystemExit(1) from None
        if os.environ.get("KUBELINT_SVC_DEBUG"):
            raise
        from kubelint_svc.reporters.escaping import visible

        sys.stderr.write(f"kubelint-svc: internal error: {type(error).__name__}: {visible(str(error))} "
                         "(please report this)\n")  # to a stream that still works, or to nothing
        raise SystemExit(2) from None
    raise SystemExit(code)


def silence() -> None:
    """Each stream that cannot be written (either may be the one that failed) to the null device
    from here on: what is left in its buffer goes nowhere, and Python's exit has nothing to say."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, stream.fileno())
                os.close(null)


def keep(stamped: tuple[Path, list[list[Any]]] | None, stdout: str, stderr: str, code: int) -> None:
    """Keep what a lint run wrote, when its outcome was kept whole (stamped: the cache folder and
    the stamps replay.py took) in the cache the front door looks in."""
    if not _ARMED or stamped is None:
        return
    door = _ARMED[0]
    folder, entries = stamped
    if os.path.realpath(folder) != os.path.realpath(door.folder):
        return  # the configuration chose another cache: the door would not find it there
    from kubelint_svc.cache import Cache

    cache = Cache.open(door.folder)
    if cache is not None:
        cache.put(door.key, {"entries": entries, "stdout": stdout, "stderr": stderr, "code": code})


def _door_for(argv: list[str]) -> _Door | None:
    """The door of a lint run, or None for any other command."""
    if not argv or argv[0] != _COMMAND:
        return None
    if sys.stdout is None or sys.stderr is None:
        return None  # a closed stream (`>&-`) is keyed as a pipe is, and the run's answer to it differs
    if _NO_CACHE in _options(argv):
        return None  # the cache is neither read nor written, the door's entry included
    from kubelint_svc.cache import CACHE_FOLDER, key_of
    from kubelint_svc.identity import cache_generation, runtime_identity, tool_fingerprint, tools_identity
    from kubelint_svc.replay import VOLATILE_ENVIRONMENT

    chosen = _option_value(argv, "--cache-dir") or os.environ.get("KUBELINT_SVC_CACHE_DIR")
    folder = Path(chosen) if chosen else Path.cwd() / CACHE_FOLDER
    key = key_of(
        _FORMAT, os.getcwd(), "\0".join(argv), tool_fingerprint(), tools_identity("kubectl", "kustomize", "helm"),
        *runtime_identity(), f"terminals {os.isatty(1)} {os.isatty(2)}",
        *sorted(f"{name}={value}" for name, value in os.environ.items() if name not in VOLATILE_ENVIRONMENT),
    )
    return _Door(folder / cache_generation(), key)


def _kept(door: _Door) -> tuple[str, str, int] | None:
    """What the run wrote (stdout, stderr, exit code) while every stamp holds, or None. Nothing
    is made on disk when nothing was kept. A cache folder that is a link is not read: a run does
    not use it (cache_folders.open_kept)."""
    if door.folder.parent.is_symlink() or not door.folder.is_dir():
        return None
    from kubelint_svc.cache import Cache
    from kubelint_svc.replay import unchanged

    cache = Cache.open(door.folder)
    stored = cache.get(door.key) if cache is not None else None
    if not isinstance(stored, dict) or not unchanged(stored.get("entries")):
        return None
    stdout, stderr, code = stored.get("stdout"), stored.get("stderr"), stored.get("code")
    if not (isinstance(stdout, str) and isinstance(stderr, str) and isinstance(code, int)):
        return None
    return stdout, stderr, code


def _options(argv: list[str]) -> list[str]:
    """The arguments before `--` (after it, each is a path)."""
    return argv[:argv.index("--")] if "--" in argv else argv


def _option_value(argv: list[str], name: str) -> str | None:
    """The last value given to option name (`--name VALUE` or `--name=VALUE`), as click takes it;
    a value that is another option's is still taken: the door then looks in the wrong place, and
    the run keeps nothing there (keep compares the cache the run used)."""
    found = None
    for index, argument in enumerate(argv):
        if argument == "--":
            break
        if argument == name and index + 1 < len(argv):
            found = argv[index + 1]
        elif argument.startswith(name + "="):
            found = argument[len(name) + 1:]
    return found
