"""YAML text -> plain data, each document keeping its node tree for positions.

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
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import Event
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver

from kubelint_svc.file_reads import Problem, limit_from_environment
from kubelint_svc.findings import FieldPath

MAX_DEPTH = 200


# ruamel's C composer recurses in C: a nesting far deeper than this would overflow the C stack,
# so a stream that might nest that deep is measured with the (iterative) parser first.
_SAFE_COMPOSE_NESTING = 2000


# Nodes one document may hold before it is composed (a node costs ~150 bytes once composed): the
# largest real objects (CRDs) hold tens of thousands; a 60 MB flat list holds thirty million.
MAX_NODES = limit_from_environment("KUBELINT_SVC_MAX_NODES", 1_000_000)


# Digits of an integer: int64 needs 19; far longer ones are hostile (and cost quadratic time).
MAX_INTEGER_DIGITS = 100


_BASE_NODE_BUDGET = 50_000


_DOC_SEPARATOR = re.compile(r"^(---|\.\.\.)(\s|$)", re.MULTILINE)


# a line that begins at column 0 with something other than a blank or a comment
# A line beginning at column 0 with something other than a blank or a comment, found after its
# line break: a search the regex engine starts at each `\n` only (`^` with MULTILINE is tried at
# every character, ten times as slow on a CRD); the text's first line is looked at apart.
_COLUMN_ZERO = re.compile(r"\n[^ \t\r\n#]")
_NOT_COLUMN_ZERO = " \t\r\n#"
# What may stand before a block collection's first key or `-` on its line (_nesting_bound)
_BLOCK_PREFIX = re.compile(r"[ \t?:&!-]*")
_BLOCK_PREFIX_AFTER_BREAK = re.compile(r"\n([ \t?:&!-]*)")
# A line of block YAML that opens no flow collection and no quoted scalar (flow_depth_bound): blanks,
# `- ` entries, a plain key and `:`, then nothing, a block scalar's header (`|`, `>-`: its body
# skipped) or a plain scalar that begins with no indicator and holds no `: ` (no second key); a
# comment. Read as the continuation of a plain scalar instead, it opens nothing either.
_PLAIN_BLOCK_LINE = re.compile(
    r"(?P<indent> *)(?P<dashes>(?:-(?: +|(?=\r?\n|$)))*)"
    r"(?:(?P<key>[A-Za-z0-9_][A-Za-z0-9_./-]*):(?= |\r?\n|$) *)?"
    r"(?:(?P<header>[|>][+-]?)|[^ \t\r\n\-?:,\[\]{}#&*!|>'\"%@`](?:[^\r\n:]|:(?=[^ \t\r\n]))*)?"
    r"[ \t]*(?:(?<![^ \t\n])#[^\r\n]*)?\r?(?=\n|$)"  # a `#` after a blank (or none) begins a comment
)
_MARKER_LINE = re.compile(r"(?:---|\.\.\.)(?:[ \t]+#[^\r\n]*)?[ \t]*\r?(?=\n|$)")
_BLANK_LINE = re.compile(r"\n( *)\r?(?=\n)")
_INDENTATION = re.compile(r"\n( *)")
_BODIES: dict[int, re.Pattern[str]] = {}  # a block scalar's body by its indentation


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
        # a plain scalar's tag is the resolver's own Tag (str(node.tag) decodes it anew each time)
        tag = _PLAIN_TAG if node.ctag is BaseResolver.DEFAULT_SCALAR_TAG else str(node.tag)
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


_PLAIN_TAG = str(BaseResolver.DEFAULT_SCALAR_TAG)  # the Tag _UntypedScalarResolver gives every plain scalar


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


def compose_first(text: str) -> Node | None:
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


def parses(text: str) -> bool:
    """Whether libyaml parses text as a stream: its cheapest complete syntax check (no Python
    object is made per event)."""
    try:
        if _CParser is not None:
            _CParser(text).raw_parse()
        else:  # pragma: no cover
            collections.deque(_events(text), maxlen=0)
    except (YAMLError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _syntax_problem(error: YAMLError, fallback_line: int) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if isinstance(error, MarkedYAMLError):
        text = " ".join(part for part in (error.context, error.problem) if part)
    else:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if mark is not None:
        return Problem("yaml-syntax", f"YAML syntax error: {text}", mark.line + 1, mark.column + 1)
    return Problem("yaml-syntax", f"YAML syntax error: {text}", fallback_line, 1)


class Lines:
    """The lines of a text that begin at column 0 with something other than a blank or a
    comment (separators `---` / `...` among them), with their offsets: one pass of a regular
    expression and newline counts, in C. Every other line's offset is found only when asked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._offsets: dict[int, int] = {0: 0}
        self.separators: list[int] = []
        self.column_zero: list[int] = []  # column-0 lines that are not separators
        line = position = 0
        first = [0] if text[:1] and text[0] not in _NOT_COLUMN_ZERO else []
        for offset in (*first, *(match.start() + 1 for match in _COLUMN_ZERO.finditer(text))):
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


def helm_source_comments(lines: Lines) -> list[tuple[int, str]]:
    if "# Source: " not in lines.text:
        return []
    matches = list(_HELM_SOURCE.finditer(lines.text))
    return list(zip(lines.lines_of([m.start() for m in matches]), [m.group(1) for m in matches], strict=True))


def parse_lines(lines: Lines, keep_nodes: bool, helm_sources: list[tuple[int, str]],
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


def _refuse_oversized(lines: Lines, start: int, stop: int | None, source: str) -> None:
    """Raise _LimitExceeded before composing a window (lines [start, stop), as `source`) that nests
    deeper than MAX_DEPTH or holds a document of more than MAX_NODES nodes: composing the one
    would overflow the C stack, the other exhaust memory. Counting characters rules out both for
    nearly every file; the rest are measured with the parser, which holds one event at a time."""
    text = lines.text
    begin, end = lines.offset(start), lines.offset(stop)
    # Every level of nesting needs one of these characters, so their count bounds the depth; a
    # large document (a CRD) holds thousands, and is bounded by its lines instead.
    deep = sum(text.count(char, begin, end) for char in "[{-:?") > _SAFE_COMPOSE_NESTING \
        and _nesting_bound(text[begin:end]) > _SAFE_COMPOSE_NESTING
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


def _nesting_bound(window: str) -> int:
    """More than the levels of collections window can nest. A block collection starts at the
    column of its first key or `-` (or of the anchor or tag before its first key), after only
    blanks, indicators (`- `, `? `, `: `) and such properties on its line; one nested in it starts
    further right (on the same line, after an indicator; or indented more on a later one), but
    for a sequence at its mapping's column (`key:`, then `- item` below it), which holds only
    what starts further right: so block collections nest at most twice the widest such prefix
    deep. Flow collections hold only flow collections (flow_depth_bound)."""
    first = _BLOCK_PREFIX.match(window)
    after = max(map(len, _BLOCK_PREFIX_AFTER_BREAK.findall(window)), default=0)
    prefix = max(len(first.group()) if first is not None else 0, after)
    blocks = 2 * (prefix + 1) + 2
    flows = 2 * window.count("[") + window.count("{")
    if blocks + flows > _SAFE_COMPOSE_NESTING:  # a Grafana dashboard's JSON: most lie in block scalars
        flows = flow_depth_bound(window)
    return blocks + flows


def flow_depth_bound(window: str) -> int:
    """More than the levels of flow collections window can nest: two for each `[` (a sequence,
    and the single-pair mapping an entry `a: b` of it makes), one for each `{`, but for those in
    the bodies of block scalars (`key: |`) met while nothing is left open. Lines are read from the
    first while each is plain block YAML (_PLAIN_BLOCK_LINE: it opens no flow collection and no
    quoted scalar, whatever it turns out to continue); from the first that is not, every bracket
    counts. A body is the lines libyaml's scanner gives the scalar: indented at least as its first
    non-empty line (or a blank line before it, if wider), deeper than the collection holding it."""
    total = 2 * window.count("[") + window.count("{")
    if not total or _odd_breaks(window):  # lines end only at `\n` here: a lone CR or NEL too in libyaml
        return total
    in_bodies, position = 0, 0
    while position < len(window):
        line = _PLAIN_BLOCK_LINE.match(window, position) or _MARKER_LINE.match(window, position)
        if line is None:
            break  # a line that may open one: every bracket from here counts
        end = line.end()
        if line.lastgroup == "header":
            body_end = _block_body_end(window, end, _holder_column(line, position))
            in_bodies += 2 * window.count("[", end, body_end) + window.count("{", end, body_end)
            end = body_end
        position = end + 1  # past the line break
    return total - in_bodies


def _odd_breaks(text: str) -> bool:
    """Whether libyaml ends a line of text where a `\\n` does not: at a lone CR, NEL, LINE or
    PARAGRAPH SEPARATOR (counted: a search for them costs ten times as much)."""
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        return True
    return "\r" in text and text.count("\r") != text.count("\r\n")


def _holder_column(header: re.Match[str], start: int) -> int:
    """The column of the block collection holding a block scalar whose header is on this line:
    its key's, else its last `-`'s; else the header's own (the holder starts further left)."""
    if header.group("key") is not None:
        return header.start("key") - start
    dashes = header.group("dashes").rstrip()
    if dashes:
        return header.start("dashes") - start + dashes.rfind("-")
    return header.start("header") - start


def _block_body_end(window: str, end: int, holder: int) -> int:
    """Where the body of a block scalar whose header line ends at end stops (at a line break, or
    the window's end): its indentation is the widest of its leading blank lines and its first
    non-empty line, as libyaml finds it; one not deeper than the holder leaves the body empty."""
    position, widest = end, 0
    while (blank := _BLANK_LINE.match(window, position)) is not None:
        widest, position = max(widest, len(blank.group(1))), blank.end()
    first = _INDENTATION.match(window, position)
    indentation = max(widest, len(first.group(1)) if first is not None else 0)
    if first is None or indentation <= holder:
        return end
    body = _BODIES.get(indentation)
    if body is None:
        body = _BODIES.setdefault(indentation, re.compile(rf"(?:\n(?: {{{indentation}}}[^\n]*| *\r?(?=\n|$)))*"))
    skipped = body.match(window, end)  # matches always, if only the empty text
    return skipped.end() if skipped is not None else end


def _node_bound(text: str, begin: int, end: int) -> int:
    """More than the nodes text[begin:end] can hold: each node but a document's first follows a
    separator (`:`, `,`, `-`, `?`, a line break) or opens a collection."""
    separators = sum(text.count(char, begin, end) for char in ":,-?\n")
    return 2 * separators + text.count("[", begin, end) + text.count("{", begin, end) + 2


def _may_exceed_nodes(lines: Lines, begin: int, end: int) -> bool:
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
