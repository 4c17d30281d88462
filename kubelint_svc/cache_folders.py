"""The cache's folders kept tidy: each version of the tool keeps its entries in a folder of its own
inside the cache folder, pruned at most once a day, and `kubelint-svc clean` removes the cache
folders kubelint-svc made, nothing else."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from kubelint_svc.cache import CACHE_FOLDER, GITIGNORE, Cache
from kubelint_svc.paths import is_inside, refusal, resolved

# Its time is that of the last pruning: a run that finds it younger than a day scans nothing.
STAMP = ".pruned"
PRUNE_EVERY_S = 24 * 3600
UNUSED_S = 30 * 24 * 3600
# A temporary file left by a run that was killed while writing an entry.
ABANDONED_S = 3600
DEFAULT_MAX_MIB = 1024
MAX_MIB_VARIABLE = "KUBELINT_SVC_CACHE_MAX_MIB"


@dataclass
class Pruned:
    """What one pruning removed: entries (and other versions' folders) and their bytes."""

    removed: int = 0
    freed: int = 0


def max_bytes_from_environment() -> int:
    """KUBELINT_SVC_CACHE_MAX_MIB, set by whoever runs the linter (a repository's configuration
    cannot: it comes with the pull request), else 1 GiB."""
    value = os.environ.get(MAX_MIB_VARIABLE, "").strip()
    if value.isdigit() and 0 < len(value) <= 9:
        return int(value) << 20
    return DEFAULT_MAX_MIB << 20


def open_kept(folder: Path, generation: str, max_bytes: int | None = None, now: float | None = None) -> Cache | None:
    """The cache of this version of the tool (generation: a plain folder name) inside folder,
    made if need be; the folder is pruned first when its last pruning is a day old. None where
    no cache can be kept (see Cache.open)."""
    try:
        if not os.path.lexists(folder):
            folder.mkdir(parents=True)
            _mark(folder)
        elif folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            _mark(folder)  # made empty for the cache (a CI job's cache step): adopted
    except OSError:
        return None
    if folder.is_symlink() or not folder.is_dir():
        return None
    if owned(folder) and due(folder, time.time() if now is None else now):
        prune(folder, generation, max_bytes_from_environment() if max_bytes is None else max_bytes, now)
    return Cache.open(folder / generation)


def _mark(folder: Path) -> None:
    """Say that kubelint-svc made folder: as Cache.open does, a `.gitignore` of `*`."""
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")


def owned(folder: Path) -> bool:
    """Did kubelint-svc make folder? It holds the `.gitignore` Cache.open writes, as a regular
    file: a folder that merely was named as the cache (the repository, a home folder) does not."""
    marker = folder / ".gitignore"
    try:
        info = marker.lstat()
        return stat.S_ISREG(info.st_mode) and info.st_size == len(GITIGNORE) and marker.read_text() == GITIGNORE
    except (OSError, UnicodeDecodeError):
        return False


def due(folder: Path, now: float) -> bool:
    """Is the folder's last pruning a day old (or unknown, stamped in the future, or the stamp
    no regular file)?"""
    try:
        info = (folder / STAMP).lstat()
    except OSError:
        return True
    return not stat.S_ISREG(info.st_mode) or not now - PRUNE_EVERY_S < info.st_mtime <= now + 60


def prune(folder: Path, keep: str, max_bytes: int, now: float | None = None) -> Pruned:
    """Remove from folder (a cache folder kubelint-svc made) the folders of every other version
    of the tool, the entries of keep unused for 30 days, then the least recently used of the
    rest while they hold more than max_bytes; stamp the folder. Links are removed, never
    followed; a file another run removes first is passed over."""
    now = time.time() if now is None else now
    pruned = Pruned()
    for entry in _listing(folder):
        if entry.name not in (".gitignore", STAMP, keep):
            pruned.freed += _remove(Path(entry.path))
            pruned.removed += 1
    kept = []
    for path, info in _entries(folder / keep):
        # last used: its atime where the file system keeps one (Linux's relatime: at most a day
        # old), else when it was written
        last_used = max(info.st_atime, info.st_mtime)
        if (path.name.startswith(".tmp-") and now - info.st_mtime > ABANDONED_S) or now - last_used > UNUSED_S:
            pruned.freed += _remove(path)
            pruned.removed += 1
        else:
            kept.append((last_used, info.st_size, path))
    total = sum(size for _, size, _ in kept)
    for _, size, path in sorted(kept, key=lambda item: item[0]):
        if total <= max_bytes:
            break
        total -= size
        pruned.freed += _remove(path)
        pruned.removed += 1
    _stamp(folder / STAMP, now)
    return pruned


def _stamp(stamp: Path, now: float) -> None:
    """Set the stamp's time to now, never through a link (a committed `.pruned` leading out of
    the repository is removed, not touched)."""
    with contextlib.suppress(OSError):
        if os.path.islink(stamp) or (os.path.lexists(stamp) and not stamp.is_file()):
            _remove(stamp)
        os.close(os.open(stamp, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644))
        os.utime(stamp, (now, now), follow_symlinks=False)


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            return list(found)
    except OSError:
        return []


def _entries(generation: Path) -> list[tuple[Path, os.stat_result]]:
    """(path, lstat) of every entry of a version's folder, in its two-letter folders; a link
    there (a committed cache's) is removed."""
    found = []
    if generation.is_symlink():
        return []
    for prefix in _listing(generation):
        if prefix.is_symlink():
            _remove(Path(prefix.path))
        elif prefix.is_dir(follow_symlinks=False):
            for entry in _listing(Path(prefix.path)):
                with contextlib.suppress(OSError):
                    found.append((Path(entry.path), entry.stat(follow_symlinks=False)))
    return found


def _remove(path: Path) -> int:
    """Remove path (a link itself, a file, or a folder and everything in it, no link followed):
    the bytes freed, 0 when it was gone already."""
    freed = 0
    try:
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode):
            for folder, _, names in os.walk(path):
                for name in names:
                    with contextlib.suppress(OSError):
                        freed += os.lstat(os.path.join(folder, name)).st_size
            shutil.rmtree(path, ignore_errors=True)
        else:
            freed = info.st_size
            path.unlink()
    except OSError:
        return 0
    return freed


def clean_refusal(folder: Path, top: Path, working: Path) -> str | None:
    """Why `kubelint-svc clean` may not remove folder (a phrase to follow its name), or None:
    it must be confined to top as every path a run writes (paths.refusal), be no link, hold
    neither the working directory nor top, and have been made by kubelint-svc (owned)."""
    why = refusal(folder, top)
    if why is not None:
        return why
    real = resolved(folder)
    if folder.is_symlink() or real is None:
        return "a symbolic link; neither it nor what it names is removed"
    if not real.is_dir():
        return "not a folder"
    if is_inside(resolved(working), real) or is_inside(top, real):
        return "it holds the working directory or the repository"
    if not owned(real):
        return "not a cache folder kubelint-svc made (it has no .gitignore of its own); left alone"
    return None


def remove_cache_folder(folder: Path, top: Path, working: Path) -> str | None:
    """Remove folder, a cache folder of the project, or say why not (see clean_refusal)."""
    why = clean_refusal(folder, top, working)
    if why is not None:
        return why
    shutil.rmtree(folder, ignore_errors=True)
    return "could not be removed entirely" if os.path.lexists(folder) else None


def cache_folders_under(start: Path) -> list[Path]:
    """Every folder named as the default cache below start (as `ruff clean` finds its caches):
    links and git directories are not entered, and a cache folder's insides are not searched."""
    found = []
    for folder, subfolders, _ in os.walk(start):
        here = Path(folder)
        if CACHE_FOLDER in subfolders:
            found.append(here / CACHE_FOLDER)
        subfolders[:] = [name for name in subfolders if name not in (CACHE_FOLDER, ".git")
                         and not os.path.islink(os.path.join(folder, name))]
    return sorted(found)
