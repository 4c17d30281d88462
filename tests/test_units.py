"""Lint what is applied: each layout real repositories use, with the exact findings it gives.

Tests that need kubectl skip where it is absent; the same layouts are built by the built-in
fallback (`--kustomize fallback`) everywhere. helm is in no registry these machines reach: the
Helm tests use a stand-in `helm` script that prints a fixed render, and say so."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import KUBECTL, needs

from kubelint_svc.app import Options, lint

NEEDS_KUBECTL = needs("kubectl", KUBECTL is not None)
ENGINES = [pytest.param("auto", marks=NEEDS_KUBECTL, id="kubectl"), pytest.param("fallback", id="fallback")]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector:
    matchLabels: {{app: {app}}}
  template:
    metadata:
      labels: {{app: {app}}}
    spec:
      containers:
      - name: app
        image: nginx
        ports: [{{containerPort: 80}}]
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {app}
  ports:
  - port: 80
    targetPort: {target}
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def findings(root: Path, monkeypatch, *paths: str, kustomize: str = "auto", context: tuple[str, ...] = ()):
    """(file, line, rule, severity) of each finding, linting paths from root as a user would."""
    monkeypatch.chdir(root)
    outcome = lint(Options(paths=paths or (".",), kustomize=kustomize, context=context))
    return [(f.file, f.line, f.rule, f.severity) for f in outcome.report.findings]


def messages(
    root: Path, monkeypatch, *paths: str, rule: str, kustomize: str = "auto", hints: bool = False
) -> list[str]:
    """The messages of a rule's findings (with hints: and their help, as one-line formats show them)."""
    monkeypatch.chdir(root)
    outcome = lint(Options(paths=paths or (".",), kustomize=kustomize))
    return [f.text if hints else f.message for f in outcome.report.findings if f.rule == rule]


# --- plain folders: the nearest folder holding workloads of the namespace ------------------------


def test_split_folders_are_judged_together(tmp_path, monkeypatch):
    write(
        tmp_path,
        {
            "k8s/services/payments.yaml": SERVICE.format(name="payments", app="payment", target=80),
            "k8s/deployments/payments.yaml": DEPLOYMENT.format(name="payments", app="payments"),
        },
    )
    expected = [("k8s/services/payments.yaml", 7, "service-selector-no-match", "error")]
    assert findings(tmp_path, monkeypatch, "k8s") == expected
    assert findings(tmp_path, monkeypatch, "k8s/services", context=("k8s/deployments",)) == [
        ("k8s/services/payments.yaml", 7, "service-selector-no-match", "error")
    ]
    [message] = messages(tmp_path, monkeypatch, "k8s", rule="service-selector-no-match", hints=True)
    assert "closest: Deployment payments (app: 'payments' instead of 'payment')" in message
    write(tmp_path, {"k8s/services/payments.yaml": SERVICE.format(name="payments", app="payments", target=80)})
    assert findings(tmp_path, monkeypatch, "k8s") == []


def test_a_cluster_folder_is_never_judged_against_another(tmp_path, monkeypatch):
    write(
        tmp_path,
        {
            "clusters/prod/api.yaml": SERVICE.format(name="api", app="api", target=80),
            "clusters/prod/web.yaml": DEPLOYMENT.format(name="web", app="web"),
            "clusters/staging/api.yaml": DEPLOYMENT.format(name="api", app="api"),
        },
    )
    assert findings(tmp_path, monkeypatch, "clusters") == [
        ("clusters/prod/api.yaml", 7, "service-selector-no-match", "error")
    ]


def test_a_service_with_no_near_miss_above_its_folder_may_be_helm_installed(tmp_path, monkeypatch):
    write(
        tmp_path,
        {
            "manifests/ilb/ilb.yaml": SERVICE.format(name="weaviate", app="weaviate", target=80),
            "manifests/rag/chatbot.yaml": DEPLOYMENT.format(name="chatbot", app="weaviate-chatbot"),
        },
    )
    assert findings(tmp_path, monkeypatch) == [("manifests/ilb/ilb.yaml", 6, "service-selector-no-match", "info")]


def test_namespace_slips_are_named(tmp_path, monkeypatch):
    deployment = DEPLOYMENT.format(name="web", app="web").replace(
        "  name: web\n", "  name: web\n  namespace: shop\n", 1
    )
    write(
        tmp_path, {"app/service.yaml": SERVICE.format(name="web", app="web", target=80), "app/deploy.yaml": deployment}
    )
    assert findings(tmp_path, monkeypatch) == [("app/service.yaml", 6, "service-selector-no-match", "warning")]
    [message] = messages(tmp_path, monkeypatch, rule="service-selector-no-match")
    assert "it matches Deployment web (app/deploy.yaml:1) in namespace shop, applied with it" in message
    # with workloads of its own namespace beside it, the slip is an error
    write(tmp_path, {"app/other.yaml": DEPLOYMENT.format(name="db", app="db")})
    assert findings(tmp_path, monkeypatch) == [("app/service.yaml", 7, "service-selector-no-match", "error")]
    [message] = messages(tmp_path, monkeypatch, rule="service-selector-no-match")
    assert "in namespace shop" in message


def test_a_numeric_target_port_to_containers_declaring_none_is_an_info(tmp_path, monkeypatch):
    portless = DEPLOYMENT.format(name="web", app="web").replace("        ports: [{containerPort: 80}]\n", "")
    write(tmp_path, {"all.yaml": SERVICE.format(name="web", app="web", target=8080) + "---\n" + portless})
    assert findings(tmp_path, monkeypatch) == [("all.yaml", 10, "service-target-port-not-exposed", "info")]


# --- kustomize ---------------------------------------------------------------------------------

BASE = {
    "base/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n",
    "base/deployment.yaml": DEPLOYMENT.format(name="web", app="web"),
    "base/service.yaml": SERVICE.format(name="web", app="web", target="http"),
}
PORT_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - name: http
          containerPort: 8080
"""


@pytest.mark.slow  # 0.3 s of CPU in 2 cases
@pytest.mark.parametrize("engine", ENGINES)
def test_an_overlay_whose_patch_adds_the_named_port(tmp_path, monkeypatch, engine):
    write(
        tmp_path,
        {
            **BASE,
            "overlay/kustomization.yaml": "resources: [../base]\npatches:\n- path: port.yaml\n",
            "overlay/port.yaml": PORT_PATCH,
        },
    )
    notes = [("overlay/kustomization.yaml", 1, "kustomize-fallback", "info")] if engine == "fallback" else []
    assert findings(tmp_path, monkeypatch, kustomize=engine) == notes  # the base alone is never judged


@pytest.mark.slow  # 0.6 s of CPU in 2 cases
@pytest.mark.parametrize("engine", ENGINES)
def test_two_overlays_of_which_one_lacks_the_port(tmp_path, monkeypatch, engine):
    write(
        tmp_path,
        {
            **BASE,
            "prod/kustomization.yaml": "resources: [../base]\npatches:\n- path: port.yaml\n",
            "prod/port.yaml": PORT_PATCH,
            "staging/kustomization.yaml": "resources: [../base]\n",
        },
    )
    found = [f for f in findings(tmp_path, monkeypatch, kustomize=engine) if f[2] != "kustomize-fallback"]
    assert found == [("base/service.yaml", 10, "service-target-port-undefined", "error")]
    [message] = messages(tmp_path, monkeypatch, rule="service-target-port-undefined", kustomize=engine)
    assert message.endswith("(in the kustomize build of staging)")


@pytest.mark.slow  # 0.4 s of CPU in 2 cases
@pytest.mark.parametrize("engine", ENGINES)
def test_a_finding_every_overlay_shares_is_reported_once_naming_them(tmp_path, monkeypatch, engine):
    write(
        tmp_path,
        {**BASE, "a/kustomization.yaml": "resources: [../base]\n", "b/kustomization.yaml": "resources: [../base]\n"},
    )
    found = [f for f in findings(tmp_path, monkeypatch, kustomize=engine) if f[2] != "kustomize-fallback"]
    assert found == [("base/service.yaml", 10, "service-target-port-undefined", "error")]
    [message] = messages(tmp_path, monkeypatch, rule="service-target-port-undefined", kustomize=engine)
    assert message.endswith("(in the kustomize builds of a, b)")


@pytest.mark.slow  # 0.3 s of CPU in 2 cases
@pytest.mark.parametrize("engine", ENGINES)
def test_a_finding_on_a_patched_field_points_into_the_patch(tmp_path, monkeypatch, engine):
    bad_patch = PORT_PATCH.replace("containerPort: 8080", "containerPort: 0")
    write(
        tmp_path,
        {
            **BASE,
            "overlay/kustomization.yaml": "resources: [../base]\npatches:\n- path: port.yaml\n",
            "overlay/port.yaml": bad_patch,
        },
    )
    found = [f for f in findings(tmp_path, monkeypatch, kustomize=engine) if f[2] != "kustomize-fallback"]
    assert ("overlay/port.yaml", 12, "container-port-number", "error") in found
    assert all(file != "base/deployment.yaml" for file, *_ in found)


@pytest.mark.parametrize("engine", ENGINES)
def test_sibling_bases_with_common_labels(tmp_path, monkeypatch, engine):
    unlabelled = DEPLOYMENT.format(name="manager", app="x").replace(
        "    matchLabels: {app: x}\n", "    matchLabels: {}\n"
    )
    unlabelled = unlabelled.replace("      labels: {app: x}\n", "      labels: {}\n")
    write(
        tmp_path,
        {
            "config/default/kustomization.yaml": "namespace: system\nresources: [../manager, ../service]\n"
            "commonLabels:\n  control-plane: controller-manager\n",
            "config/manager/kustomization.yaml": "resources: [manager.yaml]\n",
            "config/manager/manager.yaml": unlabelled,
            "config/service/kustomization.yaml": "resources: [service.yaml]\n",
            "config/service/service.yaml": SERVICE.format(name="metrics", app="x", target=80).replace(
                "    app: x\n", "    control-plane: controller-manager\n"
            ),
        },
    )
    found = [f for f in findings(tmp_path, monkeypatch, kustomize=engine) if f[2] != "kustomize-fallback"]
    assert found == []


@pytest.mark.slow  # 0.3 s of CPU in 2 cases
@pytest.mark.parametrize("engine", ENGINES)
def test_two_operators_in_one_placeholder_namespace_never_see_each_other(tmp_path, monkeypatch, engine):
    for operator, label in (("op-a", "controller-manager"), ("op-b", "controller-manger")):
        write(
            tmp_path,
            {
                f"{operator}/config/default/kustomization.yaml": (
                    "namespace: system\nresources: [manager.yaml, service.yaml]\n"
                ),
                f"{operator}/config/default/manager.yaml": DEPLOYMENT.format(name="manager", app=label),
                f"{operator}/config/default/service.yaml": SERVICE.format(
                    name="metrics", app="controller-manager", target=80
                ),
            },
        )
    found = [f for f in findings(tmp_path, monkeypatch, kustomize=engine) if f[2] != "kustomize-fallback"]
    assert found == [("op-b/config/default/service.yaml", 7, "service-selector-no-match", "error")]


def test_the_fallback_says_so_once_per_root(tmp_path, monkeypatch):
    write(
        tmp_path,
        {**BASE, "a/kustomization.yaml": "resources: [../base]\n", "b/kustomization.yaml": "resources: [../base]\n"},
    )
    notes = [f for f in findings(tmp_path, monkeypatch, kustomize="fallback") if f[2] == "kustomize-fallback"]
    assert notes == [
        ("a/kustomization.yaml", 1, "kustomize-fallback", "info"),
        ("b/kustomization.yaml", 1, "kustomize-fallback", "info"),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_kustomization_that_fails_to_build_is_one_error(tmp_path, monkeypatch, engine):
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [deployment.yaml, missing.yaml]\n",
            "app/deployment.yaml": DEPLOYMENT.format(name="web", app="web").replace(
                "containerPort: 80", "containerPort: 0"
            ),
            "other/service.yaml": SERVICE.format(name="x", app="x", target=80).replace("port: 80", "port: 0"),
        },
    )
    found = findings(tmp_path, monkeypatch, kustomize=engine)
    assert found == [  # the build's files are judged as written: a broken build hides nothing
        ("app/deployment.yaml", 15, "container-port-number", "error"),
        ("app/kustomization.yaml", 1, "kustomize-build-failed", "error"),
        ("other/service.yaml", 6, "service-selector-no-match", "info"),
        ("other/service.yaml", 9, "service-port-number", "error"),
    ]
    [message] = messages(tmp_path, monkeypatch, rule="kustomize-build-failed", kustomize=engine)
    assert "missing.yaml" in message


def test_a_build_failed_in_a_pre_commit_run_is_named_and_the_file_still_judged(tmp_path, monkeypatch):
    """pre-commit hands over the changed base file; its overlay (context) no longer builds."""
    write(tmp_path, {**BASE, "overlay/kustomization.yaml": "resources: [../base]\npatches:\n- path: port.yaml\n",
                     "overlay/port.yaml": PORT_PATCH})
    write(tmp_path, {"base/deployment.yaml": DEPLOYMENT.format(name="webapp", app="web").replace(
        "spec:\n  selector:", "spec:\n  replicas: three\n  selector:", 1)})
    monkeypatch.chdir(tmp_path)
    outcome = lint(Options(paths=("base/deployment.yaml",), context=(".",), kustomize="fallback"))
    found = [(f.file, f.rule, f.severity) for f in outcome.report.findings]
    assert ("overlay/kustomization.yaml", "kustomize-build-failed", "error") in found
    assert ("base/deployment.yaml", "schema", "error") in found  # replicas: three


def test_remote_resources_are_not_built(tmp_path, monkeypatch):
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources:\n- github.com/example/repo//deploy?ref=v1\n- service.yaml\n",
            "app/service.yaml": SERVICE.format(name="x", app="x", target=80),
        },
    )
    found = findings(tmp_path, monkeypatch)
    assert ("app/kustomization.yaml", 1, "kustomize-not-built", "info") in found


@pytest.mark.slow  # 0.3 s of CPU in 2 cases
@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_no_kustomization_lists_gets_one_info(tmp_path, monkeypatch, engine):
    write(
        tmp_path,
        {**BASE, "base/leftover.yaml": SERVICE.format(name="old", app="gone", target=0).replace("port: 80", "port: 0")},
    )
    found = [f for f in findings(tmp_path, monkeypatch, kustomize=engine) if f[2] != "kustomize-fallback"]
    assert ("base/leftover.yaml", 1, "kustomize-unlisted-file", "info") in found
    assert all(file != "base/leftover.yaml" or rule == "kustomize-unlisted-file" for file, _, rule, _ in found)


@NEEDS_KUBECTL
def test_the_build_never_reads_outside_the_repository(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    write(
        outside,
        {"kustomization.yaml": "resources: [secret.yaml]\n", "secret.yaml": DEPLOYMENT.format(name="s", app="s")},
    )
    repo = tmp_path / "repo"
    write(repo, {"app/kustomization.yaml": "resources: [../../outside]\n"})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    found = findings(repo, monkeypatch)
    assert found == [("app/kustomization.yaml", 1, "kustomize-build-failed", "error")]
    [message] = messages(repo, monkeypatch, rule="kustomize-build-failed")
    assert "outside the repository" in message


# --- Helm ----------------------------------------------------------------------------------------

CHART = {
    "mychart/Chart.yaml": "apiVersion: v2\nname: mychart\nversion: 0.1.0\n",
    "mychart/values.yaml": "port: 80\n",
    # valid YAML that is no manifest: `name: {{ .Release.Name }}` parses as a mapping
    "mychart/templates/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"
    "spec:\n  ports:\n  - port: {{ .Values.port }}\n",
}


def test_a_chart_without_helm_says_how_to_lint_it(tmp_path, monkeypatch):
    write(tmp_path, CHART)
    monkeypatch.setenv("PATH", str(tmp_path / "no-helm-here"))
    monkeypatch.setitem(sys.modules, "helm_python", None)  # nor the helm extra: its import fails
    assert findings(tmp_path, monkeypatch) == [("mychart/Chart.yaml", 1, "helm-chart-not-rendered", "info")]


def test_a_chart_with_helm_is_linted_as_rendered(tmp_path, monkeypatch):
    """A stand-in `helm` (no helm in the reachable registries): it prints the render a real
    `helm template mychart mychart` gives, with the port out of range."""
    write(tmp_path, CHART)
    render = (
        "---\n# Source: mychart/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n"
        "  name: mychart\nspec:\n  ports:\n  - port: 0\n"
    )
    bin_dir = tmp_path / "bin"
    write(bin_dir, {"helm": f"#!/bin/sh\ncat <<'EOF'\n{render}EOF\n"})
    (bin_dir / "helm").chmod((bin_dir / "helm").stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert findings(tmp_path, monkeypatch) == [
        ("mychart/templates/service.yaml", 5, "service-no-endpoints", "warning"),
        ("mychart/templates/service.yaml", 7, "service-port-number", "error"),
    ]


@pytest.mark.slow  # 0.3 s of CPU
def test_committed_render_output_is_reported_in_its_own_file(tmp_path, monkeypatch):
    render = (
        "---\n# Source: mychart/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n"
        "  name: mychart\nspec:\n  ports:\n  - port: 0\n"
    )
    write(tmp_path, {"rendered/all.yaml": render})
    assert findings(tmp_path, monkeypatch) == [
        ("rendered/all.yaml", 7, "service-no-endpoints", "warning"),
        ("rendered/all.yaml", 9, "service-port-number", "error"),
    ]
    [message] = messages(tmp_path, monkeypatch, rule="service-port-number")
    assert message.endswith("(rendered from mychart/templates/service.yaml)")
    piped = subprocess.run(
        [sys.executable, "-m", "kubelint_svc", "lint", "-"], input=render.encode(), capture_output=True, cwd=tmp_path,
        check=False,
    )
    assert b"\nmychart/templates/service.yaml:7:11: error[service-port-number]" in piped.stdout


# --- test fixtures and status --------------------------------------------------------------------


def test_kuttl_and_chainsaw_assertions_are_set_aside(tmp_path, monkeypatch):
    partial = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nstatus:\n  readyReplicas: 1\n"
    write(
        tmp_path,
        {
            "kuttl-test.yaml": "apiVersion: kuttl.dev/v1beta1\nkind: TestSuite\ntestDirs: [e2e]\n",
            "e2e/basic/00-install.yaml": SERVICE.format(name="web", app="web", target=80).replace("port: 80", "port: 0")
            + "---\n"
            + DEPLOYMENT.format(name="web", app="web"),
            "e2e/basic/00-assert.yaml": partial,
            "e2e/basic/01-errors.yaml": partial,
            "chainsaw/scale/chainsaw-test.yaml": "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n"
            "  name: scale\nspec:\n  steps:\n  - try:\n    - assert:\n"
            "        file: check-ready.yaml\n",
            "chainsaw/scale/check-ready.yaml": partial,
        },
    )
    assert findings(tmp_path, monkeypatch) == [
        ("chainsaw/scale/check-ready.yaml", 1, "test-fixture-skipped", "info"),
        ("e2e/basic/00-assert.yaml", 1, "test-fixture-skipped", "info"),
        ("e2e/basic/00-install.yaml", 9, "service-port-number", "error"),
    ]


def test_status_is_not_validated(tmp_path, monkeypatch):
    exported = SERVICE.format(name="web", app="web", target=80) + (
        "status:\n  loadBalancer:\n    ingress:\n    - ip: 10.0.0.1\n      bogus: field\n  conditions: 5\n"
    )
    write(tmp_path, {"svc.yaml": exported, "deploy.yaml": DEPLOYMENT.format(name="web", app="web")})
    assert findings(tmp_path, monkeypatch) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_values_a_kustomization_sets_are_reported_at_the_kustomization(tmp_path, monkeypatch, engine):
    write(tmp_path, {**BASE, "ov/kustomization.yaml": "resources: [../base]\nnamespace: Team_A\n"
                                                      "commonLabels:\n  tier: \"front end\"\n"})
    found = {(f, line, rule) for f, line, rule, _ in findings(tmp_path, monkeypatch, kustomize=engine)
             if rule in ("metadata-namespace", "label-syntax")}
    assert found == {("ov/kustomization.yaml", 2, "metadata-namespace"), ("ov/kustomization.yaml", 4, "label-syntax")}
    # pre-commit hands over the kustomization alone: the same findings
    monkeypatch.chdir(tmp_path)
    outcome = lint(Options(paths=("ov/kustomization.yaml",), context=(".",), kustomize=engine))
    assert {f.rule for f in outcome.report.findings} >= {"metadata-namespace", "label-syntax"}


def test_files_a_kustomization_uses_in_other_fields_are_not_unlisted(tmp_path, monkeypatch):
    write(tmp_path, {**BASE, "base/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n"
                     "configMapGenerator:\n- name: cfg\n  files: [app-config.yaml]\n",
                     "base/app-config.yaml": "key: value\n"})
    assert all(rule != "kustomize-unlisted-file" for _, _, rule, _ in findings(tmp_path, monkeypatch))


@NEEDS_KUBECTL
def test_an_alias_bomb_in_a_build_never_reaches_kustomize(tmp_path, monkeypatch):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7))
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  " + bomb.replace("\n", "\n  ")
    write(tmp_path, {"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": config_map})
    started = time.monotonic()
    found = findings(tmp_path, monkeypatch)
    assert time.monotonic() - started < 20
    assert ("app/kustomization.yaml", 1, "kustomize-build-failed", "error") in found


INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_a_name_prefix_renames_the_services_an_ingress_names(tmp_path, monkeypatch, engine):
    write(tmp_path, {**BASE, "base/ingress.yaml": INGRESS,
                     "base/kustomization.yaml": "resources: [deployment.yaml, service.yaml, ingress.yaml]\n",
                     "base/service.yaml": SERVICE.format(name="web", app="web", target=80),
                     "prod/kustomization.yaml": "resources: [../base]\nnamePrefix: prod-\n"})
    found = [f for f in findings(tmp_path, monkeypatch, kustomize=engine) if f[2] != "kustomize-fallback"]
    assert found == []
