"""API versions that Kubernetes has stopped serving."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kubelint_svc.checks.api import Hit, RunContext, header_only
from kubelint_svc.model import Resource


@dataclass(frozen=True)
class RemovedApis:
    removed: list[dict[str, object]]  # {apiVersion, kinds, removedIn: "1.16", replacement}


@header_only
def removed_api(resource: Resource, run: RunContext, params: RemovedApis) -> Iterator[Hit]:
    selected_minor = run.minor
    for entry in params.removed:
        kinds = entry.get("kinds")
        if not isinstance(kinds, list):
            continue
        if entry["apiVersion"] != resource.api_version or resource.kind not in kinds:
            continue
        removed_minor = int(str(entry["removedIn"]).split(".")[1])
        if selected_minor >= removed_minor:
            yield Hit(
                f"{resource.api_version} {resource.kind} was removed in Kubernetes {entry['removedIn']}; "
                f"use {entry['replacement']}",
                ("apiVersion",),
                at_key=False,
            )
        return
