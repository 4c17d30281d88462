"""Issue 20, cold runs: a run whose files hold no kustomization and no chart imports none of what
builds and renders (units/plan.py, kustomize's engines, scan, fallback and YAML 1.2 reader, the
tool runner): units/common.py answers it (`plain_plan`), and gives the plan units/plan.plan gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from kubelint_svc.units import common
from kubelint_svc.units.plan import plan

SERVICE = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n"
           "  ports:\n  - port: 80\n")
KUSTOMIZATION = "resources:\n- service.yaml\n"

# what a run that builds nothing may not import (light_view stays: every file gets the light view)
BUILDING = ("kubelint_svc.units.plan", "kubelint_svc.units.process", "kubelint_svc.units.proven",
            "kubelint_svc.units.helm_sdk", "kubelint_svc.units.kustomize.engines",
            "kubelint_svc.units.kustomize.scan", "kubelint_svc.units.kustomize.fallback",
            "kubelint_svc.units.kustomize.kyaml", "kubelint_svc.units.kustomize.tracing")

PROGRAM = """
import json, sys
from kubelint_svc.app import Options, lint
outcome = lint(Options(paths=(sys.argv[1],), no_cache=True, kustomize=sys.argv[2]), replay=True)
print(json.dumps({"findings": sorted(f.rule for f in outcome.report.findings),
                  "modules": sorted(m for m in sys.modules if m.startswith("kubelint_svc.units"))}))
"""


def run_in_a_new_process(tree: Path, kustomize: str = "auto") -> dict[str, list[str]]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("KUBELINT_SVC_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(tree), kustomize], cwd=tree, env=environment,
                          capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def test_a_plain_tree_imports_nothing_that_builds(tmp_path):
    (tmp_path / "service.yaml").write_text(SERVICE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "01-assert.yaml").write_text(SERVICE)  # a KUTTL assertion: set aside, as before
    ran = run_in_a_new_process(tmp_path)
    assert not set(BUILDING) & set(ran["modules"]), ran["modules"]
    assert "kubelint_svc.units.kustomize.light_view" in ran["modules"]  # the light view is still given
    assert "test-fixture-skipped" in ran["findings"]


def test_a_tree_with_a_kustomization_still_builds(tmp_path):
    (tmp_path / "service.yaml").write_text(SERVICE)
    (tmp_path / "kustomization.yaml").write_text(KUSTOMIZATION)
    ran = run_in_a_new_process(tmp_path, "fallback")
    assert {"kubelint_svc.units.plan", "kubelint_svc.units.kustomize.engines"} <= set(ran["modules"])
    assert "kustomize-fallback" in ran["findings"]
    # with kustomize off, the kustomization is read as a file and nothing is built
    assert not set(BUILDING) & set(run_in_a_new_process(tmp_path, "off")["modules"])


def test_a_chart_template_still_plans_the_chart(tmp_path):
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "templates" / "service.yaml").write_text(SERVICE)
    files = [chart / "Chart.yaml", chart / "templates" / "service.yaml"]
    assert common.plain_plan(files, "off") is None
    assert common.plain_plan(files[:1], "auto") is not None


def fixture_tree(root: Path, shape: int) -> list[Path]:
    """Plain trees of several shapes: KUTTL assertions, a chainsaw test naming its files, a
    `templates` folder that is no chart's, hidden and nested folders."""
    files = [root / "app" / "service.yaml", root / "app" / "templates" / "service.yaml"]
    if shape & 1:
        files += [root / "e2e" / "01-assert.yaml", root / "e2e" / "02-errors.yml", root / "e2e" / "00-install.yaml"]
    if shape & 2:
        (root / "chainsaw").mkdir(parents=True)
        (root / "chainsaw" / "chainsaw-test.yaml").write_text(
            "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nspec:\n  steps:\n  - try:\n"
            "    - apply:\n        file: install.yaml\n    - assert:\n        file: expected.yaml\n")
        files += [root / "chainsaw" / "install.yaml", root / "chainsaw" / "expected.yaml"]
    if shape & 4:
        files += [root / ".hidden" / "deep" / "er" / "03-assert.yaml"]
    for file in files:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(SERVICE)
    return [common.normal(file) for file in files]


@pytest.mark.parametrize("shape", range(8))
@pytest.mark.parametrize("kustomize", ["auto", "off"])
def test_the_plain_plan_is_the_plan(tmp_path, shape, kustomize):
    files = fixture_tree(tmp_path, shape)
    plain = common.plain_plan(files, kustomize)
    assert plain is not None
    assert plain == plan(files, kustomize)
