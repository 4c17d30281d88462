"""`.gitignore` and `.ignore` files, matched as git matches them (negation, anchored patterns,
directory-only `/`, `**`), without git: they apply in and out of repositories alike. The files
come with pull requests, so reads are bounded and patterns are matched by RE2 (no backtracking)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

IGNORE_FILE_NAMES = (".gitignore", ".ignore")  # later wins: `.ignore` overrides `.gitignore`, as ripgrep's
MAX_IGNORE_FILE_BYTES = 256 * 1024
MAX_PATTERNS_PER_FILE = 10_000


class _Regex(Protocol):
    def fullmatch(self, text: str) -> object: ...


@dataclass(frozen=True)
class IgnorePattern:
    source: str  # `path:line` of the pattern, for messages
    text: str  # as written
    negated: bool
    directory_only: bool
    regex: _Regex  # matched against the path relative to the folder of the file that holds it


def _segment(glob: str) -> str:
    """One path segment of a glob -> regex: `*` and `?` never cross a `/`."""
    out, index = [], 0
    while index < len(glob):
        char = glob[index]
        if char == "\\" and index + 1 < len(glob):
            out.append(re.escape(glob[index + 1]))
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            close = glob.find("]", index + 2 if glob[index + 1:index + 2] in ("!", "^", "]") else index + 1)
            if close == -1:
                out.append(re.escape(char))
            else:
                body = glob[index + 1:close]
                negated = body[:1] in ("!", "^")
                body = body[1:] if negated else body
                body = "".join("\\" + c if c in "\\^[]" else c for c in body)
                out.append(f"[^/{body}]" if negated else f"[{body}]")
                index = close + 1
                continue
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def glob_regex(pattern: str) -> str:
    """A gitignore pattern (without `!` and trailing `/`) -> a regex over relative posix paths.
    A pattern with a `/` before its end is anchored to its file's folder; one without matches
    at any depth."""
    anchored = "/" in pattern
    parts = pattern.lstrip("/").split("/")
    pieces = ["" if anchored else "(?:.*/)?"]
    any_folders = "(?:.*/)?"
    for position, part in enumerate(parts):
        if position > 0 and pieces[-1] != any_folders:
            pieces.append("/")
        if part == "**":
            pieces.append(".*" if position == len(parts) - 1 else any_folders)
        else:
            pieces.append(_segment(part))
    return "".join(pieces)


def _compile(regex: str) -> _Regex | None:
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        compiled: _Regex = re2.compile(regex, options)
    except Exception:  # re2.error: a pattern git would not match anything with either
        return None
    return compiled


def parse_ignore_file(text: str, source: str) -> list[IgnorePattern]:
    patterns: list[IgnorePattern] = []
    for number, written in enumerate(text.splitlines()[:MAX_PATTERNS_PER_FILE], 1):
        line = written.rstrip("\r")
        stripped = line.rstrip(" ")
        if line.endswith("\\ ") and stripped.endswith("\\"):  # an escaped trailing space stays
            stripped += " "
        if not stripped or stripped.startswith("#"):
            continue
        negated = stripped.startswith("!")
        body = stripped[1:] if negated else stripped
        if body.startswith(("\\#", "\\!")):
            body = body[1:]
        directory_only = body.endswith("/")
        body = body.rstrip("/")
        if not body:
            continue
        regex = _compile(glob_regex(body))
        if regex is not None:
            patterns.append(IgnorePattern(f"{source}:{number}", stripped, negated, directory_only, regex))
    return patterns


def _read_small(path: Path) -> str:
    """The text of an ignore file; what is not a small regular file reads as empty."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
        descriptor = os.open(path, flags)
    except OSError:
        return ""
    try:
        if not os.path.isfile(path) or os.fstat(descriptor).st_size > MAX_IGNORE_FILE_BYTES:
            return ""
        return os.read(descriptor, MAX_IGNORE_FILE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
    finally:
        os.close(descriptor)


class IgnoreFiles:
    """The ignore files of every folder from a top down, read once each."""

    def __init__(self, top: Path) -> None:
        self.top = top  # absolute; no ignore file above it is read
        self._folders: dict[Path, list[IgnorePattern]] = {}

    def _patterns_of(self, folder: Path) -> list[IgnorePattern]:
        found = self._folders.get(folder)
        if found is None:
            found = []
            for name in IGNORE_FILE_NAMES:
                file = folder / name
                if file.is_file() and not file.is_symlink():
                    found += parse_ignore_file(_read_small(file), str(_shown(file)))
            self._folders[folder] = found
        return found

    def match(self, path: Path, is_dir: bool) -> IgnorePattern | None:
        """The pattern that ignores path (absolute, below top), or None. Only path itself is
        judged: a walk never enters an ignored folder, and explicit files ask for each parent."""
        try:
            relative = path.relative_to(self.top)
        except ValueError:
            return None
        verdict: IgnorePattern | None = None
        folders = [self.top, *(self.top / Path(*relative.parts[:n]) for n in range(1, len(relative.parts)))]
        for folder in folders:
            rest = path.relative_to(folder).as_posix()
            for pattern in self._patterns_of(folder):
                if pattern.directory_only and not is_dir:
                    continue
                if pattern.regex.fullmatch(rest):
                    verdict = None if pattern.negated else pattern
        return verdict

    def ignores(self, path: Path, is_dir: bool) -> IgnorePattern | None:
        """Is path, or any folder it is in below top, ignored? (For a file named explicitly.)"""
        try:
            parts = path.relative_to(self.top).parts
        except ValueError:
            return None
        for count in range(1, len(parts)):
            found = self.match(self.top / Path(*parts[:count]), True)
            if found is not None:
                return found
        return self.match(path, is_dir)


def _shown(path: Path) -> Path:
    cwd = Path.cwd()
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path


def repository_top(start: Path) -> Path:
    """The nearest folder from start (absolute) upward that holds `.git` (a work tree's top);
    outside a repository, the working directory when start is below it, else start: ignore
    files above a repository never apply to it."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    cwd = Path.cwd()
    return cwd if start.is_relative_to(cwd) else start
