"""A whole lint run kept in the cache, as ruff keeps a package's results: the settled report, valid
while nothing of what the run depends on on disk has changed since (one lstat an entry): the
repository's work tree, or, for paths in no git work tree, those paths and the folders above
them. Any change, and the run is made anew, through the per-file and per-build entries, and kept
again."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelint_svc.cache import CACHE_FOLDER, SETTLED_NS, Cache, key_of
from kubelint_svc.findings import Finding, Note, ObjectRef, Report
from kubelint_svc.identity import runtime_identity
from kubelint_svc.paths import GIT_DIRECTORY, is_inside, refusal

MAX_ENTRIES = 100_000  # of a work tree stamped; a larger one is not kept
_FORMAT = "run replay 1"
# what changes between two runs of one command in one shell, and nothing in a run
VOLATILE_ENVIRONMENT = frozenset({"_", "OLDPWD", "SHLVL"})
ABSENT: list[Any] = []  # the record of a name looked for and not there
_FOLDER = "folder"  # the first item of a folder's record above the roots (a stamp's is a number)


def stamp(info: os.stat_result) -> list[int]:
    """What says an entry is unchanged: kind, size, times (ctime cannot be set back), inode, device."""
    return [stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]


def recorded(path: str, info: os.stat_result) -> list[Any]:
    """An entry's stamp, and a link's real path: a link may land through links outside the work tree
    (`a.yaml -> /elsewhere/hop/a.yaml`, hop a link), which change where it lands (inside or not,
    which file) while no entry of the work tree changes."""
    found: list[Any] = stamp(info)
    return [*found, os.path.realpath(path)] if stat.S_ISLNK(info.st_mode) else found


@dataclass(frozen=True)
class Stamped:
    """What on disk a kept run depends on. roots: each stamped whole (every folder, file and link
    below it, links not followed; of a `.git` directory its index only). above: folders above
    the roots, where a run looks only for the names looked_for (a configuration, an ignore file,
    a kustomization, a chart, `.git`): each folder is stamped as what it is (a folder, its inode
    and device: not its times, which any file written beside changes, `/tmp`'s every moment),
    each such name as there (its stamp) or not. confined: whether every build and render of the
    run is confined to the roots (a git work tree, the working directory); else a run that
    builds is not kept."""

    roots: tuple[str, ...]
    above: tuple[str, ...] = ()
    looked_for: tuple[str, ...] = ()
    confined: bool = True
    work_tree: bool = False  # a git work tree, whose rules confine everything a run reads to it

    def covers(self, paths: Iterable[str]) -> bool:
        """Whether every path a run read (as named, made absolute) lies in a root."""
        return self.work_tree or all(any(_within(os.path.abspath(path), root) for root in self.roots)
                                     for path in paths)


def work_tree(top: Path) -> Stamped:
    """A git work tree's stamps: the tree whole (builds, configurations and rule packs are confined to it)."""
    return Stamped((str(top),), work_tree=True)


def outside_git(named: Iterable[str], looked_for: Iterable[str]) -> Stamped | None:
    """The stamps of a run naming paths in no git work tree (a checkout's copy, a shared folder):
    the named paths whole, or the working directory whole for those in it (a run searches it for
    kustomizations that include them, and confines their builds to it), and every folder above
    them up to `/`, where the configuration and the ignore files are sought. None when a path is
    named through a link (which can move while no stamp changes), or has a `.git` on its way up
    or in it (it is a work tree's: git decides what it is), or git is pointed elsewhere."""
    if any(name in os.environ for name in ("GIT_DIR", "GIT_WORK_TREE")):
        return None
    cwd = os.path.abspath(os.getcwd())
    named = list(named)
    paths = [os.path.abspath(path) for path in named]
    if not paths or os.path.realpath(cwd) != cwd:
        return None
    roots: list[str] = []
    for path, as_named in zip(paths, named, strict=True):
        # as named: `t/x/..` with t/x a link leads where x leads, not to t (abspath drops `..` on the text)
        if os.path.realpath(as_named) != path or not os.path.lexists(path) or _in_a_work_tree(path):
            return None
        roots.append(cwd if _within(path, cwd) else path)
    kept = sorted(set(roots), key=len)
    roots = [root for index, root in enumerate(kept) if not any(_within(root, other) for other in kept[:index])]
    above: dict[str, None] = {}
    for root in roots:
        folder = os.path.dirname(root)
        while folder not in above:
            above[folder] = None
            if os.path.dirname(folder) == folder:
                break
            folder = os.path.dirname(folder)
    return Stamped(tuple(roots), tuple(above), tuple(looked_for), confined=all(root == cwd for root in roots))


def above_now(named: Iterable[str], looked_for: Iterable[str]) -> list[tuple[str, list[Any]]] | None:
    """The records of the folders above paths in no work tree (outside_git), taken before a run
    reads any of the names looked for there: their times are not stamped (`/tmp`'s change every
    moment), so a name that comes or goes during the run is told by these records differing
    from those taken after it (Replay.stamps)."""
    tree = outside_git(named, looked_for)
    return None if tree is None else _above(tree, time.time_ns() - SETTLED_NS)


def _in_a_work_tree(path: str) -> bool:
    """Whether path, or a folder it is in, holds `.git` (as git looks for its repository)."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    while True:
        if os.path.lexists(os.path.join(folder, GIT_DIRECTORY)):
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _within(path: str, folder: str) -> bool:
    """Whether path (absolute, normalised) is folder or lies below it."""
    return path == folder or path.startswith(folder if folder.endswith(os.sep) else folder + os.sep)


class Replay:
    """A run's kept outcome under a key naming everything outside the stamped tree it depends on
    (the tool, the command's options, the environment, the tools on PATH, the working directory,
    the Python and its installed packages); the tree itself is its stamps (Stamped): every folder
    (its names), every file and link, the git index."""

    def __init__(self, cache: Cache, tree: Stamped, parts: Iterable[str],
                 early: list[tuple[str, list[Any]]] | None = None) -> None:
        self.cache = cache
        self.tree = tree
        self.early = early  # outside a work tree: the folders above as they were before the run read any (above_now)
        self.key = key_of(_FORMAT, "\0".join(tree.roots), os.getcwd(), *parts, *runtime_identity(),
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
        read = list(read)
        if any(changed >= settled_before for changed in map(_changed_at, read)) or not self.tree.covers(read):
            return None
        cache_folder = _unstamped(self.cache.folder)
        if any(_within(os.path.realpath(path), cache_folder) for path in read):
            return None  # a file in the cache folder was read: its changes must count, and it is not stamped
        found: list[tuple[str, list[Any]]] = []
        for root in self.tree.roots:
            entries = _entries(Path(root), cache_folder, settled_before)
            if entries is None:
                return None
            found += entries
        above = _above(self.tree, settled_before)
        if above is None or len(found) + len(above) > MAX_ENTRIES or (not self.tree.work_tree and above != self.early):
            return None  # outside a work tree: a name above that came, went or changed while the run read them
        return [[path, recorded] for path, recorded in [*found, *above]]


def unchanged(entries: object) -> bool:
    """Whether every entry of stamps (Replay.stamps) is as stamped (a name ABSENT still is): one
    lstat each."""
    if not isinstance(entries, list):
        return False
    for entry in entries:
        try:
            if not (isinstance(entry, list) and len(entry) == 2 and _holds(entry[0], entry[1])):
                return False
        except (OSError, ValueError, TypeError):
            return False
    return True


def _holds(path: str, record: Any) -> bool:
    if record == ABSENT:
        return not os.path.lexists(path)
    info = os.lstat(path)
    if isinstance(record, list) and record[:1] == [_FOLDER]:
        return bool(_identity(info) == record)
    return bool(recorded(path, info) == record)


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


def _above(tree: Stamped, settled_before: int) -> list[tuple[str, list[Any]]] | None:
    """The records of the folders above the roots (what each is) and of the names looked for in
    them (a stamp, or ABSENT); None when a folder is no longer one, a name is a link (its target
    can change unseen) or changed at or after settled_before, or one cannot be looked at."""
    found: list[tuple[str, list[Any]]] = []
    for folder in tree.above:
        try:
            info = os.lstat(folder)
        except OSError:
            return None
        if not stat.S_ISDIR(info.st_mode):
            return None
        found.append((folder, _identity(info)))
        for name in tree.looked_for:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                found.append((path, ABSENT))
                continue
            except OSError:
                return None
            if stat.S_ISLNK(info.st_mode) or max(info.st_mtime_ns, info.st_ctime_ns) >= settled_before:
                return None
            found.append((path, stamp(info)))
    return found


def _identity(info: os.stat_result) -> list[Any]:
    """What a folder above the roots is, whatever is written in it."""
    return [_FOLDER, stat.S_IFMT(info.st_mode), info.st_ino, info.st_dev]


def _unstamped(generation: Path) -> str:
    """The real path of the cache folder a work tree's stamps leave out: the folder of every
    generation when it is the default one (`.kubelint-svc_cache`: made by the cache, holding
    nothing else), else this generation's folder (a folder --cache-dir names may hold more). Each
    run writes there, and the front door could not answer the next run for two seconds after."""
    folder = generation.parent if generation.parent.name == CACHE_FOLDER else generation
    return os.path.realpath(folder)


def _entries(top: Path, skipped: str, settled_before: int) -> list[tuple[str, list[Any]]] | None:
    """The stamp of every folder, file and link under top (or of top alone, a file), links not
    followed; of a `.git` directory only its index (what `git ls-files` reads); the cache folder
    (skipped, a real path: _unstamped) left out, itself too when its name is hidden (a walk never
    lists it). None when one changed at or after settled_before, a repository has no index yet, a
    link leads into the cache folder, or there are more than MAX_ENTRIES."""
    found: list[tuple[str, list[Any]]] = []
    pending = [str(top)]
    try:
        info = os.lstat(top)
    except OSError:
        return None
    if max(info.st_mtime_ns, info.st_ctime_ns) >= settled_before:
        return None
    found.append((str(top), recorded(str(top), info)))
    if not stat.S_ISDIR(info.st_mode):
        return found
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
                    if stat.S_ISDIR(info.st_mode):
                        if os.path.realpath(child_path) != skipped:
                            pending.append(child_path)
                        elif child.name.startswith("."):
                            continue  # a walk never lists a hidden folder: what changes in it is no change
                        # else a walk may list it (--cache-dir in the tree): stamped, not what is in it
                    elif stat.S_ISLNK(info.st_mode) and _within(os.path.realpath(child_path), skipped):
                        return None  # a walk follows the link into the cache folder, which is not stamped
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
