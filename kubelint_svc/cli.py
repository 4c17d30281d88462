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
    sarif = "sarif"
    github = "github"
    junit = "junit"


class ColourChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _usage_error(message: str) -> "typer.Exit":
    from kubelint_svc.reporters.escaping import visible

    typer.echo(f"kubelint-svc: error: {visible(message)}", err=True)
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


def _load_config(config_file: Optional[str]):
    """The explicit --config, or the nearest one found from the current directory upward."""
    from pathlib import Path

    from kubelint_svc.config import Config, ConfigError, find_config, load_config

    path = Path(config_file) if config_file else find_config(Path.cwd())
    if path is None:
        return Config()
    try:
        return load_config(path)
    except (ConfigError, OSError) as error:
        raise _usage_error(str(error)) from None


def _load_registry(config=None):
    from kubelint_svc.engine import Registry, RuleError

    try:
        return Registry.configured(config)
    except (RuleError, FileNotFoundError) as error:
        raise _usage_error(str(error)) from None


def _use_colour(stream, choice: "ColourChoice" = ColourChoice.auto) -> bool:
    """--color wins; then NO_COLOR and FORCE_COLOR (no-color.org); then: is it a terminal?"""
    if choice is not ColourChoice.auto:
        return choice is ColourChoice.always
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
    fail_on: Optional[Severity] = typer.Option(
        None, "--fail-on", help="Exit with 1 when a finding is at or above this severity [default: error]."
    ),
    node_port_range: Optional[str] = typer.Option(
        None, "--node-port-range", help="The cluster's --service-node-port-range, as LOW-HIGH [default: 30000-32767]."
    ),
    namespace: Optional[str] = typer.Option(
        None, "--namespace", "-n", help="Namespace of objects that name none, as kubectl apply -n [default: default]."
    ),
    config_file: Optional[str] = typer.Option(
        None, "--config", help="Configuration file (default: .kubelint-svc.yaml or pyproject.toml, searched upward)."
    ),
    context: Optional[List[str]] = typer.Option(
        None, "--context", help="File or directory read for cross-object checks, never reported on (repeatable)."
    ),
    git_context: bool = typer.Option(
        False, "--git-context", help="Use every manifest git tracks in the repository as context."
    ),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write the report to FILE in --format; the terminal still gets text."
    ),
    colour: ColourChoice = typer.Option(ColourChoice.auto, "--color", help="Colour the text report."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print findings only, no summary line."),
    show_statistics: bool = typer.Option(False, "--statistics", help="Print one line per rule with its count."),
) -> None:
    """Lint manifests and report findings with their file, line and column."""
    from kubelint_svc.findings import at_or_above

    report, registry, threshold = run_from_options(
        paths, kubernetes_version, fail_on.value if fail_on else None, node_port_range, namespace, config_file,
        context, git_context,
    )
    _write_report(report, registry, output_format, output, threshold, colour, quiet, show_statistics)
    failed = any(at_or_above(finding.severity, threshold) for finding in report.findings)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


def run_from_options(
    paths: Optional[List[str]],
    kubernetes_version: Optional[str] = None,
    fail_on: Optional[str] = None,
    node_port_range: Optional[str] = None,
    namespace: Optional[str] = None,
    config_file: Optional[str] = None,
    context: Optional[List[str]] = None,
    git_context: bool = False,
):
    """Settle flags against the configuration, lint, and return (report, registry, fail-on)."""
    from kubelint_svc.inputs import MissingPathError, discover, git_tracked_manifests
    from kubelint_svc.runner import Settings, lint as run_lint
    from kubelint_svc.schemas import bundled_versions, normalise_version

    config = _load_config(config_file)
    versions = bundled_versions()
    version = versions[-1]
    wanted_version = kubernetes_version or config.kubernetes_version
    if wanted_version is not None:
        version = normalise_version(wanted_version) or ""
        if version not in versions:
            origin = "--kubernetes-version" if kubernetes_version else f"{config.where('kubernetes-version')}: kubernetes-version"
            shown = repr(wanted_version) if len(repr(wanted_version)) <= 40 else repr(wanted_version)[:37] + "..."
            raise _usage_error(f"{origin} {shown} is not bundled; choose one of {', '.join(versions)}")
    origin = "--node-port-range" if node_port_range else f"{config.where('node-port-range')}: node-port-range"
    port_range = _parse_port_range(node_port_range or config.node_port_range or "30000-32767", origin)
    threshold = fail_on or config.fail_on or "error"
    try:
        inputs = [i for i in discover(paths or ["."]) if i.path is None or not config.excludes(i.path)]
        context_inputs = discover([*(context or []), *map(str, config.context)])
    except MissingPathError as error:
        raise _usage_error(str(error)) from None
    if git_context:
        context_inputs += git_tracked_manifests(paths or ["."])
    registry = _load_registry(config)
    settings = Settings(
        kubernetes_version=version,
        fail_on=threshold,
        node_port_range=port_range,
        namespace=namespace or config.namespace or "default",
    )
    return run_lint(inputs, settings, registry, context=context_inputs), registry, threshold


def _render(report, registry, output_format: OutputFormat, threshold: str) -> str:
    """A machine format (every format but text)."""
    if output_format is OutputFormat.json:
        from kubelint_svc.reporters import json as reporter

        return reporter.render(report)
    if output_format is OutputFormat.sarif:
        from kubelint_svc.reporters import sarif

        return sarif.render(report, registry)
    if output_format is OutputFormat.junit:
        from kubelint_svc.reporters import junit

        return junit.render(report, threshold)
    from kubelint_svc.reporters import github

    return github.render(report)


def _write_report(report, registry, output_format, output, threshold, colour, quiet, show_statistics) -> None:
    from kubelint_svc.reporters import text

    if output is not None:
        content = text.render(report, quiet=quiet) if output_format is OutputFormat.text else _render(
            report, registry, output_format, threshold
        )
        try:
            with open(output, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(content)
        except OSError as error:
            raise _usage_error(f"--output {output}: {error.strerror or error}") from None
    if output is None and output_format is not OutputFormat.text:
        sys.stdout.write(_render(report, registry, output_format, threshold))
        return
    sys.stdout.write(text.render(report, colour=_use_colour(sys.stdout, colour), quiet=quiet))
    if show_statistics:
        sys.stdout.write(text.statistics(report))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from kubelint_svc.reporters import github

        sys.stdout.write(github.render(report))


def _parse_port_range(text: str, origin: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    if sep and low.strip().isdigit() and high.strip().isdigit() and len(low.strip()) <= 5 and len(high.strip()) <= 5:
        bounds = (int(low), int(high))
        if 1 <= bounds[0] <= bounds[1] <= 65535:
            return bounds
    shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
    raise _usage_error(f"{origin} {shown} must be LOW-HIGH within 1-65535, e.g. 30000-32767")


CONFIG_OPTION = typer.Option(None, "--config", help="Configuration file (default: searched upward).")


@app.command("rules")
def list_rules(config_file: Optional[str] = CONFIG_OPTION) -> None:
    """List every rule: id, severity and summary; rules that are off are marked."""
    registry = _load_registry(_load_config(config_file))
    rules = registry.sorted_rules()
    width = max(len(rule.id) for rule in rules)
    for rule in rules:
        state = "" if rule.enabled else f" [off{': pack ' + rule.pack if rule.pack else ''}]"
        typer.echo(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.summary}{state}")


@app.command()
def explain(
    rule_id: str = typer.Argument(..., metavar="RULE", help="A rule id, as `rules` lists them."),
    config_file: Optional[str] = CONFIG_OPTION,
) -> None:
    """Explain a rule: why it matters, a failing example and its fix."""
    registry = _load_registry(_load_config(config_file))
    if rule_id not in registry:
        raise _usage_error(f"unknown rule {rule_id!r}; `kubelint-svc rules` lists them")
    rule = registry[rule_id]
    pack = f", policy pack {rule.pack}" if rule.pack else ""
    parts = [f"{rule.id} ({rule.severity}{pack})", "", rule.summary, "", rule.rationale]
    if rule.kinds:
        parts += ["", "Applies to: " + ", ".join(rule.kinds)]
    if rule.failing_example.strip():
        parts += ["", "Failing example:", "", _indent(rule.failing_example)]
    if rule.passing_example.strip():
        parts += ["", "Fixed example:", "", _indent(rule.passing_example)]
    typer.echo("\n".join(parts).rstrip())


@app.command()
def init(
    path: str = typer.Argument(".kubelint-svc.yaml", help="Where to write the starter configuration."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter configuration."""
    from pathlib import Path

    from kubelint_svc.config import STARTER

    target = Path(path)
    if target.exists() and not force:
        raise _usage_error(f"{target} already exists (use --force to overwrite it)")
    target.write_text(STARTER)
    typer.echo(f"Wrote {target}: every setting is commented out; uncomment what you need.")


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.rstrip("\n").split("\n"))


def main() -> None:
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character gets an escape
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        app()
    except Exception as error:  # a bug of ours: one line, not a traceback (KUBELINT_SVC_DEBUG=1 shows it)
        if os.environ.get("KUBELINT_SVC_DEBUG"):
            raise
        from kubelint_svc.reporters.escaping import visible

        typer.echo(f"kubelint-svc: internal error: {type(error).__name__}: {visible(str(error))} (please report this)",
                   err=True)
        raise SystemExit(EXIT_USAGE) from None
