"""Compiler-style text: `path:line:col: error[rule-id] message (Kind ns/name)`, then the source
line with a caret span and help and note lines (or, concise, the first line alone)."""

from __future__ import annotations

import unicodedata

from kubelint_svc.findings import Finding, Report
from kubelint_svc.reporters.escaping import not_a_command, visible

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD = "\033[1m"
# a long line (minified JSON, a one-line list) is shown as a window of this many characters,
# starting a little before the span, with `...` where it is cut
_SHOWN, _BEFORE = 100, 30
_RESET = "\033[0m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(report: Report) -> str:
    """What was found, then what was read: files read are what JSON's `summary.files` counts."""
    read = f"{_plural(report.objects, 'object')} in {_plural(report.files, 'file')}"
    # what was read only as context is counted apart: "384 objects in 1 file" misleads
    context = (f"{_plural(report.context_objects, 'object')} in {_plural(report.context_files, 'file')} read as "
               "context") if report.context_files else ""
    counts = [
        _plural(n, word)
        for n, word in (
            (report.count("error"), "error"),
            (report.count("warning"), "warning"),
            (report.count("info"), "info"),
        )
        if n
    ]
    fixed = f"Fixed {_plural(report.fixed, 'finding')} in {_plural(report.fixed_files, 'file')}. " \
        if report.fixed else ""
    if not counts:
        return f"{fixed}No problems found in {read}" + (f", with {context}." if context else ".")
    listed = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " and " + counts[-1]
    files = len({finding.file for finding in report.findings})
    remaining = " remaining" if report.fixed else ""
    return (f"{fixed}Found {listed}{remaining} in {_plural(files, 'file')} ({read} read"
            + (f"; {context})." if context else ")."))


def statistics(report: Report) -> str:
    """One line per rule with its count, most frequent first (ruff's --statistics)."""
    counts: dict[tuple[str, str], int] = {}
    for finding in report.findings:
        counts[(finding.rule, finding.severity)] = counts.get((finding.rule, finding.severity), 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:>5}  {severity:<7}  {visible(rule)}\n" for (rule, severity), count in ordered)


def render(
    report: Report, colour: bool = False, quiet: bool = False, show_statistics: bool = False, concise: bool = False
) -> str:
    """The findings (or, with show_statistics, their count per rule), then the summary line.
    Each finding is framed as a compiler frames it: its line of source with a caret span under
    the field, then `help:` and `note:` lines; concise keeps one line per finding."""
    lines = [statistics(report).rstrip("\n")] if show_statistics and report.findings else []
    for finding in [] if show_statistics else report.findings:
        severity = f"{finding.severity}[{visible(finding.rule)}]"
        location = not_a_command(f"{visible(finding.file)}:{finding.line}:{finding.column}:")
        if colour:
            severity = f"{_COLOURS[finding.severity]}{severity}{_RESET}"
            location = f"{_BOLD}{location}{_RESET}"
        where = f" ({visible(finding.object.describe())})" if finding.object else ""
        if concise:
            lines.append(f"{location} {severity} {visible(finding.text)}{where}")
            continue
        lines.append(f"{location} {severity} {visible(finding.message)}{where}")
        frame = _frame(report, finding, colour)
        lines += [*frame, ""] if frame else []
    if not quiet and (report.objects or report.findings):  # nothing read: the front end warns instead
        lines.append(summary_line(report))
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _frame(report: Report, finding: Finding, colour: bool) -> list[str]:
    """The source line with a caret span under the key or value, then help and note lines."""
    source = report.source_lines.get((finding.file, finding.line))
    number = str(finding.line)
    gutter = " " * len(number)
    lines = []
    if source is not None:
        start = max(finding.column - 1, 0)
        if finding.end_line == finding.line and finding.end_column is not None and finding.end_column > finding.column:
            stop = finding.end_column - 1
        else:  # the span goes on below, or its end is unknown: mark to the end of the line's token
            stop = start + max(len(source[start:].split(" ", 1)[0].rstrip(":")), 1)
        left = 0 if len(source) <= _SHOWN else max(0, min(start - _BEFORE, len(source) - _SHOWN))
        right = min(len(source), left + _SHOWN)
        head, tail = "..." if left else "", "..." if right < len(source) else ""
        offset = len(head) + _columns(visible(source[left:start]))
        width = max(_columns(visible(source[start:min(stop, right)])), 1)
        carets = "^" * width
        if colour:
            carets = f"{_COLOURS[finding.severity]}{carets}{_RESET}"
        shown = f"{head}{visible(source[left:right])}{tail}"
        lines += [f"{gutter} |", f"{number} | {shown}", f"{gutter} | {' ' * offset}{carets}"]
    for hint in finding.help:
        lines.append(f"{gutter} = help: {visible(hint)}")
    for note in finding.notes:
        lines.append(f"{gutter} = note: {visible(note.file)}:{note.line}:{note.column}: {visible(note.message)}")
    return lines


def _columns(text: str) -> int:
    """How many terminal columns text takes: a wide character (CJK, emoji) two, a combining
    mark none, so carets stay under the field whatever the line holds."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me")
        else 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        for char in text
    )
