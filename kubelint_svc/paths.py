"""Paths that come from input (a pull request's symlinks included), resolved without surprises,
and the one rule every reader and writer of such paths follows: inside the repository's work
tree, after every symlink, and never inside a git directory."""

from __future__ import annotations

import os
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
    return path is not None and (path == top or top in path.parents)


def refusal(path: Path, top: Path) -> str | None:
    """Why a run confined to the work tree top (a resolved path) may not read or write path (a
    phrase to follow the path: `x.yaml: outside the repository (/repo)`), or None when it may.
    The real path counts, after every symlink; a git directory (the repository's own, a
    submodule's, a nested one's) is never inside: it holds the checkout's credentials
    (actions/checkout keeps its token in .git/config) and other repositories' objects."""
    real = resolved(path)
    if real is None:
        return "a symbolic link that loops, or a name that cannot be resolved"
    if not is_inside(real, top):
        link = f"a link to {real}, " if str(real) != os.path.normpath(os.path.abspath(path)) else ""
        return f"{link}outside the repository ({top})"
    if any(part.casefold() == GIT_DIRECTORY for part in real.relative_to(top).parts):
        return "inside a git directory, which holds credentials"
    return None


def confined(path: Path, top: Path) -> Path | None:
    """path's real path when a run confined to top may use it (see refusal), else None."""
    return None if refusal(path, top) is not None else resolved(path)
