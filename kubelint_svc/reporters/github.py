"""GitHub Actions workflow commands: one annotation per finding, escaped as actions/toolkit does."""

from __future__ import annotations

from kubelint_svc.findings import Finding, Report
from kubelint_svc.reporters.escaping import not_a_command, visible

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
# GitHub shows at most this many annotations of each level per step, and drops the rest silently
ANNOTATIONS_PER_LEVEL = 10


def escape_data(text: str) -> str:
    """actions/toolkit's escaping, after every control character is made visible: no input can
    end the command's line or smuggle a terminal sequence into the log."""
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(finding: Finding) -> str:
    """`::error file=F,line=L,col=C,title=RULE::message`, exactly as documented."""
    properties = [
        f"file={escape_property(finding.file)}",
        f"line={finding.line}",
        f"col={finding.column}",
        f"title={escape_property(finding.rule)}",
    ]
    return f"::{LEVELS[finding.severity]} {','.join(properties)}::{escape_data(finding.text + _where(finding))}"


def _where(finding: Finding) -> str:
    return f" ({finding.object.describe()})" if finding.object else ""


def render(report: Report, limit: int | None = ANNOTATIONS_PER_LEVEL) -> str:
    """Annotations, at most `limit` per level; the rest as plain log lines and a count."""
    lines, shown, skipped = [], dict.fromkeys(LEVELS, 0), []
    for finding in report.findings:
        if limit is None or shown[finding.severity] < limit:
            shown[finding.severity] += 1
            lines.append(command(finding))
        else:
            skipped.append(finding)
    if skipped:
        lines.append(
            f"{len(skipped)} more finding{'s' if len(skipped) != 1 else ''} not annotated: GitHub shows at most "
            f"{limit} annotations per level in a step. Upload the SARIF report (--format sarif) to code scanning "
            "to see them all:"
        )
        lines += [
            not_a_command(visible(f"  {f.file}:{f.line}:{f.column}: {f.severity}[{f.rule}] {f.text}{_where(f)}"))
            for f in skipped
        ]
    return "\n".join(lines) + ("\n" if lines else "")
