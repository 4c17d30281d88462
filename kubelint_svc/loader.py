"""Loader: bytes -> YAML documents as plain data, each keeping its node tree for positions.

Parsing is ruamel.yaml's C-backed composer (safe: no tag ever constructs an object); the
node -> data conversion is ours, so that scalars resolve as kubectl's YAML decoder resolves
them, duplicate keys and alias bombs become problems instead of crashes, and every value
can be traced back to a 1-based line and column.
"""

from __future__ import annotations

import bisect
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver

MAX_DEPTH = 200
# ruamel's C composer recurses in C: a nesting far deeper than this would overflow the C stack,
# so a stream that might nest that deep is measured with the (iterative) parser first.
_SAFE_COMPOSE_NESTING = 2000
MAX_FILE_BYTES = 64 * 1024 * 1024
_BASE_NODE_BUDGET = 50_000

_DOC_SEPARATOR = re.compile(r"^(---|\.\.\.)(\s|$)", re.MULTILINE)
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


@dataclass
class Document:
    """One YAML document of a stream: its data, its node tree, where it came from."""

    data: Any
    node: Node | None
    helm_source: str | None = None
    line_offset: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Stream:
    documents: list[Document]
    problems: list[Problem]


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

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.problems: list[Problem] = []
        self._active: set[int] = set()

    def convert(self, node: Node, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _LimitExceeded(
                node, "document expands to too many nodes (an alias bomb?); not linted"
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
            return self._mapping(node, depth)
        finally:
            self._active.discard(key)

    @staticmethod
    def _scalar(node: ScalarNode) -> Any:
        if node.style:  # quoted and block scalars are strings whatever they look like
            return node.value
        tag = str(node.tag)
        if tag.startswith("tag:yaml.org,2002:") or tag == "?":
            return resolve_plain_scalar(node.value)
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
            if key in seen:
                first = seen[key].start_mark
                self.problems.append(
                    Problem(
                        "yaml-duplicate-key",
                        f"duplicate key {key!r} (first defined at line {first.line + 1}); "
                        "the API server's strict decoding rejects it",
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                    )
                )
            seen[key] = key_node
            result[key] = self.convert(value_node, depth + 1)
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                merged = self.convert(source, depth + 1)
                if isinstance(merged, dict):
                    for key, value in merged.items():
                        result.setdefault(key, value)
        return result

    def _key(self, node: Node, depth: int) -> str:
        if isinstance(node, ScalarNode):
            value = node.value if node.style else resolve_plain_scalar(node.value)
        else:
            value = self.convert(node, depth + 1)
        if isinstance(value, str):
            return value
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


class _LimitExceeded(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node


def decode(raw: bytes) -> tuple[str | None, Problem | None]:
    """Bytes -> text, or the problem that makes the bytes unreadable as YAML."""
    if len(raw) > MAX_FILE_BYTES:
        return None, Problem(
            "yaml-limit-exceeded", f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not linted", 1, 1
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
    """Where each line of a text starts, and its `---` / `...` separator lines: one pass each."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.separators = [self.line_of(m.start()) for m in _DOC_SEPARATOR.finditer(text)]

    def line_of(self, offset: int) -> int:
        """0-based line holding a character offset."""
        return bisect.bisect_right(self.starts, offset) - 1

    def window(self, start: int, stop: int | None) -> str:
        """Lines [start, stop) padded with newlines, so marks keep the stream's line numbers."""
        end = self.starts[stop] if stop is not None and stop < len(self.starts) else len(self.text)
        return "\n" * start + self.text[self.starts[start] if start < len(self.starts) else len(self.text):end]

    def separator_after(self, line: int) -> int | None:
        """The first separator line strictly below `line`."""
        index = bisect.bisect_right(self.separators, line)
        return self.separators[index] if index < len(self.separators) else None

    def separator_at_or_before(self, line: int, floor: int) -> int:
        """The separator that opens the document holding `line` (or floor, the window's start)."""
        index = bisect.bisect_right(self.separators, line) - 1
        return max(self.separators[index], floor) if index >= 0 else floor


def parse_stream(text: str, keep_nodes: bool = True) -> Stream:
    """Every document of a YAML stream; a syntax error or an over-deep document costs only the
    document it is in: parsing resumes at the next `---`.

    keep_nodes=False drops each node tree once its data is built (a long stream then never
    holds every tree at once); positions are found again by parsing anew when needed.
    """
    lines = _Lines(text)
    documents: list[Document] = []
    problems: list[Problem] = []
    helm_sources = [(lines.line_of(m.start()), m.group(1)) for m in _HELM_SOURCE.finditer(text)]
    budget = _BASE_NODE_BUDGET + 2 * len(text)
    start, stop = 0, None  # the window being composed: lines [start, stop)
    after_stop: int | None = None  # where to go on once the window is done (past a too-deep document)
    while True:
        source = text if (start, stop) == (0, None) else lines.window(start, stop)
        resume: int | None
        try:
            if stop is None:
                _refuse_deep_nesting(source)
            for node in _new_yaml().compose_all(io.StringIO(source)):
                document = _convert_document(node, budget, helm_sources)
                if not keep_nodes:
                    document.node = None
                documents.append(document)
                budget -= 1
            resume = None
        except _LimitExceeded as error:
            mark = error.node.start_mark
            problems.append(Problem("yaml-limit-exceeded", str(error), mark.line + 1, mark.column + 1))
            opening = lines.separator_at_or_before(mark.line, start)
            if opening > start:  # compose the documents before the deep one first
                start, stop, after_stop = start, opening, lines.separator_after(mark.line)
                continue
            resume = lines.separator_after(mark.line)
            if resume is None:
                return Stream(documents, problems)
            start = resume
            continue
        except (YAMLError, RecursionError, ValueError) as error:
            if isinstance(error, YAMLError):
                problem = _syntax_problem(error, start + 1)
            else:
                problem = Problem("yaml-limit-exceeded", "document nests too deeply to parse; not linted", start + 1, 1)
            problems.append(problem)
            resume = lines.separator_after(max(problem.line - 2, start))
            if resume is not None and (stop is None or resume < stop):
                start = resume
                continue
        if stop is None or after_stop is None:
            return Stream(documents, problems)
        start, stop, after_stop = after_stop, None, None


def _refuse_deep_nesting(text: str) -> None:
    """Raise _LimitExceeded before composing a stream that nests deeper than MAX_DEPTH."""
    # Every level of nesting needs one of these characters, so their count bounds the depth.
    bound = sum(text.count(char) for char in "[{-:?")
    if bound <= _SAFE_COMPOSE_NESTING:
        return
    depth = 0
    try:
        for event in _new_yaml().parse(io.StringIO(text)):
            name = type(event).__name__
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _LimitExceeded(event, f"document nests deeper than {MAX_DEPTH} levels; not linted")
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except YAMLError:
        return  # composing stops at the same error; what follows it is checked when parsing resumes


def _convert_document(node: Node, budget: int, helm_sources: list[tuple[int, str]]) -> Document:
    converter = _Converter(budget)
    helm_source, line_offset = _helm_source_for(node.start_mark.line, helm_sources)
    try:
        data = converter.convert(node)
    except _LimitExceeded as error:
        # an expansion is reported where the document starts: deep inside it says nothing useful
        mark = (node if "too many nodes" in str(error) else error.node).start_mark
        problem = Problem("yaml-limit-exceeded", str(error), mark.line + 1, mark.column + 1)
        return Document(None, None, helm_source, line_offset, [problem])
    except RecursionError:
        mark = node.start_mark
        problem = Problem("yaml-limit-exceeded", "document nests too deeply; not linted", mark.line + 1, mark.column + 1)
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
        raw = path.read_bytes()
    except OSError as error:
        raise YamlFileError(f"{path}: {error.strerror or error}") from None
    text, problem = decode(raw)
    if problem is not None:
        raise YamlFileError(f"{path}:{problem.line}:{problem.column}: {problem.message}")
    stream = parse_stream(text)
    problems = stream.problems + [p for document in stream.documents for p in document.problems]
    if problems:
        raise YamlFileError(f"{path}:{problems[0].line}:{problems[0].column}: {problems[0].message}")
    return stream.documents


def locate_span(node: Node | None, path: tuple, at_key: bool = True) -> tuple[int, int, int, int]:
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


def locate(node: Node | None, path: tuple, at_key: bool = True) -> tuple[int, int, bool]:
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


def child_node(node: Node, part: Any) -> tuple[Node | None, Node] | None:
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
