"""A fresh eye on the day's work: hostile inputs against deploy targets, CRDs, custom resources,
Helm renders and unknown kinds. Each test is an attack that worked, asserting the safe outcome."""

from __future__ import annotations

import json
import time

import pytest
from conftest import cli_in_process

from tests.test_hostile_pr import run

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: web
  ports:
  - port: 80
"""


def _calls_of_a_run(monkeypatch, capsys, tree, modules: tuple[str, ...]) -> int:
    """The Python and C function calls one in-process `lint` of `tree` makes from the code of
    `modules` (file names): a measure of their work that a loaded machine does not change, so
    its growth can be asserted without a clock."""
    import sys

    calls = 0

    def count(_frame, event, _arg):
        nonlocal calls
        if event in ("call", "c_call") and _frame.f_code.co_filename.endswith(modules):
            calls += 1

    monkeypatch.setenv("KUBELINT_SVC_JOBS", "1")
    sys.setprofile(count)
    try:
        code, out, _err = cli_in_process(monkeypatch, capsys, "lint", "--no-cache", "-q", "--format", "concise", ".",
                                         cwd=tree)
    finally:
        sys.setprofile(None)
    assert code == 0, out
    return calls


def _growth(monkeypatch, capsys, tmp_path, make, modules: tuple[str, ...], sizes=(150, 300, 600)) -> float:
    """How the work of a run grows when the input doubles, past the constant costs: the calls
    added from the middle size to the largest over those added from the smallest to the middle
    (2 when linear, 6 when quadratic)."""
    warm = tmp_path / "warm"
    make(warm, 2)
    _calls_of_a_run(monkeypatch, capsys, warm, modules)  # imports, schemas and rules loaded once a process
    counts = []
    for size in sizes:
        make(tmp_path / f"n{size}", size)
        counts.append(_calls_of_a_run(monkeypatch, capsys, tmp_path / f"n{size}", modules))
    return (counts[2] - counts[1]) / (counts[1] - counts[0])


@pytest.mark.slow
def test_an_application_set_of_many_directories_costs_no_work_per_folder_and_path(monkeypatch, capsys, tmp_path):
    """Each path an ApplicationSet deploys was a glob tried on every folder of the run: 40,000
    generator entries and 1,500 folders were 60 million matches (half a minute and more). The
    ApplicationSet's paths and the folders grow together here: linear work grows by 2 a step."""
    def make(root, size):
        listed = [f"        - path: apps/d{i}/x" for i in range(size * 20)]
        listed += [f"        - path: apps/d{i}/*" for i in range(size * 3)]
        root.mkdir()
        (root / "appset.yaml").write_text(
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: a\nspec:\n  generators:\n"
            "  - git:\n      repoURL: x\n      directories:\n" + "\n".join(listed) + "\n")
        for i in range(size):
            folder = root / "apps" / f"d{i}"
            folder.mkdir(parents=True)
            (folder / "svc.yaml").write_text(SERVICE.format(name=f"s{i}"))

    # every glob tried on every folder (before the tree of components): 4.0 at these sizes
    assert _growth(monkeypatch, capsys, tmp_path, make, ("targets.py", "fnmatch.py")) < 3


DEPLOYMENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: c
        image: nginx
        ports:
        - containerPort: 80
"""


@pytest.mark.slow
def test_many_services_of_one_selector_are_judged_in_linear_work(monkeypatch, capsys, tmp_path):
    """Each Service filtered every Pod its selector matched in the namespace, twice (its scope,
    then its file and folder): 6,000 folders of a Service and a Deployment labelled alike took
    half a minute, and four times as long at twice the size."""
    def make(root, size):
        for i in range(size):
            folder = root / f"f{i}"
            folder.mkdir(parents=True)
            (folder / "app.yaml").write_text(SERVICE.format(name=f"s{i}") + DEPLOYMENT.format(name=f"d{i}"))

    # the old filtering: 3.7 at these sizes
    assert _growth(monkeypatch, capsys, tmp_path, make, ("index.py", "selectors.py")) < 3


@pytest.mark.slow  # 0.6 s of CPU
def test_a_crd_enum_of_thousands_of_values_is_one_lookup_and_a_short_message(tmp_path):
    """jsonschema compared each item with every value of an enum and quoted them all in each
    error: a CRD's enum of 20,000 values over custom resources of 3,000 items took minutes."""
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"type": "string", "enum": [f"v{i}" for i in range(20_000)]}}}}}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.ex.com"},
           "spec": {"group": "ex.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": schema}}]}}
    (tmp_path / "crd.json").write_text(json.dumps(crd))
    (tmp_path / "widgets.yaml").write_text("\n---\n".join(json.dumps(
        {"apiVersion": "ex.com/v1", "kind": "Widget", "metadata": {"name": f"w{i}"},
         "spec": {"items": [f"x{j}" for j in range(3_000)]}}) for i in range(3)))
    started = time.monotonic()
    result = run("lint", "--no-cache", "-q", "--format", "concise", ".", cwd=tmp_path)
    assert time.monotonic() - started < 20
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 9_000
    assert lines[0].endswith("'v18', 'v19' (and 19,980 more) (Widget w0)"), lines[0]
