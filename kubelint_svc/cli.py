"""Command line: parses flags, wires the stages together, picks the exit code."""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from kubelint_svc import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="kubelint-svc",
    help="Lint Kubernetes Services and the workloads they select.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _usage_error(message: str) -> "typer.Exit":
    typer.echo(f"kubelint-svc: error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kubelint-svc {__version__}")
        raise typer.Exit(EXIT_CLEAN)


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Lint Kubernetes Services and the workloads they select."""


def _load_registry():
    from kubelint_svc.engine import Registry, RuleError

    try:
        return Registry.builtin()
    except (RuleError, FileNotFoundError) as error:
        raise _usage_error(str(error))


def _use_colour(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


@app.command()
def lint(
    paths: Optional[List[str]] = typer.Argument(
        None, help="Files or directories to lint (directories recursively); '-' reads standard input."
    ),
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="Report format."),
    kubernetes_version: Optional[str] = typer.Option(
        None, "--kubernetes-version", "-k", help="Kubernetes minor version to check against (default: newest bundled)."
    ),
    fail_on: Severity = typer.Option(
        Severity.error, "--fail-on", help="Exit with 1 when a finding is at or above this severity."
    ),
    node_port_range: str = typer.Option(
        "30000-32767", "--node-port-range", help="The cluster's --service-node-port-range, as LOW-HIGH."
    ),
    namespace: str = typer.Option(
        "default", "--namespace", "-n", help="Namespace of objects that name none (as kubectl apply -n)."
    ),
    context: Optional[List[str]] = typer.Option(
        None, "--context", help="File or directory read for cross-object checks, never reported on (repeatable)."
    ),
    git_context: bool = typer.Option(
        False, "--git-context", help="Use every manifest git tracks in the repository as context."
    ),
) -> None:
    """Lint manifests and report findings with their file, line and column."""
    from kubelint_svc.findings import at_or_above
    from kubelint_svc.inputs import MissingPathError, discover, git_tracked_manifests
    from kubelint_svc.runner import Settings, lint as run_lint
    from kubelint_svc.schemas import bundled_versions, normalise_version

    versions = bundled_versions()
    version = versions[-1]
    if kubernetes_version is not None:
        version = normalise_version(kubernetes_version) or ""
        if version not in versions:
            raise _usage_error(
                f"--kubernetes-version {kubernetes_version!r} is not bundled; choose one of {', '.join(versions)}"
            )
    port_range = _parse_port_range(node_port_range)
    try:
        inputs = discover(paths or ["."])
        context_inputs = discover(context) if context else []
    except MissingPathError as error:
        raise _usage_error(str(error))
    if git_context:
        context_inputs += git_tracked_manifests(paths or ["."])
    registry = _load_registry()
    settings = Settings(
        kubernetes_version=version, fail_on=fail_on.value, node_port_range=port_range, namespace=namespace
    )
    report = run_lint(inputs, settings, registry, context=context_inputs)
    if output_format is OutputFormat.json:
        from kubelint_svc.reporters import json as json_reporter

        sys.stdout.write(json_reporter.render(report))
    else:
        from kubelint_svc.reporters import text as text_reporter

        sys.stdout.write(text_reporter.render(report, colour=_use_colour(sys.stdout)))
    failed = any(at_or_above(finding.severity, fail_on.value) for finding in report.findings)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


def _parse_port_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    if sep and low.strip().isdigit() and high.strip().isdigit():
        bounds = (int(low), int(high))
        if 1 <= bounds[0] <= bounds[1] <= 65535:
            return bounds
    raise _usage_error(f"--node-port-range {text!r} must be LOW-HIGH within 1-65535, e.g. 30000-32767")


@app.command("rules")
def list_rules() -> None:
    """List every rule: id, default severity and summary."""
    registry = _load_registry()
    rules = registry.sorted_rules()
    width = max(len(rule.id) for rule in rules)
    for rule in rules:
        typer.echo(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.summary}")


@app.command()
def explain(rule_id: str = typer.Argument(..., metavar="RULE", help="A rule id, as `rules` lists them.")) -> None:
    """Explain a rule: why it matters, a failing example and its fix."""
    registry = _load_registry()
    if rule_id not in registry:
        raise _usage_error(f"unknown rule {rule_id!r}; `kubelint-svc rules` lists them")
    rule = registry[rule_id]
    parts = [f"{rule.id} ({rule.severity})", "", rule.summary, "", rule.rationale]
    if rule.kinds:
        parts += ["", "Applies to: " + ", ".join(rule.kinds)]
    if rule.failing_example.strip():
        parts += ["", "Failing example:", "", _indent(rule.failing_example)]
    if rule.passing_example.strip():
        parts += ["", "Fixed example:", "", _indent(rule.passing_example)]
    typer.echo("\n".join(parts).rstrip())


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.rstrip("\n").split("\n"))


def main() -> None:
    app()
