"""A whole lint run kept in the cache, as ruff keeps a package's results: the settled report, valid
while nothing of the repository's work tree has changed since (one lstat an entry). Any change,
and the run is made anew, through the per-file and per-build entries, and kept again."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kubelint_svc.cache import SETTLED_NS, Cache, key_of
from kubelint_svc.findings import Finding, Note, ObjectRef, Report
from kubelint_svc.identity import runtime_identity
from kubelint_svc.paths import GIT_DIRECTORY, is_inside, refusal

MAX_ENTRIES = 100_000  # of a work tree stamped; a larger one is not kept
_FORMAT = "run replay 1"
# what changes between two runs of one command in one shell, and nothing in a run
VOLATILE_ENVIRONMENT = frozenset({"_", "OLDPWD", "SHLVL"})


def stamp(info: os.stat_result) -> list[int]:
    """What says an entry is unchanged: kind, size, times (ctime cannot be set back), inode, device."""
    return [stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]


def recorded(path: str, info: os.stat_result) -> list[Any]:
    """An entry's stamp, and a link's real path: a link may land through links outside the work tree
    (`a.yaml -> /elsewhere/hop/a.yaml`, hop a link), which change where it lands (inside or not,
    which file) while no entry of the work tree changes."""
    found: list[Any] = stamp(info)
    return [*found, os.path.realpath(path)] if stat.S_ISLNK(info.st_mode) else found


class Replay:
    """A run's kept outcome under a key naming everything outside the work tree it depends on (the
    tool, the command's options, the environment, the tools on PATH, the working directory, the
    Python and its installed packages); the work tree itself is its stamps: every folder (its
    names), every file and link, the git index."""

    def __init__(self, cache: Cache, top: Path, parts: Iterable[str]) -> None:
        self.cache = cache
        self.top = top
        self.key = key_of(_FORMAT, str(top), os.getcwd(), *parts, *runtime_identity(),
                          *sorted(f"{name}={value}" for name, value in os.environ.items()
                                  if name not in VOLATILE_ENVIRONMENT))
        self.started = time.time_ns()
        self._entries: list[list[Any]] | None = None  # the stamps that vouch for what kept gave or keep kept

    def kept(self) -> dict[str, Any] | None:
        """The outcome kept while every entry is as stamped, or None."""
        stored = self.cache.get(self.key)
        if not isinstance(stored, dict) or not unchanged(stored.get("entries")):
            return None
        outcome = stored.get("outcome")
        if not isinstance(outcome, dict):
            return None
        self._entries = stored["entries"]
        return outcome

    def keep(self, outcome: dict[str, Any], read: Iterable[str]) -> None:
        """Keep outcome with the stamps of the work tree (see stamps)."""
        entries = self.stamps(read)
        if entries is not None:
            self.cache.put(self.key, {"entries": entries, "outcome": outcome})
            self._entries = entries

    def vouched(self) -> tuple[Path, list[list[Any]]] | None:
        """The cache folder and the stamps of the work tree behind the outcome kept() gave or
        keep() kept, or None: for a front door that keeps the run's output (front_door.py)."""
        return None if self._entries is None else (self.cache.folder, self._entries)

    def stamps(self, read: Iterable[str]) -> list[list[Any]] | None:
        """The stamps of the work tree as the run found it, or None when an entry changed within
        SETTLED_NS before the run started or during it (its bytes need not be those read), or
        there are too many. read: the files the run read, looked at first (an edited one ends it
        at once)."""
        settled_before = self.started - SETTLED_NS
        if any(changed >= settled_before for changed in map(_changed_at, read)):
            return None
        entries = _entries(self.top, self.cache.folder, settled_before)
        return None if entries is None else [[path, recorded] for path, recorded in entries]


def unchanged(entries: object) -> bool:
    """Whether every entry of stamps (Replay.stamps) is as stamped: one lstat each."""
    if not isinstance(entries, list):
        return False
    for entry in entries:
        try:
            if not (isinstance(entry, list) and len(entry) == 2 and recorded(entry[0], os.lstat(entry[0])) == entry[1]):
                return False
        except (OSError, ValueError, TypeError):
            return False
    return True


def _changed_at(path: str) -> int:
    """When path last changed (its mtime or ctime), 0 when it is gone (the walk then finds its
    folder changed), the future when it cannot be looked at."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 0
    except (OSError, ValueError):
        return 1 << 62
    return max(info.st_mtime_ns, info.st_ctime_ns)


def _entries(top: Path, cache_folder: Path, settled_before: int) -> list[tuple[str, list[Any]]] | None:
    """The stamp of every folder, file and link under top, links not followed; of a `.git`
    directory only its index (what `git ls-files` reads); the cache folder left out. None when
    one changed at or after settled_before, a repository has no index yet, or there are more
    than MAX_ENTRIES."""
    found: list[tuple[str, list[Any]]] = []
    skipped = os.path.realpath(cache_folder)
    pending = [str(top)]
    info = os.lstat(top)
    if max(info.st_mtime_ns, info.st_ctime_ns) >= settled_before:
        return None
    found.append((str(top), recorded(str(top), info)))
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                children = list(listing)
        except OSError:
            return None
        for child in children:
            try:
                info = child.stat(follow_symlinks=False)
                if child.name == GIT_DIRECTORY:
                    if not stat.S_ISDIR(info.st_mode):
                        return None  # a worktree's `.git` file: its index lives elsewhere
                    child_path = os.path.join(child.path, "index")
                    if not os.path.lexists(child_path):
                        return None  # no index yet: the one the first `git add` makes would be no stamp's
                    info = os.lstat(child_path)
                else:
                    child_path = child.path
                    if stat.S_ISDIR(info.st_mode) and os.path.realpath(child_path) != skipped:
                        pending.append(child_path)
            except OSError:
                return None
            if max(info.st_mtime_ns, info.st_ctime_ns) >= settled_before:
                return None
            found.append((child_path, recorded(child_path, info)))
        if len(found) > MAX_ENTRIES:
            return None
    return found


def inside(top: Path, paths: Iterable[str]) -> bool:
    """Whether every path lies inside top (a resolved path) both as named and after its links
    (paths.refusal): what the stamps cover. One named through a link outside (`/elsewhere/l/a.yaml`,
    l a link into top) is not: that link can move while no entry of top changes, and the path's
    configuration is sought from its folders upward (`/elsewhere/.kubelint-svc.yaml`), outside."""
    return all(is_inside(Path(os.path.abspath(path)), top) and refusal(Path(path), top) is None for path in paths)


# ---- the outcome as plain data -----------------------------------------------------------------


def plain_report(report: Report) -> dict[str, Any]:
    return {
        "findings": [_plain_finding(finding) for finding in report.findings],
        "files": report.files, "objects": report.objects,
        "context_files": report.context_files, "context_objects": report.context_objects,
        "object_refs": [(file, _plain_ref(ref)) for file, ref in report.object_refs],
        "source_lines": [(file, line, text) for (file, line), text in report.source_lines.items()],
    }


def report_from(value: dict[str, Any]) -> Report:
    return Report(
        findings=[_finding_from(item) for item in value["findings"]],
        files=int(value["files"]), objects=int(value["objects"]),
        context_files=int(value["context_files"]), context_objects=int(value["context_objects"]),
        object_refs=[(str(file), _ref_from(ref)) for file, ref in value["object_refs"]],
        source_lines={(str(file), int(line)): str(text) for file, line, text in value["source_lines"]},
    )


def _plain_ref(ref: ObjectRef | None) -> Any:
    return None if ref is None else (ref.api_version, ref.kind, ref.namespace, ref.name)


def _ref_from(value: Any) -> ObjectRef:
    return ObjectRef(*value)


def _plain_finding(finding: Finding) -> tuple[Any, ...]:
    return (finding.rule, finding.severity, finding.message, finding.file, finding.line, finding.column,
            _plain_ref(finding.object), finding.field, finding.end_line, finding.end_column, finding.help,
            tuple((note.message, note.file, note.line, note.column) for note in finding.notes))


def _finding_from(value: Any) -> Finding:
    rule, severity, message, file, line, column, ref, field, end_line, end_column, helps, notes = value
    return Finding(rule, severity, message, file, line, column, None if ref is None else _ref_from(ref), field,
                   end_line, end_column, tuple(helps), tuple(Note(*note) for note in notes))
