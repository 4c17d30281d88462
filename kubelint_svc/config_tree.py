"""Which configuration governs each file: the nearest one from the file's folder upward (ruff's
rule), so `lint examples/policies/manifests` from a repository's top obeys
`examples/policies/.kubelint-svc.yaml`. What a rule reports is settled per file; what a run can
have only once (the Kubernetes version, the node-port range, ...) comes from the run's own."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kubelint_svc.config import CONFIG_NAMES, Config, ConfigError, config_here, load_config
from kubelint_svc.inputs import ExcludeGlob
from kubelint_svc.paths import GIT_DIRECTORY, FolderNames

_CONFIG_FILES = (*CONFIG_NAMES, "pyproject.toml")  # what config_here looks for

if TYPE_CHECKING:  # the engine is imported where rules are loaded: a replayed run loads none (app.lint)
    from kubelint_svc.engine import Registry

# settings a run has once: a file's own configuration cannot change them for that file alone
RUN_WIDE = {
    "kubernetes-version": "kubernetes_version", "node-port-range": "node_port_range", "namespace": "namespace",
    "fail-on": "fail_on", "kustomize": "kustomize", "helm-values": "helm_values", "context": "context",
    "helm-release": "helm_release",
    "pod-templates": "pod_templates",
}


class ConfigTreeError(Exception):
    """A configuration that cannot be read or whose rules cannot be loaded, worded for the user."""


class ConfigTree:
    """The configuration of every folder, found and loaded once each. With an explicit file
    (--config), that one governs every file."""

    def __init__(self, run_config: Config, explicit: bool) -> None:
        self.run_config = run_config
        self.explicit = explicit
        self._nearest: dict[str, Path | None] = {}  # a folder (absolute) -> its nearest configuration
        self._of_folder: dict[str, Config] = {}  # a finding's folder (as findings name it) -> its configuration
        self.names = FolderNames()  # the folders the run's walk listed (Exclusions): no stat for a name not there
        self._loaded: dict[Path, Config] = {}
        self._registries: dict[Path | None, Registry] = {}
        self._excludes: dict[Path | None, list[ExcludeGlob]] = {}
        self._folder_excludes: dict[str, list[ExcludeGlob]] = {}  # a folder -> its files' globs
        if run_config.path is not None:
            self._loaded[_key(run_config.path)] = run_config

    def governing(self, folder: Path | str) -> Config:
        """The configuration of the files of folder: the nearest, else the run's."""
        if self.explicit:
            return self.run_config
        found = self._nearest_config(os.path.abspath(folder))
        if found is None:
            return self.run_config
        key = _key(found)
        if key not in self._loaded:
            try:
                self._loaded[key] = load_config(found)
            except (ConfigError, OSError) as error:
                raise ConfigTreeError(str(error)) from None
        return self._loaded[key]

    def _nearest_config(self, folder: str) -> Path | None:
        """find_config(folder) (absolute, normalised), each folder looked at once a run: a walk
        asks for every file. Up a folder at a time without recursion (a named file 1,000 folders
        deep); a folder the walk listed is looked in only for the names it holds."""
        climbed: list[str] = []  # folders with no answer yet, nearest first
        found: Path | None = None
        while folder not in self._nearest:
            lacks = self.names.lacks
            here = None if all(lacks(folder, name) for name in _CONFIG_FILES) else config_here(Path(folder))
            climbed.append(folder)
            parent = os.path.dirname(folder)
            if here is not None or parent == folder or (
                    not lacks(folder, GIT_DIRECTORY) and os.path.exists(os.path.join(folder, GIT_DIRECTORY))):
                found = here
                break
            folder = parent
        else:
            found = self._nearest[folder]
        for each in climbed:
            self._nearest[each] = found
        return found

    def of_file(self, file: str) -> Config:
        """The configuration governing a finding's file (as findings name it)."""
        if file in ("-", ""):
            return self.run_config
        folder = os.path.dirname(file)
        found = self._of_folder.get(folder)
        if found is None:
            found = self._of_folder[folder] = self.governing(folder or ".")
        return found

    def others(self) -> list[Config]:
        """The configurations loaded besides the run's, in path order."""
        run_key = _key(self.run_config.path) if self.run_config.path is not None else None
        return [config for key, config in sorted(self._loaded.items()) if key != run_key]

    def registry(self, config: Config) -> Registry:
        from kubelint_svc.engine import Registry, RuleError

        key = _key(config.path) if config.path is not None else None
        if key not in self._registries:
            try:
                self._registries[key] = Registry.configured(config)
            except (RuleError, FileNotFoundError) as error:
                raise ConfigTreeError(str(error)) from None
        return self._registries[key]

    def excludes(self, config: Config) -> list[ExcludeGlob]:
        key = _key(config.path) if config.path is not None else None
        if key not in self._excludes:
            base = Path(os.path.abspath(config.path.parent)) if config.path is not None else Path.cwd()
            line = config.lines.get("exclude")
            origin = f"{_place(config)}:{line}" if line else _place(config)
            self._excludes[key] = [ExcludeGlob(glob, base, origin) for glob in config.exclude]
        return self._excludes[key]

    def folder_excludes(self, folder: str) -> list[ExcludeGlob]:
        """The `exclude` globs of the configuration governing the entries of folder (absolute,
        normalised): Exclusions asks once a folder, and most folders have none."""
        globs = self._folder_excludes.get(folder)
        if globs is None:
            globs = self._folder_excludes[folder] = self.excludes(self.governing(folder))
        return globs

    def run_registry(self) -> Registry:
        """Every rule any governing configuration turns on: what the run must check."""
        from kubelint_svc.engine import Registry

        base = self.registry(self.run_config)
        others = [self.registry(config) for config in self.others()]
        if not others:
            return base
        rules = dict(base.rules)
        for registry in others:
            for rule_id, rule in registry.rules.items():
                if rule_id not in rules or (rule.enabled and not rules[rule_id].enabled):
                    rules[rule_id] = rule
        return Registry(list(rules.values()))

    def file_rules(self) -> Callable[[str], Registry] | None:
        """The rules governing each file (as findings name it), for settling.settled; None when
        the run's configuration governs every file."""
        if not self.others():
            return None
        return lambda file: self.registry(self.of_file(file))

    def disagreements(self, run_values: dict[str, object]) -> list[str]:
        """One warning per run-wide setting a governing configuration sets otherwise."""
        warnings = []
        origin = _place(self.run_config) if self.run_config.path is not None else "the defaults"
        for config in self.others():
            for key, attribute in RUN_WIDE.items():
                if key not in config.lines:
                    continue
                value = getattr(config, attribute)
                if value != getattr(self.run_config, attribute) and value != run_values.get(key):
                    folder = os.path.dirname(_place(config)) or "."
                    warnings.append(
                        f"{_place(config)}:{config.lines[key]}: {key} {_shown(value)} is not applied: {key} is one "
                        f"setting for the whole run, taken from {origin}; lint {folder} on its own to apply it"
                    )
        return warnings


def _key(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _place(config: Config) -> str:
    """The configuration's path, relative to the working directory when below it."""
    return shown_path(config.path) if config.path is not None else "the defaults"


def shown_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when below it."""
    absolute = Path(os.path.abspath(path))
    return str(absolute.relative_to(Path.cwd())) if absolute.is_relative_to(Path.cwd()) else str(absolute)


def _shown(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return repr(value)


def common_folder(paths: list[str], stdin_folder: Path | None) -> Path:
    """The folder the paths have in common (a file's is its folder): where the run's
    configuration is sought."""
    folders = []
    for given in paths:
        if given == "-":
            folders.append(Path(os.path.abspath(stdin_folder or Path.cwd())))
            continue
        path = Path(os.path.abspath(given))
        folders.append(path if path.is_dir() else path.parent)
    if not folders:
        return Path.cwd()
    try:
        return Path(os.path.commonpath(folders))
    except ValueError:  # different drives
        return Path.cwd()
