"""The application: typed options -> a finished run. The one entry the command line, the GitHub
Action's step and any later front end call; it settles flags against the configuration and
raises UsageError (a one-line message, exit code 2) for anything a user can get wrong."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelint_svc.cache import CACHE_FOLDER, Cache
from kubelint_svc.cache_folders import open_kept
from kubelint_svc.config import (
    CONFIG_NAMES,
    KUSTOMIZE_SETTINGS,
    LOAD_RESTRICTOR_SETTINGS,
    STARTER,
    Config,
    ConfigError,
    find_config,
    load_config,
)
from kubelint_svc.config_tree import ConfigTree, ConfigTreeError, common_folder, shown_path
from kubelint_svc.findings import SEVERITIES, Finding, Report, at_or_above
from kubelint_svc.identity import cache_generation, tool_fingerprint, tools_identity
from kubelint_svc.ignore_files import IGNORE_FILE_NAMES
from kubelint_svc.inputs import (
    STDIN,
    ExcludeGlob,
    Exclusions,
    InputFile,
    MissingPathError,
    default_exclusions,
    discover,
    git_asked_once,
    git_toplevel,
    git_tracked_manifests,
)
from kubelint_svc.outputs import OutputRefused, output_target, write_output
from kubelint_svc.paths import resolved
from kubelint_svc.replay import (
    Replay,
    above_now,
    inside,
    outside_git,
    plain_report,
    report_from,
    unchanged,
    work_tree,
)
from kubelint_svc.schemas import bundled_versions, normalise_version
from kubelint_svc.settings import (
    DEFAULT_FAIL_ON,
    DEFAULT_HELM_RELEASE,
    DEFAULT_KUSTOMIZE,
    DEFAULT_LOAD_RESTRICTOR,
    DEFAULT_NAMESPACE,
    DEFAULT_NODE_PORT_RANGE,
    Settings,
)
from kubelint_svc.suggestions import did_you_mean

if TYPE_CHECKING:  # imported where used: a lint run needs none
    from kubelint_svc.checks.api import RunContext
    from kubelint_svc.engine import Registry, Rule
    from kubelint_svc.expose import ExposeRequest
    from kubelint_svc.fixes import FileEdit, Skipped
    from kubelint_svc.graph import Graph
    from kubelint_svc.model import Resource
    from kubelint_svc.runner import KeptUnits


class UsageError(Exception):
    """Something the user can fix: a bad flag, path, configuration or rule pack."""


@dataclass(frozen=True)
class Options:
    """What a front end was asked for; None means "from the configuration, else the default"."""

    paths: tuple[str, ...] = (".",)
    kubernetes_version: str | None = None
    fail_on: str | None = None
    node_port_range: str | None = None  # "LOW-HIGH"
    namespace: str | None = None
    config_file: str | None = None  # None: searched from the working directory upward
    context: tuple[str, ...] = ()
    git_context: bool = False
    kustomize: str | None = None  # auto | kubectl | kustomize | fallback | off
    kustomize_load_restrictor: str | None = None  # rootOnly | none
    stdin_filename: str | None = None  # the name '-' is reported, excluded and configured by
    force_exclude: bool = False  # files named explicitly are excluded too (as ruff's --force-exclude)
    exclude: tuple[str, ...] | None = None  # replaces the default excludes and the configuration's
    extend_exclude: tuple[str, ...] = ()  # added to them
    respect_gitignore: bool = True  # `.gitignore` and `.ignore` files leave out what they ignore
    no_cache: bool = False
    cache_dir: str | None = None  # None: $KUBELINT_SVC_CACHE_DIR, else .kubelint-svc_cache at the project root
    reports: tuple[str, ...] = ()  # files the run writes its report to: not walked as manifests
    buffers: tuple[tuple[Path, bytes], ...] = ()  # an editor's unsaved texts (real path, bytes): read, not the disk


@dataclass(frozen=True)
class Outcome:
    report: Report
    # the run's rules, or how to settle them: a replayed run settles them only when asked (SARIF,
    # the editor server), so that it imports neither the engine nor the checks
    rules: Registry | Callable[[], Registry]
    settings: Settings
    warnings: tuple[str, ...] = ()  # one line each, for stderr: what the user may not expect
    run: RunContext | None = None  # the objects read and their index: what expose and graph work from
    read: tuple[str, ...] = ()  # the files named or walked: no output may replace one
    # kept whole (replay.py): the cache folder and the stamps of the work tree that vouch for it
    stamped: tuple[Path, list[list[Any]]] | None = None

    @functools.cached_property
    def registry(self) -> Registry:
        return self.rules() if callable(self.rules) else self.rules

    @property
    def failed(self) -> bool:
        """Is any finding at or above the run's fail-on severity?"""
        return any(at_or_above(finding.severity, self.settings.fail_on) for finding in self.report.findings)


def load_configuration(config_file: str | None, start: Path | None = None) -> Config:
    """The explicit config file, or the nearest one found from start (default: the working
    directory) upward."""
    path = Path(config_file) if config_file else find_config(start or Path.cwd())
    if path is None:
        return Config()
    try:
        return load_config(path)
    except (ConfigError, OSError) as error:
        raise UsageError(str(error)) from None


def write_starter(path: str, force: bool = False) -> Path:
    """Write the commented starter configuration at path, creating its folders, through the one
    writer of outputs (a committed link at path is replaced, not written through)."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a directory; name the file to write, e.g. {target / '.kubelint-svc.yaml'}")
    if os.path.lexists(target) and not force:
        raise UsageError(f"{target} already exists (use --force to overwrite it)")
    try:
        write_output(path, STARTER, flag="")
    except OutputRefused as error:
        raise UsageError(str(error)) from None
    return target


def load_registry(config: Config | None = None) -> Registry:
    from kubelint_svc.engine import Registry, RuleError

    try:
        return Registry.configured(config)
    except (RuleError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None


def find_rule(registry: Registry, rule_id: str) -> Rule:
    if rule_id not in registry:
        hint = did_you_mean(rule_id, (rule.id for rule in registry.sorted_rules()))
        raise UsageError(f"unknown rule {rule_id!r}{hint} (`kubelint-svc rules` lists them)")
    return registry[rule_id]


def settle(options: Options, config: Config) -> Settings:
    """Flags win over the configuration, which wins over the defaults."""
    versions = bundled_versions()
    version = versions[-1]
    wanted = options.kubernetes_version or config.kubernetes_version
    if wanted is not None:
        version = normalise_version(wanted) or ""
        if version not in versions:
            origin = "--kubernetes-version" if options.kubernetes_version else \
                f"{config.where('kubernetes-version')}: kubernetes-version"
            raise UsageError(f"{origin} {_shown(wanted)} is not bundled; choose one of {', '.join(versions)}")
    fail_on = options.fail_on or config.fail_on or DEFAULT_FAIL_ON
    if fail_on not in SEVERITIES:
        raise UsageError(f"--fail-on {_shown(fail_on)} must be one of {', '.join(SEVERITIES)}")
    if options.node_port_range or config.node_port_range:
        origin = "--node-port-range" if options.node_port_range else \
            f"{config.where('node-port-range')}: node-port-range"
        port_range = parse_port_range(options.node_port_range or config.node_port_range or "", origin)
    else:
        port_range = DEFAULT_NODE_PORT_RANGE
    namespace = options.namespace or config.namespace or DEFAULT_NAMESPACE
    kustomize = options.kustomize or config.kustomize or DEFAULT_KUSTOMIZE
    if kustomize not in KUSTOMIZE_SETTINGS:
        raise UsageError(f"--kustomize {_shown(kustomize)} must be one of {', '.join(KUSTOMIZE_SETTINGS)}")
    restrictor = options.kustomize_load_restrictor or config.kustomize_load_restrictor or DEFAULT_LOAD_RESTRICTOR
    if restrictor not in LOAD_RESTRICTOR_SETTINGS:
        raise UsageError(f"--kustomize-load-restrictor {_shown(restrictor)} must be one of "
                         f"{', '.join(LOAD_RESTRICTOR_SETTINGS)}")
    return Settings(
        kubernetes_version=version, fail_on=fail_on, node_port_range=port_range, namespace=namespace,
        kustomize=kustomize, helm_values=tuple(config.helm_values), pod_templates=tuple(config.pod_templates),
        kustomize_load_restrictor=restrictor,
        helm_release=config.helm_release or DEFAULT_HELM_RELEASE,
    )


def parse_port_range(text: str, origin: str) -> tuple[int, int]:
    low, sep, high = (part.strip() for part in text.partition("-"))
    well_formed = bool(sep) and low.isdigit() and high.isdigit() and len(low) <= 5 and len(high) <= 5
    if well_formed and 1 <= int(low) <= int(high) <= 65535:
        return int(low), int(high)
    raise UsageError(f"{origin} {_shown(text)} must be LOW-HIGH within 1-65535, e.g. 30000-32767")


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class RunSetup:
    """What a run will read, under which configuration: what --show-files and --show-settings
    print, and what lint runs."""

    config: Config  # the run's: found from the folder the paths have in common
    settings: Settings
    inputs: list[InputFile]
    context: list[InputFile]
    warnings: tuple[str, ...]
    tree: ConfigTree  # the configuration governing each file
    exclusions: Exclusions


def plan_run(options: Options, config: Config | None = None) -> RunSetup:
    """The files and the settings of a run; UsageError for a bad path, flag or configuration.
    config: the run's configuration, when already loaded (run_configuration)."""
    paths = list(options.paths) or ["."]
    stdin_name = Path(options.stdin_filename) if options.stdin_filename and STDIN in paths else None
    config = config or run_configuration(options)
    settings = settle(options, config)
    tree = ConfigTree(config, explicit=options.config_file is not None)
    warnings: list[str] = []
    exclusions = exclusions_for(options, tree)
    try:
        inputs = _named_inputs(paths, stdin_name, exclusions, options.force_exclude, warnings)
        context = discover([*options.context, *map(str, config.context)], exclusions)
        for source in inputs:  # every governing configuration is read (and checked) before the run
            if source.normal is not None:  # its folder's, as the walk found it: no absolute path made again
                tree.governing(os.path.dirname(source.normal))
            else:
                tree.of_file(source.display if source.path is None else str(source.path))
    except MissingPathError as error:
        raise UsageError(str(error)) from None
    except ConfigTreeError as error:
        raise UsageError(str(error)) from None
    warnings += exclusions.unread()
    if options.git_context:
        context += git_tracked_manifests(paths)
    elif settings.kustomize != "off":
        context += _including_builds(paths, [*inputs, *context], exclusions, warnings)
    if options.reports:  # last run's `-o report.json` is not a manifest of this one, unless named
        written = {resolved(Path(name)) for name in options.reports if _holds_a_report(Path(name))}
        named = {resolved(Path(path)) for path in paths if path != STDIN}
        inputs = [s for s in inputs if s.path is None or resolved(s.path) in named or resolved(s.path) not in written]
        context = [c for c in context if c.path is None or resolved(c.path) not in written]
    if stdin_name is not None:  # the file on disk is what stdin replaces, not context beside it
        context = [c for c in context if c.path is None or resolved(c.path) != resolved(stdin_name)]
    low, high = settings.node_port_range
    warnings += tree.disagreements({
        "kubernetes-version": settings.kubernetes_version, "node-port-range": f"{low}-{high}",
        "namespace": settings.namespace, "fail-on": settings.fail_on, "kustomize": settings.kustomize,
    })
    return RunSetup(config, settings, inputs, context, tuple(warnings), tree, exclusions)


def run_configuration(options: Options) -> Config:
    """The configuration of the run: --config, else the nearest to what the paths name."""
    paths = list(options.paths) or ["."]
    stdin_name = Path(options.stdin_filename) if options.stdin_filename and STDIN in paths else None
    start = common_folder(paths, (Path.cwd() / stdin_name).parent if stdin_name else None)
    return load_configuration(options.config_file, start)


def _kept_units() -> KeptUnits:
    from kubelint_svc.runner import KeptUnits

    return KeptUnits()


@dataclass
class Reuse:
    """What the next run of an editor's buffers (the server's) takes from the last one while
    nothing on disk changed: its files (`git ls-files` too), settings, builds and renders; the
    buffers are read again, the index and every rule run again. Valid as the whole-run replay
    is: the same options but the buffers, environment, tools and configuration, and every stamp
    of the work tree and git's index as the last planned run found it."""

    key: tuple[str, str] = ("", "")
    stamps: list[list[Any]] | None = None
    planned: RunSetup | None = None
    units: KeptUnits = field(default_factory=_kept_units)

    def planned_for(self, key: tuple[str, str]) -> RunSetup | None:
        if self.planned is None or key != self.key or not unchanged(self.stamps):
            self.key, self.stamps, self.planned, self.units = key, None, None, _kept_units()
            return None
        return self.planned


def lint(options: Options, replay: bool = False, reuse: Reuse | None = None) -> Outcome:
    """Lint what the options name; UsageError for a bad path, flag, configuration or rule pack.
    replay: a run kept whole in the cache may answer (replay.py), without the objects read
    (Outcome.run is None then): for a front end that only reports. reuse: the planning of the
    last run given it, taken while nothing on disk changed (Reuse), and this run's kept in it."""
    with git_asked_once():  # the replay, the context and the plan ask for one repository
        return _lint(options, replay, reuse)


def _lint(options: Options, replay: bool, reuse: Reuse | None) -> Outcome:
    # an editor's unsaved texts are not the work tree the replay's stamps vouch for
    replaying = replay and reuse is None and not options.buffers
    early = above_now(_named(options), LOOKED_FOR_ABOVE) if replaying else None  # before any is read
    config = run_configuration(options)
    if reuse is not None:
        return _lint_reusing(options, config, reuse)
    replayer = _replayer(options, config, early) if replaying else None
    kept = replayer.kept() if replayer is not None else None
    if replayer is not None and kept is not None:
        try:
            return dataclasses.replace(_replayed(options, config, kept), stamped=replayer.vouched())
        except (KeyError, TypeError, ValueError):
            pass  # another layout of this code: linted anew
    planned = plan_run(options, config)
    outcome = _linted(options, config, planned, replayer.cache if replayer is not None else None)
    # nested configurations: not kept
    if replayer is not None and outcome.report.complete and not planned.tree.others() \
            and (replayer.tree.confined or not _may_build(outcome.read)):
        replayer.keep({"report": plain_report(outcome.report), "warnings": list(outcome.warnings),
                       "read": list(outcome.read)}, outcome.read)
        return dataclasses.replace(outcome, stamped=replayer.vouched())
    return outcome


def _linted(options: Options, config: Config, planned: RunSetup, cache: Cache | None,
            kept: KeptUnits | None = None) -> Outcome:
    from kubelint_svc.runner import lint_with_objects

    try:
        registry = planned.tree.run_registry()
    except ConfigTreeError as error:
        raise UsageError(str(error)) from None
    report, run = lint_with_objects(planned.inputs, planned.settings, registry, context=planned.context,
                                    cache=cache if cache is not None else open_cache(options, config),
                                    file_rules=planned.tree.file_rules(), buffers=dict(options.buffers), kept=kept)
    warnings = list(planned.warnings)
    if report.objects == 0 and not report.findings:
        warnings.append(f"no Kubernetes objects found in {report.files} file{'' if report.files == 1 else 's'}")
    read = [str(s.path) for s in [*planned.inputs, *planned.context] if s.path is not None and s.refused is None]
    return Outcome(report, registry, planned.settings, tuple(warnings), run, (*read, *files_read(run)))


def _lint_reusing(options: Options, config: Config, reuse: Reuse) -> Outcome:
    """lint() of an editor's buffers, planned as the last run was while nothing on disk changed;
    else planned anew, and kept when the stamps of the work tree vouch for it (replay.py)."""
    watcher = _replayer(dataclasses.replace(options, buffers=()), config)
    if watcher is None or not watcher.tree.work_tree:  # no cache or no git work tree: each run planned anew
        return _linted(options, config, plan_run(options, config), None)
    key = (watcher.key, repr(config))
    planned = reuse.planned_for(key)
    if planned is not None:
        return _linted(options, config, planned, watcher.cache, reuse.units)
    planned = plan_run(options, config)
    outcome = _linted(options, config, planned, watcher.cache, reuse.units)
    if outcome.report.complete and not planned.tree.others():  # as the replay: what a run would give again
        reuse.stamps = watcher.stamps(outcome.read)
        reuse.planned = planned if reuse.stamps is not None else None
    return outcome


def _named(options: Options, config: Config | None = None) -> list[str]:
    """The paths a run names (with the configuration's, once it is known)."""
    found = [*(list(options.paths) or ["."]), *options.context, *(options.config_file or "",)]
    if config is not None:
        found += [*map(str, config.context), *map(str, config.rule_packs)]
    return [name for name in found if name]


def _replayer(options: Options, config: Config, early: list[tuple[str, list[Any]]] | None = None) -> Replay | None:
    """The run kept whole, with a cache, for a run naming only what lies inside the git work tree
    of the working directory (the stamps cover every file such a run may read: builds,
    configurations and rule packs are confined to it), or only paths in no git work tree (the
    stamps cover them, the working directory whole for those in it, and the folders above where
    configurations and ignore files are sought: replay.outside_git); None otherwise (standard
    input, a path in another work tree or named through a link, no cache)."""
    paths = list(options.paths) or ["."]
    cache = open_cache(options, config)
    if cache is None or STDIN in paths:
        return None
    named = _named(options, config)
    parts = (repr(options), tool_fingerprint(), tools_identity("kubectl", "kustomize", "helm"))
    tree = outside_git(named, LOOKED_FOR_ABOVE)
    if tree is not None:
        return Replay(cache, tree, parts, early)
    top = git_toplevel(Path.cwd())
    if top is None or not inside(top, named):
        return None
    return Replay(cache, work_tree(top), parts)


# The names a run looks for in the folders above what it names (outside a git work tree, up to
# `/`): configurations (config.find_config), ignore files (inputs.Exclusions), the kustomizations
# of the light view (units/kustomize/light_view.py) and their names (units/common.KUSTOMIZATION_NAMES,
# not imported here: it brings the YAML reader), a chart (units/common.chart_of), a repository's
# `.git`, a virtualenv's marker. A name looked for there and missing here would let a replay
# miss a change (tests/test_replay_outside_git.py holds the list to the modules' names).
LOOKED_FOR_ABOVE = (*CONFIG_NAMES, "pyproject.toml", *IGNORE_FILE_NAMES, "kustomization.yaml", "kustomization.yml",
                    "Kustomization", "Chart.yaml", ".git", "pyvenv.cfg")


def _may_build(read: tuple[str, ...]) -> bool:
    """Whether a run reading these files may have built a kustomization or rendered a chart (a
    kustomization among them, or a file in a `templates` folder): what a run outside any git work
    tree and the working directory builds is confined to nothing, so its stamps cannot vouch for it."""
    from kubelint_svc.units.common import KUSTOMIZATION_NAMES

    return any(os.path.basename(path) in KUSTOMIZATION_NAMES or "templates" in Path(path).parts[:-1]
               for path in read)


def _replayed(options: Options, config: Config, kept: dict[str, Any]) -> Outcome:
    """The Outcome of a run kept whole: its settings settled anew (cheap), its report kept, its
    rules settled when asked (the configuration and rule packs are those that gave them: stamped)."""
    def registry() -> Registry:
        try:
            return ConfigTree(config, explicit=options.config_file is not None).run_registry()
        except ConfigTreeError as error:
            raise UsageError(str(error)) from None

    return Outcome(report_from(kept["report"]), registry, settle(options, config),
                   tuple(map(str, kept["warnings"])), None, tuple(map(str, kept["read"])))


MAX_FIX_PASSES = 5  # a fix can reveal another (a version replaced, then its selector): a few passes, never a loop


@dataclass
class Fixed:
    """What --fix changed (or, with --diff, would change): the files, the findings fixed, and
    the fixes skipped, each with why."""

    files: list[FileEdit] = dataclasses.field(default_factory=list)
    fixed: list[Finding] = dataclasses.field(default_factory=list)
    skipped: list[Skipped] = dataclasses.field(default_factory=list)

    def diff(self) -> str:
        return "".join(edit.diff() for edit in self.files)


def lint_and_fix(options: Options, unsafe: bool = False, write: bool = True) -> tuple[Outcome, Fixed]:
    """Lint, apply the fixes the findings offer (safe ones; unsafe too when asked) and lint
    again, until a pass changes nothing (at most MAX_FIX_PASSES); the outcome is the last
    run's. Without write, one pass is planned and nothing is written (--diff)."""
    from kubelint_svc.fixes import Skipped, apply, plan_fixes

    if write and STDIN in options.paths:  # a second pass would find standard input read already
        raise UsageError("--fix and --fix-only edit files, not standard input ('-'); --diff shows the fixes")
    outcome = lint(options)
    fixed = Fixed()
    seen: dict[Path, set[str]] = {}  # every text a file had: a fix that would bring one back is a loop
    for _ in range(MAX_FIX_PASSES):
        plan = plan_fixes(outcome.report.findings, unsafe)
        fixed.skipped = list(plan.skipped)
        for edit in list(plan.files):
            texts = seen.setdefault(edit.path, {edit.before})
            if edit.after in texts:
                plan.files.remove(edit)
                fixed.skipped += [Skipped(finding, "it would undo an earlier fix") for finding in edit.fixed]
        if not write:
            fixed.files, fixed.fixed = plan.files, plan.fixed
            return outcome, fixed
        written, failed = apply(plan)
        fixed.skipped += failed
        if not written:
            break
        previous = list(fixed.files)
        for edit in written:
            seen[edit.path].add(edit.after)
            fixed.fixed += edit.fixed
            fixed.files = [*(f for f in fixed.files if f.path != edit.path), edit]
        outcome = lint(options)
        if _undo_moved(written, outcome, fixed, previous):
            outcome = lint(options)
            break  # another pass would make the same fix again
    outcome.report.fixed = len(fixed.fixed)
    outcome.report.fixed_files = len(fixed.files)
    return outcome, fixed


def _undo_moved(written: list[FileEdit], outcome: Outcome, fixed: Fixed, previous: list[FileEdit]) -> bool:
    """Put back each file whose fix left a finding it fixed where it was, from another build that
    reads the file (a base shared by overlays, one of which needs the old value): a fix moves no
    problem elsewhere. Whether any file was put back."""
    from kubelint_svc.fixes import Skipped, undo

    now = {(f.rule, f.file, f.line, f.column): f for f in outcome.report.findings}
    undone = False
    for edit in written:
        back = next((now[key] for f in edit.fixed if (key := (f.rule, f.file, f.line, f.column)) in now), None)
        if back is None or undo(edit) is not None:
            continue
        undone = True
        fixed.fixed = [f for f in fixed.fixed if f not in edit.fixed]
        fixed.files = [*(f for f in fixed.files if f.path != edit.path), *(f for f in previous if f.path == edit.path)]
        fixed.skipped += [Skipped(f, f"another build that reads the file flags the fixed value: {back.message}")
                          for f in edit.fixed]
    return undone


def _including_builds(
    paths: list[str], read: list[InputFile], exclusions: Exclusions, warnings: list[str]
) -> list[InputFile]:
    """The repository's kustomizations whose builds read a named file or folder and that the run
    would not read otherwise: naming a base, a patch or a kustomization judges it as every build
    that includes it does (as --git-context would, reading only these). An excluded folder's
    (fixtures, vendored copies) are not among them."""
    from kubelint_svc.units.common import KUSTOMIZATION_NAMES, including_kustomizations

    named = [Path(path) for path in paths if path != STDIN and os.path.exists(path)]
    # of the files read, only the kustomizations tell whether a repository must be searched
    kustomizations = frozenset(str(source.normal) if source.normal is not None else os.path.abspath(source.path)
                               for source in read
                               if source.path is not None and source.path.name in KUSTOMIZATION_NAMES)
    candidates = including_kustomizations(named, kustomizations)
    known = {resolved(source.path) for source in read if source.path is not None} if candidates else set()
    found = [path for path in candidates if resolved(path) not in known and exclusions.why_named(path) is None]
    if found:
        shown = ", ".join(shown_path(path) for path in found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3
                                                                     else "")
        warnings.append(f"also read, to build what includes the files named: {shown}")
    return [InputFile(shown_path(path), path) for path in found]


_REPORT_MARK = re.compile(rb'"name":\s*"kubelint-svc"')


def _holds_a_report(path: Path) -> bool:
    """Does path hold a report of ours (JSON, SARIF or a graph, which name the tool near their
    start), rather than a manifest that an --output typo would replace?"""
    try:
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)),
                  "rb") as handle:
            return stat.S_ISREG(os.fstat(handle.fileno()).st_mode) and bool(_REPORT_MARK.search(handle.read(4096)))
    except OSError:
        return False


def open_cache(options: Options, config: Config) -> Cache | None:
    """The run's cache: --cache-dir, else $KUBELINT_SVC_CACHE_DIR, else `.kubelint-svc_cache` in
    the project root (the configuration file's folder, else the working directory); None with
    --no-cache or where no cache can be kept."""
    if options.no_cache:
        return None
    return open_kept(cache_folder(options, config), cache_generation())


def cache_folder(options: Options, config: Config) -> Path:
    """--cache-dir, else $KUBELINT_SVC_CACHE_DIR, else `.kubelint-svc_cache` in the project root."""
    chosen = options.cache_dir or os.environ.get("KUBELINT_SVC_CACHE_DIR")
    root = config.path.parent if config.path is not None else Path.cwd()
    return Path(chosen) if chosen else root / CACHE_FOLDER


def clean(options: Options) -> tuple[list[str], list[str]]:
    """`kubelint-svc clean`: remove the project's cache folders (--cache-dir or
    $KUBELINT_SVC_CACHE_DIR when given, else the project root's and every one below the working
    directory, as `ruff clean`); (folders removed, "folder: why not" for those left alone)."""
    from kubelint_svc.cache_folders import cache_folders_under, remove_cache_folder
    from kubelint_svc.inputs import git_toplevel

    working = Path.cwd()
    folder = cache_folder(options, load_configuration(options.config_file))
    explicit = bool(options.cache_dir or os.environ.get("KUBELINT_SVC_CACHE_DIR"))
    candidates = [folder] if explicit else [folder, *cache_folders_under(working)]
    removed, refused = [], []
    for candidate in dict.fromkeys(Path(os.path.abspath(path)) for path in candidates):
        if not os.path.lexists(candidate):
            continue
        parent = resolved(candidate.parent) or candidate.parent
        why = remove_cache_folder(candidate, git_toplevel(parent) or parent, working)
        if why is None:
            removed.append(shown_path(candidate))
        else:
            refused.append(f"{shown_path(candidate)}: {why}")
    return removed, refused


def describe_settings(planned: RunSetup, options: Options) -> list[str]:
    """--show-settings: the configuration file found and every setting as the run resolves it,
    then the files another configuration governs."""
    config, settings = planned.config, planned.settings
    low, high = settings.node_port_range
    found = shown_path(config.path) if config.path is not None else "none (the defaults)"
    if options.config_file is not None:
        found += " (--config)"
    by_origin: dict[str, list[str]] = {}
    for glob in planned.exclusions.globs:
        by_origin.setdefault(glob.origin, []).append(glob.glob)
    if options.exclude is None and config.exclude:
        line = config.lines.get("exclude")
        by_origin[f"{shown_path(config.path)}:{line}" if config.path and line else "configuration"] = config.exclude
    excludes = [f"{', '.join(globs)} ({origin})" for origin, globs in by_origin.items()]
    rules = [f"{rule_id}: {setting}" for rule_id, setting in sorted(config.rules.items())]
    lines = [
        f"configuration file: {found}",
        f"kubernetes-version: {settings.kubernetes_version}",
        f"fail-on: {settings.fail_on}",
        f"node-port-range: {low}-{high}",
        f"namespace: {settings.namespace}",
        f"kustomize: {settings.kustomize}",
        f"kustomize-load-restrictor: {settings.kustomize_load_restrictor}",
        f"helm-values: [{', '.join(settings.helm_values)}]",
        f"helm-release: {settings.helm_release}",
        f"helm engine: {_helm_engine_description()}",
        f"pod-templates: [{', '.join(kind.describe() for kind in settings.pod_templates)}]",
        f"context: [{', '.join([*options.context, *map(str, config.context)])}]",
        f"git-context: {'true' if options.git_context else 'false'}",
        f"respect-gitignore: {'true' if options.respect_gitignore else 'false'}",
        f"force-exclude: {'true' if options.force_exclude else 'false'}",
        f"exclude: [{', '.join(excludes)}]",
        f"policy-packs: [{', '.join(config.policy_packs)}]",
        f"rule-packs: [{', '.join(map(shown_path, config.rule_packs))}]",
        f"rules: {{{', '.join(rules)}}}",
    ]
    governed = [(source.display, planned.tree.of_file(str(source.path))) for source in planned.inputs
                if source.path is not None]
    others = sorted((shown, shown_path(other.path)) for shown, other in governed if other is not config and other.path)
    if others:
        lines.append("files another configuration governs (its rules, severities and exclude apply to them):")
        lines += [f"  {shown}: {path}" for shown, path in others]
    return lines


def _helm_engine_description() -> str:
    from kubelint_svc.units.plan import helm_engine_description

    return helm_engine_description()


def exclusions_for(options: Options, tree: ConfigTree) -> Exclusions:
    """--exclude replaces the default excludes and the configurations' `exclude`;
    --extend-exclude adds to them (as ruff's flags). A configuration's `exclude` applies to the
    files it governs."""
    cwd = Path.cwd()
    if options.exclude is not None:
        globs = [ExcludeGlob(glob, cwd, "--exclude") for glob in options.exclude]
    else:
        globs = default_exclusions()
    globs += [ExcludeGlob(glob, cwd, "--extend-exclude") for glob in options.extend_exclude]
    configured = tree.folder_excludes if options.exclude is None else None
    return Exclusions(globs, options.respect_gitignore, configured, tree.names)


def _named_inputs(
    paths: list[str], stdin_name: Path | None, exclusions: Exclusions, force: bool, warnings: list[str]
) -> list[InputFile]:
    """What the paths name: a walk leaves out what exclusions exclude, quietly; a file or folder
    named on the command line (or stdin's --stdin-filename) is linted anyway, unless force, as
    ruff does; each one force leaves out is named on stderr."""
    kept_paths = []
    for given in paths:
        target = stdin_name if given == STDIN else Path(given)
        reason = exclusions.why_named(target) if force and target is not None else None
        if reason is not None:
            warnings.append(f"{stdin_name if given == STDIN else given} is {reason}; not linted")
            continue
        kept_paths.append(given)
    found = discover(kept_paths, exclusions) if kept_paths else []
    return [InputFile(str(stdin_name), None) if each.path is None and stdin_name is not None else each
            for each in found]


@dataclass(frozen=True)
class Exposed:
    service: dict[str, Any]
    source: Resource  # the object exposed
    warnings: tuple[str, ...] = ()
    read: tuple[str, ...] = ()  # the files the objects came from


def files_read(run: RunContext) -> tuple[str, ...]:
    """The files a run's objects (and its unreadable documents) came from."""
    found = [r.file for r in [*run.resources, *run.context_resources]] + [u[0] for u in run.unreadable]
    return tuple(dict.fromkeys(found))


def check_output_file(output_file: str, append: bool, flag: str) -> None:
    """Refuse, before anything is written, an output outputs.write_output would refuse (a folder
    that leads out of the working directory or into .git) and an --append of a YAML document to
    a file that is not YAML; write_output itself refuses the manifests read."""
    try:
        target = output_target(output_file, flag)
    except OutputRefused as error:
        raise UsageError(str(error)) from None
    if append and target.is_file() and not target.is_symlink() and target.stat().st_size > 0:
        _check_yaml_to_append(Path(output_file))  # named as the user named it; the same file


def _check_yaml_to_append(target: Path) -> None:
    from kubelint_svc.file_reads import UnreadableFile, decode, read_bounded
    from kubelint_svc.loader import parse_stream

    where = f"--append: {target}"
    if target.suffix.lower() == ".json":
        raise UsageError(f"{where} is JSON; a YAML document after it would make it neither JSON nor YAML")
    try:
        text, problem = decode(read_bounded(target))
    except (OSError, UnreadableFile) as error:
        raise UsageError(f"{where}: {getattr(error, 'strerror', None) or error}") from None
    if text is None:
        assert problem is not None
        raise UsageError(f"{where}:{problem.line}:{problem.column}: {problem.message}; not appended to")
    stream = parse_stream(text, keep_nodes=False)
    problems = [p for p in [*stream.problems, *(p for d in stream.documents for p in d.problems)]
                if p.rule == "yaml-syntax"]
    if problems:
        raise UsageError(f"{where}:{problems[0].line}:{problems[0].column}: {problems[0].message}; not appended to")
    for document in stream.documents:
        if document.data is not None and not isinstance(document.data, dict):
            line = document.first_line + 1
            held = "text" if isinstance(document.data, str) else "a list" if isinstance(document.data, list) else \
                "a value"
            raise UsageError(f"{where}:{line}: a document holds {held}, not a Kubernetes object; not appended to")


def not_read(outcome: Outcome, what: str) -> list[str]:
    """One line a document that could not be read (at most five): what expose and graph cannot
    see, said where it is, since neither prints the lint's findings."""
    from kubelint_svc.runner import UNREADABLE_RULES

    found = [f for f in outcome.report.findings if f.rule in UNREADABLE_RULES]
    lines = [f"{f.file}:{f.line}:{f.column}: {f.message.removesuffix('; not linted')} [{f.rule}]; not {what}"
             for f in found[:5]]
    if len(found) > 5:
        lines.append(f"... and {len(found) - 5} more documents that could not be read (`kubelint-svc lint` lists them)")
    return lines


def expose(options: Options, request: ExposeRequest) -> Exposed:
    """The Service `kubectl expose` would create for request's KIND/NAME, from the objects options
    names (builds and renders as the lint sees them); UsageError for a missing or ambiguous
    target, or a flag kubectl would refuse."""
    from kubelint_svc.expose import ExposeError, existing_service, find_target, parse_target, service_for
    from kubelint_svc.model import Resource

    try:
        parse_target(request.target)  # a wrong KIND is said before any file is read
    except ExposeError as error:
        raise UsageError(str(error)) from None
    outcome = lint(options)
    assert outcome.run is not None
    run = outcome.run
    try:
        target = find_target([*run.resources, *run.context_resources], request, outcome.settings.namespace)
        exposure = service_for(target, request, outcome.settings.node_port_range)
    except ExposeError as error:
        unread = not_read(outcome, "read")
        more = f" ({len(unread)} document{'s' if len(unread) > 1 else ''} could not be read: {unread[0]})" \
            if unread and "not found" in str(error) else ""
        raise UsageError(f"{error}{more}") from None
    # what kubectl would write is linted against what it came from: a Service exposed from a
    # Service keeps kubectl's targetPort (its port), which may reach no container
    service = exposure.service
    generated = Resource("v1", "Service", service, "<the Service written>", unit=target.unit)
    # a Service of that name already there is kubectl expose's AlreadyExists, said by expose
    findings = [f for f in outcome.registry.check_resource(generated, run) if f.rule != "service-duplicate-name"]
    errors = [f"error[{finding.rule}] {finding.message}" for finding in findings if finding.severity == "error"]
    if errors:  # what the API server would reject, or a port that reaches nothing: not written
        raise UsageError(f"the Service written would not lint clean, so it is not written: {'; '.join(errors)}")
    notes = [f"the Service written: {finding.severity}[{finding.rule}] {finding.message}" for finding in findings]
    exists = existing_service(service, [*run.resources, *run.context_resources], outcome.settings.namespace)
    return Exposed(service, target, (*outcome.warnings, *not_read(outcome, "read"), *exposure.notes,
                                     *([exists] if exists else []), *notes), outcome.read)


def _focus_kinds() -> dict[str, str]:
    """kubectl's names of kinds, for --focus: svc/web, deploy/web, sts/db."""
    from kubelint_svc.expose import KIND_NAMES

    return {**{alias: kind.lower() for alias, kind in KIND_NAMES.items()},
            "ing": "ingress", "ingresses": "ingress", "endpointslices": "endpointslice"}


def graph(options: Options, namespace: str | None = None, only_broken: bool = False,
          focus: str | None = None) -> tuple[Graph, Outcome]:
    """The wiring of what options names, filtered; UsageError for a --focus that names nothing."""
    from kubelint_svc.graph import build, filtered, focus_candidates, sorted_graph

    outcome = lint(options)
    assert outcome.run is not None
    whole = build(outcome.run, outcome.report.findings)
    if focus is not None:
        kind, slash, name = focus.partition("/")
        if not slash or not kind or not name:
            raise UsageError(f"--focus {_shown(focus)} must be KIND/NAME, e.g. service/web")
        kind = _focus_kinds().get(kind.lower(), kind)
        given, focus = focus, f"{kind}/{name}"
        known = focus_candidates(whole)
        if f"{kind.lower()}/{name}" not in known:
            hint = did_you_mean(f"{kind.lower()}/{name}", known)
            raise UsageError(f"--focus {_shown(given)} names nothing in the graph{hint}")
    outcome = dataclasses.replace(outcome, warnings=(*outcome.warnings, *not_read(outcome, "drawn")))
    return sorted_graph(filtered(whole, namespace, only_broken, focus)), outcome
