"""Issue 20, the rules of the cold run: the one-object rules of many objects are run on every
core (workers forked after the objects exist inherit them and send back only findings), and find
exactly what one process finds, in the same order; with few objects no worker is forked; the
objects of a worker that dies are judged here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import LINUX, require
from test_warm_runs import BASE_OBJECTS, write_tree

from kubelint_svc import engine, pool
from kubelint_svc.app import Options, lint

ENVS = ("dev", "staging", "prod")
# each app's base breaks other rules: one-object ones (a port name, a label, a protocol with its
# fix, a containerPort, a named targetPort) and a cross-object one (a selector matching nothing)
BROKEN = {
    "names": ("  - port: 80", "  - port: 80\n    name: Web_Port"),
    "labels": ("  name: web\n  namespace: team\nspec:\n  selector:",
               "  name: web\n  namespace: team\n  labels:\n    bad key!: x\nspec:\n  selector:"),
    "protocol": ("    targetPort: 8080", "    targetPort: 8080\n    protocol: tcp"),
    "container": ("- containerPort: 8080", "- containerPort: 70000"),
    "target": ("    targetPort: 8080", "    targetPort: $PORT"),
    "selector": ("  selector:\n    app: web\n  ports", "  selector:\n    app: wbe\n  ports"),
}


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    require("fork", LINUX)
    top = tmp_path / "repo"
    write_tree(top, dict.fromkeys(BROKEN, ENVS))  # 18 roots, 36 built objects
    for app, (written, broken) in BROKEN.items():
        base = top / app / "base" / "objects.yaml"
        assert written in BASE_OBJECTS
        base.write_text(BASE_OBJECTS.replace(written, broken, 1))
    monkeypatch.chdir(top)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "2")  # two cores, whatever this machine has
    return top


def pools_of_rules(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[int]]]:
    """(workers, objects in each slice) of every pool the engine starts (the builds' are not counted)."""
    started: list[tuple[int, list[int]]] = []
    real = pool.in_pool

    def noted(workers, items, sizes, work, here=False):  # type: ignore[no-untyped-def]
        if work.__qualname__.startswith("Registry."):
            started.append((workers, list(sizes)))
        return real(workers, items, sizes, work, here)

    monkeypatch.setattr(pool, "in_pool", noted)
    return started


def everything(outcome) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """Each finding whole: place, rule, severity, message, field, its notes and its fix."""
    return [(f.file, f.line, f.column, f.rule, f.severity, f.message, f.field, f.notes, f.fix, f.object)
            for f in outcome.report.findings]


@pytest.mark.parametrize("no_cache", [True, False])
def test_the_one_object_rules_on_both_cores_find_what_one_process_finds(tree, monkeypatch, no_cache):
    started = pools_of_rules(monkeypatch)
    options = Options(paths=(".",), kustomize="fallback", no_cache=no_cache)
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 4)  # 36 objects: enough for a worker
    pooled = lint(options)
    assert [workers for workers, _ in started] == [2]
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 10_000)
    if not no_cache:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tree.parent / "another-xdg"))  # judged anew, not kept
    serial = lint(options)
    assert len(started) == 1  # the second run forked no worker
    assert everything(pooled) == everything(serial)
    rules = {finding.rule for finding in serial.report.findings}
    assert {"service-port-name", "label-syntax", "service-port-protocol", "container-port-number",
            "service-selector-no-match"} <= rules
    assert any(finding.fix is not None for finding in pooled.report.findings)  # a fix came back whole


def test_the_workers_give_each_object_its_findings_in_order(tree, monkeypatch):
    outcome = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert outcome.run is not None
    resources = outcome.run.resources
    started = pools_of_rules(monkeypatch)
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 3)
    judged: dict[int, list] = {}
    outcome.registry.object_findings(resources, outcome.run, judged)
    pooled = [judged[id(resource)] for resource in resources]
    assert started == [(2, [15, 19])]  # this process's slice the largest; the first of each kind judged before
    serial = [list(outcome.registry.check_resource(resource, outcome.run, cross=False)) for resource in resources]
    assert pooled == serial
    assert sum(map(len, serial)) >= 6


def test_few_objects_fork_no_worker(tree, monkeypatch):
    started = pools_of_rules(monkeypatch)
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 20)  # 36 objects: fewer than two cores' worth
    lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 4)
    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")  # one core: none either
    lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert started == []


def test_the_objects_of_a_worker_that_dies_are_judged_here(tree, monkeypatch):
    serial = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    parent = os.getpid()
    real = engine.Registry.check_resource

    def dying(self, resource, run, cross=None, noted=False):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            os._exit(9)  # as the kernel's out-of-memory killer would end it
        return real(self, resource, run, cross, noted)

    monkeypatch.setattr(engine.Registry, "check_resource", dying)
    started = pools_of_rules(monkeypatch)
    monkeypatch.setattr(engine, "OBJECTS_PER_WORKER", 4)
    survived = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    assert len(started) == 1
    assert everything(survived) == everything(serial) != []


def test_the_index_works_out_what_a_service_selects_once(tree, monkeypatch):
    """selector-no-match, selector-ambiguous and the three targetPort rules each ask what a Service
    selects, and each of its ports what the selected Pods declare: the index answers from what it
    worked out once a Service and once a workload."""
    from kubelint_svc import index

    selections: list[str] = []
    containers: list[str] = []
    real_in_unit, real_containers = index.Index._in_unit, index.PodSource.containers

    def in_unit(self, resource, selector, namespace):  # type: ignore[no-untyped-def]
        selections.append(resource.unit)
        return real_in_unit(self, resource, selector, namespace)

    def listed(self):  # type: ignore[no-untyped-def]
        containers.append(self.resource.unit)
        return real_containers(self)

    monkeypatch.setattr(index.Index, "_in_unit", in_unit)
    monkeypatch.setattr(index.PodSource, "containers", listed)
    outcome = lint(Options(paths=(".",), kustomize="fallback", no_cache=True))
    services = [r for r in outcome.run.resources if r.kind == "Service"]
    assert len(selections) == len(services) == 18
    assert len(containers) <= 18  # at most once a Deployment (the one a selector misses: none)
    rules = {finding.rule for finding in outcome.report.findings}
    assert {"service-target-port-not-exposed", "service-port-protocol-mismatch", "service-selector-no-match"} <= rules
