"""The GitHub Action's step: lint with the action's inputs, annotate, summarise, set outputs.

Run by action.yml as `python -m kubelint_svc.github_action`; inputs arrive as INPUT_*
environment variables (never spliced into the shell script, so a crafted input cannot run
commands).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from typing import TYPE_CHECKING

from kubelint_svc.findings import SEVERITIES, Report, at_or_above
from kubelint_svc.reporters import github, sarif, text
from kubelint_svc.reporters.escaping import visible

if TYPE_CHECKING:
    from kubelint_svc.app import Outcome

SUMMARY_ROWS = 20


def _input(name: str) -> str:
    return os.environ.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip()


def _append(variable: str, content: str) -> None:
    target = os.environ.get(variable)
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(content)


_MARKDOWN = re.compile(r"([\\`*_\[\]()!|#<>&])")


def _cell(value: str) -> str:
    """A table cell that shows the text as written: no markup, links or images from input."""
    return _MARKDOWN.sub(r"\\\1", visible(value))


def _code(value: str) -> str:
    """A code span in a table cell: a backtick in the text cannot end it, a pipe cannot split the row."""
    return "`" + visible(value).replace("`", "'").replace("|", "\\|") + "`"


def summary_markdown(report: Report, threshold: str) -> str:
    lines = ["## kubelint-svc", "", text.summary_line(report), ""]
    if not report.findings:
        return "\n".join(lines) + "\n"
    counts: dict[tuple[str, str], int] = {}
    for finding in report.findings:
        counts[(finding.rule, finding.severity)] = counts.get((finding.rule, finding.severity), 0) + 1
    lines += ["| rule | severity | findings |", "|---|---|---:|"]
    lines += [f"| {_code(rule)} | {severity} | {count} |" for (rule, severity), count in
              sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    lines += ["", "| location | severity | rule | message |", "|---|---|---|---|"]
    for finding in report.findings[:SUMMARY_ROWS]:
        lines.append(f"| {_code(f'{finding.file}:{finding.line}:{finding.column}')} | {finding.severity} | "
                     f"{_code(finding.rule)} | {_cell(finding.text)} |")
    if len(report.findings) > SUMMARY_ROWS:
        lines += ["", f"…and {len(report.findings) - SUMMARY_ROWS} more; the SARIF report has them all."]
    failing = sum(1 for f in report.findings if at_or_above(f.severity, threshold))
    lines += ["", f"{failing} finding{'s' if failing != 1 else ''} at or above `{threshold}`."]
    return "\n".join(lines) + "\n"


def broken_wiring(outcome: Outcome) -> str:
    """The broken part of the graph, as Mermaid GitHub draws in the job summary (size-bounded)."""
    from kubelint_svc.graph import build, sorted_graph
    from kubelint_svc.reporters import graph_formats

    if outcome.run is None or not outcome.report.findings:
        return ""
    return graph_formats.summary_markdown(sorted_graph(build(outcome.run, outcome.report.findings)))


def _could_not_run(message: str) -> int:
    print(f"kubelint-svc: error: {visible(message)}", file=sys.stderr)
    print("::error title=kubelint-svc::the linter could not run; see the message above")
    return 2


def _warn(warnings: tuple[str, ...]) -> None:
    """The run's warnings, as the command line prints them on stderr, and each as an annotation."""
    for warning in warnings:
        print(f"kubelint-svc: warning: {visible(warning)}", file=sys.stderr)
        print(f"::warning title=kubelint-svc::{github.escape_data(warning)}")


def main() -> int:
    from kubelint_svc.app import Options, UsageError, check_output_file
    from kubelint_svc.app import lint as run
    from kubelint_svc.outputs import OutputRefused, write_output

    fail_on = _input("fail-on") or "error"
    if fail_on not in SEVERITIES:
        print(f"::error title=kubelint-svc::input fail-on must be one of {', '.join(SEVERITIES)}, "
              f"not {visible(repr(fail_on))}")
        return 2
    respect_gitignore = _input("respect-gitignore").lower() or "false"
    if respect_gitignore not in ("true", "false"):
        print(f"::error title=kubelint-svc::input respect-gitignore must be true or false, "
              f"not {github.escape_data(repr(respect_gitignore))}")
        return 2
    sarif_file = _input("sarif-file")
    try:
        if sarif_file:  # a refused output is said before any file is read
            check_output_file(sarif_file, False, "sarif-file")
        options = Options(
            paths=tuple(shlex.split(_input("paths")) or ["."]),
            kubernetes_version=_input("kubernetes-version") or None,
            fail_on=fail_on,
            config_file=_input("config") or None,
            # a pull request's .gitignore or .ignore must not hide its own manifests from the check
            respect_gitignore=respect_gitignore == "true",
        )
        outcome = run(options)
    except (UsageError, ValueError) as error:  # ValueError: unbalanced quotes in the paths input
        return _could_not_run(str(error))
    report, threshold = outcome.report, outcome.settings.fail_on
    _warn(outcome.warnings)
    sys.stdout.write(text.render(report))
    sys.stdout.write(github.render(report))
    if sarif_file:
        try:
            write_output(sarif_file, sarif.render(report, outcome.registry), outcome.read, flag="sarif-file")
        except OutputRefused as error:
            return _could_not_run(str(error))
    _append("GITHUB_OUTPUT", f"findings={len(report.findings)}\nsarif-file={visible(sarif_file)}\n")
    _append("GITHUB_STEP_SUMMARY", summary_markdown(report, threshold) + broken_wiring(outcome))
    return 1 if outcome.failed else 0


def guarded_main() -> int:
    """main(), with a bug of ours as one line instead of a traceback (KUBELINT_SVC_DEBUG=1 shows it)."""
    try:
        return main()
    except Exception as error:
        if os.environ.get("KUBELINT_SVC_DEBUG"):
            raise
        print(f"kubelint-svc: internal error: {type(error).__name__}: {visible(str(error))} (please report this)",
              file=sys.stderr)
        print("::error title=kubelint-svc::internal error; see the message above")
        return 2


if __name__ == "__main__":
    raise SystemExit(guarded_main())
