"""Loader: bytes -> YAML documents, the entry every reader goes through: a stream read whole or,
for the kinds no rule reads whole, by header only; a document's tree composed again when a
position in it is asked for; the small YAML files the linter relies on read strictly.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node

from kubelint_svc.composing import Document, Lines, Stream, compose_first, helm_source_comments, parse_lines
from kubelint_svc.file_reads import UnreadableFile, decode, read_bounded
from kubelint_svc.header_only import HEADER, Wants, confirms, masked_stream, odd_line_breaks, well_formed


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
    lines = Lines(text)
    if wants is not None and not odd_line_breaks(text):
        masked = masked_stream(lines, wants)
        if masked is not None and well_formed(lines, masked.windows + (masked.bodies if check_skipped else [])):
            # a header's tree is small, and kept: the rest of its document is never composed
            stream = parse_lines(Lines(masked.text), keep_nodes, helm_source_comments(lines), masked.headers)
            if confirms(stream, masked):
                return stream
    return parse_lines(lines, keep_nodes, helm_source_comments(lines))


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
        self._lines: Lines | None = None
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
        lines = self._lines = self._lines or Lines(self._text)
        if first_line >= lines.count:
            return ""
        return self._text[lines.offset(first_line):lines.offset(lines.separator_after(first_line))]

    def data_at(self, first_line: int) -> tuple[Any, str | None]:
        """The whole data of the document that begins at first_line (0-based), read within the
        loader's limits, for a document first read for its header: (data, None), or (None, why
        it cannot be read)."""
        lines = self._lines = self._lines or Lines(self._text)
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
        lines = self._lines = self._lines or Lines(self._text)
        if first_line < lines.count:
            window = self._text[lines.offset(first_line):lines.offset(lines.separator_after(first_line))]
            if header_only:
                masked = masked_stream(Lines(window), lambda kind, api_version: HEADER)
                if masked is None:
                    return None, first_line
                window = masked.text
            try:
                node = compose_first(window)
            except (YAMLError, RecursionError, ValueError):
                node = None  # a document that needs the stream's directives: composed with them below
            if node is not None or header_only:
                return node, first_line
        whole = parse_stream(self._text)
        found = next((document.node for document in whole.documents if document.first_line == first_line), None)
        return found, 0


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
