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
            for file in _walk(path):
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


def _walk(top: Path) -> list[Path]:
    files: list[Path] = []
    visited: set[tuple[int, int]] = set()
    for directory, subdirs, names in os.walk(top, followlinks=True):
        stat = os.stat(directory)
        identity = (stat.st_dev, stat.st_ino)
        if identity in visited:  # a symlink loop, or a second link to a walked folder
            subdirs[:] = []
            continue
        visited.add(identity)
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(names):
            if name.endswith(MANIFEST_SUFFIXES):
                file = Path(directory) / name
                if file.is_file():
                    files.append(file)
    return files


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
            if file.is_file():
                found.append(InputFile(str(file), file))
    return found
