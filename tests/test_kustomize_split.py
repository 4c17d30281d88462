"""Issue 20, cold runs: with `--kustomize auto` and kubectl on PATH, the roots the built-in fallback
is proven to build as kubectl does (units/proven.py, proved by tests/test_kustomize_verdicts.py)
are built in-process, and kubectl builds the rest, each root once; `--kustomize kubectl` still
builds every root with kubectl. A wrapper kubectl on PATH counts the processes."""

from __future__ import annotations

import json
from pathlib import Path

from test_warm_runs import BASE_OBJECTS, cli, counting_kubectl, git_repository, starts, write_tree

__all__ = ["counting_kubectl"]  # the fixture, used by name


def built_by_kubectl(log: Path) -> int:
    """How many builds kubectl made (its `kustomize` starts; `--help` is no build). Each builds a
    wrapper kustomization in a temporary folder, so the count is what the log can tell."""
    return sum(line.startswith("kustomize ") and "--help" not in line for line in starts(log))


def findings(output: str) -> list[tuple[str, int, int, str, str]]:
    return [(f["file"], f["line"], f["column"], f["rule"], f["message"]) for f in json.loads(output)["findings"]]


def test_a_proven_root_starts_no_kubectl_and_an_unproven_one_does(tmp_path, counting_kubectl):
    environment, log = counting_kubectl
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev",)})
    prefixed = top / "blog" / "overlays" / "prefixed"  # namePrefix: not in the proven set
    prefixed.mkdir()
    (prefixed / "kustomization.yaml").write_text("resources:\n- ../../base\nnamePrefix: old-\n")
    git_repository(top)
    done = cli(["lint", "--no-cache", "--format", "json", "."], top, environment)
    assert done.returncode in (0, 1), done.stderr
    assert built_by_kubectl(log) == 1  # the prefixed root alone
    assert "kustomize-fallback" not in done.stdout  # the proven builds are kubectl's: no note


def test_a_tree_of_proven_roots_starts_no_process_at_all(tmp_path, counting_kubectl):
    environment, log = counting_kubectl
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "staging", "prod")})
    git_repository(top)
    done = cli(["lint", "--no-cache", "."], top, environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert starts(log) == []  # not even kubectl's `--help`


def test_kustomize_kubectl_builds_every_root_with_kubectl(tmp_path, counting_kubectl):
    environment, log = counting_kubectl
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev",)})
    git_repository(top)
    done = cli(["lint", "--no-cache", "--kustomize", "kubectl", "."], top, environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert built_by_kubectl(log) == 3


def test_the_split_gives_kubectls_findings(tmp_path, counting_kubectl):
    """A base Service whose targetPort names no container port, in proven and unproven roots:
    the same findings, at the same places, as kubectl building every root."""
    environment, log = counting_kubectl
    top = tmp_path / "repo"
    write_tree(top, {"shop": ("dev", "prod"), "blog": ("dev",)})
    base = top / "shop" / "base" / "objects.yaml"
    base.write_text(BASE_OBJECTS.replace("targetPort: 8080", "targetPort: http"))
    prefixed = top / "shop" / "overlays" / "prefixed"
    prefixed.mkdir()
    (prefixed / "kustomization.yaml").write_text("resources:\n- ../../base\nnamePrefix: old-\n")
    git_repository(top)
    split = cli(["lint", "--no-cache", "--format", "json", "."], top, environment)
    assert built_by_kubectl(log) == 1
    forced = cli(["lint", "--no-cache", "--format", "json", "--kustomize", "kubectl", "."], top, environment)
    assert findings(split.stdout) == findings(forced.stdout)
    assert {rule for _, _, _, rule, _ in findings(split.stdout)} == {"service-target-port-undefined"}
