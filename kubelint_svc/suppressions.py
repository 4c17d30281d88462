"""Suppressions: an object's `kubelint-svc.io/ignore` annotation, and `# kubelint-svc:
ignore[...]` / `ignore-file[...]` comments. One that suppresses nothing is itself reported
(`unused-suppression`), so stale ones do not pile up."""

from __future__ import annotations

import bisect
import difflib
import io
import re
from dataclasses import dataclass, field

from kubelint_svc.file_reads import SUPPRESSION_MARK
from kubelint_svc.findings import Finding, ObjectRef
from kubelint_svc.model import Resource
from kubelint_svc.suggestions import clipped, did_you_mean

ANNOTATION = "kubelint-svc.io/ignore"
# rules of one suppression reported unused one by one; the rest are counted in one finding, so
# a comment naming thousands of rules (a pull request's) gives a dozen lines, not thousands
MAX_UNUSED_NAMED = 10
# how much likelier a rule reported where a suppression applies is meant than another rule as
# close to its name: ignore[service-node-prot] on a service-node-port-forbidden line means that
# one (0.73 alike), not service-node-port-range (0.80)
REPORTED_BONUS = 0.15
_COMMENT = re.compile(r"#\s*kubelint-svc:\s*(ignore|ignore-file)\[([^\]]*)\]")

# where a finding must be for a suppression to apply: (file,), (file, object) or (file, line)
_Place = tuple[str] | tuple[str, ObjectRef | None] | tuple[str, int]


@dataclass
class Suppression:
    rules: set[str]
    file: str
    line: int
    column: int
    scope: str  # "line", "file" or "object"
    applies_to_line: int = 0  # for "line": the line whose findings it silences
    object: ObjectRef | None = None
    used: set[str] = field(default_factory=set)

    def silences(self, finding: Finding) -> bool:
        if finding.rule not in self.rules or finding.file != self.file:
            return False
        if self.scope == "file":
            return True
        if self.scope == "object":
            return finding.object == self.object
        return finding.line == self.applies_to_line


def comment_suppressions(text: str, file: str) -> list[Suppression]:
    """The `# kubelint-svc: ignore[...]` comments of a YAML text: comments only, as the YAML
    scanner sees them; the same words inside a block scalar or a quoted string are prose."""
    if SUPPRESSION_MARK not in text:
        return []
    found = []
    starts = _line_starts(text)
    for offset, comment in yaml_comments(text):
        match = _COMMENT.search(comment)
        if not match:
            continue
        number = bisect.bisect_right(starts, offset)
        line_start = starts[number - 1]
        rules = {rule.strip() for rule in match.group(2).split(",") if rule.strip()}
        standalone = not text[line_start:offset].strip()
        scope = "file" if match.group(1) == "ignore-file" else "line"
        target = number + 1 if standalone else number
        found.append(Suppression(rules, file, number, offset - line_start + 1, scope, target))
    return found


# what the YAML scanner counts as the end of a line, and so what findings' line numbers count
YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in YAML_LINE_BREAK.finditer(text)]


def ignore_here(text: str, line: int, rule: str) -> tuple[int, str] | None:
    """How to silence rule on line (1-based) of a YAML text: (the line to replace, its new text,
    which may hold a line break). The rule is added to a comment that already silences that
    line, else written after the line, else on its own line above it; each way is kept only when
    the scanner then reads it as that line's suppression (inside a block scalar a `#` is text),
    so None when there is no such place."""
    starts = _line_starts(text)
    if not 0 < line <= len(starts) or not rule or "]" in rule or "," in rule:
        return None
    def line_text(number: int) -> str:
        begin = starts[number - 1]
        end = YAML_LINE_BREAK.search(text, begin)
        return text[begin:end.start() if end else len(text)]

    def silences(number: int, new: str, target: int) -> bool:
        begin = starts[number - 1]
        changed = text[:begin] + new + text[begin + len(line_text(number)):]
        return any(s.scope == "line" and s.applies_to_line == target and rule in s.rules
                   for s in comment_suppressions(changed, ""))

    for existing in comment_suppressions(text, ""):
        if existing.scope == "line" and existing.applies_to_line == line:
            if rule in existing.rules:
                return None
            old = line_text(existing.line)
            start = existing.column - 1
            match = _COMMENT.search(old, start)
            if match is None or match.group(1) != "ignore":
                continue
            listed = match.group(2).strip()
            new = old[:match.start(2)] + (f"{listed}, {rule}" if listed else rule) + old[match.end(2):]
            if silences(existing.line, new, line):
                return existing.line, new
    current = line_text(line)
    begin = starts[line - 1]
    has_comment = any(begin <= offset <= begin + len(current) for offset, _ in yaml_comments(text))
    if current.strip() and not has_comment:
        trailing = f"{current.rstrip()}  # kubelint-svc: ignore[{rule}]"
        if silences(line, trailing, line):
            return line, trailing
    indent = current[:len(current) - len(current.lstrip(" "))]
    line_break = YAML_LINE_BREAK.search(text)
    above = f"{indent}# kubelint-svc: ignore[{rule}]{line_break.group() if line_break else chr(10)}{current}"
    if silences(line, above, line + 1):
        return line, above
    return None


_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.M)


def yaml_comments(text: str) -> list[tuple[int, str]]:
    """(offset, text) of every comment of a YAML stream: what lies between the scanner's tokens
    and starts with `#`. Past a syntax error, scanning resumes at the next `---`."""
    from ruamel.yaml.cyaml import CBaseLoader
    from ruamel.yaml.error import YAMLError

    found: list[tuple[int, str]] = []
    begin: int | None = 0
    stop = len(text)  # the whole stream at first; past an error, one document at a time
    while begin is not None and begin < max(stop, 1):
        scanner = CBaseLoader(io.StringIO(text[begin:stop]))  # its scanner is the C one the loader uses
        end = begin  # where the last token seen ends: comments lie between tokens
        resume: int | None = None
        try:
            while True:
                token = scanner.get_token()
                if token is None:
                    break
                found += _comments_between(text, end, begin + token.start_mark.index)
                end = max(end, begin + token.end_mark.index)
                if type(token).__name__ == "StreamEndToken":
                    found += _comments_between(text, end, stop)
                    break
        except YAMLError as error:
            mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
            failed_at = begin + (mark.index if mark is not None else 0)
            following = _DOCUMENT_START.search(text, max(failed_at, end) + 1)
            resume = following.start() if following else None
            if stop < len(text):  # scanning one document: the next one follows it
                resume = stop
        finally:
            scanner.dispose()
        if resume is None and stop < len(text):
            resume = stop  # the document scanned alone ended well: the next one
        if resume is not None:  # the rest is scanned a document at a time: each restart reads one, not
            following = _DOCUMENT_START.search(text, resume + 1)  # all that follows (quadratic)
            stop = following.start() if following else len(text)
        begin = resume
    return found


def _comments_between(text: str, start: int, stop: int) -> list[tuple[int, str]]:
    """Between two tokens there is only white space, line breaks and comments."""
    found = []
    position = text.find("#", start, stop)
    while position != -1:
        end = YAML_LINE_BREAK.search(text, position, stop)
        line_end = stop if end is None else end.start()
        found.append((position, text[position:line_end]))
        position = text.find("#", line_end, stop)
    return found


def object_suppression(resource: Resource) -> Suppression | None:
    value = resource.get(("metadata", "annotations", ANNOTATION))
    if not isinstance(value, str):
        return None
    rules = {rule.strip() for rule in value.split(",") if rule.strip()}
    line, column = resource.position(("metadata", "annotations", ANNOTATION), at_key=False)
    return Suppression(rules, resource.file, line, column, "object", object=resource.ref())


def _place_of(suppression: Suppression) -> _Place:
    """Where a finding must be for the suppression to apply."""
    if suppression.scope == "file":
        return (suppression.file,)
    if suppression.scope == "object":
        return (suppression.file, suppression.object)
    return (suppression.file, suppression.applies_to_line)


def _hint(rule: str, reported: set[str], known_rules: set[str], where: str) -> str:
    """"; did you mean ...?" preferring a rule reported where the suppression applies (a typo of
    the rule that fired there) over the closest of every rule, unless that one is much closer;
    "" when none is close. known_rules empty: only reported rules are suggested."""
    fired = difflib.get_close_matches(rule, sorted(reported - {rule}), n=1, cutoff=0.5)
    anywhere = difflib.get_close_matches(rule, sorted(known_rules), n=1, cutoff=0.6)
    if fired and (not anywhere or _likeness(rule, fired[0]) + REPORTED_BONUS >= _likeness(rule, anywhere[0])):
        return f"; did you mean {fired[0]!r}, reported on {where}?"
    return did_you_mean(rule, known_rules) if anywhere else ""


def _likeness(first: str, second: str) -> float:
    return difflib.SequenceMatcher(None, first, second).ratio()


def apply(
    findings: list[Finding], suppressions: list[Suppression], known_rules: set[str], unused_severity: str | None
) -> list[Finding]:
    """Findings left after suppression, plus an `unused-suppression` finding (at unused_severity;
    none when that rule is off) for each rule a suppression names but silences nothing of."""
    by_place: dict[_Place, list[Suppression]] = {}
    for suppression in suppressions:
        by_place.setdefault(_place_of(suppression), []).append(suppression)
    kept = []
    fired: dict[_Place, set[str]] = {}  # the rules reported at each place: what a misspelt name most likely meant
    for finding in findings:
        for place in ((finding.file,), (finding.file, finding.object), (finding.file, finding.line)):
            fired.setdefault(place, set()).add(finding.rule)
    for finding in findings:
        candidates = [
            *by_place.get((finding.file,), []),
            *by_place.get((finding.file, finding.object), []),
            *by_place.get((finding.file, finding.line), []),
        ]
        silencers = [s for s in candidates if s.silences(finding)]
        for suppression in silencers:
            suppression.used.add(finding.rule)
        if not silencers:
            kept.append(finding)
    if unused_severity is None:
        return kept
    for suppression in suppressions:
        unused = sorted(suppression.rules - suppression.used)
        where = {"line": "this line", "file": "this file", "object": "this object"}[suppression.scope]
        if suppression.scope == "line" and suppression.applies_to_line != suppression.line:
            where = "the next line"
        messages = []
        reported = fired.get(_place_of(suppression), set())
        for rule in unused[:MAX_UNUSED_NAMED]:
            why = f"no such rule{_hint(rule, reported, known_rules, where)}" if rule not in known_rules else \
                f"nothing to suppress{_hint(rule, reported, set(), where)}"
            messages.append(f"suppression of {clipped(rule)} on {where} is unused ({why}): remove it")
        if len(unused) > MAX_UNUSED_NAMED:
            messages.append(f"suppression on {where} names {len(unused) - MAX_UNUSED_NAMED} more rules that suppress "
                            "nothing: remove them")
        kept += [Finding(
            "unused-suppression", unused_severity, message, suppression.file, suppression.line, suppression.column,
            suppression.object, f"metadata.annotations[{ANNOTATION}]" if suppression.scope == "object" else None,
        ) for message in messages]
    return kept
