"""A `$NAME` or `${NAME}` placeholder written in a kustomize base is still a placeholder once
built (kustomize passes it through; envsubst fills it after `kustomize build`): the built object
gets the one `unrendered-placeholder` note and no check judges the value, as in a plain file.
Both ways: kubectl's build and the built-in fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KUBECTL, needs
from manifests import WEB_DEPLOYMENT, WEB_SERVICE

from kubelint_svc.app import Options, lint


def tree(top: Path, target: str) -> Path:
    base = top / "base"
    base.mkdir(parents=True)
    service = WEB_SERVICE.replace("targetPort: http", f"targetPort: {target}")
    (base / "web.yaml").write_text(service + "---\n" + WEB_DEPLOYMENT)
    (base / "kustomization.yaml").write_text("resources:\n- web.yaml\n")
    overlay = top / "overlays" / "prod"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources:\n- ../../base\nnamespace: prod\n")
    return top


def found(top: Path, engine: str) -> list[tuple[str, str, int]]:
    report = lint(Options(paths=(str(top),), no_cache=True, kustomize=engine)).report
    return sorted((f.rule, Path(f.file).name, f.line) for f in report.findings
                  if f.rule.startswith(("unrendered-placeholder", "service-target-port")))


ENGINES = ["fallback", pytest.param("kubectl", marks=needs("kubectl", KUBECTL is not None))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("target", ["$PORT", "${PORT}"])
def test_a_placeholder_in_a_base_is_noted_not_judged_once_built(tmp_path, engine, target):
    top = tree(tmp_path, target)
    assert found(top, engine) == [("unrendered-placeholder", "web.yaml", 10)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_built_object_without_placeholders_is_judged(tmp_path, engine):
    top = tree(tmp_path, "metrics")
    assert [rule for rule, _, _ in found(top, engine)] == ["service-target-port-undefined"]
