"""The `lint` command once its arguments are read: run, warn, report, and the exit code. cli.py
reads every command line with typer; a lint command line of the plainest kind (paths and a few
flags: plain_arguments) is read here by the front door, and typer and the command line's
definitions, 20-25 ms of a cold process, are not imported. Both then run the same code."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, NoReturn, TextIO

if TYPE_CHECKING:
    from kubelint_svc.app import Options, Outcome

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class OutputFormat(str, Enum):
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"
    junit = "junit"


class ColourChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class KustomizeEngine(str, Enum):
    auto = "auto"
    kubectl = "kubectl"
    kustomize = "kustomize"
    fallback = "fallback"
    off = "off"


class LoadRestrictor(str, Enum):
    root_only = "rootOnly"
    none = "none"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def use_colour(stream: TextIO, choice: ColourChoice = ColourChoice.auto) -> bool:
    """--color wins; then NO_COLOR and FORCE_COLOR (no-color.org); then: is it a terminal, and not TERM=dumb?"""
    if choice is not ColourChoice.auto:
        return choice is ColourChoice.always
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


def warn(warnings: Sequence[str]) -> str:
    """What the user may not expect, one line each on stderr; returns what was written."""
    from kubelint_svc.reporters.escaping import visible

    lines = [f"kubelint-svc: warning: {visible(warning)}\n" for warning in warnings]
    for line in lines:
        sys.stderr.write(line)
    sys.stderr.flush()
    return "".join(lines)


def rendered(outcome: Outcome, output_format: OutputFormat, show_statistics: bool = False) -> str:
    """A machine format (every format but text)."""
    report, registry, threshold = outcome.report, outcome.registry, outcome.settings.fail_on
    if output_format is OutputFormat.json:
        from kubelint_svc.reporters import json as reporter

        return reporter.render_statistics(report) if show_statistics else reporter.render(report)
    if output_format is OutputFormat.sarif:
        from kubelint_svc.reporters import sarif

        return sarif.render(report, registry)
    if output_format is OutputFormat.junit:
        from kubelint_svc.reporters import junit

        return junit.render(report, threshold)
    from kubelint_svc.reporters import github

    return github.render(report)


def shown_on_stdout(outcome: Outcome, output_format: OutputFormat, colour: ColourChoice, quiet: bool,
                    show_statistics: bool, to_a_file: bool) -> str:
    """Write what standard output gets: the report in its format, or text when the report went
    to a file (to_a_file: --output); returns it."""
    from kubelint_svc.reporters import text

    if not to_a_file and output_format not in (OutputFormat.text, OutputFormat.concise):
        shown = rendered(outcome, output_format, show_statistics)
    else:
        shown = text.render(outcome.report, use_colour(sys.stdout, colour), quiet, show_statistics,
                            output_format is OutputFormat.concise)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            from kubelint_svc.reporters import github

            shown += github.render(outcome.report)
    sys.stdout.write(shown)
    return shown


def exit_code(outcome: Outcome, exit_zero: bool) -> int:
    return EXIT_FINDINGS if outcome.failed and not exit_zero else EXIT_CLEAN


# What a plain lint command line may hold besides its paths (none starting with `-`), each flag
# as typer reads it (`--kustomize fallback` or `--kustomize=fallback`; the last one given wins):
# anything else (another flag, `--help`, `-`, `--`, `-fjson`, a value no choice has) is read by typer.
_SWITCHES = {"--no-cache": "no_cache", "--git-context": "git_context", "--quiet": "quiet", "-q": "quiet",
             "--exit-zero": "exit_zero"}
_CHOICES: dict[str, tuple[str, type[Enum]]] = {
    "--output-format": ("output_format", OutputFormat), "--format": ("output_format", OutputFormat),
    "-f": ("output_format", OutputFormat), "--kustomize": ("kustomize", KustomizeEngine),
}


class PlainLint:
    """A lint command line read without typer: what cli.lint_command would be given."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.no_cache = self.git_context = self.quiet = self.exit_zero = False
        self.output_format = OutputFormat.text
        self.kustomize: KustomizeEngine | None = None

    def options(self) -> Options:
        from kubelint_svc.app import Options

        # typer reads --cache-dir from this variable when it is not given (an empty one is none)
        return Options(paths=tuple(self.paths or ["."]), no_cache=self.no_cache, git_context=self.git_context,
                       kustomize=self.kustomize.value if self.kustomize else None,
                       cache_dir=os.environ.get("KUBELINT_SVC_CACHE_DIR") or None)


def plain_arguments(argv: list[str]) -> PlainLint | None:
    """The lint command line argv (after the program's name) read as typer reads it, when it holds
    only paths and the flags above; None for any other (typer reads it, and says what is wrong)."""
    if not argv or argv[0] != "lint":
        return None
    plain = PlainLint()
    arguments = iter(argv[1:])
    for argument in arguments:
        if not argument.startswith("-"):
            plain.paths.append(argument)
        elif argument in _SWITCHES:
            setattr(plain, _SWITCHES[argument], True)
        else:
            name, equals, value = argument.partition("=")
            if name not in _CHOICES or (equals and name == "-f"):
                return None
            if not equals:
                value = next(arguments, "")
            attribute, choice = _CHOICES[name]
            try:
                setattr(plain, attribute, choice(value))
            except ValueError:  # no such choice: typer says so
                return None
    return plain


def run_plain(plain: PlainLint) -> NoReturn:
    """`kubelint-svc lint` of a plain command line, as cli.main runs it through typer: the same
    output, warnings and exit code, a usage error in one line (exit 2), a reader gone (`| head`)
    as click ends it (exit 1), an error of ours in one line unless KUBELINT_SVC_DEBUG is set."""
    from kubelint_svc.app import UsageError
    from kubelint_svc.app import lint as run

    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character gets an escape
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        try:
            outcome = run(plain.options(), replay=True)
        except UsageError as error:
            usage_error(str(error))
        warned = warn(outcome.warnings)
        shown = shown_on_stdout(outcome, plain.output_format, ColourChoice.auto, plain.quiet, False, False)
        code = exit_code(outcome, plain.exit_zero)
        from kubelint_svc.front_door import keep

        keep(outcome.stamped, shown, warned, code)
    except OSError as error:
        if error.errno != errno.EPIPE:
            _internal_error(error)
        from kubelint_svc.front_door import silence

        silence()
        raise SystemExit(1) from None
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\nkubelint-svc: error: aborted\n")
        raise SystemExit(EXIT_USAGE) from None
    except Exception as error:
        _internal_error(error)
    raise SystemExit(code)


def usage_error(message: str) -> NoReturn:
    """A usage error of the plain command line, said as cli's `_usage_error` says it."""
    from kubelint_svc.reporters.escaping import visible

    sys.stderr.write(f"kubelint-svc: error: {visible(message)}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_USAGE)


def _internal_error(error: Exception) -> NoReturn:
    if os.environ.get("KUBELINT_SVC_DEBUG"):
        raise error
    from kubelint_svc.reporters.escaping import visible

    sys.stderr.write(f"kubelint-svc: internal error: {type(error).__name__}: {visible(str(error))} "
                     "(please report this)\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_USAGE) from None
