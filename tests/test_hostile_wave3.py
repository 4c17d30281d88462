"""A third attack from a pull request's side, after issue #19's fixes: variants of its cases that
still got through. Each asserts the safe outcome (nothing read from a git directory or outside
the repository)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_hostile_builds import KUBECTL, LEAK, SERVICE, TOKEN, report, repository, rules_at

# every form kustomize cleans to .git/config that a check of the name as written missed
LONG = "./" * 520 + ".git/config"  # over 1,000 characters
LINKED_AS = {
    "long": (None, LONG),
    "long-keyed": (None, f"config={LONG}"),
    "newline": ("a\nb", "config=a\nb"),
    "key-like": ("x=y", "x=y"),  # a file whose name holds '=': kustomize reads it whole in crds
}


@KUBECTL
@pytest.mark.parametrize("form", sorted(LINKED_AS))
def test_a_generator_cannot_reach_the_git_config_through_an_odd_name(tmp_path, form):
    link, entry = LINKED_AS[form]
    text = LEAK.format(field="files", name=json.dumps(entry))
    if form == "key-like":
        text = f"resources: [svc.yaml]\ncrds: [{json.dumps(entry)}]\n"
    repo = repository(tmp_path / "repo", {"kustomization.yaml": text, "svc.yaml": SERVICE.format(name="web", port=0)})
    if link is not None:
        os.symlink(".git/config", repo / link)
    code, findings, output = report(repo)
    assert TOKEN.encode() not in output
    [failed] = [finding for finding in findings if finding["rule"] == "kustomize-build-failed"]
    assert "inside a git directory" in failed["message"]
    assert ("svc.yaml", "service-port-number") in rules_at(findings)  # linted as written
    assert code == 1


def _unused(path: Path) -> None:  # keeps Path imported for later cases
    del path
