"""Header-only reading: the documents no rule reads whole are composed for their apiVersion, kind
and metadata only, the rest of them checked for being well-formed YAML; a layout the cheap
reading cannot vouch for is read whole.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from kubelint_svc.composing import Lines, Stream, parses, resolve_plain_scalar

# What a run needs of one document, by its kind and apiVersion (see parse_stream).
FULL, HEADER, SKIP = "full", "header", "skip"


Wants = Callable[[str, str], str]


HEADER_KEYS = frozenset({"apiVersion", "kind", "metadata"})


# a top-level `key: value` line of a block mapping (the only layout read cheaply)
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]+([^#]*?))?[ \t]*(?:#.*)?\r?\n?")


_BLANKS_AND_COMMENTS = re.compile(r"(?:[ \t\r]*(?:#[^\n]*)?\n)*")


_PLAIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")


@dataclass
class Masked:
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


def masked_stream(lines: Lines, wants: Wants) -> Masked | None:
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
    return Masked("".join(parts), headers, windows, bodies)


def _top_keys(lines: Lines, column_zero: list[int], separator: int | None) -> dict[str, tuple[int, str]] | None:
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


def odd_line_breaks(text: str) -> bool:
    """Whether the text breaks lines where a column-0 scan does not look: libyaml also ends a
    line at a lone CR, NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR, so `a: x<NEL>kind: Pod`
    holds a second `kind` key that a scan of "\n"-lines would not see."""
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        return True
    return "\r" in text and text.count("\r") != text.count("\r\n")


def well_formed(lines: Lines, ranges: list[tuple[int, int]]) -> bool:
    """Whether libyaml parses each range of lines on its own: its cheapest complete syntax check
    (no Python object is made per event). The ranges are parsed as the documents of one stream,
    so that a quoted scalar or flow collection left open in one meets a `---`: a syntax error."""
    if not ranges:
        return True
    pieces = []
    for start, stop in ranges:
        piece = lines.text[lines.offset(start):lines.offset(stop)]
        pieces.append(piece if piece.endswith("\n") else piece + "\n")
    return parses("---\n".join(pieces))


def confirms(stream: Stream, masked: Masked) -> bool:
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
