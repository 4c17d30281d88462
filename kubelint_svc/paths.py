"""Paths that come from input (a pull request's symlinks included), resolved without surprises,
and the one rule every reader and writer of such paths follows: inside the repository's work
tree, after every symlink, and never inside a git directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

GIT_DIRECTORY = ".git"


def resolved(path: Path) -> Path | None:
    """The real path (every symlink followed), or None when it cannot be had: a symlink loop
    (RuntimeError before Python 3.13, OSError after), a NUL in the name, a permission error."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def is_inside(path: Path | None, top: Path) -> bool:
    """Is path (already resolved) top or below it?"""
    return path is not None and _below(path, top) is not None


_POSIX = os.sep == "/" and os.altsep is None


def _below(path: Path, top: Path) -> tuple[str, ...] | None:
    """The names of path below top (() for top itself), or None when path is not top or below
    it: as pathlib compares them (lexically), on their text where that is plainly the same
    (two absolute POSIX paths: a Path's text is normalised but for `..`), which costs no Path
    (the builds ask it of every path they name, tens of thousands a run)."""
    inner, outer = str(path), str(top)
    if not _POSIX or inner[:1] != "/" or outer[:1] != "/" or inner[:2] == "//" or outer[:2] == "//":
        if path == top:
            return ()
        return path.relative_to(top).parts if top in path.parents else None
    if inner == outer:
        return ()
    stem = outer if outer.endswith("/") else outer + "/"  # `/` alone ends with it
    return tuple(inner[len(stem):].split("/")) if inner.startswith(stem) else None


class RealPaths:
    """Real paths (every link followed) as resolved gives them, each folder's resolved once a
    run: a file that is no link is its real folder's entry (one lstat), where realpath walks every
    component again (six lstats a path on a warm run asking thousands)."""

    def __init__(self) -> None:
        self._known: dict[str, Path | None] = {}

    def of(self, path: Path) -> Path | None:
        text = str(path)
        climbed: list[str] = []  # the folders from path up to one known, or to one resolved whole
        while text not in self._known:
            parent, name = os.path.split(text)
            if not os.path.isabs(text) or os.path.normpath(text) != text or not name or os.path.islink(text):
                self._known[text] = resolved(Path(text))  # `..` after a link, or a link: as realpath follows it
                break
            climbed.append(text)
            text = parent
        for each in reversed(climbed):  # from the top down: each is its real folder's entry
            folder = self._known[os.path.dirname(each)]
            # a name (no `/`, `.` nor `..`) joined to a Path: half the cost of parsing the whole path
            self._known[each] = folder / os.path.basename(each) if folder is not None else resolved(Path(each))
        return self._known[str(path)]


class FolderNames:
    """The names each folder held when the walk listed it: whether a folder holds a file of a
    given name (a configuration, an ignore file, `.git`: eight names looked for in every folder)
    is then known without a system call when it does not. Made anew each run."""

    def __init__(self) -> None:
        self._names: dict[str, frozenset[str]] = {}

    def listed(self, folder: str, names: frozenset[str]) -> None:
        """folder (absolute, normalised) held names when listed."""
        self._names[folder] = names

    def lacks(self, folder: str, name: str) -> bool:
        """Was folder (absolute, normalised) listed without an entry called name? (False when it
        was not listed: the caller looks.)"""
        names = self._names.get(folder)
        return names is not None and name not in names


def refusal(path: Path, top: Path, real_of: Callable[[Path], Path | None] = resolved) -> str | None:
    """Why a run confined to the work tree top (a resolved path) may not read or write path (a
    phrase to follow the path: `x.yaml: outside the repository (/repo)`), or None when it may.
    The real path counts, after every symlink; a git directory (the repository's own, a
    submodule's, a nested one's) is never inside: it holds the checkout's credentials
    (actions/checkout keeps its token in .git/config) and other repositories' objects.
    real_of: resolved, or a run's memo of it (RealPaths.of)."""
    real = real_of(path)
    if real is None:
        return "a symbolic link that loops, or a name that cannot be resolved"
    names = _below(real, top)
    if names is None:
        link = f"a link to {real}, " if str(real) != os.path.normpath(os.path.abspath(path)) else ""
        return f"{link}outside the repository ({top})"
    if any(part.casefold() == GIT_DIRECTORY for part in names):
        return "inside a git directory, which holds credentials"
    return None


def confined(path: Path, top: Path) -> Path | None:
    """path's real path when a run confined to top may use it (see refusal), else None."""
    return None if refusal(path, top) is not None else resolved(path)
