"""Configuration: `.kubelint-svc.yaml` (or `[tool.kubelint-svc]` in pyproject.toml), found from a
folder upward to its repository's top. The file travels with pull requests, so it is untrusted:
every key is checked, and every path it names must stay inside the repository."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelint_svc.file_reads import UnreadableFile, decode, read_bounded
from kubelint_svc.findings import SEVERITIES
from kubelint_svc.k8s_syntax import dns1123_subdomain
from kubelint_svc.kinds import PodTemplateKind
from kubelint_svc.paths import is_inside, refusal, resolved
from kubelint_svc.suggestions import did_you_mean

CONFIG_NAMES = (".kubelint-svc.yaml", ".kubelint-svc.yml")
RULE_SETTINGS = (*SEVERITIES, "off", "on")
BUILTIN_POLICY_PACKS = ("security", "conventions")
KEYS = (
    "kubernetes-version", "node-port-range", "namespace", "fail-on", "rules", "policy-packs",
    "rule-packs", "context", "exclude", "kustomize", "kustomize-load-restrictor", "helm-values", "helm-release",
    "pod-templates",
)
SCALAR_KEYS = ("kubernetes-version", "node-port-range", "namespace", "fail-on", "helm-release")
KUSTOMIZE_SETTINGS = ("auto", "kubectl", "kustomize", "fallback", "off")
LOAD_RESTRICTOR_SETTINGS = ("rootOnly", "none")


class ConfigError(Exception):
    """A problem with the configuration, worded for the user: exit code 2."""


@dataclass
class Config:
    path: Path | None = None
    root: Path | None = None  # the repository its paths must stay in
    kubernetes_version: str | None = None
    node_port_range: str | None = None
    namespace: str | None = None
    fail_on: str | None = None
    rules: dict[str, str] = field(default_factory=dict)
    policy_packs: list[str] = field(default_factory=list)
    rule_packs: list[Path] = field(default_factory=list)
    context: list[Path] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    kustomize: str | None = None
    kustomize_load_restrictor: str | None = None
    helm_values: list[str] = field(default_factory=list)
    helm_release: str | None = None
    pod_templates: list[PodTemplateKind] = field(default_factory=list)
    # where each key was written, for messages: key -> line
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)



def find_config(start: Path) -> Path | None:
    """The nearest `.kubelint-svc.yaml`, or pyproject.toml with a [tool.kubelint-svc] table, from
    start upward, up to the top of the repository holding start (a folder with `.git`)."""
    for directory in (start, *start.parents):
        found = config_here(directory)
        if found is not None:
            return found
        if (directory / ".git").exists():
            return None  # a configuration above a repository is not the repository's
    return None


def config_here(directory: Path) -> Path | None:
    """The configuration file of directory itself, if it has one."""
    for name in CONFIG_NAMES:
        if (directory / name).is_file():
            return directory / name
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return None
    # a pyproject.toml is read to see whether it has a table for us: one that links out of the
    # repository (a pull request's `pyproject.toml -> /etc/...`) is not read at all
    if pyproject.is_symlink():
        top = next((folder for folder in (directory, *directory.parents) if (folder / ".git").exists()), None)
        if top is not None and refusal(pyproject, resolved(top) or top) is not None:
            return None
    return pyproject if re.search(r"^\[tool\.kubelint-svc\]", _read_text(pyproject), re.M) else None


def _read_text(path: Path) -> str:
    """A bounded read of a small file; what cannot be read reads as empty here and is reported
    when the file is loaded."""
    try:
        text, _ = decode(read_bounded(path))
    except UnreadableFile:
        return ""
    return text or ""


def _shown(value: Any) -> str:
    """A value from the config as a message quotes it: short, whatever its length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_config(path: Path) -> Config:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    root = _repository_root(path.parent)
    leads = where_it_leads(path, root)
    if leads is not None:
        raise ConfigError(f"{path}: the config file leads {leads.replace('the repository', 'its repository')}")
    if path.name == "pyproject.toml":
        data, lines = _read_pyproject(path)
    else:
        data, lines = _read_yaml(path)
    config = Config(path=path, root=root, lines=lines)
    _fill(config, data)
    return config


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    # the YAML reader is imported where a configuration is read: a replayed run without one needs none
    from kubelint_svc.composing import child_node, locate
    from kubelint_svc.loader import YamlFileError, read_documents

    try:
        documents = read_documents(path)
    except YamlFileError as error:
        raise ConfigError(str(error)) from None
    if len(documents) > 1:
        raise ConfigError(f"{path}:{documents[1].node.start_mark.line + 1 if documents[1].node else 1}: "
                          "the configuration is one YAML document; a second one would be ignored")
    if not documents or documents[0].data is None:
        return {}, {}
    document = documents[0]
    if not isinstance(document.data, dict):
        raise ConfigError(f"{path}:1: the configuration must be a mapping of keys to values")
    lines = {key: locate(document.node, (key,))[0] for key in document.data}
    for key in SCALAR_KEYS:  # `kubernetes-version: 1.30` is the float 1.3 to YAML: keep what was written
        value = document.data.get(key)
        found = child_node(document.node, key) if document.node is not None else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and found is not None:
            document.data[key] = str(found[1].value)
    for key, value in document.data.items():
        if isinstance(value, dict):
            for sub in value:
                lines[f"{key}.{sub}"] = locate(document.node, (key, sub))[0]
    return document.data, lines


def _read_pyproject(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        text, problem = decode(read_bounded(path))
    except UnreadableFile as error:
        raise ConfigError(f"{path}: {error}") from None
    if text is None:
        raise ConfigError(f"{path}:{problem.line if problem else 1}: {problem.message if problem else 'unreadable'}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: TOML nests too deeply to read") from None
    tool = data.get("tool")
    table = tool.get("kubelint-svc", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.kubelint-svc] must be a table")
    lines: dict[str, int] = {}
    start = re.search(r"^\[tool\.kubelint-svc(\.[\w-]+)?\]", text, re.M)
    offset = text.count("\n", 0, start.start()) if start else 0
    for number, line in enumerate(text.splitlines()[offset:], offset + 1):
        match = re.match(r"\s*\"?([\w.-]+)\"?\s*=", line)
        if match and match.group(1) not in lines:
            lines[match.group(1)] = number
    version = table.get("kubernetes-version")
    if isinstance(version, float):  # TOML reads 1.30 as 1.3: which minor was meant cannot be known
        raise ConfigError(f"{path}:{lines.get('kubernetes-version', 1)}: kubernetes-version is the number {version} "
                          'in TOML, where 1.30 and 1.3 are the same; quote it: kubernetes-version = "1.30"')
    return table, lines


def where_it_leads(path: Path, root: Path) -> str | None:
    """Why a path the configuration names may not be read (paths.refusal's rule), as the words
    after "leads", or None."""
    if refusal(path, root) is None:
        return None
    real = resolved(path)
    if real is not None and is_inside(real, root):
        return f"into a git directory ({real}), which holds credentials"
    return f"outside the repository ({real or 'a symlink loop'}) through a symlink"


def _repository_root(directory: Path) -> Path:
    from kubelint_svc.inputs import git_toplevel

    return git_toplevel(directory) or resolved(directory) or directory.absolute()


def _fill(config: Config, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key not in KEYS:
            raise ConfigError(f"{config.where(key)}: unknown key {_shown(key)}{did_you_mean(str(key), KEYS)} "
                              f"(known keys: {', '.join(KEYS)})")
        if key in SCALAR_KEYS:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ConfigError(f"{config.where(key)}: {key} must be a string, not {type(value).__name__}")
            if (isinstance(value, int) and len(str(abs(value))) > 5) or (isinstance(value, str) and len(value) > 253):
                raise ConfigError(f"{config.where(key)}: {key} {_shown(value)} is far too long")
            text = str(value)
            if key == "fail-on" and text not in SEVERITIES:
                raise ConfigError(f"{config.where(key)}: fail-on must be one of {', '.join(SEVERITIES)}, "
                                  f"not {_shown(text)}")
            if key == "helm-release" and (dns1123_subdomain(text) is not None or len(text) > 53):
                raise ConfigError(f"{config.where(key)}: helm-release {_shown(text)} is no release name Helm accepts "
                                  "(at most 53 lowercase letters, digits, '-' and '.', starting and ending with a "
                                  "letter or digit)")
            setattr(config, key.replace("-", "_"), text)
        elif key == "rules":
            if not isinstance(value, dict):
                raise ConfigError(f"{config.where(key)}: rules must map rule ids to {'|'.join(RULE_SETTINGS)}")
            for rule_id, written in value.items():
                setting = "off" if written is False else "on" if written is True else written
                if not isinstance(setting, str) or setting not in RULE_SETTINGS:
                    raise ConfigError(f"{config.where(f'rules.{rule_id}')}: rules.{str(rule_id)[:60]} must be one of "
                                      f"{', '.join(RULE_SETTINGS)}, not {_shown(setting)}")
                config.rules[str(rule_id)] = setting
        elif key == "policy-packs":
            for name in _string_list(config, key, value):
                if name not in BUILTIN_POLICY_PACKS:
                    raise ConfigError(f"{config.where(key)}: unknown policy pack {_shown(name)}; built-in packs: "
                                      f"{', '.join(BUILTIN_POLICY_PACKS)}")
                config.policy_packs.append(name)
        elif key in ("rule-packs", "context"):
            paths = [_inside_repository(config, key, entry) for entry in _string_list(config, key, value)]
            setattr(config, key.replace("-", "_"), paths)
        elif key == "kustomize":
            if value not in KUSTOMIZE_SETTINGS:
                raise ConfigError(f"{config.where(key)}: kustomize must be one of {', '.join(KUSTOMIZE_SETTINGS)}, "
                                  f"not {_shown(value)}")
            config.kustomize = value
        elif key == "kustomize-load-restrictor":
            if value not in LOAD_RESTRICTOR_SETTINGS:
                raise ConfigError(f"{config.where(key)}: kustomize-load-restrictor must be one of "
                                  f"{', '.join(LOAD_RESTRICTOR_SETTINGS)}, not {_shown(value)}")
            config.kustomize_load_restrictor = value
        elif key == "helm-values":
            for entry in _string_list(config, key, value):
                if os.path.isabs(entry) or ".." in Path(entry).parts or "://" in entry:
                    raise ConfigError(f"{config.where(key)}: helm-values entry {_shown(entry)} must be a path "
                                      "relative to each chart (no absolute paths, '..' or URLs)")
                config.helm_values.append(entry)
        elif key == "pod-templates":
            config.pod_templates = _pod_templates(config, value)
        elif key == "exclude":
            for glob in _string_list(config, key, value):
                if os.path.isabs(glob) or ".." in Path(glob).parts:
                    raise ConfigError(f"{config.where(key)}: exclude pattern {_shown(glob)} must be relative to the "
                                      "config file and stay inside the repository")
                config.exclude.append(glob)


_CONTROL = re.compile("[\x00-\x1f\x7f]")


_POD_TEMPLATE_KEYS = ("group", "kind", "template", "selector")
_FIELD_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,15}$")


def _pod_templates(config: Config, value: Any) -> list[PodTemplateKind]:
    """`pod-templates:` entries: a custom kind whose controller makes Pods from a template in it."""
    where = config.where("pod-templates")
    if not isinstance(value, list) or len(value) > 100:
        raise ConfigError(f"{where}: pod-templates must be a list (at most 100) of {{group, kind, template, selector}}")
    found = []
    for index, entry in enumerate(value):
        shown = f"{where}: pod-templates[{index}]"
        if not isinstance(entry, dict) or not {"group", "kind", "template"} <= set(entry) or \
                not set(entry) <= set(_POD_TEMPLATE_KEYS) or not all(isinstance(v, str) for v in entry.values()):
            raise ConfigError(f"{shown} needs group, kind and template (strings), and selector optionally: "
                              "{group: argoproj.io, kind: Rollout, template: spec.template, selector: spec.selector}")
        for key in ("template", "selector"):
            if key in entry and not _FIELD_PATH.match(entry[key]):
                raise ConfigError(f"{shown}.{key} {_shown(entry[key])} must be a dotted field path such as "
                                  "spec.template")
        if not _FIELD_PATH.match(entry["kind"]) or len(entry["group"]) > 253 or _CONTROL.search(entry["group"]):
            raise ConfigError(f"{shown}: group {_shown(entry['group'])} or kind {_shown(entry['kind'])} is malformed")
        found.append(PodTemplateKind(entry["group"], entry["kind"], tuple(entry["template"].split(".")),
                                     tuple(entry["selector"].split(".")) if "selector" in entry else ()))
    return found


def _string_list(config: Config, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{config.where(key)}: {key} must be a list of strings")
    for item in value:
        if _CONTROL.search(item) or len(item) > 4096:
            raise ConfigError(f"{config.where(key)}: {key} entry {_shown(item)} holds a control character or is "
                              "far too long")
    return value


def _inside_repository(config: Config, key: str, entry: str) -> Path:
    """A path from the config: relative to it, and inside the repository even after symlinks."""
    assert config.path is not None
    assert config.root is not None
    if os.path.isabs(entry) or ".." in Path(entry).parts or "://" in entry:
        raise ConfigError(f"{config.where(key)}: {key} entry {_shown(entry)} must be a relative path inside the "
                          "repository (no absolute paths, '..' or URLs)")
    path = config.path.parent / entry
    leads = where_it_leads(path, config.root)
    if leads is not None:
        raise ConfigError(f"{config.where(key)}: {key} entry {_shown(entry)} leads {leads}")
    if not path.exists():
        raise ConfigError(f"{config.where(key)}: {key} entry {_shown(entry)} does not exist")
    return path


STARTER = """\
# kubelint-svc configuration. Command-line flags win over these settings.
# Every key is optional; delete what you do not need. Every key is described in the
# kubelint-svc documentation, under "Configuration".

# Kubernetes version to check against (1.30 ... 1.37; default: the newest bundled).
# kubernetes-version: "1.33"

# Your cluster's --service-node-port-range.
# node-port-range: 30000-32767

# Namespace of objects that name none, as `kubectl apply -n` would place them.
# namespace: default

# Lowest severity that makes the run fail (exit code 1): error, warning or info.
# fail-on: error

# Turn rules off, or change their severity (off, on, error, warning, info).
# rules:
#   service-selector-ambiguous: off
#   service-load-balancer-ip-deprecated: error

# Built-in policy packs, off unless named here: security, conventions.
# policy-packs: [security]

# Folders of your own rules (the format of kubelint-svc's built-in rules; see "Policy packs"
# in the kubelint-svc documentation).
# Paths are relative to this file and must stay inside the repository.
# rule-packs: [policies]

# Files or folders read for cross-object checks but never reported on.
# context: [k8s/base]

# How kustomizations are built: auto (kubectl or kustomize on PATH, else a built-in fallback),
# kubectl, kustomize, fallback, or off (files linted as written).
# kustomize: auto

# Where a kustomization may read files: rootOnly (in or below its folder, kustomize's default) or
# none (anywhere in the repository, as Flux and Config Sync build).
# kustomize-load-restrictor: rootOnly

# Values files for `helm template`, relative to each chart (its values.yaml always applies).
# helm-values: [values-prod.yaml]

# The release name charts are rendered with (.Release.Name); the namespace setting above is
# .Release.Namespace.
# helm-release: release-name

# Custom kinds whose controllers make Pods from a template they hold, so Services are judged
# against those Pods (Argo Rollouts and OpenShift DeploymentConfigs are known already).
# pod-templates:
#   - {group: example.com, kind: WebApp, template: spec.podTemplate, selector: spec.selector}

# Files not to lint (globs relative to this file).
# exclude: ["charts/*/templates/*", "vendor/*"]
"""
