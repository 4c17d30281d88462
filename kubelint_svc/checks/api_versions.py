"""API versions and kinds that Kubernetes has stopped serving, or never served."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kubelint_svc.checks.api import Hit, RunContext, header_only
from kubelint_svc.kinds import api_group
from kubelint_svc.model import Change, FixProposal, Resource
from kubelint_svc.schemas import builtin_groups, bundled_versions, served_kinds
from kubelint_svc.suggestions import clipped, closest


@dataclass(frozen=True)
class RemovedApis:
    # {apiVersion, kinds, removedIn: "1.16", replacement: "apps/v1" | "resource.k8s.io/v1 DeviceClass" | a text}
    removed: list[dict[str, object]]

    @functools.cached_property
    def by_api_version(self) -> dict[str, list[dict[str, object]]]:
        """The entries naming kinds, by apiVersion, in their order: looked up once an object."""
        found: dict[str, list[dict[str, object]]] = {}
        for entry in self.removed:
            api_version = entry.get("apiVersion")
            if isinstance(api_version, str) and isinstance(entry.get("kinds"), list):
                found.setdefault(api_version, []).append(entry)
        return found


@header_only
def removed_api(resource: Resource, run: RunContext, params: RemovedApis) -> Iterator[Hit]:
    selected_minor = run.minor
    for entry in params.by_api_version.get(resource.api_version, ()):
        kinds = entry["kinds"]
        if not isinstance(kinds, list) or resource.kind not in kinds:
            continue
        removed_minor = int(str(entry["removedIn"]).split(".")[1])
        if selected_minor >= removed_minor:
            message = f"{resource.api_version} {resource.kind} was removed in Kubernetes {entry['removedIn']}"
            replacement = entry.get("replacement")
            served = _served_replacement(str(replacement), resource.kind, run) if replacement else None
            if served:
                message += f"; use {served}"
            else:
                message += " and has no replacement"
            yield Hit(message, ("apiVersion",), at_key=False, fix=_mechanical_fix(resource, served))
        return


# Removed versions whose objects mean the same under their replacement (the API server converted
# between them): a fix writes the new apiVersion, and the selector the old version defaulted to
# the template's labels. Not DaemonSets or StatefulSets (their update strategy's default changed),
# nor Ingresses (their backends are written differently).
_MECHANICAL = {
    ("extensions/v1beta1", "Deployment"), ("extensions/v1beta1", "ReplicaSet"),
    ("apps/v1beta1", "Deployment"), ("apps/v1beta1", "ReplicaSet"),
    ("apps/v1beta2", "Deployment"), ("apps/v1beta2", "ReplicaSet"),
    ("extensions/v1beta1", "NetworkPolicy"), ("batch/v1beta1", "CronJob"),
}
_SELECTOR_DEFAULTED = ("extensions/v1beta1", "apps/v1beta1")


def _mechanical_fix(resource: Resource, served: str | None) -> FixProposal | None:
    """The fix that moves the object to its replacement version, when that is mechanical."""
    if served is None or " " in served or (resource.api_version, resource.kind) not in _MECHANICAL:
        return None
    changes = [Change("replace", ("apiVersion",), served)]
    if resource.kind in ("Deployment", "ReplicaSet"):
        if resource.header_only:  # workloads are read whole (the index reads them): no fix without the spec
            return None
        spec = resource.get(("spec",))
        if not isinstance(spec, dict):
            return None
        if spec.get("selector") is None:
            labels = resource.get(("spec", "template", "metadata", "labels"))
            if resource.api_version not in _SELECTOR_DEFAULTED or not isinstance(labels, dict) or not labels \
                    or not all(isinstance(v, str) for v in labels.values()):
                return None
            changes.append(Change("insert", ("spec",), {"matchLabels": dict(labels)}, "selector"))
    return FixProposal(f"use {served}" + (" with the selector it defaulted" if len(changes) > 1 else ""),
                       tuple(changes))


_API_VERSION = re.compile(r"(?:[a-z0-9.-]+/)?v\d+(?:(?:alpha|beta)\d+)?")


def _served_replacement(replacement: str, kind: str, run: RunContext) -> str:
    """The replacement as the selected version serves it: `certificates.k8s.io/v1` is named
    `certificates.k8s.io/v1beta1` on a version where v1 is not served yet."""
    api_version, _, renamed = replacement.partition(" ")
    if not _API_VERSION.fullmatch(api_version) or " " in renamed:
        return replacement  # a text: "Pod Security Admission"
    target = renamed or kind
    served = served_kinds(run.kubernetes_version)
    if not served or target in served.get(api_version, ()):
        return replacement
    group = api_group(api_version)
    candidates = [api for api, kinds in served.items() if api_group(api) == group and target in kinds]
    if not candidates:
        return replacement
    best = max(candidates, key=lambda api: _version_priority(api.rpartition("/")[2]))
    return f"{best} {renamed}".rstrip()


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' order of versions: GA before beta before alpha, then the higher number."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if match is None:
        return (-1, 0, 0)
    stability = {"alpha": 0, "beta": 1, None: 2}[match.group(2)]
    return (stability, int(match.group(1)), int(match.group(3) or 0))


@header_only
def unknown_kind(resource: Resource, run: RunContext, params: RemovedApis) -> Iterator[Hit]:
    """A kind or version of a built-in group that no bundled Kubernetes version serves (a typo:
    `Servcie`, `app/v1`); removed ones are removed-api's, custom groups are never judged."""
    api_version, kind = resource.api_version, resource.kind
    served = run.once(_ever_served)
    if not api_version:
        serving = sorted((("alpha" in api or "beta" in api), api)
                         for api, kinds in served_kinds(run.kubernetes_version).items() if kind in kinds)
        yield Hit(f"Object 'apiVersion' is missing: kubectl refuses this {clipped(kind)}", (),
                  help=(f"add apiVersion: {serving[0][1]}",) if serving else ())
        return
    if kind in served.get(api_version, ()):
        return
    if any(entry["apiVersion"] == api_version and kind in _kinds_of(entry) for entry in params.removed):
        return
    group = resource.group
    groups = builtin_groups() | {api_group(str(entry["apiVersion"])) for entry in params.removed}
    if group not in groups and ("." in group or _closest(group, groups - {""}) is None):
        return  # a custom group (CRD groups hold a dot), or a tool's own file (skaffold/v4, builtin)
    serving_kind = sorted(api for api, kinds in served.items() if kind in kinds)
    if api_version in served:
        near = _closest(kind, served[api_version])
        hint = (f"did you mean {near!r}?",) if near else ()
        if serving_kind:
            hint = (*hint, f"{kind} is served as {', '.join(serving_kind)}")
        yield Hit(f"no Kubernetes version serves kind {clipped(kind)!r} in {api_version}", ("kind",),
                  at_key=False, help=hint)
        return
    near = _closest(api_version, serving_kind or served)
    yield Hit(f"no Kubernetes version serves {clipped(api_version)}" + (f" {kind}" if serving_kind else ""),
              ("apiVersion",), at_key=False, help=(f"did you mean {near!r}?",) if near else ())


def _closest(word: str, known: Iterable[str]) -> str | None:
    # a name a pull request made 100,000 characters long is no typo of a Kubernetes name
    return closest(word, known) if len(word) <= 100 else None


def _kinds_of(entry: dict[str, object]) -> list[object]:
    kinds = entry.get("kinds")
    return kinds if isinstance(kinds, list) else []


def _ever_served(run: RunContext) -> dict[str, set[str]]:
    """apiVersion -> the kinds some bundled version serves there (made once a run)."""
    found: dict[str, set[str]] = {}
    for version in bundled_versions():
        for api_version, kinds in served_kinds(version).items():
            found.setdefault(api_version, set()).update(kinds)
    return found
