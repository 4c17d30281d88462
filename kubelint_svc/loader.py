"""Loader: bytes -> YAML documents as plain data, each keeping its node tree for positions.

Parsing is ruamel.yaml's C-backed composer (safe: no tag ever constructs an object); the
node -> data conversion is ours, so that scalars resolve as kubectl's YAML decoder resolves
them, duplicate keys and alias bombs become problems instead of crashes, and every value
can be traced back to a 1-based line and column.
"""

from __future__ import annotations

import bisect
import collections
import io
import itertools
import math
import os
import re
import stat
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import Event
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver

from kubelint_svc.findings import FieldPath


def _limit_from_environment(name: str, default: int) -> int:
    """A limit the person running the linter may raise (never the files being linted)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and 0 < len(value) <= 15 and int(value) > 0 else default


MAX_DEPTH = 200
# ruamel's C composer recurses in C: a nesting far deeper than this would overflow the C stack,
# so a stream that might nest that deep is measured with the (iterative) parser first.
_SAFE_COMPOSE_NESTING = 2000
MAX_FILE_BYTES = _limit_from_environment("KUBELINT_SVC_MAX_FILE_BYTES", 64 * 1024 * 1024)
# Nodes one document may hold before it is composed (a node costs ~150 bytes once composed): the
# largest real objects (CRDs) hold tens of thousands; a 60 MB flat list holds thirty million.
MAX_NODES = _limit_from_environment("KUBELINT_SVC_MAX_NODES", 1_000_000)
# Digits of an integer: int64 needs 19; far longer ones are hostile (and cost quadratic time).
MAX_INTEGER_DIGITS = 100
_BASE_NODE_BUDGET = 50_000

_DOC_SEPARATOR = re.compile(r"^(---|\.\.\.)(\s|$)", re.MULTILINE)
# a line that begins at column 0 with something other than a blank or a comment
_COLUMN_ZERO = re.compile(r"^[^ \t\r\n#]", re.MULTILINE)
_HELM_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)

# Plain-scalar resolution as kubectl's YAML decoder (go-yaml v2, YAML 1.1 flavour) does it.
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_INT_PREFIXED = re.compile(r"^[-+]?0(x[0-9a-fA-F_]+|o?[0-7_]+|b[01_]+)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOATS = {
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}


@dataclass(frozen=True)
class Problem:
    """Something wrong with the YAML itself, reported under a loader rule id."""

    rule: str
    message: str
    line: int
    column: int
    severity: str | None = None  # milder than the rule's own, when the problem is (never harsher)
    removable: bool = False  # --fix may delete what is marked (a repeated key with the same value)


@dataclass
class Document:
    """One YAML document of a stream: its data, its node tree, where it came from."""

    data: Any
    node: Node | None
    helm_source: str | None = None
    line_offset: int = 0
    problems: list[Problem] = field(default_factory=list)
    first_line: int = 0  # 0-based line where the document's text begins (its `---`, if any)
    # only apiVersion, kind and metadata were read: no rule reads the rest of an object of this kind
    partial: bool = False


@dataclass
class Stream:
    documents: list[Document]
    problems: list[Problem]


class OverlongInteger(ValueError):
    """A plain scalar that reads as an integer of more than MAX_INTEGER_DIGITS characters."""

    def __init__(self, length: int) -> None:
        super().__init__(f"an integer of {length} characters is beyond any number Kubernetes reads "
                         f"(at most {MAX_INTEGER_DIGITS} are read); not linted")


def resolve_plain_scalar(text: str) -> Any:
    """The value of an unquoted scalar, as YAML 1.1 (and so kubectl) reads it."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = text[0]
    if first.isdigit() or first in "+-.":
        if len(text) > MAX_INTEGER_DIGITS and (_INT.match(text) or _INT_PREFIXED.match(text)):
            raise OverlongInteger(len(text))
        if _INT.match(text):
            return int(text.replace("_", ""))
        if _INT_PREFIXED.match(text):
            sign = -1 if text[0] == "-" else 1
            digits = text.lstrip("+-").replace("_", "")
            base = {"x": 16, "b": 2}.get(digits[1:2], 8)
            body = digits[2:] if digits[1:2] in ("x", "b", "o") else digits[1:]
            return sign * int(body or "0", base)
        if _FLOAT.match(text):
            return float(text.replace("_", ""))
        if text in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[text]
    return text


class _Converter:
    """Turns one document's node tree into plain data, with bounded work and depth."""

    def __init__(self, budget: int, shift: int = 0) -> None:
        self.budget = budget
        self.shift = shift  # lines of the stream before the text the nodes were composed from
        self.problems: list[Problem] = []
        self._active: set[int] = set()

    def convert(self, node: Node, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _LimitExceeded(
                node, "document expands to too many nodes (an alias bomb?); not linted", whole_document=True
            )
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if depth >= MAX_DEPTH:
            raise _LimitExceeded(node, f"document nests deeper than {MAX_DEPTH} levels; not linted")
        key = id(node)
        if key in self._active:
            raise _LimitExceeded(node, "recursive alias: a collection contains itself; not linted")
        self._active.add(key)
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item, depth + 1) for item in node.value]
            assert isinstance(node, MappingNode)  # the composer makes scalar, sequence and mapping nodes only
            return self._mapping(node, depth)
        finally:
            self._active.discard(key)

    @staticmethod
    def _scalar(node: ScalarNode) -> Any:
        if node.style:  # quoted and block scalars are strings whatever they look like
            return node.value
        tag = str(node.tag)
        if tag.startswith("tag:yaml.org,2002:") or tag == "?":
            try:
                return resolve_plain_scalar(node.value)
            except OverlongInteger as error:
                raise _LimitExceeded(node, str(error)) from None
        return node.value  # a custom tag constructs nothing: the text is kept as a string

    def _mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, ScalarNode | Node] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "<<" and not key_node.style:
                merges.append(value_node)
                continue
            key = self._key(key_node, depth)
            value = self.convert(value_node, depth + 1)
            if key in seen:
                self.problems.append(_duplicate(key, seen[key], key_node, result[key] == value, self.shift))
            seen[key] = key_node
            result[key] = value
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                merged = self.convert(source, depth + 1)
                if isinstance(merged, dict):
                    for key, value in merged.items():
                        result.setdefault(key, value)
        return result

    def _key(self, node: Node, depth: int) -> str:
        value = self._scalar(node) if isinstance(node, ScalarNode) else self.convert(node, depth + 1)
        if isinstance(value, str):
            return value
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


def _duplicate(key: str, first: Node, second: Node, same: bool, shift: int = 0) -> Problem:
    """A repeated key, where it is repeated: kubectl converts YAML to JSON and keeps the later
    value without a word (the API server never sees the duplicate); kustomize and strict YAML
    readers refuse the file. With the same value twice nothing is lost: a warning."""
    line = first.start_mark.line + 1 + shift
    if same:
        message = (f"duplicate key {key!r}, with the same value as at line {line}: harmless to kubectl, "
                   "but kustomize and strict YAML readers refuse the file; remove one")
    else:
        message = (f"duplicate key {key!r} (first at line {line}) with a different value: kubectl keeps this "
                   f"later value and drops the one at line {line} without a word; kustomize refuses the file")
    return Problem("yaml-duplicate-key", message, second.start_mark.line + 1 + shift, second.start_mark.column + 1,
                   "warning" if same else None, removable=same)


class _LimitExceeded(Exception):
    """A document too large, deep or expanded to lint; whole_document: report it where the
    document starts (the place deep inside where the count ran out says nothing useful)."""

    def __init__(self, node: Node | Event, message: str, whole_document: bool = False) -> None:
        super().__init__(message)
        self.node = node
        self.whole_document = whole_document


class UnreadableFile(Exception):
    """A path that is not read: it cannot be opened, or it is no regular file (a FIFO that would
    block, a device that never ends, a directory, a socket)."""


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def read_bounded(path: Path, limit: int | None = None, follow_links: bool = True) -> bytes:
    """The bytes of a regular file, at most limit + 1 of them (MAX_FILE_BYTES by default): one
    byte past the limit is enough to say the file is too large, and nothing more is read.
    follow_links=False: a symbolic link is not opened (UnreadableFile)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below
        descriptor = os.open(path, flags)
    except (OSError, ValueError) as error:
        raise UnreadableFile(getattr(error, "strerror", None) or str(error)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_TYPES if test(mode)), "not a regular file")
            raise UnreadableFile(f"{kind}, not a regular file; only regular files are read")
        chunks, remaining = [], limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise UnreadableFile(error.strerror or type(error).__name__) from None
    finally:
        os.close(descriptor)


def decode(raw: bytes) -> tuple[str, None] | tuple[None, Problem]:
    """Bytes -> text, or the problem that makes the bytes unreadable as YAML."""
    if len(raw) > MAX_FILE_BYTES:
        return None, Problem(
            "yaml-limit-exceeded",
            f"file is larger than {_size(MAX_FILE_BYTES)}; not linted (KUBELINT_SVC_MAX_FILE_BYTES raises the limit)",
            1, 1,
        )
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), None
            except UnicodeDecodeError:
                break
    if b"\x00" in raw[:8192]:
        return None, Problem("yaml-encoding", "binary file (NUL bytes), not YAML", 1, 1)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        return None, Problem(
            "yaml-encoding",
            f"not valid UTF-8 (byte 0x{raw[error.start]:02x}); Kubernetes manifests must be UTF-8",
            line,
            column,
        )


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count % (1024 * 1024) == 0 else f"{count:,} bytes"


class _UntypedScalarResolver(BaseResolver):
    """Leaves every implicit scalar a string: the converter resolves plain scalars itself, the
    way kubectl does, so ruamel's (YAML 1.2, and slow) per-scalar resolution is skipped."""

    def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
        BaseResolver.__init__(self, loadumper=loadumper or loader)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode:
            return self.DEFAULT_SCALAR_TAG
        if kind is SequenceNode:
            return self.DEFAULT_SEQUENCE_TAG
        return self.DEFAULT_MAPPING_TAG


def _new_yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.Resolver = _UntypedScalarResolver
    return yaml


try:
    from _ruamel_yaml import CParser as _CParser  # type: ignore[import-not-found]  # ruamel.yaml.clib, no stubs
except ImportError:  # pragma: no cover - no C parser here: ruamel's pure-Python one, through YAML
    _CParser = None


if _CParser is not None:
    class _Composer(_CParser, _UntypedScalarResolver):  # type: ignore[misc]
        """libyaml's composer on its own: made once, not per stream as ruamel's YAML makes its
        loader class, and holding no reference to itself, so a stream's buffers are freed as
        soon as it is read instead of waiting for the cyclic collector."""

        def __init__(self, text: str) -> None:
            _CParser.__init__(self, text)
            _UntypedScalarResolver.__init__(self)


def _compose_all(text: str) -> Iterator[Node]:
    if _CParser is None:  # pragma: no cover
        yield from _new_yaml().compose_all(io.StringIO(text))
        return
    composer = _Composer(text)
    try:
        while composer.check_node():
            yield composer.get_node()
    finally:
        composer.dispose()


def _compose(text: str) -> Node | None:
    """The first document's tree."""
    return next(_compose_all(text), None)


def _events(text: str) -> Iterator[Event]:
    if _CParser is None:  # pragma: no cover
        yield from _new_yaml().parse(io.StringIO(text))
        return
    parser = _Composer(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def _syntax_problem(error: YAMLError, fallback_line: int) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if isinstance(error, MarkedYAMLError):
        text = " ".join(part for part in (error.context, error.problem) if part)
    else:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if mark is not None:
        return Problem("yaml-syntax", f"YAML syntax error: {text}", mark.line + 1, mark.column + 1)
    return Problem("yaml-syntax", f"YAML syntax error: {text}", fallback_line, 1)


class _Lines:
    """The lines of a text that begin at column 0 with something other than a blank or a
    comment (separators `---` / `...` among them), with their offsets: one pass of a regular
    expression and newline counts, in C. Every other line's offset is found only when asked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._offsets: dict[int, int] = {0: 0}
        self.separators: list[int] = []
        self.column_zero: list[int] = []  # column-0 lines that are not separators
        line = position = 0
        for match in _COLUMN_ZERO.finditer(text):
            offset = match.start()
            line += text.count("\n", position, offset)
            position = offset
            self._offsets[line] = offset
            (self.separators if _DOC_SEPARATOR.match(text, offset) else self.column_zero).append(line)
        self.count = line + text.count("\n", position) + 1  # lines, the last one possibly empty
        self._starts: list[int] | None = None

    def offset(self, line: int | None) -> int:
        """Where a line starts; the text's length for None or a line past the end."""
        if line is None or line >= self.count:
            return len(self.text)
        found = self._offsets.get(line)
        if found is not None:
            return found
        if self._starts is None:  # a line no column-0 character begins: every line, once
            self._starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return self._starts[line]

    def line_end(self, line: int) -> int:
        """Where the line after `line` starts."""
        newline = self.text.find("\n", self.offset(line))
        return len(self.text) if newline < 0 else newline + 1

    def lines_of(self, offsets: list[int]) -> list[int]:
        """0-based lines of ascending offsets."""
        found, line, position = [], 0, 0
        for offset in offsets:
            line += self.text.count("\n", position, offset)
            position = offset
            found.append(line)
        return found

    def window(self, start: int, stop: int | None) -> str:
        """Lines [start, stop) padded with newlines, so marks keep the stream's line numbers."""
        return "\n" * start + self.text[self.offset(start):self.offset(stop)]

    def separator_after(self, line: int) -> int | None:
        """The first separator line strictly below `line`."""
        index = bisect.bisect_right(self.separators, line)
        return self.separators[index] if index < len(self.separators) else None

    def document_start(self, line: int, floor: int = 0) -> int:
        """The first line of the document holding `line`: its `---`, the line after a `...`, or floor."""
        index = bisect.bisect_right(self.separators, line) - 1
        if index < 0 or self.separators[index] < floor:
            return floor
        opening = self.separators[index]
        if self.text.startswith("...", self.offset(opening)):
            self._offsets.setdefault(opening + 1, self.line_end(opening))
            return opening + 1
        return opening

    def separator_at_or_before(self, line: int, floor: int) -> int:
        """The separator that opens the document holding `line` (or floor, the window's start)."""
        index = bisect.bisect_right(self.separators, line) - 1
        return max(self.separators[index], floor) if index >= 0 else floor


def parse_stream(text: str, keep_nodes: bool = True, wants: Wants | None = None,
                 check_skipped: bool = True) -> Stream:
    """Every document of a YAML stream; a syntax error or an over-deep document costs only the
    document it is in: parsing resumes at the next `---`.

    keep_nodes=False drops each node tree once its data is built (a long stream then never
    holds every tree at once); positions are found again by parsing anew when needed.

    wants: what the run needs of a document of a given kind and apiVersion (FULL, HEADER or
    SKIP), read from its `kind:` and `apiVersion:` lines before anything is parsed. Only the
    header (apiVersion, kind, metadata) of a HEADER document is composed, nothing of a SKIP one;
    the stream is still checked for being well-formed YAML as a whole, by libyaml alone, unless
    check_skipped is False. A stream whose layout the cheap reading cannot vouch for is read whole.
    """
    lines = _Lines(text)
    if wants is not None and not _odd_line_breaks(text):
        masked = _masked(lines, wants)
        if masked is not None and _well_formed(lines, masked.windows + (masked.bodies if check_skipped else [])):
            # a header's tree is small, and kept: the rest of its document is never composed
            stream = _parse_lines(_Lines(masked.text), keep_nodes, _helm_sources(lines), masked.headers)
            if _confirms(stream, masked):
                return stream
    return _parse_lines(lines, keep_nodes, _helm_sources(lines))


def _helm_sources(lines: _Lines) -> list[tuple[int, str]]:
    if "# Source: " not in lines.text:
        return []
    matches = list(_HELM_SOURCE.finditer(lines.text))
    return list(zip(lines.lines_of([m.start() for m in matches]), [m.group(1) for m in matches], strict=True))


def _parse_lines(lines: _Lines, keep_nodes: bool, helm_sources: list[tuple[int, str]],
                 keep_at: Container[int] = ()) -> Stream:
    """parse_stream's work; keep_at: first lines of documents whose (small) trees are kept anyway."""
    text = lines.text
    documents: list[Document] = []
    problems: list[Problem] = []
    budget = _BASE_NODE_BUDGET + 2 * len(text)
    # Windows of lines [start, stop) still to compose, the next one last. A document that cannot
    # be read ends its window; the lines around it are given windows of their own.
    pending: list[tuple[int, int | None]] = [(0, None)]
    while pending:
        start, stop = pending.pop()
        if start > 0:  # after a document that could not be read: one document a window, so that
            # checking and copying a window never costs the rest of the stream again
            cap = lines.separator_after(start)
            if cap is not None and (stop is None or cap < stop):
                pending.append((cap, stop))
                stop = cap
        # A window's marks count lines from the window's start (shift says how many come before
        # it), unless the trees are kept: those are padded to count from the stream's start. A
        # window never copies the stream's lines before it, so a stream of many broken
        # documents costs each document once, not the rest of the stream each time.
        shift = 0
        if (start, stop) == (0, None):
            source = text
        elif keep_nodes:
            source = lines.window(start, stop)
        else:
            source, shift = text[lines.offset(start):lines.offset(stop)], start
        try:
            _refuse_oversized(lines, start, stop, source)
            for node in _compose_all(source):
                document = _convert_document(node, budget, helm_sources, shift)
                document.first_line = lines.document_start(node.start_mark.line + shift, start)
                if not keep_nodes and document.first_line not in keep_at:
                    document.node = None
                documents.append(document)
                budget -= 1
        except _LimitExceeded as error:
            mark = error.node.start_mark
            line = mark.line + shift
            problems.append(Problem("yaml-limit-exceeded", str(error), line + 1, mark.column + 1))
            # the document is skipped: the lines after it are composed, after those before it
            after = lines.separator_after(line)
            if after is not None:
                pending.append((after, stop))
            opening = lines.separator_at_or_before(line, start)
            if opening > start:
                pending.append((start, opening))
        except (YAMLError, RecursionError, ValueError) as error:
            if isinstance(error, YAMLError):
                problem = _syntax_problem(error, start + 1 - shift)
                problem = replace(problem, line=problem.line + shift)
            else:
                problem = Problem("yaml-limit-exceeded", "document nests too deeply to parse; not linted", start + 1, 1)
            problems.append(problem)
            resume = lines.separator_after(max(problem.line - 2, start))
            if resume is not None and (stop is None or resume < stop):
                pending.append((resume, stop))
    return Stream(documents, problems)


# What a run needs of one document, by its kind and apiVersion (see parse_stream).
FULL, HEADER, SKIP = "full", "header", "skip"
Wants = Callable[[str, str], str]
HEADER_KEYS = frozenset({"apiVersion", "kind", "metadata"})
# a top-level `key: value` line of a block mapping (the only layout read cheaply)
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]+([^#]*?))?[ \t]*(?:#.*)?\r?\n?")
_BLANKS_AND_COMMENTS = re.compile(r"(?:[ \t\r]*(?:#[^\n]*)?\n)*")
_PLAIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")


@dataclass
class _Masked:
    """A stream with the lines no rule reads blanked (line numbers kept): the first line of each
    document read only for its header, with the kind its `kind:` line names."""

    text: str
    headers: dict[int, str]
    # line ranges [start, stop) of the documents not read whole, each of which must parse on its
    # own: windows cut at every header key and at the key after it (but the last), so each that
    # parses proves the next cut a top-level key (not a line inside a quoted scalar or a flow
    # collection that merely looks like one); bodies: the rest, only syntax-checked
    windows: list[tuple[int, int]]
    bodies: list[tuple[int, int]]


def _masked(lines: _Lines, wants: Wants) -> _Masked | None:
    """The stream to compose instead of `lines`, or None when every document is read whole."""
    text = lines.text
    top: dict[int, list[int]] = {}  # document start line -> its column-0 lines
    separators = set(lines.separators)
    bounds = sorted({0, *lines.separators})
    for line in lines.column_zero:
        top.setdefault(bounds[bisect.bisect_right(bounds, line) - 1], []).append(line)
    kept: list[tuple[int, int]] = []  # line ranges [start, stop) kept as written
    headers: dict[int, str] = {}
    windows: list[tuple[int, int]] = []
    bodies: list[tuple[int, int]] = []
    lazy = False
    for number, begin in enumerate(bounds):
        end = bounds[number + 1] if number + 1 < len(bounds) else lines.count
        keys = _top_keys(lines, top.get(begin, []), begin if begin in separators else None)
        decision = FULL
        if keys is not None and "kind" in keys and "apiVersion" in keys:
            decision = wants(keys["kind"][1], keys["apiVersion"][1])
            if decision != FULL and _may_hold_alias(text, lines.offset(begin), lines.offset(end)):
                decision = FULL  # an alias's anchor is checked only when composed: an undefined one is an error
        if decision == FULL:
            kept.append((begin, end))
            continue
        lazy = True
        if begin in separators:
            kept.append((begin, begin + 1))
        assert keys is not None  # a decision other than FULL needs the keys read
        owners = sorted(line for line, _ in keys.values())
        cuts = {owners[0]}  # the document's first key: nothing but blanks and comments before it
        body = owners[0]  # where the lines no header range holds begin, after the last of them
        if decision == HEADER:
            ranges = []
            for key, (line, _) in keys.items():
                if key in HEADER_KEYS:
                    following = [other for other in owners if other > line]
                    ranges.append((line, following[0] if following else end))
            kept += ranges
            ranges.sort()
            cuts.update(start for start, _ in ranges)
            # the last range needs no proof of its end: were its value to go on (an open quote or
            # flow), the masked stream would end it at blank lines and a `---`, a syntax error
            cuts.update(stop for _, stop in ranges[:-1])
            body = ranges[-1][1]
            headers[lines.document_start(begin) if begin in separators else begin] = keys["kind"][1]
        ordered = sorted(cuts)
        # a one-line `kind: Word` or `apiVersion: word` ends where its line does: nothing to prove
        plain = {keys["kind"][0], keys["apiVersion"][0]}
        windows += [(start, stop) for start, stop in itertools.pairwise(ordered)
                    if not (stop == start + 1 and start in plain)]
        if body < end:
            bodies.append((body, end))
    if not lazy:
        return None
    parts: list[str] = []
    position = 0  # next line not yet written
    for start, stop in sorted(kept):
        if start > position:
            parts.append("\n" * (start - position))
        parts.append(text[lines.offset(start):lines.offset(stop)])
        position = stop
    return _Masked("".join(parts), headers, windows, bodies)


def _top_keys(lines: _Lines, column_zero: list[int], separator: int | None) -> dict[str, tuple[int, str]] | None:
    """key -> (line, plain value) of a document's top-level keys, when every column-0 line of it
    is a plain `key: value` and no key repeats; None when its layout is any other."""
    text = lines.text
    if separator is not None and text[lines.offset(separator) + 3:lines.line_end(separator)].strip():
        return None  # `--- {...}`, `--- !tag`, `--- |`: read whole
    if column_zero:
        opening = lines.line_end(separator) if separator is not None else 0
        if not _BLANKS_AND_COMMENTS.fullmatch(text, opening, lines.offset(column_zero[0])):
            return None  # an indented node before the first key: the document is no block mapping at column 0
    keys: dict[str, tuple[int, str]] = {}
    for line in column_zero:
        match = _TOP_KEY.fullmatch(text, lines.offset(line), lines.line_end(line))
        if match is None or match.group(1) in keys or match.group(1) == "<<":
            return None
        value = match.group(2) or ""
        if match.group(1) in ("kind", "apiVersion") and not _PLAIN_WORD.fullmatch(value):
            return None
        keys[match.group(1)] = (line, value)
    return keys


# An alias (`*name`, libyaml's name characters) where one is written: after `- `, `: `, `? ` or in
# a flow collection. One alone at the start of a line (a key `*a : v`, or a value below its key)
# is not looked for: markdown's `*Note*` begins lines of CRD descriptions.
_ALIAS_NAME = re.compile(r"\*[A-Za-z0-9_-]")
_BEFORE_ALIAS = re.compile(r"(?:^[ \t]*(?:-[ \t]+)+|[:?][ \t]*|[\[{,][ \t]*)\Z", re.MULTILINE)


def _may_hold_alias(text: str, begin: int, end: int) -> bool:
    """Whether text[begin:end] may hold an alias: libyaml's parser does not look anchors up, so
    an undefined one is found only by composing the document."""
    if text.find("*", begin, end) < 0:
        return False
    for match in _ALIAS_NAME.finditer(text, begin, end):
        line = max(begin, text.rfind("\n", begin, match.start()) + 1)
        if _BEFORE_ALIAS.search(text, line, match.start()):
            return True
    return False


def _odd_line_breaks(text: str) -> bool:
    """Whether the text breaks lines where a column-0 scan does not look: libyaml also ends a
    line at a lone CR, NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR, so `a: x<NEL>kind: Pod`
    holds a second `kind` key that a scan of "\n"-lines would not see."""
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        return True
    return "\r" in text and text.count("\r") != text.count("\r\n")


def _well_formed(lines: _Lines, ranges: list[tuple[int, int]]) -> bool:
    """Whether libyaml parses each range of lines on its own: its cheapest complete syntax check
    (no Python object is made per event). The ranges are parsed as the documents of one stream,
    so that a quoted scalar or flow collection left open in one meets a `---`: a syntax error."""
    if not ranges:
        return True
    pieces = []
    for start, stop in ranges:
        piece = lines.text[lines.offset(start):lines.offset(stop)]
        pieces.append(piece if piece.endswith("\n") else piece + "\n")
    text = "---\n".join(pieces)
    try:
        if _CParser is not None:
            _CParser(text).raw_parse()
        else:  # pragma: no cover
            collections.deque(_events(text), maxlen=0)
    except (YAMLError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _confirms(stream: Stream, masked: _Masked) -> bool:
    """Whether the masked stream read as the cheap reading expected: no syntax error (a masked
    line the layout did not show, such as a multi-line scalar at column 0, read whole instead),
    and each header read names the kind its `kind:` line gave."""
    if any(problem.rule == "yaml-syntax" for problem in stream.problems):
        return False
    found = 0
    for document in stream.documents:
        kind = masked.headers.get(document.first_line)
        if kind is None:
            continue
        if not isinstance(document.data, dict) or document.data.get("kind") != resolve_plain_scalar(kind):
            return False
        document.partial = True
        found += 1
    return found == len(masked.headers)


# The trees composed last, of any stream: the findings on one object come together, so a few
# serve them, and a run never holds the trees of every document with a finding.
_TREES_KEPT = 4
_RECENT_TREES: collections.OrderedDict[tuple[DocumentTrees, int, bool], tuple[Node | None, int]] = \
    collections.OrderedDict()


class DocumentTrees:
    """The node trees of a stream's documents, each composed alone when a position in it is
    first asked for: a finding in a small document of a large file composes that document only."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines: _Lines | None = None
        self._whole: list[Node | None] | None = None

    def by_index(self, document_index: int) -> Node | None:
        """The tree of the stream's n-th document (the whole stream is composed once)."""
        if self._whole is None:
            self._whole = [document.node for document in parse_stream(self._text).documents]
        return self._whole[document_index] if document_index < len(self._whole) else None

    def at(self, first_line: int, header_only: bool = False) -> tuple[Node | None, int]:
        """The tree of the document that begins at first_line (0-based), and the number of lines
        before it: its marks count lines from the document's own first line. header_only: of
        its apiVersion, kind and metadata only (the rest was never more than syntax-checked)."""
        key = (self, first_line, header_only)  # an object read whole later asks for its whole tree
        found = _RECENT_TREES.pop(key, None)
        if found is None:
            found = self._compose(first_line, header_only)
        _RECENT_TREES[key] = found  # the most recently used last: the oldest goes first
        while len(_RECENT_TREES) > _TREES_KEPT:
            _RECENT_TREES.popitem(last=False)
        return found

    def text_at(self, first_line: int) -> str:
        """The text of the document that begins at first_line (0-based)."""
        lines = self._lines = self._lines or _Lines(self._text)
        if first_line >= lines.count:
            return ""
        return self._text[lines.offset(first_line):lines.offset(lines.separator_after(first_line))]

    def data_at(self, first_line: int) -> tuple[Any, str | None]:
        """The whole data of the document that begins at first_line (0-based), read within the
        loader's limits, for a document first read for its header: (data, None), or (None, why
        it cannot be read)."""
        lines = self._lines = self._lines or _Lines(self._text)
        if first_line >= lines.count:
            return None, "the file changed while it was read"
        window = self._text[lines.offset(first_line):lines.offset(lines.separator_after(first_line))]
        alone = parse_stream(window, keep_nodes=False)
        if len(alone.documents) == 1 and alone.documents[0].data is not None:
            return alone.documents[0].data, None
        if alone.problems:  # over a limit, or not YAML: the stream's directives would not change that
            return None, alone.problems[0].message
        # a document that needs the stream's directives: read with them
        whole = parse_stream(self._text, keep_nodes=False).documents
        found = next((document for document in whole if document.first_line == first_line), None)
        if found is not None and found.data is not None:
            return found.data, None
        return None, found.problems[0].message if found is not None and found.problems else "it is not a mapping"

    def _compose(self, first_line: int, header_only: bool) -> tuple[Node | None, int]:
        lines = self._lines = self._lines or _Lines(self._text)
        if first_line < lines.count:
            window = self._text[lines.offset(first_line):lines.offset(lines.separator_after(first_line))]
            if header_only:
                masked = _masked(_Lines(window), lambda kind, api_version: HEADER)
                if masked is None:
                    return None, first_line
                window = masked.text
            try:
                node = _compose(window)
            except (YAMLError, RecursionError, ValueError):
                node = None  # a document that needs the stream's directives: composed with them below
            if node is not None or header_only:
                return node, first_line
        whole = parse_stream(self._text)
        found = next((document.node for document in whole.documents if document.first_line == first_line), None)
        return found, 0


def _refuse_oversized(lines: _Lines, start: int, stop: int | None, source: str) -> None:
    """Raise _LimitExceeded before composing a window (lines [start, stop), as `source`) that nests
    deeper than MAX_DEPTH or holds a document of more than MAX_NODES nodes: composing the one
    would overflow the C stack, the other exhaust memory. Counting characters rules out both for
    nearly every file; the rest are measured with the parser, which holds one event at a time."""
    text = lines.text
    begin, end = lines.offset(start), lines.offset(stop)
    # Every level of nesting needs one of these characters, so their count bounds the depth.
    deep = sum(text.count(char, begin, end) for char in "[{-:?") > _SAFE_COMPOSE_NESTING
    if not deep and not _may_exceed_nodes(lines, begin, end):
        return
    depth = nodes = 0
    document_start: Event | None = None
    try:
        for event in _events(source):
            name = type(event).__name__
            if name == "DocumentStartEvent":
                nodes, document_start = 0, event
            elif name in ("ScalarEvent", "AliasEvent", "MappingStartEvent", "SequenceStartEvent"):
                nodes += 1
                if nodes > MAX_NODES:
                    raise _LimitExceeded(
                        document_start or event,
                        f"document holds more than {MAX_NODES:,} nodes; not linted "
                        "(KUBELINT_SVC_MAX_NODES raises the limit)",
                        whole_document=True,
                    )
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _LimitExceeded(event, f"document nests deeper than {MAX_DEPTH} levels; not linted")
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except YAMLError:
        return  # composing stops at the same error; what follows it is checked when parsing resumes


def _node_bound(text: str, begin: int, end: int) -> int:
    """More than the nodes text[begin:end] can hold: each node but a document's first follows a
    separator (`:`, `,`, `-`, `?`, a line break) or opens a collection."""
    separators = sum(text.count(char, begin, end) for char in ":,-?\n")
    return 2 * separators + text.count("[", begin, end) + text.count("{", begin, end) + 2


def _may_exceed_nodes(lines: _Lines, begin: int, end: int) -> bool:
    if _node_bound(lines.text, begin, end) <= MAX_NODES:
        return False
    cuts = [offset for offset in map(lines.offset, lines.separators) if begin < offset < end]
    edges = [begin, *cuts, end]
    return any(_node_bound(lines.text, low, high) > MAX_NODES for low, high in itertools.pairwise(edges))


def _convert_document(node: Node, budget: int, helm_sources: list[tuple[int, str]], shift: int = 0) -> Document:
    """shift: lines of the stream before the text node was composed from."""
    converter = _Converter(budget, shift)
    helm_source, line_offset = _helm_source_for(node.start_mark.line + shift, helm_sources)
    try:
        data = converter.convert(node)
    except _LimitExceeded as error:
        # an expansion is reported where the document starts: deep inside it says nothing useful
        mark = (node if error.whole_document else error.node).start_mark
        problem = Problem("yaml-limit-exceeded", str(error), mark.line + 1 + shift, mark.column + 1)
        return Document(None, None, helm_source, line_offset, [problem])
    except RecursionError:
        mark = node.start_mark
        problem = Problem(
            "yaml-limit-exceeded", "document nests too deeply; not linted", mark.line + 1 + shift, mark.column + 1
        )
        return Document(None, None, helm_source, line_offset, [problem])
    return Document(data, node, helm_source, line_offset, converter.problems)


def _helm_source_for(doc_line: int, helm_sources: list[tuple[int, str]]) -> tuple[str | None, int]:
    """The `# Source:` comment directly above a document (helm template output), if any."""
    index = bisect.bisect_left(helm_sources, (doc_line, "")) - 1  # the last comment above the document
    if index < 0:
        return None, 0
    line, name = helm_sources[index]
    return name, line + 1


class YamlFileError(Exception):
    """A settings-like file (config, rule, kustomization) is not readable YAML: `file:line:col: why`."""


def read_documents(path: Path) -> list[Document]:
    """Every document of a small YAML file we rely on, or YamlFileError naming the first problem."""
    try:
        raw = read_bounded(path)
    except UnreadableFile as error:
        raise YamlFileError(f"{path}: {error}") from None
    text, problem = decode(raw)
    if problem is not None:
        raise YamlFileError(f"{path}:{problem.line}:{problem.column}: {problem.message}")
    assert text is not None  # decode() gives the text or a problem
    stream = parse_stream(text)
    problems = stream.problems + [p for document in stream.documents for p in document.problems]
    if problems:
        raise YamlFileError(f"{path}:{problems[0].line}:{problems[0].column}: {problems[0].message}")
    return stream.documents


def locate_span(node: Node | None, path: FieldPath, at_key: bool = True) -> tuple[int, int, int, int]:
    """1-based (line, column, end line, end column exclusive) of what locate() points at: the
    whole scalar, or the first character of a collection."""
    if node is None:
        return 1, 1, 1, 2
    current: Node = node
    candidates: list[Node] = []
    for part in path:
        found = child_node(current, part)
        if found is None:
            break
        key_node, current = found
        candidates = [n for n in (key_node, current) if n is not None]
    line, column, _ = locate(node, path, at_key)
    for marked in candidates:
        start = (marked.start_mark.line + 1, marked.start_mark.column + 1)
        if isinstance(marked, ScalarNode) and start == (line, column):
            return line, column, marked.end_mark.line + 1, marked.end_mark.column + 1
    return line, column, line, column + 1


def locate(node: Node | None, path: FieldPath, at_key: bool = True) -> tuple[int, int, bool]:
    """1-based (line, column) of the node at path; (nearest existing ancestor, False) if absent.

    at_key: for a mapping entry, point at the key rather than the value.
    """
    if node is None:
        return 1, 1, False
    current = node
    key_mark = None
    for part in path:
        found = child_node(current, part)
        if found is None:
            mark = key_mark or current.start_mark
            return mark.line + 1, mark.column + 1, False
        key_node, current = found
        key_mark = key_node.start_mark if key_node is not None else None
    mark = key_mark if (at_key and key_mark is not None) else current.start_mark
    return mark.line + 1, mark.column + 1, True


def child_node(node: Node, part: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            return None, node.value[part]
        return None
    if isinstance(node, MappingNode):
        merges = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                if key_node.value == str(part):
                    return key_node, value_node
                if key_node.value == "<<" and not key_node.style:
                    merges.append(value_node)
        for merge in merges:
            for source in merge.value if isinstance(merge, SequenceNode) else [merge]:
                found = child_node(source, part)
                if found is not None:
                    return found
    return None
