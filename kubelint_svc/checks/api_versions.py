"""API versions that Kubernetes has stopped serving."""

from __future__ import annotations

from typing import Iterator

from kubelint_svc.engine import Hit, RunContext
from kubelint_svc.model import Resource


def removed_api(resource: Resource, run: RunContext, params: dict) -> Iterator[Hit]:
    """params.removed: [{apiVersion, kinds, removedIn, replacement}]."""
    selected_minor = int(run.kubernetes_version.split(".")[1])
    for entry in params.get("removed", []):
        if entry["apiVersion"] != resource.api_version or resource.kind not in entry["kinds"]:
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
