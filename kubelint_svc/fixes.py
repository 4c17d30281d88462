"""--fix: the fixes findings offer, planned as text edits of the files that wrote the values and
written atomically. The public API (also what an editor's code actions use): `plan_fixes`,
`apply`, `FixPlan`, `FileEdit`, `TextEdit`, `Skipped`, `position`.

A fix names nodes (file, line, column: see findings.Edit); planning finds each node again in the
file's text as it is now and edits only its span, so comments, quoting, key order, indentation
and anchors stay byte for byte. The edited text is parsed again and must give the same documents
as before except at the fixed values, else the fix is skipped with a note: nothing is written
that the linter did not mean to write.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kubelint_svc.composing import resolve_plain_scalar
from kubelint_svc.file_reads import UnreadableFile, read_bounded
from kubelint_svc.findings import Edit, FieldPath, Finding
from kubelint_svc.inputs import git_toplevel
from kubelint_svc.loader import parse_stream
from kubelint_svc.outputs import OutputRefused, rewrite_file
from kubelint_svc.paths import confined, refusal, resolved

_BOM = "\ufeff"
# a string written without quotes where it reads back as itself (no `: `, ` #`, flow indicators)
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
# what may follow a value on its line for the entry to be removed with its line
_LINE_TAIL = re.compile(r"[ \t]*(#[^\r\n]*)?(\r?\n|$)")
_ITEM_DASHES = re.compile(r"[ \t]*(-[ \t]+)+")


@dataclass(frozen=True)
class TextEdit:
    """Replace text[start:end] (offsets in the file's text, a BOM left out) with `text`."""

    start: int
    end: int
    text: str


def position(text: str, offset: int) -> tuple[int, int]:
    """0-based (line, column) of an offset of text, the column in code points (an editor that
    counts UTF-16 units, as LSP does, converts it with the line's text)."""
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


@dataclass
class FileEdit:
    """What fixing one file changes: its text before and after, the edits, the findings fixed."""

    file: str  # as findings name it
    path: Path  # the real path written
    before: str
    after: str
    edits: list[TextEdit]
    fixed: list[Finding]
    raw: bytes = b""  # the bytes read: the file must still hold them when it is written
    bom: str = ""

    def diff(self) -> str:
        """A unified diff of the change, as `git diff` names the file (a/ and b/)."""
        lines = difflib.unified_diff(self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
                                     f"a/{self.file}", f"b/{self.file}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@dataclass(frozen=True)
class Skipped:
    """A finding whose fix was not applied, and why (one line)."""

    finding: Finding
    reason: str

    def describe(self) -> str:
        found = self.finding
        return f"{found.file}:{found.line}:{found.column}: {found.rule}: not fixed: {self.reason}"


@dataclass
class FixPlan:
    files: list[FileEdit] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def fixed(self) -> list[Finding]:
        return [finding for edit in self.files for finding in edit.fixed]


def offered(finding: Finding, unsafe: bool = False) -> bool:
    """Does the finding offer a fix that this run applies (safe ones, and unsafe ones when asked)?"""
    return finding.fix is not None and (finding.fix.safety == "safe" or unsafe)


def plan_fixes(findings: Iterable[Finding], unsafe: bool = False, cwd: Path | None = None) -> FixPlan:
    """The edits that fix the findings offering a fix (unsafe ones only when unsafe), file by
    file, each checked against the file as it is now; a fix that cannot be applied cleanly is
    skipped with a note. Nothing is written: see apply."""
    plan = FixPlan()
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        if not offered(finding, unsafe) or finding.fix is None:
            continue
        if finding.fix.refused:
            plan.skipped.append(Skipped(finding, finding.fix.refused))
            continue
        files = {edit.file for edit in finding.fix.edits}
        if len(files) != 1:
            plan.skipped.append(Skipped(finding, "its edits span several files"))
            continue
        by_file.setdefault(files.pop(), []).append(finding)
    base = cwd or Path.cwd()
    for file, found in sorted(by_file.items()):
        edit, skipped = _plan_file(file, found, base)
        plan.skipped += skipped
        if edit is not None:
            plan.files.append(edit)
    return plan


def apply(plan: FixPlan) -> tuple[list[FileEdit], list[Skipped]]:
    """Write each planned file atomically (a temporary file renamed onto the real path), unless it
    changed since it was planned, cannot be written, or left the repository: (written, skipped)."""
    written: list[FileEdit] = []
    skipped: list[Skipped] = []
    for edit in plan.files:
        reason = _write(edit)
        if reason is None:
            written.append(edit)
        else:
            skipped += [Skipped(finding, reason) for finding in edit.fixed]
    return written, skipped


def _write(edit: FileEdit) -> str | None:
    top = _top_of(edit.path.parent)
    if top is None:
        return "the working directory cannot be resolved"
    why = _refusal(edit.path, top)
    if why is not None:
        return f"the file is {why}"
    try:
        now = read_bounded(edit.path, follow_links=False)
    except UnreadableFile as error:
        return f"cannot read it again: {error}"
    if now != edit.raw:
        return "the file changed since it was linted; run again"
    if not os.stat(edit.path).st_mode & 0o222 or not os.access(edit.path, os.W_OK):
        return "the file is read-only"  # by its mode too: root may write anything, but was told not to
    try:
        rewrite_file(edit.path, (edit.bom + edit.after).encode("utf-8"), top)
    except OutputRefused as error:
        return str(error)
    return None


def undo(edit: FileEdit) -> str | None:
    """Put back the bytes edit was planned from, while the file still holds what it wrote: None,
    or why not."""
    top = _top_of(edit.path.parent)
    if top is None:
        return "the working directory cannot be resolved"
    try:
        now = read_bounded(edit.path, follow_links=False)
    except UnreadableFile as error:
        return f"cannot read it again: {error}"
    if now != (edit.bom + edit.after).encode("utf-8"):
        return "the file changed since it was fixed"
    try:
        rewrite_file(edit.path, edit.raw, top)
    except OutputRefused as error:
        return str(error)
    return None


def _refusal(path: Path, top: Path) -> str | None:
    """paths.refusal, naming the working directory when no git work tree holds path (it is the top
    then); a link is named as one, as before."""
    why = refusal(path, top)
    if why is None or os.path.islink(path) or git_toplevel(path.parent) is not None:
        return why
    return why.replace("the repository", "the working directory") + "; run from a folder that holds it"


def _top_of(folder: Path) -> Path | None:
    """The work tree a fix may write in: the git work tree holding the file, else the working directory."""
    return git_toplevel(folder) or resolved(Path.cwd())


# --- one file ---------------------------------------------------------------------------------


@dataclass
class _Target:
    """A fix's edits found in the text: the text edits and the documents' data they should give."""

    edits: list[TextEdit]
    expected: list[Any]


def _plan_file(file: str, findings: list[Finding], cwd: Path) -> tuple[FileEdit | None, list[Skipped]]:
    named = Path(file) if os.path.isabs(file) else cwd / file
    top = _top_of(named.parent)
    if file == "-" or top is None:
        return None, [Skipped(f, "it was read from standard input") for f in findings]
    why = _refusal(named, top)
    real = confined(named, top)
    if why is not None or real is None:
        return None, [Skipped(f, f"{file} is {why}") for f in findings]
    try:
        raw = read_bounded(real, follow_links=False)
    except UnreadableFile as error:
        return None, [Skipped(f, f"cannot read {file}: {error}") for f in findings]
    text, bom, problem = _text_of(raw)
    if problem:
        return None, [Skipped(f, problem) for f in findings]
    stream = parse_stream(text)
    if stream.problems or any(d.node is None for d in stream.documents):
        return None, [Skipped(f, "the file has YAML errors; fix those first") for f in findings]
    data = [document.data for document in stream.documents]
    roots = [document.node for document in stream.documents if document.node is not None]
    accepted: list[tuple[Finding, _Target]] = []
    skipped: list[Skipped] = []
    for finding in sorted(findings, key=Finding.sort_key):
        target = _target(text, roots, data, finding)
        if isinstance(target, str):
            skipped.append(Skipped(finding, target))
            continue
        clash = _clash(target, [t for _, t in accepted])
        if clash == "same":
            accepted.append((finding, _Target([], target.expected)))  # the same edit another finding asked for
            continue
        if clash == "overlap":
            skipped.append(Skipped(finding, "another fix edits the same place; run --fix again"))
            continue
        problem = _check(text, target.edits, target.expected)
        if problem:
            skipped.append(Skipped(finding, problem))
            continue
        accepted.append((finding, target))
    if not accepted:
        return None, skipped
    edits = sorted((e for _, t in accepted for e in t.edits), key=lambda e: e.start)
    expected = _combined(data, [t.expected for _, t in accepted])
    problem = _check(text, edits, expected) if expected is not None else "two fixes disagree"
    if problem:
        return None, skipped + [Skipped(f, problem) for f, _ in accepted]
    after = _edited(text, edits)
    if after == text:
        return None, skipped
    return FileEdit(file, real, text, after, edits, [f for f, _ in accepted], raw, bom), skipped


def _text_of(raw: bytes) -> tuple[str, str, str]:
    """(text, BOM, problem): only UTF-8 is written back (a BOM kept as it was)."""
    bom = ""
    if raw.startswith(b"\xef\xbb\xbf"):
        bom, raw = _BOM, raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "", bom, "the file is not UTF-8; only UTF-8 files are fixed"
    if "\r" in text.replace("\r\n", ""):
        return "", bom, "the file breaks lines with a lone carriage return; not fixed"
    return text, bom, ""


def _clash(target: _Target, accepted: list[_Target]) -> str:
    """"same" when another accepted fix makes exactly these edits, "overlap" when they touch, else ""."""
    for other in accepted:
        if other.edits and set(other.edits) == set(target.edits):
            return "same"
        for mine in target.edits:
            for theirs in other.edits:
                if (mine.start < theirs.end and theirs.start < mine.end) or mine.start == theirs.start:
                    return "overlap"
    return ""


def _edited(text: str, edits: list[TextEdit]) -> str:
    parts, at = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        parts += [text[at:edit.start], edit.text]
        at = edit.end
    return "".join([*parts, text[at:]])


def _check(text: str, edits: list[TextEdit], expected: list[Any]) -> str:
    """Why the edited text is not what the fix means (it must read back as expected), or ""."""
    after = parse_stream(_edited(text, edits))
    if after.problems or any(d.problems and not _only_duplicates(d.problems) for d in after.documents):
        return "the edited file would not parse; left as it is"
    if [document.data for document in after.documents] != expected:
        return "the edit would change more than the fixed value (an anchor, an alias or a merge key?); left as it is"
    return ""


def _only_duplicates(problems: list[Any]) -> bool:
    return all(problem.rule == "yaml-duplicate-key" for problem in problems)


def _combined(data: list[Any], expectations: list[list[Any]]) -> list[Any] | None:
    """The documents every accepted fix expects at once (each changed only its own values)."""
    result: list[Any] = json.loads(json.dumps(data))
    for expected in expectations:
        for index, (before, wanted) in enumerate(zip(data, expected, strict=True)):
            if before != wanted:
                merged = _merge(result[index], before, wanted)
                if merged is _CONFLICT:
                    return None
                result[index] = merged
    return result


_CONFLICT = object()


def _merge(current: Any, before: Any, wanted: Any) -> Any:
    """current with the changes from before to wanted made too."""
    if before == wanted:
        return current
    if isinstance(before, dict) and isinstance(wanted, dict) and isinstance(current, dict):
        merged = dict(current)
        for key in set(before) | set(wanted):
            if key not in wanted:
                merged.pop(key, None)
            elif key not in before:
                merged[key] = wanted[key]
            elif before[key] == wanted[key]:
                continue  # this fix left it alone (another may have changed it)
            elif key not in current:
                return _CONFLICT
            else:
                value = _merge(current[key], before[key], wanted[key])
                if value is _CONFLICT:
                    return _CONFLICT
                merged[key] = value
        return merged
    if isinstance(before, list) and isinstance(wanted, list) and isinstance(current, list) \
            and len(before) == len(wanted) == len(current):
        items = [_merge(c, b, w) for c, b, w in zip(current, before, wanted, strict=True)]
        return _CONFLICT if any(item is _CONFLICT for item in items) else items
    return wanted if current in (before, wanted) else _CONFLICT


# --- a fix's edits, found in the text ---------------------------------------------------------


@dataclass
class _Place:
    """A node of a document, with where it sits."""

    document: int
    path: FieldPath
    key: ScalarNode | None  # the key of the entry whose value node is (None in a list)
    node: Node
    parent: Node | None
    index: int  # its place among the parent's entries or items


def _target(text: str, roots: list[Node], data: list[Any], finding: Finding) -> _Target | str:
    assert finding.fix is not None
    expected = json.loads(json.dumps(data))
    edits: list[TextEdit] = []
    for edit in finding.fix.edits:
        found = _edit(text, roots, expected, edit)
        if isinstance(found, str):
            return found
        edits.append(found)
    return _Target(edits, expected)


def _edit(text: str, roots: list[Node], expected: list[Any], edit: Edit) -> TextEdit | str:
    """The text edit that makes edit, with its effect made on expected; or why it cannot be made."""
    place = _find(roots, edit)
    if place is None:
        return ("the value is not written there (the file changed since it was linted, or kustomize made the value); "
                "left as it is")
    old, new = json.loads(edit.old), json.loads(edit.new)
    if edit.action == "replace":
        return _replace(place, old, new, expected)
    if edit.action == "delete":
        return _delete(text, place, old, expected)
    if edit.action == "insert":
        return _insert(text, place, edit.key, new, expected)
    return f"unknown edit {edit.action!r}"


def _find(roots: list[Node], edit: Edit) -> _Place | None:
    """The node the edit names: a value (replace) or a key (delete, insert) starting there."""
    wanted = (edit.line - 1, edit.column - 1)
    for place in _places(roots):
        marked = place.node if edit.action == "replace" else place.key
        if marked is not None and (marked.start_mark.line, marked.start_mark.column) == wanted:
            return place
    return None


def _places(roots: list[Node]) -> Iterator[_Place]:
    """Every node of every document, with its path as the loader's data names it (entries
    merged in with `<<` are reached where they are written, not where they are merged)."""
    stack: list[_Place] = [_Place(index, (), None, root, None, 0) for index, root in reversed(list(enumerate(roots)))]
    while stack:
        place = stack.pop()
        yield place
        node = place.node
        children: list[_Place] = []
        if isinstance(node, MappingNode):
            for index, (key, value) in enumerate(node.value):
                if not isinstance(key, ScalarNode) or (key.value == "<<" and not key.style):
                    continue
                children.append(_Place(place.document, (*place.path, _key_of(key)), key, value, node, index))
        elif isinstance(node, SequenceNode):
            children = [_Place(place.document, (*place.path, index), None, item, node, index)
                        for index, item in enumerate(node.value)]
        stack.extend(reversed(children))


def _key_of(key: ScalarNode) -> str:
    """A key as the loader reads it (a plain `80:` is the key "80", `true:` is "true")."""
    if key.style:
        return str(key.value)
    value = resolve_plain_scalar(key.value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _scalar_value(node: ScalarNode) -> Any:
    return node.value if node.style else resolve_plain_scalar(node.value)


def _at(expected: list[Any], place: _Place) -> tuple[Any, str | int] | None:
    """The container in expected holding the place's value, and its key or index there."""
    if not place.path:
        return None
    current: Any = expected[place.document]
    for part in place.path[:-1]:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return None
    return current, place.path[-1]


def _replace(place: _Place, old: Any, new: Any, expected: list[Any]) -> TextEdit | str:
    node = place.node
    if not isinstance(node, ScalarNode):
        return "the value is not a scalar any more; run again"
    written = _scalar_text(new, node.style)
    if written is None:  # an inline kustomize patch: the value is a line of a text block
        return "the value is written inside a block of text (an inline patch?); left as it is"
    if _scalar_value(node) != old or isinstance(_scalar_value(node), bool) != isinstance(old, bool):
        return "the file changed since it was linted (the value differs); run again"
    holder = _at(expected, place)
    if holder is None:
        return "the value is not part of the object"
    container, key = holder
    container[key] = new
    return TextEdit(node.start_mark.index, node.end_mark.index, written)


def _scalar_text(value: Any, style: str | None) -> str | None:
    """value written as YAML, quoted as the value it replaces was when it can be."""
    if style in ("|", ">"):
        return None
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return json.dumps(value)  # a quoted number is fixed by writing it unquoted
    text = str(value)
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if not style and _PLAIN.fullmatch(text) and resolve_plain_scalar(text) == text:
        return text
    return json.dumps(text)  # JSON's escapes are YAML's double-quoted escapes


def _delete(text: str, place: _Place, old: Any, expected: list[Any]) -> TextEdit | str:
    mapping, key = place.parent, place.key
    if not isinstance(mapping, MappingNode) or key is None:
        return "the key is not in a mapping any more; run again"
    if isinstance(place.node, ScalarNode) and old is not None and _scalar_value(place.node) != old:
        return "the file changed since it was linted (the value differs); run again"
    span = _entry_span(text, mapping, place.index)
    if isinstance(span, str):
        return span
    holder = _at(expected, place)
    if holder is None:
        return "the value is not part of the object"
    container, name = holder
    others = [k for i, (k, _) in enumerate(mapping.value) if i != place.index and isinstance(k, ScalarNode)
              and _key_of(k) == name]
    if not others and isinstance(container, dict):
        container.pop(name, None)  # a repeated key with the same value leaves the data as it was
    return TextEdit(*span, "")


def _entry_span(text: str, mapping: MappingNode, index: int) -> tuple[int, int] | str:
    """The text of one mapping entry, with its line when it has one of its own."""
    entries = mapping.value
    key, value = entries[index]
    if len(entries) == 1:
        return "it is the mapping's only entry; left as it is"
    if mapping.flow_style:
        if index + 1 < len(entries):
            return key.start_mark.index, entries[index + 1][0].start_mark.index
        return entries[index - 1][1].end_mark.index, value.end_mark.index
    end = _content_end(value)
    tail = _LINE_TAIL.match(text, end) if text[end - 1:end] != "\n" else None
    if tail is None and text[end - 1:end] != "\n":
        return "something follows the value on its line; left as it is"
    tail_end = tail.end() if tail is not None else end  # a block scalar's text ends with its line break
    line_start = text.rfind("\n", 0, key.start_mark.index) + 1
    before = text[line_start:key.start_mark.index]
    if not before.strip(" "):
        return line_start, tail_end
    next_key = entries[index + 1][0] if index + 1 < len(entries) else None
    if _ITEM_DASHES.fullmatch(before) and index == 0 and next_key is not None \
            and not text[tail_end:next_key.start_mark.index].strip(" "):
        return key.start_mark.index, next_key.start_mark.index  # the next entry moves up after `- `
    return "the key does not begin its line; left as it is"


def _content_end(node: Node) -> int:
    """Where a value's own text ends: a block collection's end mark lies past the comments and
    blank lines after it, so the end of its last value is taken."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return int(node.end_mark.index)


def _insert(text: str, place: _Place, name: str, value: Any, expected: list[Any]) -> TextEdit | str:
    mapping, key = place.node, place.key
    if not isinstance(mapping, MappingNode) or not mapping.value or key is None:
        return "the mapping to add to is not written as one; left as it is"
    if any(isinstance(k, ScalarNode) and _key_of(k) == name for k, _ in mapping.value):
        return f"{name!r} is already set; run again"
    first = mapping.value[0][0]
    newline = "\r\n" if "\r\n" in text else "\n"
    if mapping.flow_style:
        entry = f"{_flow(name)}: {_flow(value)}"
        if isinstance(first, ScalarNode) and first.style == '"':  # JSON (a .json manifest): written as JSON
            entry = f"{json.dumps(name)}: {json.dumps(value, separators=(', ', ': '))}"
        added = TextEdit(first.start_mark.index, first.start_mark.index, f"{entry}, ")
    else:
        line_start = text.rfind("\n", 0, first.start_mark.index) + 1
        indent = text[line_start:first.start_mark.index]
        if indent.strip(" "):
            return "the mapping's first key does not begin its line; left as it is"
        step = " " * max(first.start_mark.column - key.start_mark.column, 2)
        added = TextEdit(line_start, line_start, _block(name, value, indent, step, newline))
    holder = _at(expected, place)
    if holder is None:
        return "the mapping is not part of the object"
    container, at = holder
    target = container[at]
    if not isinstance(target, dict):
        return "the mapping is not part of the object"
    target[name] = value
    return added


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    return _scalar_text(value, None) or json.dumps(value)


def _block(name: str, value: Any, indent: str, step: str, newline: str) -> str:
    if isinstance(value, dict) and value:
        return f"{indent}{_flow(name)}:{newline}" + "".join(
            _block(str(k), v, indent + step, step, newline) for k, v in value.items())
    return f"{indent}{_flow(name)}: {_flow(value)}{newline}"
