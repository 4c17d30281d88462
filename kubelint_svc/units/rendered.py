"""Objects of a Helm render as Resources located in their templates: each rendered line is
matched back to the template line that wrote it (an aligned diff of the render against the
template, `{{ ... }}` matching any text), and a line an `include` wrote points at the include,
with a note naming the helper and where it is defined."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from kubelint_svc.composing import locate
from kubelint_svc.file_reads import UnreadableFile, decode, read_bounded
from kubelint_svc.findings import Finding, Note
from kubelint_svc.loader import parse_stream
from kubelint_svc.model import Resource

_ACTION = re.compile(r"\{\{.*?\}\}")
# actions that print nothing: control flow, assignments, comments, definitions
_CONTROL = re.compile(r"^\{\{-?\s*(if|else|end|range|with|define|block|break|continue|/\*|\$[\w.]*\s*:?=)")
_INCLUDE = re.compile(r"""\b(?:include|template)\s+"([^"]+)\"""")
_DEFINE = re.compile(r"""\{\{-?\s*define\s+"([^"]+)\"""")
# template lines x rendered lines aligned exactly (a 400-line template rendered to 500 lines);
# past it, line by line within a window, so a pull request's huge template costs linear time
_ALIGNED_CELLS = 200_000
_GREEDY_LINES = 20_000  # past it (a template or render that long), lines are not matched at all

_EXACT, _PATTERN, _SKIPPED = 4, 3, -1  # scores of an alignment step: a line written as is, through actions, unexplained


@dataclass(frozen=True)
class TemplateLine:
    """Where a rendered line came from: the template's line and column offset, and the helper
    (name, file, line) when an include wrote it."""

    line: int
    shift: int | None  # template column minus rendered column; None: the template line's indent
    indent: int = 0
    helper: tuple[str, str, int] | None = None
    actions: tuple[tuple[int, int], ...] = ()  # 1-based columns where each `{{ }}` starts and ends (exclusive)


@dataclass
class Helpers:
    """The `define`s of a chart's templates: name -> (file shown, first line, the block's lines)."""

    found: dict[str, tuple[str, int, list[str]]] = field(default_factory=dict)

    def add(self, shown: str, text: str) -> None:
        """The defines of one file, each up to the `end` that closes it (one pass over its lines)."""
        lines = text.splitlines()
        opened: list[tuple[str | None, int]] = []  # the blocks open: (a define's name, its line) or (None, line)
        for number, line in enumerate(lines):
            for action in _ACTION.findall(line):
                word = re.match(r"\{\{-?\s*(\w+)", action)
                if word is None:
                    continue
                if word.group(1) in ("if", "range", "with", "define", "block"):
                    define = _DEFINE.search(action)
                    opened.append((define.group(1) if define else None, number))
                elif word.group(1) == "end" and opened:
                    name, first = opened.pop()
                    if name is not None and name not in self.found:
                        self.found[name] = (shown, first + 1, lines[first + 1:number])

    def line_of(self, name: str, rendered: str, seen: frozenset[str] = frozenset()) -> tuple[str, str, int] | None:
        """(name, file, line) of the line of helper name that wrote rendered, else of its define."""
        if name not in self.found or name in seen:
            return None
        shown, first, body = self.found[name]
        for offset, line in enumerate(body):
            if _kind(line) == "content" and _matches(line, rendered):
                return name, shown, first + 1 + offset
        for offset, line in enumerate(body):  # written by a helper it includes in turn
            inner = _INCLUDE.search(line)
            if inner and self.line_of(inner.group(1), rendered, seen | {name}):
                return name, shown, first + 1 + offset
        return name, shown, first


def _kind(line: str) -> str:
    """'content' (text, maybe with actions), 'producer' (an action alone that prints: an include,
    toYaml), 'control' (prints nothing) or 'blank'."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return "blank" if not stripped else "content"
    if _ACTION.sub("", stripped).strip():
        return "content"
    actions = _ACTION.findall(stripped)
    if not actions:
        return "content"  # an action spanning lines: matched as text
    return "control" if all(_CONTROL.match(action) for action in actions) else "producer"


class _Pattern(Protocol):
    """What is used of a pattern compiled by RE2 (google-re2 ships no types)."""

    def fullmatch(self, text: str) -> object: ...


def _pattern(line: str) -> _Pattern | None:
    """The rendered lines a template line may have written, each action any text; matched by RE2,
    in time linear in the line (a line of many actions would make Python's re backtrack), or None
    when RE2 will not take it (too large)."""
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        compiled: _Pattern = re2.compile(".*".join(re2.escape(part) for part in _ACTION.split(line.strip())), options)
    except Exception:  # re2.error: past its program size
        return None
    return compiled


def _matches(line: str, rendered: str) -> bool:
    if "{{" not in line:
        return line.strip() == rendered.strip()
    pattern = _pattern(line)
    return pattern is not None and pattern.fullmatch(rendered.strip()) is not None


def template_lines(template: str, rendered: str, helpers: Helpers) -> list[TemplateLine | None]:
    """For each rendered line (0-based), the template line that wrote it, or None."""
    lines = template.splitlines()
    out = rendered.splitlines()
    kinds = [_kind(line) for line in lines]
    patterns = [_pattern(line) if kind == "content" and "{{" in line else None
                for line, kind in zip(lines, kinds, strict=True)]

    def score(i: int, j: int) -> int | None:
        if kinds[j] != "content":
            return None
        pattern = patterns[j]
        if "{{" not in lines[j]:
            return _EXACT if lines[j].strip() == out[i].strip() else None
        return _PATTERN if pattern is not None and pattern.fullmatch(out[i].strip()) else None

    if len(out) * len(lines) <= _ALIGNED_CELLS:
        pairs = _aligned(len(out), len(lines), kinds, score)
    elif max(len(out), len(lines)) <= _GREEDY_LINES:
        pairs = _greedy(len(out), len(lines), score)
    else:  # findings stay at the line of the render, counted from the template's `# Source:`
        return [None] * len(out)
    found: list[TemplateLine | None] = []
    for i, (j, how) in enumerate(pairs):
        text = out[i]
        indent = len(text) - len(text.lstrip())
        if j is None:
            found.append(None)
        elif how == "match":
            template_indent = len(lines[j]) - len(lines[j].lstrip())
            actions = tuple((m.start() + 1, m.end() + 1) for m in _ACTION.finditer(lines[j]))
            found.append(TemplateLine(j + 1, template_indent - indent, indent, None, actions))
        else:
            include = _INCLUDE.search(lines[j])
            helper = helpers.line_of(include.group(1), text) if include else None
            found.append(TemplateLine(j + 1, None, len(lines[j]) - len(lines[j].lstrip()), helper))
    return found


def _aligned(n: int, m: int, kinds: list[str], score: Any) -> list[tuple[int | None, str]]:
    """The best alignment of n rendered lines to m template lines: a content line matches one
    rendered line, a producer (include, toYaml) writes any number, control lines write none."""
    best = [[0] * (m + 1) for _ in range(n + 1)]
    step: list[list[str]] = [[""] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        best[i][m], step[i][m] = best[i + 1][m] + _SKIPPED, "skip-rendered"
    for i in range(n, -1, -1):
        for j in range(m - 1, -1, -1):
            if i == n:
                best[i][j], step[i][j] = 0, "skip-template"
                continue
            choice, how = best[i][j + 1], "skip-template"
            gained = score(i, j)
            if gained is not None and gained + best[i + 1][j + 1] > choice:
                choice, how = gained + best[i + 1][j + 1], "match"
            if kinds[j] == "producer" and best[i + 1][j] > choice:
                choice, how = best[i + 1][j], "produced"
            if best[i + 1][j] + _SKIPPED > choice:
                choice, how = best[i + 1][j] + _SKIPPED, "skip-rendered"
            best[i][j], step[i][j] = choice, how
    pairs: list[tuple[int | None, str]] = []
    i = j = 0
    last: int | None = None
    while i < n:
        how = step[i][j]
        if how == "skip-template":
            j += 1
            continue
        if how == "match":
            pairs.append((j, "match"))
            last = j
            i, j = i + 1, j + 1
        elif how == "produced":
            pairs.append((j, "produced"))
            last = j
            i += 1
        else:  # unexplained (a range's second pass): the nearest line written before it
            pairs.append((last, "produced" if last is not None and kinds[last] == "producer" else "match"))
            i += 1
    return pairs


def _greedy(n: int, m: int, score: Any) -> list[tuple[int | None, str]]:
    """Line by line, for a template and render too large to align: the next template line that
    could have written each rendered line."""
    pairs: list[tuple[int | None, str]] = []
    j = 0
    for i in range(n):
        found = next((k for k in range(j, min(m, j + 50)) if score(i, k) is not None), None)
        if found is not None:
            j = found + 1
        pairs.append((found, "match"))
    return pairs


class TemplateMap:
    """The template lines of one template's render, matched when a finding first needs a
    position: a run whose rendered objects have no findings aligns nothing."""

    def __init__(self, template: Callable[[], str | None], rendered: Callable[[], str],
                 helpers: Callable[[], Helpers]) -> None:
        self._template, self._rendered, self._helpers = template, rendered, helpers
        self._lines: list[TemplateLine | None] | None = None

    def template_text(self) -> str | None:
        return self._template()

    @property
    def lines(self) -> list[TemplateLine | None]:
        if self._lines is None:
            written = self._template()
            self._lines = [] if written is None else template_lines(written, self._rendered(), self._helpers())
        return self._lines


@dataclass(eq=False)
class RenderedResource(Resource):
    """One object of a Helm render, located in its template (lines given by template_lines)."""

    template_map: TemplateMap | None = None
    values_file: str | None = None  # the `ci/` values file of its render
    chart: Path | None = None  # the chart's folder: where --fix looks for the values file of a value
    # template line of an include -> the helper line that wrote the value last located there
    _helper_asked: dict[int, tuple[str, str, int] | None] = field(default_factory=dict)

    def position(self, path: tuple[Any, ...], at_key: bool = True) -> tuple[int, int]:
        line, column, _, _ = self.span(path, at_key)
        return line, column

    def span(self, path: tuple[Any, ...], at_key: bool = True) -> tuple[int, int, int, int]:
        line, column, end_line, end_column = super().span(path, at_key)
        where = self._at(line)
        if where is None:
            return line, column, end_line, end_column
        if where.shift is None:  # written by an include or toYaml: its line in this template
            self._helper_asked[where.line] = where.helper  # the helper's own line for the finding's note
            return where.line, where.indent + 1, where.line, where.indent + 2
        moved_end = self._at(end_line)
        if end_line != line and moved_end is not None:
            return where.line, column + where.shift, moved_end.line, end_column + (moved_end.shift or 0)
        start = column + where.shift
        action = next((end for begin, end in where.actions if begin == start), None)  # a value an action wrote
        return where.line, start, where.line, action if action is not None else end_column + where.shift

    def locate(self, path: tuple[Any, ...], at_key: bool = True) -> tuple[str, int, int, int, int]:
        return (self.file, *self.span(path, at_key))

    def fix_refusal(self) -> str:
        return ""  # each change is placed by fix_location: in a values file, or nowhere

    def fix_location(self, path: tuple[Any, ...], at_key: bool) -> tuple[str, int, int] | str:
        """A template's text is not the value it renders, so --fix edits no template: a value the
        template line takes as it is from `.Values` (`protocol: {{ .Values.protocol }}`) is
        fixed in the values file that set it (the render's `ci/` file, else the chart's
        values.yaml), when that file holds the value rendered."""
        refused = "rendered by Helm from a template, not taken as it is from a values file; fix the chart"
        if at_key or self.chart is None or self.template_map is None:
            return refused
        _, line, column, _, _ = self.locate(path, False)
        lines = (self.template_map.template_text() or "").splitlines()
        written = lines[line - 1] if 0 < line <= len(lines) else ""
        match = _VALUES_ACTION.match(written, column - 1)
        rest = written[match.end():].strip() if match is not None else "?"
        if match is None or (rest and not rest.startswith("#")):
            return refused
        name = match.group(1)[1:]
        keys = tuple(name.split("."))
        files = [self.chart / self.values_file] if self.values_file else []
        for values in [*files, self.chart / "values.yaml"]:
            found = values_entry(values, keys)
            if found is None:
                continue
            line, column, value = found
            wanted = self.get(path)
            if value != wanted or type(value) is not type(wanted):
                return f"{values.name} sets {name} to what a template function then changes; fix the chart"
            return _shown(values), line, column
        return f"no values file of the chart sets {name}; fix the chart"

    @property
    def lines(self) -> list[TemplateLine | None]:
        return self.template_map.lines if self.template_map is not None else []

    def _at(self, line: int) -> TemplateLine | None:
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else None

    def explained(self, finding: Finding) -> Finding:
        """finding with a note naming the helper that wrote its line, and the `ci/` values file
        of the render it came from."""
        if finding.file != self.file:
            return finding
        notes = finding.notes
        helper = self._helper_asked.get(finding.line) or next(
            (where.helper for where in self.lines if where is not None and where.line == finding.line), None)
        if helper is not None:
            name, shown, line = helper
            notes = (*notes, Note(f"written by helper {name!r}", shown, line, 1))
        message = finding.message if self.values_file is None else \
            f"{finding.message} (rendered with {self.values_file})"
        if notes == finding.notes and message == finding.message:
            return finding
        return replace(finding, message=message, notes=notes)


# a template value that is one value of .Values as it is (quoted or not)
_VALUES_ACTION = re.compile(r"\{\{-?\s*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(?:\|\s*s?quote\s*)?-?\}\}")


def values_entry(values: Path, keys: tuple[str, ...]) -> tuple[int, int, Any] | None:
    """(line, column, value) of the value a values file sets at keys, or None."""
    try:
        text, _ = decode(read_bounded(values))
    except UnreadableFile:
        return None
    stream = parse_stream(text or "")
    if not stream.documents or stream.documents[0].node is None:
        return None
    data: Any = stream.documents[0].data
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    line, column, found = locate(stream.documents[0].node, keys, at_key=False)
    return (line, column, data) if found and not isinstance(data, (dict, list)) else None


def _shown(path: Path) -> str:
    """A values file as findings name files: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def rendered_text_of(render: str, first_line: int) -> str:
    """The part of a render after the `# Source:` comment ending at first_line (0-based line of
    the text after it), up to the next `# Source:` comment."""
    lines = render.splitlines()[first_line:]
    stop = next((i for i, line in enumerate(lines) if line.startswith("# Source: ")), len(lines))
    return "\n".join(lines[:stop])


def chart_helpers(chart: Path, text: Callable[[Path], str | None], display: Callable[[Path], str]) -> Helpers:
    """Every define of a chart's templates and its subcharts' (folders, not archives), read as
    written: the render read the same files, each checked by paths.refusal first."""
    helpers = Helpers()
    for folder, _, names in os.walk(chart):  # links not followed: a linked subchart's helpers go unnamed
        if os.path.basename(folder) != "templates":
            continue
        for name in sorted(names):
            path = Path(folder) / name
            if path.suffix in (".tpl", ".yaml", ".yml") and path.is_file():
                helpers.add(display(path), text(path) or "")
    return helpers
