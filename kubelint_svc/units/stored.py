"""Kustomize builds and Helm renders kept in the cache: each is valid while every file it read
is unchanged (checked as the file cache checks a file: its stamp when it had settled before it
was read, else its bytes), and while the tool that made it is the same binary."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kubelint_svc.cache import Cache, KeptDocuments, key_of, settled, stamp_of
from kubelint_svc.file_reads import UnreadableFile, read_bounded
from kubelint_svc.identity import tools_identity
from kubelint_svc.units.kustomize.engines import Build
from kubelint_svc.units.kustomize.scan import KUSTOMIZATION_NAMES, Origin
from kubelint_svc.units.kustomize.tracing import BuiltObject
from kubelint_svc.units.process import memory_from_environment

_CLOCK_SLACK_NS = 10_000_000  # file times come from a coarse clock, up to a tick (1-10 ms) behind


class StoredOutputs:
    """What kustomize and helm gave for a root or a chart, from the cache when still valid."""

    def __init__(self, cache: Cache | None, tool: str) -> None:
        self.cache = cache
        self.tool = tool  # the linter's own fingerprint: a new version builds everything anew
        self.documents = KeptDocuments(cache, tool)  # the kustomizations' data, kept per file
        self._engines: str | None = None  # which kubectl and kustomize a build would run: looked up once a run
        # each file's record found unchanged, once a run (three overlays' builds read one base)
        self._unchanged: set[tuple[Any, ...]] = set()
        self._paths: dict[str, Path] = {}  # each name of the kept builds as a Path, made once a run

    def kept(self, root: Path, engine: str, confine: Path | None) -> Build | None:
        """The Build kept for root from a run whose files are all unchanged (one stat each), or None."""
        if self.cache is None:
            return None
        kept = self._valid(self._build_key(root, engine, confine))
        if kept is None:
            return None
        try:
            return _build_from(kept, self._paths)
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

    def _build_key(self, root: Path, engine: str, confine: Path | None) -> str:
        if self._engines is None:
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
        assert self.cache is not None  # the callers ask only with a cache
        stored = self.cache.get(key)
        if not isinstance(stored, dict) or not isinstance(stored.get("files"), list):
            return None
        for entry in stored["files"]:
            if not (isinstance(entry, list) and len(entry) == 4):
                return None
            record = tuple(tuple(part) if isinstance(part, list) else part for part in entry)
            if record not in self._unchanged:
                if not _unchanged(*entry):
                    return None
                self._unchanged.add(record)
        self.cache.hits += 1
        return stored.get("output")

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


def _unchanged(path: str, stamp: Any, read_at: Any, digest: Any) -> bool:
    if stamp == "absent":
        return not os.path.lexists(path)
    if stamp == "names":
        return Path(path).is_dir() and _kustomization_names(Path(path)) == digest
    try:
        now = stamp_of(os.stat(path))
    except (OSError, ValueError):
        return False
    if settled(now, stamp, read_at):
        return True
    try:
        return bool(key_of(read_bounded(Path(path))) == digest)
    except UnreadableFile:
        return False


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


def _origin_from(value: Any, path: Callable[[str], Path] = Path) -> Origin | None:
    return None if value is None else Origin(path(value[0]), value[1], tuple(value[2]))


def _plain_build(done: Build) -> dict[str, Any]:
    return {
        "root": str(done.root), "engine": done.engine, "files": sorted(str(path) for path in done.files),
        "error": done.error, "skipped": done.skipped, "warnings": list(done.warnings),
        "fallback_failed": done.fallback_failed, "inputs": sorted(str(path) for path in done.inputs),
        "objects": [(item.body, _plain_origin(item.origin),
                     [(path, _plain_origin(origin)) for path, origin in item.patched.items()])
                    for item in done.objects],
    }


def _build_from(value: dict[str, Any], paths: dict[str, Path]) -> Build:
    """The Build kept as value; paths: the run's Path of each name, made once (600 builds name the
    same 1,600 files again and again)."""

    def path(name: str) -> Path:
        found = paths.get(name)
        if found is None:
            found = paths[name] = Path(name)
        return found

    objects = [BuiltObject(body, _origin_from(origin, path),
                           {tuple(at): found for at, where in patched if (found := _origin_from(where, path))})
               for body, origin, patched in value["objects"]]
    return Build(path(value["root"]), value["engine"], objects, {path(name) for name in value["files"]},
                 value["error"], value["skipped"], list(value["warnings"]),
                 inputs={path(name) for name in value["inputs"]}, fallback_failed=bool(value["fallback_failed"]),
                 answered=value["error"] is not None, content=str(value["content"]))
