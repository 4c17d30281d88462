"""Paths that come from input (a pull request's symlinks included), resolved without surprises."""

from __future__ import annotations

from pathlib import Path


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
