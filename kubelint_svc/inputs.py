"""Inputs: the paths a user names -> the files to read, each once, in a stable order."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


@dataclass(frozen=True)
class InputFile:
    display: str  # as findings name it: relative to where the user pointed, or "-"
    path: Path | None  # None for stdin
    refused: str | None = None  # why it is not read: a link out of the tree being walked


def _inside(path: Path, top: Path) -> bool:
    return path == top or top in path.parents


def _link_out_of(path: Path, top: Path) -> str | None:
    """Why a symbolic link found in the walk of top is not followed, or None."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a link loop
        return "a symbolic link that loops; not followed"
    if _inside(target, top):
        return None
    return f"a symbolic link out of {top} (to {target}); not followed"


class MissingPathError(Exception):
    pass


def discover(paths: list[str]) -> list[InputFile]:
    """Files named directly are always read; directories are walked for *.yaml, *.yml, *.json,
    skipping hidden directories and never entering the same real directory twice."""
    found: list[InputFile] = []
    seen_files: set[Path] = set()
    for given in paths:
        if given == STDIN:
            found.append(InputFile(STDIN, None))
            continue
        path = Path(given)
        if not path.exists():
            raise MissingPathError(f"{given}: no such file or directory")
        if path.is_dir():
            for file, refused in _walk(path):
                if refused is not None:
                    found.append(InputFile(str(file), file, refused))
                    continue
                real = file.resolve()
                if real not in seen_files:
                    seen_files.add(real)
                    found.append(InputFile(str(file), file))
        else:
            real = path.resolve()
            if real not in seen_files:
                seen_files.add(real)
                found.append(InputFile(str(path), path))
    return found


def _walk(top: Path) -> list[tuple[Path, str | None]]:
    """(file, None) for each manifest under top; (link, why) for each symbolic link that leads
    out of top, which is never followed: a committed `root -> /` must not walk the machine."""
    found: list[tuple[Path, str | None]] = []
    real_top = top.resolve()
    visited: set[tuple[int, int]] = set()
    for directory, subdirs, names in os.walk(top, followlinks=True):
        stat = os.stat(directory)
        identity = (stat.st_dev, stat.st_ino)
        if identity in visited:  # a symlink loop, or a second link to a walked folder
            subdirs[:] = []
            continue
        visited.add(identity)
        kept = []
        for name in sorted(d for d in subdirs if not d.startswith(".")):
            refused = _link_out_of(Path(directory) / name, real_top)
            if refused is None:
                kept.append(name)
            else:
                found.append((Path(directory) / name, refused))
        subdirs[:] = kept
        for name in sorted(names):
            if name.endswith(MANIFEST_SUFFIXES):
                file = Path(directory) / name
                refused = _link_out_of(file, real_top)
                if refused is not None:
                    found.append((file, refused))
                elif file.is_file():
                    found.append((file, None))
    return found


def git_toplevel(folder: Path) -> Path | None:
    """The root of the git work tree holding folder, or None (no git, or not in a work tree)."""
    import subprocess

    try:
        top = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return Path(top).resolve() if top else None


def git_tracked_manifests(paths: list[str]) -> list[InputFile]:
    """Every *.yaml, *.yml and *.json file git tracks in the repositories holding paths (outside
    hidden folders): the context that makes a one-file run see what the whole repository sees."""
    import subprocess

    found: list[InputFile] = []
    tops: set[Path] = set()
    for given in paths or ["."]:
        start = Path(given) if given != STDIN else Path(".")
        top = git_toplevel(start if start.is_dir() else start.parent)
        if top is None or top in tops:
            continue  # not in a git work tree (no extra context), or already listed
        tops.add(top)
        try:
            listed = subprocess.run(
                ["git", "-C", str(top), "ls-files", "-z", "--", *(f"*{suffix}" for suffix in MANIFEST_SUFFIXES)],
                capture_output=True, text=True, check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        for name in sorted(filter(None, listed.split("\0"))):
            if any(part.startswith(".") for part in Path(name).parts[:-1]):
                continue
            file = Path(top) / name
            refused = _link_out_of(file, top)
            if refused is not None:
                found.append(InputFile(str(file), file, refused))
            elif file.is_file():
                found.append(InputFile(str(file), file))
    return found
