"""`.gitignore` and `.ignore` files, matched as git matches them (negation, anchored patterns,
directory-only `/`, `**`), without git: they apply in and out of repositories alike. The files
come with pull requests, so reads are bounded and patterns are matched by RE2 (no backtracking)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kubelint_svc.paths import FolderNames

# an undecodable byte of a file name (os.fsdecode's stand-in), which RE2 cannot be given
_SURROGATE = re.compile("[\ud800-\udfff]")
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
    expression: str = ""  # the regex's text


# git's bracket classes (wildmatch.c), as code point ranges; `/` is never matched by a bracket
_CLASSES = {
    "alnum": [(48, 57), (65, 90), (97, 122)], "alpha": [(65, 90), (97, 122)], "blank": [(9, 9), (32, 32)],
    "cntrl": [(0, 31), (127, 127)], "digit": [(48, 57)], "graph": [(33, 126)], "lower": [(97, 122)],
    "print": [(32, 126)], "punct": [(33, 47), (58, 64), (91, 96), (123, 126)], "space": [(9, 13), (32, 32)],
    "upper": [(65, 90)], "xdigit": [(48, 57), (65, 70), (97, 102)],
}
_SLASH = ord("/")


class _NeverMatches(Exception):
    """A pattern git's wildmatch gives up on (an unclosed `[`, a trailing `\\`, an unknown
    `[:class:]`) or whose bracket holds nothing: it matches no path."""


def _literal(char: str) -> str:
    return char if char.isalnum() and char.isascii() else f"\\x{{{ord(char):x}}}"


def _bracket(glob: str, index: int) -> tuple[str, int]:
    """The bracket expression opening at glob[index] (`[`) -> (regex, index past its `]`), read
    as wildmatch reads it: `!` or `^` negates, a `]` first is a member, `\\` escapes, `a-z`,
    `[:alpha:]`."""
    position, size = index + 1, len(glob)
    negated = position < size and glob[position] in "!^"
    position += negated
    members: list[tuple[int, int]] = []
    previous: int | None = None  # the member before, which a `-` makes a range's start
    first = True
    while True:
        if position >= size:
            raise _NeverMatches
        char = glob[position]
        if char == "]" and not first:
            break
        first = False
        if char == "\\":
            position += 1
            if position >= size:
                raise _NeverMatches
            previous = ord(glob[position])
            members.append((previous, previous))
        elif char == "-" and previous is not None and position + 1 < size and glob[position + 1] != "]":
            position += 1
            if glob[position] == "\\":
                position += 1
                if position >= size:
                    raise _NeverMatches
            members.append((previous, ord(glob[position])))
            previous = None
        elif char == "[" and glob[position + 1:position + 2] == ":":
            close = glob.find("]", position + 2)
            if close == -1:
                raise _NeverMatches
            if close < position + 3 or glob[close - 1] != ":":  # no `:]`: a plain `[`
                previous = ord("[")
                members.append((previous, previous))
            else:
                name = glob[position + 2:close - 1]
                if name not in _CLASSES:
                    raise _NeverMatches
                members += _CLASSES[name]
                previous = None
                position = close
        else:
            previous = ord(char)
            members.append((previous, previous))
        position += 1
    ranges = []
    for low, high in members:  # reversed ranges match nothing; `/` is taken out
        for start, stop in ((low, min(high, _SLASH - 1)), (max(low, _SLASH + 1), high)):
            if start <= stop:
                ranges.append(f"\\x{{{start:x}}}" if start == stop else f"\\x{{{start:x}}}-\\x{{{stop:x}}}")
    if negated:
        return f"[^/{''.join(ranges)}]", position + 1
    if not ranges:
        raise _NeverMatches
    return f"[{''.join(ranges)}]", position + 1


def glob_regex(pattern: str) -> str | None:
    """A gitignore pattern (without `!` and its one trailing `/`) -> a regex over relative posix
    paths, or None when git would match nothing with it. A pattern with a `/` is anchored to its
    file's folder; one without matches at any depth. Read as git's wildmatch reads it: `*` and
    `?` and brackets never match a `/`, `**` between slashes matches any folders."""
    anchored = "/" in pattern
    body = pattern[1:] if pattern.startswith("/") else pattern
    pieces = [] if anchored else ["(?:.*/)?"]
    index, size = 0, len(body)
    # git compares an anchored pattern's literal start apart and wildmatches the rest, so a `**`
    # right after it counts as a pattern's start (`a**/x` matches `a/x` and `ab/c/x`): kept
    literal_start = next((n for n, c in enumerate(body) if c in "*?[\\"), size) if anchored else 0
    try:
        while index < size:
            char = body[index]
            if char == "*":
                end = index
                while end < size and body[end] == "*":
                    end += 1
                alone = (index in (0, literal_start) or body[index - 1] == "/") and (end == size or body[end] == "/")
                if end - index >= 2 and alone:
                    pieces.append(".*" if end == size else "(?:.*/)?")
                    end += end < size  # the slash after `**/` is part of it
                else:
                    pieces.append("[^/]*")
                index = end
                continue
            if char == "?":
                pieces.append("[^/]")
            elif char == "\\":
                if index + 1 >= size:
                    raise _NeverMatches
                index += 1
                pieces.append(_literal(body[index]))
            elif char == "[":
                piece, index = _bracket(body, index)
                pieces.append(piece)
                continue
            else:
                pieces.append("/" if char == "/" else _literal(char))
            index += 1
    except _NeverMatches:
        return None
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
    # lines end at `\n` only, as git reads them: splitlines() also broke at \f, NEL and the
    # invisible U+2028, so `*<U+2028>` (which git matches against nothing) read as `*`
    for number, written in enumerate(text.split("\n")[:MAX_PATTERNS_PER_FILE], 1):
        line = written[:-1] if written.endswith("\r") else written
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
        body = body[:-1] if directory_only else body  # one `/` only, as git: `a//` matches nothing
        translated = glob_regex(body) if body else None
        regex = _compile(translated) if translated is not None else None
        if regex is not None and translated is not None:
            patterns.append(IgnorePattern(f"{source}:{number}", stripped, negated, directory_only, regex, translated))
    return patterns


class _TooLarge(Exception):
    pass


def _read_small(path: Path) -> str:
    """The text of an ignore file; what is not a small regular file reads as empty."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
        descriptor = os.open(path, flags)
    except OSError:
        return ""
    try:
        if not os.path.isfile(path):
            return ""
        if os.fstat(descriptor).st_size > MAX_IGNORE_FILE_BYTES:
            raise _TooLarge

        return os.read(descriptor, MAX_IGNORE_FILE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
    finally:
        os.close(descriptor)


class _FolderPatterns:
    """The patterns of one folder's ignore files, with the last that matches a path found in
    few regex runs however many there are: patterns are tried in groups (one alternation each,
    last group first), and one by one only inside a group that matches."""

    def __init__(self, patterns: list[IgnorePattern]) -> None:
        self.patterns = patterns
        self._groups: dict[bool, list[tuple[_Regex | None, list[IgnorePattern]]]] = {}

    def _groups_for(self, is_dir: bool) -> list[tuple[_Regex | None, list[IgnorePattern]]]:
        groups = self._groups.get(is_dir)
        if groups is None:
            applicable = [p for p in self.patterns if is_dir or not p.directory_only]
            groups = []
            for start in range(0, len(applicable), _GROUP):
                members = applicable[start:start + _GROUP]
                either = _compile("|".join(f"(?:{m.expression})" for m in members)) if len(members) > 1 else None
                groups.append((either, members))
            self._groups[is_dir] = groups
        return groups

    def last_match(self, rest: str, is_dir: bool) -> IgnorePattern | None:
        for either, members in reversed(self._groups_for(is_dir)):
            if either is not None and either.fullmatch(rest) is None:
                continue
            for pattern in reversed(members):
                if pattern.regex.fullmatch(rest):
                    return pattern
        return None


_GROUP = 64  # patterns tried together


class IgnoreFiles:
    """The ignore files of every folder from a top down, read once each."""

    def __init__(self, top: Path, names: FolderNames | None = None) -> None:
        self.top = top  # absolute; no ignore file above it is read
        self._names = names or FolderNames()  # the folders a walk listed: no stat for a file not there
        self._by_parts: dict[tuple[str, ...], _FolderPatterns] = {}
        self._quiet_folders: dict[tuple[str, ...], bool] = {}
        self.unread: list[str] = []  # ignore files not read whole, said on stderr

    def _patterns_of(self, folder: str) -> _FolderPatterns:
        """The patterns of folder's ignore files (folder absolute, normalised; read once a run:
        _patterns_at); a folder a walk listed without one costs no Path and no stat."""
        patterns: list[IgnorePattern] = []
        for name in IGNORE_FILE_NAMES:
            if self._names.lacks(folder, name):
                continue
            file = Path(folder, name)
            if file.is_file() and not file.is_symlink():
                try:
                    text = _read_small(file)
                except _TooLarge:
                    self.unread.append(f"{_shown(file)} is larger than {MAX_IGNORE_FILE_BYTES // 1024} KiB; "
                                       "not read, so nothing it ignores is left out")
                    continue
                if text.rstrip("\n").count("\n") >= MAX_PATTERNS_PER_FILE:
                    self.unread.append(f"{_shown(file)} has more than {MAX_PATTERNS_PER_FILE:,} lines; those "
                                       "past it are not read")
                patterns += parse_ignore_file(text, str(_shown(file)))
        return _FolderPatterns(patterns)

    def match(self, path: Path, is_dir: bool) -> IgnorePattern | None:
        """The pattern that ignores path (absolute, below top), or None. Only path itself is
        judged: a walk never enters an ignored folder, and explicit files ask for each parent.
        The last pattern that matches wins (the deepest folder's last), so the search starts there."""
        return self.match_text(os.fspath(path), is_dir)

    def match_text(self, path: str, is_dir: bool) -> IgnorePattern | None:
        """match, for a path given as text (absolute, normalised): a walk asks it of every file."""
        top = os.fspath(self.top)
        below = top if top.endswith(os.sep) else top + os.sep
        if not path.startswith(below):
            return None
        parts = tuple(path[len(below):].split(os.sep))
        if self._quiet(parts[:-1]):
            return None  # no ignore file in its folder nor above it, up to top
        for depth in range(len(parts) - 1, -1, -1):  # the deepest folder first
            patterns = self._patterns_at(parts[:depth])
            if not patterns.patterns:
                continue
            rest = _SURROGATE.sub("\ufffd", "/".join(parts[depth:]))
            found = patterns.last_match(rest, is_dir)
            if found is not None:
                return None if found.negated else found
        return None

    def quiet_in(self, folder: str) -> bool:
        """Can no pattern ignore an entry of folder (absolute, normalised)? None can outside top,
        nor below it where neither folder nor any folder above it up to top has an ignore file
        with a pattern: match_text's first answer, asked once a folder instead of once an entry."""
        top = os.fspath(self.top)
        if folder == top:
            return self._quiet(())
        below = top if top.endswith(os.sep) else top + os.sep
        if not folder.startswith(below):
            return True
        return self._quiet(tuple(folder[len(below):].split(os.sep)))

    def _quiet(self, parts: tuple[str, ...]) -> bool:
        """Has neither the folder parts names below top nor any folder above it, up to top, a
        pattern? Asked once a folder."""
        quiet = self._quiet_folders.get(parts)
        if quiet is None:
            climbed = []
            while parts not in self._quiet_folders:
                climbed.append(parts)
                if not parts:
                    break
                parts = parts[:-1]
            quiet = self._quiet_folders.get(parts, True)
            for each in reversed(climbed):
                quiet = quiet and not self._patterns_at(each).patterns
                self._quiet_folders[each] = quiet
        return quiet

    def _patterns_at(self, parts: tuple[str, ...]) -> _FolderPatterns:
        """The patterns of the folder parts names below top (a walk asks for each file)."""
        found = self._by_parts.get(parts)
        if found is None:
            found = self._by_parts[parts] = self._patterns_of(os.path.join(self.top, *parts))
        return found


def _shown(path: Path) -> Path:
    cwd = Path.cwd()
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path


def repository_top(start: Path, walked: Path | None = None) -> Path:
    """The nearest folder from start (absolute) upward that holds `.git` (a work tree's top);
    outside a repository, the working directory when start is below it, else the folder being
    walked (walked) when start is below that, else start: ignore files above a repository never
    apply to it."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return top_outside_repositories(start, walked)


def top_outside_repositories(start: Path, walked: Path | None = None) -> Path:
    """repository_top(start, walked) when no folder from start upward holds `.git`."""
    cwd = Path.cwd()
    if start.is_relative_to(cwd):
        return cwd
    return walked if walked is not None and start.is_relative_to(walked) else start
