"""A fresh eye on the day's work: hostile inputs against deploy targets, CRDs, custom resources,
Helm renders and unknown kinds. Each test is an attack that worked, asserting the safe outcome."""

from __future__ import annotations

import json
import time

import pytest

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


@pytest.mark.slow  # 2.1 s of CPU
def test_an_application_set_of_many_directories_costs_no_time_per_folder(tmp_path):
    """Each path an ApplicationSet deploys was a glob tried on every folder of the run: 40,000
    generator entries and 1,500 folders were 60 million matches (half a minute and more)."""
    listed = [f"        - path: apps/d{i}/x" for i in range(35_000)]
    listed += [f"        - path: apps/d{i}/*" for i in range(5_000)]
    (tmp_path / "appset.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: a\nspec:\n  generators:\n"
        "  - git:\n      repoURL: x\n      directories:\n" + "\n".join(listed) + "\n")
    for i in range(1_500):
        folder = tmp_path / "apps" / f"d{i}"
        folder.mkdir(parents=True)
        (folder / "svc.yaml").write_text(SERVICE.format(name=f"s{i}"))
    started = time.monotonic()
    result = run("lint", "--no-cache", "-q", "--format", "concise", ".", cwd=tmp_path)
    assert time.monotonic() - started < 15
    assert result.returncode == 0, result.stdout


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
def test_many_services_of_one_selector_are_judged_in_linear_time(tmp_path):
    """Each Service filtered every Pod its selector matched in the namespace, twice (its scope,
    then its file and folder): 6,000 folders of a Service and a Deployment labelled alike took
    half a minute, and four times as long at twice the size."""
    for i in range(6_000):
        folder = tmp_path / f"f{i}"
        folder.mkdir()
        (folder / "app.yaml").write_text(SERVICE.format(name=f"s{i}") + DEPLOYMENT.format(name=f"d{i}"))
    started = time.monotonic()
    result = run("lint", "--no-cache", "-q", "--format", "concise", ".", cwd=tmp_path)
    assert time.monotonic() - started < 15
    assert result.returncode == 0, result.stdout


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
