"""Command line: parses flags, wires the stages together, picks the exit code."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from kubelint_svc import __version__
from kubelint_svc.lint_command import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_USAGE,
    ColourChoice,
    KustomizeEngine,
    LoadRestrictor,
    OutputFormat,
    Severity,
    exit_code,
    rendered,
    shown_on_stdout,
    use_colour,
    warn,
)

if TYPE_CHECKING:
    from kubelint_svc.app import Options, Outcome
    from kubelint_svc.config import Config
    from kubelint_svc.engine import Registry

_NO_BREAK_HYPHEN = "\u2011"
_PYTHON_TYPE = re.compile(r" <(str|list\[str\])>$")
_REQUIRED_METAVAR = re.compile(r"\{([A-Z][A-Z/_-]*)\}")
# click's HelpFormatter, reached through the public Context rather than typer's vendored `_click`
_HelpFormatter: Any = typer.Context.formatter_class


class _PlainHelpFormatter(_HelpFormatter):  # type: ignore[misc]  # click's class, typed Any here
    """click's help, wrapped at spaces only: `.kubelint-svc.yaml` or `--node-port-range` never
    split at a hyphen, whatever the width."""

    width: int

    def __init__(self, indent_increment: int = 2, width: int | None = None, max_width: int | None = None) -> None:
        super().__init__(indent_increment, width, max_width)
        # narrower, a description column is too thin for `--service-node-port-range`: click would
        # break the word; a narrow terminal folds the lines instead
        self.width = max(self.width, 78)

    def write_text(self, text: str) -> None:
        super().write_text(text.replace("-", _NO_BREAK_HYPHEN))

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        # typer names an argument's Python type after its metavar (`PATH <list[str]>`): dropped
        rows = [(_PYTHON_TYPE.sub("", first), second.replace("-", _NO_BREAK_HYPHEN)) for first, second in rows]
        super().write_dl(rows, col_max, col_spacing)

    def write(self, string: str) -> None:
        super().write(string.replace(_NO_BREAK_HYPHEN, "-"))

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        # typer writes a required argument's metavar in braces (`{KIND/NAME}`), which reads as a choice
        super().write_usage(prog, _REQUIRED_METAVAR.sub(r"\1", args), prefix)


class _PlainContext(typer.Context):
    formatter_class = _PlainHelpFormatter


class _PlainGroup(TyperGroup):
    context_class = _PlainContext


class _PlainCommand(TyperCommand):
    context_class = _PlainContext


app = typer.Typer(
    name="kubelint-svc",
    cls=_PlainGroup,
    help="Lint Kubernetes Services and the workloads they select.",
    # typer's --show-completion takes no shell (`--show-completion zsh` printed the bash script of
    # the shell it detected): ours below take one
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: no markup to eat `[default: ...]`, no boxes
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _usage_error(message: str) -> typer.Exit:
    from kubelint_svc.reporters.escaping import visible

    typer.echo(f"kubelint-svc: error: {visible(message)}", err=True)
    return typer.Exit(EXIT_USAGE)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kubelint-svc {__version__}")
        raise typer.Exit(EXIT_CLEAN)


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"
    pwsh = "pwsh"


_COMPLETE_VARIABLE = "_KUBELINT_SVC_COMPLETE"  # what typer's scripts set to ask for completions (front_door too)
_COMPLETION_OPTIONS = ("--show-completion", "--install-completion")


def _show_completion(ctx: typer.Context, value: Shell | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import get_completion_script

    typer.echo(get_completion_script(prog_name="kubelint-svc", complete_var=_COMPLETE_VARIABLE, shell=value.value))
    raise typer.Exit(EXIT_CLEAN)


def _install_completion(ctx: typer.Context, value: Shell | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import install

    shell, path = install(shell=value.value, prog_name="kubelint-svc", complete_var=_COMPLETE_VARIABLE)
    typer.echo(f"{shell} completion installed in {path}; it takes effect in a new shell.")
    raise typer.Exit(EXIT_CLEAN)


def _with_detected_shell(args: list[str]) -> list[str]:
    """`--show-completion` or `--install-completion` with no shell after it: the shell this runs
    in, as typer detects it (typer 0.28's options cannot take a value or none)."""
    if not args or args[0] not in _COMPLETION_OPTIONS or (len(args) > 1 and not args[1].startswith("-")):
        return args
    detected = _shell_name()
    return [args[0], detected, *args[1:]] if detected is not None and detected in Shell.__members__ else args


def _shell_name() -> str | None:
    """The shell this runs in, lowercase, as typer detects it (with shellingham, its dependency)."""
    import shellingham

    try:
        name, _ = shellingham.detect_shell()
    except shellingham.ShellDetectionFailure:
        return None
    return str(name)


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
    show_completion: Shell | None = typer.Option(
        None, "--show-completion", metavar="[SHELL]", callback=_show_completion, is_eager=True, expose_value=False,
        help="Print the completion script for SHELL (default: the current shell), to copy it or customise it.",
    ),
    install_completion: Shell | None = typer.Option(
        None, "--install-completion", metavar="[SHELL]", callback=_install_completion, is_eager=True,
        expose_value=False, help="Install completion for SHELL (default: the current shell).",
    ),
) -> None:
    """Lint Kubernetes Services and the workloads they select."""


def _complete_rule_ids(incomplete: str) -> list[tuple[str, str]]:
    """Rule ids (the configuration's packs included) with their summaries, for `explain`."""
    from kubelint_svc.app import UsageError, load_configuration, load_registry
    from kubelint_svc.reporters.escaping import visible

    try:
        registry = load_registry(load_configuration(None))
    except UsageError:  # a broken configuration: the built-in rules still complete
        from kubelint_svc.engine import Registry

        registry = Registry.builtin()
    return [(rule.id, visible(rule.summary)) for rule in registry.sorted_rules() if rule.id.startswith(incomplete)]


def _complete_versions(incomplete: str) -> list[str]:
    """The Kubernetes versions with a bundled schema, for -k."""
    from kubelint_svc.schemas import bundled_versions

    return [version for version in bundled_versions() if version.startswith(incomplete)]


def _complete_expose_target(incomplete: str) -> list[str]:
    """`deployment/`, `svc/`, ...: the kinds expose takes, as kubectl names them, before the name."""
    from kubelint_svc.expose import KIND_NAMES

    return [f"{name}/" for name in KIND_NAMES if f"{name}/".startswith(incomplete)]


def _config(config_file: str | None) -> Config:
    from kubelint_svc.app import UsageError, load_configuration

    try:
        return load_configuration(config_file)
    except UsageError as error:
        raise _usage_error(str(error)) from None


def _registry(config: Config) -> Registry:
    from kubelint_svc.app import UsageError, load_registry

    try:
        return load_registry(config)
    except UsageError as error:
        raise _usage_error(str(error)) from None


_use_colour = use_colour  # the name the suite knows


@app.command("lint", cls=_PlainCommand, short_help="Lint manifests: findings at their file, line and column.")
def lint_command(
    paths: list[str] | None = typer.Argument(
        None, metavar="[PATH]...",
        help="Files or directories to lint (directories recursively); '-' reads standard input.",
    ),
    output_format: OutputFormat = typer.Option(
        OutputFormat.text, "--output-format", "--format", "-f",
        help="Report format: text frames each finding with its source line; concise is one line each.",
    ),
    kubernetes_version: str | None = typer.Option(
        None, "--kubernetes-version", "-k", metavar="VERSION", autocompletion=_complete_versions,
        help="Kubernetes minor version to check against (default: newest bundled)."
    ),
    fail_on: Severity | None = typer.Option(
        None, "--fail-on", help="Exit with 1 when a finding is at or above this severity [default: error]."
    ),
    node_port_range: str | None = typer.Option(
        None, "--node-port-range", metavar="LOW-HIGH",
        help="The cluster's --service-node-port-range, as LOW-HIGH [default: 30000-32767]."
    ),
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", metavar="NAMESPACE",
        help="Namespace of objects that name none, as kubectl apply -n [default: default]."
    ),
    config_file: str | None = typer.Option(
        None, "--config", metavar="FILE",
        help="Configuration file for every file (default: each file's nearest .kubelint-svc.yaml or "
        "pyproject.toml, searched upward).",
    ),
    context: list[str] | None = typer.Option(
        None, "--context", metavar="PATH",
        help="File or directory read for cross-object checks, never reported on (repeatable)."
    ),
    git_context: bool = typer.Option(
        False, "--git-context", help="Use every manifest git tracks in the repository as context."
    ),
    kustomize: KustomizeEngine | None = typer.Option(
        None, "--kustomize", help="How kustomizations are built (default: auto: kubectl or kustomize, else built in)."
    ),
    load_restrictor: LoadRestrictor | None = typer.Option(
        None, "--kustomize-load-restrictor",
        help="rootOnly (default): a kustomization reads files in or below its folder; none: anywhere in the "
        "repository (as Flux and Config Sync build).",
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", metavar="FILE",
        help="Write the report to FILE in --format; the terminal still gets text."
    ),
    colour: ColourChoice = typer.Option(ColourChoice.auto, "--color", help="Colour the text report."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print findings only, no summary line."),
    show_statistics: bool = typer.Option(
        False, "--statistics", help="Print one line per rule with its count instead of the findings."
    ),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit with 0 even when findings fail the run."),
    stdin_filename: str | None = typer.Option(
        None, "--stdin-filename", metavar="NAME",
        help="The name of what '-' reads: reported, matched against exclude, and where the configuration is sought.",
    ),
    force_exclude: bool = typer.Option(
        False, "--force-exclude", help="Apply every exclusion to files named on the command line too."
    ),
    exclude: list[str] | None = typer.Option(
        None, "--exclude", metavar="GLOB",
        help="Leave out what GLOB matches, instead of the default excludes and the configuration's (repeatable).",
    ),
    extend_exclude: list[str] | None = typer.Option(
        None, "--extend-exclude", metavar="GLOB",
        help="Leave out what GLOB matches, besides the default excludes and the configuration's (repeatable).",
    ),
    respect_gitignore: bool = typer.Option(
        True, "--respect-gitignore/--no-respect-gitignore",
        help="Leave out what .gitignore and .ignore files ignore.",
    ),
    show_files: bool = typer.Option(False, "--show-files", help="List the files that would be linted, and exit."),
    show_settings: bool = typer.Option(
        False, "--show-settings", help="Show the configuration file found and every resolved setting, and exit."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Read every file anew; neither read nor write the cache."),
    cache_dir: str | None = typer.Option(
        None, "--cache-dir", metavar="DIR", envvar="KUBELINT_SVC_CACHE_DIR", show_envvar=False,
        help="Where the cache lives [default: .kubelint-svc_cache in the project root; env: KUBELINT_SVC_CACHE_DIR].",
    ),
    fix: bool = typer.Option(
        False, "--fix", help="Apply the safe fixes findings offer, in the files that wrote the values; report the rest."
    ),
    unsafe_fixes: bool = typer.Option(
        False, "--unsafe-fixes", help="With --fix, --fix-only or --diff: also fixes that change behaviour on purpose."
    ),
    diff: bool = typer.Option(
        False, "--diff", help="Print the fixes as a unified diff and write nothing; exit 1 when there are any."
    ),
    fix_only: bool = typer.Option(False, "--fix-only", help="Apply the fixes and report no findings (exit 0)."),
) -> None:
    """Lint manifests and report findings with their file, line and column."""
    from kubelint_svc.app import Options, UsageError, check_output_file
    from kubelint_svc.app import lint as run

    options = Options(
        paths=tuple(paths or ["."]), kubernetes_version=kubernetes_version, fail_on=fail_on.value if fail_on else None,
        node_port_range=node_port_range, namespace=namespace, config_file=config_file, context=tuple(context or ()),
        git_context=git_context, kustomize=kustomize.value if kustomize else None, stdin_filename=stdin_filename,
        kustomize_load_restrictor=load_restrictor.value if load_restrictor else None,
        force_exclude=force_exclude, exclude=tuple(exclude) if exclude is not None else None,
        extend_exclude=tuple(extend_exclude or ()), respect_gitignore=respect_gitignore,
        no_cache=no_cache, cache_dir=cache_dir, reports=(output,) if output is not None else (),
    )
    if show_statistics and output_format not in _STATISTICS_FORMATS:  # not silently ignored
        raise _usage_error(f"--statistics is written as text or JSON, not --format {output_format.value} "
                           "(use --format text, concise or json)")
    if show_files or show_settings:
        _show_plan(options, show_settings)
    try:
        if output is not None:  # a refused output is said before any file is read
            check_output_file(output, False, "--output")
        fixed = _fix(options, unsafe_fixes, diff, fix_only) if fix or diff or fix_only else None
        outcome = fixed or run(options, replay=True)
    except UsageError as error:
        raise _usage_error(str(error)) from None
    warned = warn(outcome.warnings)
    shown = _write_report(outcome, output_format, output, colour, quiet, show_statistics)
    code = exit_code(outcome, exit_zero)
    if fixed is None and output is None:  # wrote nothing but these: the next run may be answered at once
        from kubelint_svc.front_door import keep

        keep(outcome.stamped, shown, warned, code)
    raise typer.Exit(code)


_STATISTICS_FORMATS = (OutputFormat.text, OutputFormat.concise, OutputFormat.json)


def _fix(options: Options, unsafe: bool, diff: bool, fix_only: bool) -> Outcome | None:
    """--diff and --fix-only end here (exit code); --fix writes, and the caller reports what remains."""
    from kubelint_svc.app import lint_and_fix
    from kubelint_svc.reporters.escaping import visible

    outcome, fixed = lint_and_fix(options, unsafe, write=not diff)
    ends_here = diff or fix_only
    warn([*(outcome.warnings if ends_here else ()), *(skipped.describe() for skipped in fixed.skipped)])
    count = f"{len(fixed.fixed)} finding{'' if len(fixed.fixed) == 1 else 's'}"
    files = f"{len(fixed.files)} file{'' if len(fixed.files) == 1 else 's'}"
    if diff:  # the text comes from the files: shown, never able to steer the terminal
        for line in fixed.diff().splitlines(keepends=True):
            body = line.rstrip("\r\n")
            sys.stdout.write("\t".join(visible(part) for part in body.split("\t")) + line[len(body):])
        typer.echo(f"Would fix {count} in {files}." if fixed.files else "No fixes to apply.", err=True)
        raise typer.Exit(EXIT_FINDINGS if fixed.files else EXIT_CLEAN)
    if fix_only:
        left = len(outcome.report.findings)
        typer.echo(f"Fixed {count} in {files} ({left} remaining).")
        raise typer.Exit(EXIT_CLEAN)
    return outcome


def _show_plan(options: Options, settings: bool) -> None:
    """ruff's --show-settings (the configuration and every resolved setting) or --show-files
    (each file the run would lint, one a line, sorted); exits."""
    from kubelint_svc.app import UsageError, describe_settings, plan_run
    from kubelint_svc.reporters.escaping import not_a_command, visible

    try:
        planned = plan_run(options)
    except UsageError as error:
        raise _usage_error(str(error)) from None
    warn(planned.warnings)
    # a link out of the tree is not followed, so not linted: not listed (its finding says so)
    shown = describe_settings(planned, options) if settings else \
        sorted(s.display for s in planned.inputs if s.refused is None)
    for line in shown:
        typer.echo(not_a_command(visible(line)))
    raise typer.Exit(EXIT_CLEAN)


def _write_report(
    outcome: Outcome, output_format: OutputFormat, output: str | None, colour: ColourChoice, quiet: bool,
    show_statistics: bool,
) -> str:
    """The report in its format on stdout, or in the file --output names (the terminal then gets
    text); returns what stdout got."""
    if output is not None:
        from kubelint_svc.reporters import text

        content = text.render(outcome.report, quiet=quiet, show_statistics=show_statistics,
                              concise=output_format is OutputFormat.concise) \
            if output_format in (OutputFormat.text, OutputFormat.concise) else \
            rendered(outcome, output_format, show_statistics)
        _write_text(content, output, "--output", outcome.read)
    return shown_on_stdout(outcome, output_format, colour, quiet, show_statistics, output is not None)


class ManifestFormat(str, Enum):
    yaml = "yaml"
    json = "json"


@app.command(cls=_PlainCommand, short_help="Write the Service `kubectl expose` would create, offline.")
def expose(
    target: str = typer.Argument(..., metavar="KIND/NAME", autocompletion=_complete_expose_target,
                                 help="deployment, replicaset, replicationcontroller, statefulset, daemonset, pod or "
                                      "service, and its name."),
    paths: list[str] | None = typer.Argument(None, metavar="[PATH]...",
                                             help="Files or directories to read [default: .]."),
    name: str | None = typer.Option(
        None, "--name", metavar="NAME", help="The Service's name [default: the object's]."
    ),
    service_type: str | None = typer.Option(
        None, "--type", metavar="TYPE", help="ClusterIP, NodePort or LoadBalancer."
    ),
    port: str | None = typer.Option(
        None, "--port", metavar="PORT",
        help="The port(s) the Service serves on, e.g. 80 or 80,443 [default: the containers' ports]."
    ),
    target_port: str | None = typer.Option(
        None, "--target-port", metavar="PORT",
        help="Name or number of the container port [default: the port, else the Pods' one declared port]."
    ),
    protocol: str | None = typer.Option(
        None, "--protocol", metavar="PROTOCOL", help="TCP, UDP or SCTP [default: the containers']."
    ),
    node_port: int | None = typer.Option(
        None, "--node-port", metavar="PORT", help="The nodePort of a NodePort or LoadBalancer Service's one port."
    ),
    node_port_range: str | None = typer.Option(
        None, "--node-port-range", metavar="LOW-HIGH", help="The cluster's node port range [default: 30000-32767]."
    ),
    selector: str | None = typer.Option(
        None, "--selector", metavar="LABELS", help="key=value,... [default: the object's selector]."
    ),
    labels: str | None = typer.Option(
        None, "--labels", "-l", metavar="LABELS", help="key=value,... [default: the object's labels]."
    ),
    cluster_ip: str | None = typer.Option(
        None, "--cluster-ip", metavar="IP", help="An IP, or None for a headless Service."
    ),
    external_ip: str | None = typer.Option(
        None, "--external-ip", metavar="IP", help="An external IP the Service also accepts."
    ),
    session_affinity: str | None = typer.Option(
        None, "--session-affinity", metavar="AFFINITY", help="None or ClientIP."
    ),
    namespace: str | None = typer.Option(None, "--namespace", "-n", metavar="NAMESPACE",
                                         help="Where the object is, and the Service's namespace."),
    output_format: ManifestFormat = typer.Option(ManifestFormat.yaml, "--output", "-o", help="yaml or json."),
    output_file: str | None = typer.Option(None, "--output-file", metavar="FILE", help="Write the Service to FILE."),
    append: bool = typer.Option(False, "--append", help="Append to --output-file as a new YAML document."),
    config_file: str | None = typer.Option(None, "--config", metavar="FILE", help="Configuration file."),
    context: list[str] | None = typer.Option(None, "--context", metavar="PATH",
                                             help="More files or directories to look in (repeatable)."),
    kustomize: KustomizeEngine | None = typer.Option(None, "--kustomize", help="How kustomizations are built."),
    kubectl_compatible: bool = typer.Option(
        False, "--kubectl-compatible",
        help="targetPort defaults to the port, as kubectl sets it, even when no container declares that port.",
    ),
) -> None:
    """Write the Service `kubectl expose` would create, offline, from the manifests read."""
    from kubelint_svc.app import Options, UsageError, check_output_file
    from kubelint_svc.app import expose as run
    from kubelint_svc.expose import ExposeRequest
    from kubelint_svc.reporters import manifest

    options = Options(paths=tuple(paths or ["."]), node_port_range=node_port_range, namespace=namespace,
                      config_file=config_file, context=tuple(context or ()),
                      kustomize=kustomize.value if kustomize else None)
    request = ExposeRequest(
        target=target, name=name, type=service_type, port=port, target_port=target_port, protocol=protocol,
        node_port=node_port, selector=selector, labels=labels, cluster_ip=cluster_ip, external_ip=external_ip,
        session_affinity=session_affinity, namespace=namespace, kubectl_compatible=kubectl_compatible,
    )
    if append and (output_file is None or output_format is not ManifestFormat.yaml):
        raise _usage_error("--append needs --output-file and -o yaml (YAML documents can follow one another)")
    try:
        if output_file is not None:  # a refused output is said before any file is read
            check_output_file(output_file, append, "--output-file")
        exposed = run(options, request)
    except UsageError as error:
        raise _usage_error(str(error)) from None
    from kubelint_svc.reporters.escaping import visible

    for warning in exposed.warnings:
        typer.echo(f"kubelint-svc: warning: {visible(warning)}", err=True)
    text = (manifest.yaml_text if output_format is ManifestFormat.yaml else manifest.json_document)(exposed.service)
    _write_text(text, output_file, "--output-file", exposed.read, append)


def _write_text(text: str, output_file: str | None, flag: str, read: Sequence[str] = (), append: bool = False) -> None:
    """To stdout, or to output_file through the one writer of outputs (appended as a new YAML
    document with append); a refused output is a usage error."""
    if output_file is None:
        sys.stdout.write(text)
        return
    from kubelint_svc.outputs import OutputRefused, write_output

    try:
        write_output(output_file, text, read, append, flag)
    except OutputRefused as error:
        raise _usage_error(str(error)) from None


class GraphFormat(str, Enum):
    text = "text"
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


@app.command(cls=_PlainCommand, short_help="Draw how Services, workloads and Ingresses are wired.")
def graph(
    paths: list[str] | None = typer.Argument(
        None, metavar="[PATH]...", help="Files or directories to read [default: .]."
    ),
    output_format: GraphFormat = typer.Option(GraphFormat.text, "--format", "-f", help="How to draw the graph."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", metavar="NAMESPACE",
                                         help="Only this namespace (also the namespace of objects that name none)."),
    only_broken: bool = typer.Option(False, "--only-broken", help="Only the edges a finding breaks."),
    focus: str | None = typer.Option(None, "--focus", metavar="KIND/NAME",
                                     help="Only what is connected to this object."),
    output_file: str | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the graph to FILE."),
    node_port_range: str | None = typer.Option(None, "--node-port-range", metavar="LOW-HIGH",
                                               help="The cluster's node port range [default: 30000-32767]."),
    kubernetes_version: str | None = typer.Option(None, "--kubernetes-version", "-k", metavar="VERSION",
                                                  autocompletion=_complete_versions,
                                                  help="Kubernetes minor version to check against."),
    config_file: str | None = typer.Option(None, "--config", metavar="FILE", help="Configuration file."),
    context: list[str] | None = typer.Option(None, "--context", metavar="PATH",
                                             help="More files or directories to draw (repeatable)."),
    kustomize: KustomizeEngine | None = typer.Option(None, "--kustomize", help="How kustomizations are built."),
) -> None:
    """Draw how Services, workloads, Ingresses and StatefulSets are wired; broken edges marked."""
    from kubelint_svc.app import Options, UsageError, check_output_file
    from kubelint_svc.app import graph as run
    from kubelint_svc.reporters import graph_formats

    options = Options(paths=tuple(paths or ["."]), kubernetes_version=kubernetes_version,
                      node_port_range=node_port_range, namespace=namespace, config_file=config_file,
                      context=tuple(context or ()), kustomize=kustomize.value if kustomize else None,
                      reports=(output_file,) if output_file is not None else ())
    try:
        if output_file is not None:  # a refused output is said before any file is read
            check_output_file(output_file, False, "--output")
        drawn, outcome = run(options, namespace, only_broken, focus)
    except UsageError as error:
        raise _usage_error(str(error)) from None
    from kubelint_svc.reporters.escaping import visible

    for warning in outcome.warnings:
        typer.echo(f"kubelint-svc: warning: {visible(warning)}", err=True)
    writers = {GraphFormat.text: graph_formats.text, GraphFormat.mermaid: graph_formats.mermaid,
               GraphFormat.dot: graph_formats.dot, GraphFormat.json: graph_formats.json}
    drawing = writers[output_format](drawn)
    if output_format is GraphFormat.mermaid and (too_long := graph_formats.too_long_for_mermaid(drawing)):
        typer.echo(f"kubelint-svc: warning: {too_long}", err=True)
    _write_text(drawing, output_file, "--output", outcome.read)


CONFIG_OPTION = typer.Option(None, "--config", metavar="FILE", help="Configuration file (default: searched upward).")


@app.command("rules", cls=_PlainCommand, short_help="List every rule: id, severity and summary.")
def list_rules(config_file: str | None = CONFIG_OPTION) -> None:
    """List every rule: id, severity and summary; rules that are off are marked."""
    from kubelint_svc.reporters.escaping import visible

    registry = _registry(_config(config_file))
    rules = registry.sorted_rules()
    width = max(len(rule.id) for rule in rules)
    for rule in rules:  # a rule pack's text comes with the pull request: one line each, escaped
        state = "" if rule.enabled else f" [off{': pack ' + rule.pack if rule.pack else ''}]"
        typer.echo(visible(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.summary}{state}"))


@app.command(cls=_PlainCommand)
def explain(
    rule_id: str = typer.Argument(..., metavar="RULE", autocompletion=_complete_rule_ids,
                                  help="A rule id, as `rules` lists them."),
    config_file: str | None = CONFIG_OPTION,
) -> None:
    """Explain a rule: why it matters, a failing example and its fix."""
    from kubelint_svc.app import UsageError, find_rule

    try:
        rule = find_rule(_registry(_config(config_file)), rule_id)
    except UsageError as error:
        raise _usage_error(str(error)) from None
    pack = f", policy pack {rule.pack}" if rule.pack else ""
    from kubelint_svc.reporters.escaping import visible

    parts = [f"{rule.id} ({rule.severity}{pack})", "", visible(rule.summary), "", rule.rationale]
    if rule.kinds:
        parts += ["", "Applies to: " + ", ".join(rule.kinds)]
    if rule.fix:
        parts += ["", f"Fix: {rule.fix}" + (" (lint --fix)" if rule.fix == "safe" else
                                            ", it changes behaviour on purpose (lint --fix --unsafe-fixes)")]
    if rule.failing_example.strip():
        parts += ["", "Failing example:", "", _indent(rule.failing_example)]
    if rule.passing_example.strip():
        parts += ["", "Fixed example:", "", _indent(rule.passing_example)]
    typer.echo(_safe_lines("\n".join(parts).rstrip()))


@app.command(cls=_PlainCommand, short_help="Write a commented starter configuration.")
def init(
    path: str = typer.Argument(".kubelint-svc.yaml", metavar="FILE", help="Where to write the starter configuration."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter configuration (and the folders it goes in)."""
    from kubelint_svc.app import UsageError, write_starter

    try:
        written = write_starter(path, force)
    except UsageError as error:
        raise _usage_error(str(error)) from None
    typer.echo(f"Wrote {written}: every setting is commented out; uncomment what you need.")


@app.command(cls=_PlainCommand, short_help="Serve editors the findings as you type (LSP over stdio).")
def server() -> None:
    """Serve editors over the Language Server Protocol on stdio: findings on open files as you
    type, with their repository; hover and go to definition along a Service's wiring; "ignore
    this rule here". Started by the editor (README: "Editors"); needs the lsp extra."""
    try:
        from kubelint_svc.server import serve
    except ImportError as error:
        if (error.name or "").partition(".")[0] not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise
        raise _usage_error("the editor server needs the lsp extra: pip install 'kubelint-svc[lsp]'") from None
    serve()


@app.command(cls=_PlainCommand, short_help="Remove the project's cache folders (as ruff clean).")
def clean(
    config_file: str | None = CONFIG_OPTION,
    cache_dir: str | None = typer.Option(
        None, "--cache-dir", metavar="DIR", envvar="KUBELINT_SVC_CACHE_DIR", show_envvar=False,
        help="The cache folder to remove [default: the project root's and every one below here].",
    ),
) -> None:
    """Remove the cache folders kubelint-svc made for this project; nothing else is ever removed."""
    from kubelint_svc.app import Options, UsageError
    from kubelint_svc.app import clean as clean_caches

    try:
        removed, refused = clean_caches(Options(config_file=config_file, cache_dir=cache_dir))
    except UsageError as error:
        raise _usage_error(str(error)) from None
    for folder in removed:
        typer.echo(f"Removed {folder}")
    if not removed and not refused:
        typer.echo("No cache folder to remove.")
    if refused:
        raise _usage_error("; ".join(f"left {line}" for line in refused))


def _safe_lines(text: str) -> str:
    """Text of several lines from a rule pack: each line escaped, none able to pass for a
    workflow command."""
    from kubelint_svc.reporters.escaping import not_a_command, visible

    return "\n".join(not_a_command(visible(line)) for line in text.split("\n"))


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.rstrip("\n").split("\n"))


def _show_help_and_exit() -> None:
    """What click does for a group run without arguments (its NoArgsIsHelpError, which it names
    only in typer's private `_click`): the group's help on stderr, and a usage error's exit code."""
    command = typer.main.get_command(app)
    with command.make_context("kubelint-svc", [], resilient_parsing=True) as context:
        typer.echo(context.get_help(), err=True, color=context.color)
    raise SystemExit(EXIT_USAGE)


def main() -> None:
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character gets an escape
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if os.environ.get(_COMPLETE_VARIABLE):  # a shell asks for completions: typer's way of answering it
        from typer._completion_classes import completion_init

        completion_init()
    args = _with_detected_shell(sys.argv[1:])
    if not args and not os.environ.get(_COMPLETE_VARIABLE):  # click's no_args_is_help: the help on stderr, exit 2
        _show_help_and_exit()
    try:
        code = app(args=args, prog_name="kubelint-svc", standalone_mode=False)
    except typer.TyperException as error:  # click's usage errors: one line, as the README promises
        message = " ".join(error.format_message().replace("Value error, ", "").split())
        raise SystemExit(_usage_error(message).exit_code) from None
    except typer.Abort:  # end of input at a prompt: exit codes stay 0, 1 and 2
        typer.echo("kubelint-svc: error: aborted", err=True)
        raise SystemExit(EXIT_USAGE) from None
    except Exception as error:  # a bug of ours: one line, not a traceback (KUBELINT_SVC_DEBUG=1 shows it)
        if os.environ.get("KUBELINT_SVC_DEBUG"):
            raise
        from kubelint_svc.reporters.escaping import visible

        typer.echo(f"kubelint-svc: internal error: {type(error).__name__}: {visible(str(error))} (please report this)",
                   err=True)
        raise SystemExit(EXIT_USAGE) from None
    raise SystemExit(code if isinstance(code, int) else EXIT_CLEAN)
