"""Kustomize builds and Helm renders kept in the cache: each is valid while every file it read
is unchanged (checked as the file cache checks a file: its stamp when it had settled before it
was read, else its bytes), and while the tool that made it is the same binary."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelint_svc.cache import Cache, KeptDocuments, key_of, settled, stamp_of
from kubelint_svc.file_reads import UnreadableFile, read_bounded
from kubelint_svc.identity import tools_identity
from kubelint_svc.paths import resolved
from kubelint_svc.units.common import KUSTOMIZATION_NAMES

if TYPE_CHECKING:  # imported where used: a run that builds nothing never imports kustomize's modules
    from kubelint_svc.units.kustomize.engines import Build
    from kubelint_svc.units.kustomize.scan import Origin, PathFacts, Tree

_CLOCK_SLACK_NS = 10_000_000  # file times come from a coarse clock, up to a tick (1-10 ms) behind
# the folders a kustomization includes, and what that rests on (StoredOutputs.inclusions)
Inclusions = tuple[set[Path], list[Any] | None]


class StoredOutputs:
    """What kustomize and helm gave for a root or a chart, from the cache when still valid."""

    def __init__(self, cache: Cache | None, tool: str) -> None:
        self.cache = cache
        self.tool = tool  # the linter's own fingerprint: a new version builds everything anew
        self.documents = KeptDocuments(cache, tool)  # the kustomizations' data, kept per file
        self._engines: str | None = None  # which kubectl and kustomize a build would run: looked up once a run
        # each path's stat, digest or kustomization names, once a run (three overlays' builds read one base)
        self._now: dict[tuple[str, str], Any] = {}
        self._paths: dict[str, Path] = {}  # each name of the kept builds as a Path, made once a run
        self._origins: dict[tuple[Any, ...], Origin] = {}  # and each origin of their objects
        self._reals: dict[str, tuple[bool, str | None]] = {}  # each name's existence and real path, once a run

    def kept(self, root: Path, engine: str, confine: Path | None) -> Build | None:
        """The Build kept for root from a run whose files are all unchanged (one stat each), or None."""
        if self.cache is None:
            return None
        kept = self._valid(self._build_key(root, engine, confine))
        if kept is None:
            return None
        try:
            return _build_from(kept, self._paths, self._origins)
        except (TypeError, ValueError, KeyError, IndexError):
            return None  # another layout of this code: built anew

    def build(self, root: Path, engine: str, confine: Path | None, make: Callable[[], Build],
              started: int | None = None) -> Build:
        """make()'s Build for root, or the one kept from a run whose files are all unchanged.
        A build cut short (skipped for time, a timeout, the tool not started) is not kept. A failed
        one is when the engine read the whole chain and answered: kept with the names the chain
        gives that did not exist, so a file written since (a generator's file) builds it anew.
        started: when make's build began (time.time_ns()), for a build made before the call."""
        if self.cache is None:
            return make()
        kept = self.kept(root, engine, confine)
        if kept is not None:
            return kept
        started = time.time_ns() if started is None else started
        done = make()
        if done.skipped is None and (done.error is None or done.answered):
            plain = _plain_build(done)
            done.content = self._keep(self._build_key(root, engine, confine), sorted(done.files | done.inputs),
                                      started, plain, sorted(done.absent))
        return done

    def roots(self, folders: list[Path], confine: Path | None, facts: PathFacts,
              scan: Callable[[list[Path]], dict[Path, Inclusions]] | None = None) -> list[Path]:
        """find_roots(folders), each folder's inclusions kept (one entry for the folders of a run)
        while its kustomization is the file it was (the file cache's rule), the folder is no link,
        and every name the kustomization gives exists, or not, and leads where it led (its real
        path); a folder for which any of it changed is read again alone.
        A kustomization the scan cannot read whole is read again every run.
        scan: inclusions() of each folder to read again (the caller may share them among processes)."""
        from kubelint_svc.units.kustomize.scan import absolute_folders, find_roots

        folders = absolute_folders(folders)
        key = key_of(self.tool, "kustomize roots 1", str(confine), *map(str, folders)) \
            if self.cache is not None and folders else None
        stored = self.cache.get(key) if self.cache is not None and key is not None else None
        kept: dict[str, Any] = stored if isinstance(stored, dict) else {}
        now: dict[str, Any] = {}
        included: dict[Path, set[Path]] = {}
        for folder in folders:
            record = kept.get(str(folder))
            if isinstance(record, list) and len(record) == 5 and self._same_inclusions(folder, record):
                now[str(folder)] = record
                included[folder] = {self._path(name) for name in record[4]}
        anew = [folder for folder in folders if folder not in included]
        found = scan(anew) if scan is not None else {folder: self.inclusions(folder, confine, facts) for folder in anew}
        for folder in anew:
            included[folder], record = found[folder]
            if record is not None:
                now[str(folder)] = record
        roots = find_roots(folders, confine, self.documents, facts, included.__getitem__)
        if self.cache is not None and key is not None and now != kept:
            self.cache.put(key, now)
        return roots

    def inclusions(self, folder: Path, confine: Path | None, facts: PathFacts) -> Inclusions:
        """scan.inclusions(folder), and (with a cache) what they rest on, to keep them: the folders
        it includes and their record (None: not kept). Made in any process of the run: plain data."""
        from kubelint_svc.units.kustomize.scan import inclusions

        started = time.time_ns()
        found, tree = inclusions(folder, confine, self.documents, facts)
        record = self._inclusions_record(folder, tree, found, started) \
            if tree is not None and self.cache is not None else None
        return found, record

    def _same_inclusions(self, folder: Path, record: list[Any]) -> bool:
        """Whether the scan would find what record says of folder: the same kustomization file (no
        other kustomization name before it in the folder), settled and unchanged, and every path it
        looked at or named existing (or not) and leading to the same real path."""
        kustomization, stamp, read_at, named, _ = record
        if not isinstance(kustomization, str) or not isinstance(named, list) \
                or self._real(str(folder)) != (True, str(folder)):
            return False
        name = os.path.basename(kustomization)
        if os.path.dirname(kustomization) != str(folder) or name not in KUSTOMIZATION_NAMES:
            return False
        earlier = KUSTOMIZATION_NAMES[:KUSTOMIZATION_NAMES.index(name)]
        if any(os.path.isfile(os.path.join(folder, before)) for before in earlier):
            return False
        try:
            if not settled(stamp_of(os.stat(kustomization)), stamp, read_at):
                return False
        except (OSError, ValueError):
            return False
        for entry in named:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                return False
            there, where = self._real(entry[0])
            if (there, where if there else None) != (entry[1] is not None, entry[1]):
                return False  # a name that came or went, or leads elsewhere
        return True

    def _real(self, name: str) -> tuple[bool, str | None]:
        """Whether the path name (absolute, normalised) exists, following links, and its real path
        as paths.resolved gives it (None for a link that loops), once a run: a name that is no
        link is its folder's real path and its own (one lstat), where resolving walks every
        component again (a kustomization's names share a few folders)."""
        known = self._reals.get(name)
        if known is None:
            folder, entry = os.path.split(name)
            try:
                link = stat.S_ISLNK(os.lstat(name).st_mode)
                there = not link or os.path.exists(name)
            except (OSError, ValueError):
                link, there = False, False
            if link or not entry or folder == name:
                real = resolved(Path(name))
                known = (there, str(real) if real is not None else None)
            else:
                above = self._real(folder)[1]
                known = (there, os.path.join(above, entry) if above is not None else None)
            self._reals[name] = known
        return known

    def _inclusions_record(self, folder: Path, tree: Tree, found: set[Path], started: int) -> list[Any] | None:
        """What inclusions(folder) rested on, to tell next run whether it still holds: [kustomization
        file, its stamp, when it was read, [every path the scan looked at or named, its real path or
        None for a name that did not exist], the folders included]; None when it is not kept: a folder
        reached through a link (the scan compares its names from both places), a kustomization changed
        while it was read."""
        kustomization = next((path for path in tree.files if path.parent == folder), None)  # the folder's own
        if kustomization is None or self._real(str(folder)) != (True, str(folder)):
            return None
        try:
            stamp = stamp_of(os.stat(kustomization))
        except (OSError, ValueError):
            return None
        if max(stamp[1], stamp[2]) >= started - _CLOCK_SLACK_NS:
            return None  # changed while the scan read it: the data need not be these bytes'
        named: list[list[Any]] = []
        for path in sorted({*tree.files, *tree.inputs}):
            there, where = self._real(str(path))
            if not there or where is None:
                return None  # gone since, or a link that loops
            named.append([str(path), where])
        named += [[str(path), None] for path in sorted(tree.absent)]
        return [str(kustomization), list(stamp), started, named, sorted(str(path) for path in found)]

    def _path(self, name: str) -> Path:
        """name as a Path, made once a run (600 builds name the same 1,600 files again and again)."""
        found = self._paths.get(name)
        if found is None:
            found = self._paths[name] = Path(name)
        return found

    def _build_key(self, root: Path, engine: str, confine: Path | None) -> str:
        if self._engines is None:
            from kubelint_svc.units.process import memory_from_environment

            self._engines = f"{tools_identity('kubectl', 'kustomize')}; memory {memory_from_environment()}"
        return key_of(self.tool, "kustomize build", engine, self._engines, str(root), str(confine))

    def render(self, chart: Path, values: tuple[str, ...], make: Callable[[], tuple[str, str | None]],
               variant: tuple[str, ...] = ()) -> tuple[str, str | None]:
        """make()'s (rendered text, error) for chart, or the one kept while every file of the chart
        folder and the values files are unchanged. variant: the engine and the render's options."""
        if self.cache is None:
            return make()
        files = sorted({*_files_under(chart), *(chart / value for value in values)})
        key = key_of(self.tool, "helm template", tools_identity("helm"), *variant, str(chart), *values,
                     *(str(path) for path in files))  # a file added to the chart is a new key
        kept = self._valid(key)
        if kept is not None and isinstance(kept, list) and len(kept) == 2:
            return str(kept[0]), kept[1] if isinstance(kept[1], str) else None
        started = time.time_ns()
        text, error = make()
        if error is None:  # a failure (a timeout, a missing dependency) is not kept
            self._keep(key, files, started, [text, error])
        return text, error

    def _valid(self, key: str) -> Any | None:
        """The output kept under key while every file it records is unchanged, or None."""
        assert self.cache is not None  # the callers ask only with a cache
        stored = self.cache.get(key)
        if not isinstance(stored, dict) or not isinstance(stored.get("files"), list):
            return None
        if not all(self._holds(entry) for entry in stored["files"]):
            return None
        self.cache.hits += 1
        return stored.get("output")

    def _holds(self, entry: Any) -> bool:
        """Whether a file's record (path, stamp or kind, when read, digest) holds now; each path's
        stat, digest or kustomization names looked at once a run, for every record naming it."""
        if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], str)):
            return False
        path, stamp, read_at, digest = entry
        if stamp == "absent":
            return not self._now_of(path, "exists", os.path.lexists)
        if stamp == "names":
            return bool(self._now_of(path, "names", _kustomization_names_of) == digest)
        now = self._now_of(path, "stamp", _stamp_or_none)
        return now is not None and (settled(now, stamp, read_at)
                                    or self._now_of(path, "digest", _digest_or_none) == digest)

    def _now_of(self, path: str, what: str, look: Callable[[str], Any]) -> Any:
        key = (path, what)
        if key not in self._now:
            self._now[key] = look(path)
        return self._now[key]

    def _keep(self, key: str, files: list[Path], started: int, output: Any, absent: Sequence[Path] = ()
              ) -> str | None:
        """Keep output with the stamps and digests of files; the digest of them all, or None when
        nothing was kept."""
        assert self.cache is not None
        recorded: list[list[Any]] = [[str(path), "absent", 0, 0] for path in absent]
        if any(os.path.lexists(path) for path in absent):
            return None  # written while the tool ran
        for path in files:
            if path.is_dir():  # a folder named as a resource: its kustomization is among the files,
                # and which kustomization names it holds (a second one, or a rename, changes the build)
                recorded.append([str(path), "names", 0, _kustomization_names(path)])
                continue
            try:
                stamp = stamp_of(os.stat(path))
                digest = key_of(read_bounded(path))
            except (OSError, ValueError, UnreadableFile):
                return None  # a file that cannot be read again: nothing is kept
            if max(stamp[1], stamp[2]) >= started - _CLOCK_SLACK_NS:
                return None  # changed while the tool ran: these bytes need not be what it read; not kept
            recorded.append([str(path), stamp, started, digest])
        self.cache.misses += 1
        content = key_of(*(repr([path, digest]) for path, _, _, digest in recorded))
        if isinstance(output, dict):
            output = {**output, "content": content}
        self.cache.put(key, {"files": recorded, "output": output})
        return content


def _kustomization_names(folder: Path) -> list[str]:
    return [name for name in KUSTOMIZATION_NAMES if (folder / name).is_file()]


def _kustomization_names_of(path: str) -> list[str] | None:
    """Which kustomization names a folder holds (None: no folder)."""
    if not os.path.isdir(path):
        return None
    return [name for name in KUSTOMIZATION_NAMES if os.path.isfile(os.path.join(path, name))]


def _stamp_or_none(path: str) -> tuple[int, ...] | None:
    try:
        return stamp_of(os.stat(path))
    except (OSError, ValueError):
        return None


def _digest_or_none(path: str) -> str | None:
    try:
        return key_of(read_bounded(Path(path)))
    except UnreadableFile:
        return None


def _files_under(folder: Path) -> list[Path]:
    """Every file helm may read: linked folders followed (a subchart in charts/ linked from
    elsewhere is read by helm), each real folder once."""
    found, seen = [], set()
    for top, folders, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        folders.sort()
        found += [Path(top) / name for name in sorted(names)]
    return found


def _plain_origin(origin: Origin | None) -> Any:
    return None if origin is None else (str(origin.file), origin.document, origin.path)


def _origin_from(value: Any, path: Callable[[str], Path] = Path,
                 known: dict[tuple[Any, ...], Origin] | None = None) -> Origin | None:
    """value as an Origin; known: those made this run (three overlays' objects come from one base)."""
    if value is None:
        return None
    from kubelint_svc.units.kustomize.scan import Origin  # loaded already by whoever kept a build: a lookup

    if known is None:
        return Origin(path(value[0]), value[1], tuple(value[2]))
    key = (value[0], value[1], *value[2])
    found = known.get(key)
    if found is None:
        found = known[key] = Origin(path(value[0]), value[1], tuple(value[2]))
    return found


def _plain_build(done: Build) -> dict[str, Any]:
    return {
        "root": str(done.root), "engine": done.engine, "files": sorted(str(path) for path in done.files),
        "error": done.error, "skipped": done.skipped, "warnings": list(done.warnings),
        "fallback_failed": done.fallback_failed, "inputs": sorted(str(path) for path in done.inputs),
        "objects": [(item.body, _plain_origin(item.origin),
                     [(path, _plain_origin(origin)) for path, origin in item.patched.items()])
                    for item in done.objects],
    }


def _build_from(value: dict[str, Any], paths: dict[str, Path], origins: dict[tuple[Any, ...], Origin]) -> Build:
    """The Build kept as value; paths and origins: the run's Path of each name and its Origins,
    made once (600 builds name the same 1,600 files again and again, three overlays the objects
    of one base)."""

    def path(name: str) -> Path:
        found = paths.get(name)
        if found is None:
            found = paths[name] = Path(name)
        return found

    from kubelint_svc.units.kustomize.engines import Build
    from kubelint_svc.units.kustomize.tracing import BuiltObject

    objects = [BuiltObject(body, _origin_from(origin, path, origins),
                           {tuple(at): found for at, where in patched if (found := _origin_from(where, path, origins))})
               for body, origin, patched in value["objects"]]
    return Build(path(value["root"]), value["engine"], objects, {path(name) for name in value["files"]},
                 value["error"], value["skipped"], list(value["warnings"]),
                 inputs={path(name) for name in value["inputs"]}, fallback_failed=bool(value["fallback_failed"]),
                 answered=value["error"] is not None, content=str(value["content"]))
