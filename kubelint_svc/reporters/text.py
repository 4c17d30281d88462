"""Compiler-style text: `path:line:col: error[rule-id] message (Kind ns/name)`."""

from __future__ import annotations

from kubelint_svc.findings import Report
from kubelint_svc.reporters.escaping import not_a_command, visible

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD = "\033[1m"
_RESET = "\033[0m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(report: Report) -> str:
    """What was found, then what was read: files read are what JSON's `summary.files` counts."""
    read = f"{_plural(report.objects, 'object')} in {_plural(report.files, 'file')}"
    counts = [
        _plural(n, word)
        for n, word in (
            (report.count("error"), "error"),
            (report.count("warning"), "warning"),
            (report.count("info"), "info"),
        )
        if n
    ]
    if not counts:
        return f"No problems found in {read}."
    listed = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " and " + counts[-1]
    files = len({finding.file for finding in report.findings})
    return f"Found {listed} in {_plural(files, 'file')} ({read} read)."


def statistics(report: Report) -> str:
    """One line per rule with its count, most frequent first (ruff's --statistics)."""
    counts: dict[tuple[str, str], int] = {}
    for finding in report.findings:
        counts[(finding.rule, finding.severity)] = counts.get((finding.rule, finding.severity), 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:>5}  {severity:<7}  {visible(rule)}\n" for (rule, severity), count in ordered)


def render(report: Report, colour: bool = False, quiet: bool = False, show_statistics: bool = False) -> str:
    """The findings (or, with show_statistics, their count per rule), then the summary line."""
    lines = [statistics(report).rstrip("\n")] if show_statistics and report.findings else []
    for finding in [] if show_statistics else report.findings:
        severity = f"{finding.severity}[{visible(finding.rule)}]"
        location = not_a_command(f"{visible(finding.file)}:{finding.line}:{finding.column}:")
        if colour:
            severity = f"{_COLOURS[finding.severity]}{severity}{_RESET}"
            location = f"{_BOLD}{location}{_RESET}"
        where = f" ({visible(finding.object.describe())})" if finding.object else ""
        lines.append(f"{location} {severity} {visible(finding.message)}{where}")
    if not quiet and (report.objects or report.findings):  # nothing read: the front end warns instead
        lines.append(summary_line(report))
    return "\n".join(lines) + "\n" if lines else ""
