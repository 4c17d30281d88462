"""One scope for every cross-object rule: a Service is judged with what is applied with it,
whatever unrelated folders exist, and a deploy target is never judged against another."""

from __future__ import annotations

import pytest
from test_units import DEPLOYMENT, SERVICE, findings, messages, write

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: postgres
"""
HEADLESS = "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n  clusterIP: None\n  selector: {app: db}\n"
INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  defaultBackend:
    service:
      name: web
      port: {number: 80}
"""
ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  rules:
  - backendRefs:
    - name: web
      port: 80
"""


def in_namespace(text: str, namespace: str) -> str:
    return text.replace("metadata:\n  name:", f"metadata:\n  namespace: {namespace}\n  name:", 1)


def test_services_in_a_subfolder_see_the_deployments_of_the_folder_above(tmp_path, monkeypatch):
    write(tmp_path, {
        "app/deployments.yaml": DEPLOYMENT.format(name="web", app="web") + "---\n"
                                + DEPLOYMENT.format(name="api", app="api"),
        "app/services/web.yaml": SERVICE.format(name="web", app="web", target=80),
        "app/services/api.yaml": SERVICE.format(name="api", app="api", target=80),
        "app/services/cron.yaml": DEPLOYMENT.format(name="unrelated", app="unrelated"),
    })
    assert findings(tmp_path, monkeypatch) == []


def test_a_namespace_slip_in_a_sibling_folder_is_an_error_naming_the_object(tmp_path, monkeypatch):
    write(tmp_path, {
        "svc/web.yaml": SERVICE.format(name="web", app="web", target=80),
        "workloads/web.yaml": in_namespace(DEPLOYMENT.format(name="web", app="web"), "shop"),
        "workloads/other.yaml": DEPLOYMENT.format(name="other", app="other"),
    })
    assert findings(tmp_path, monkeypatch) == [("svc/web.yaml", 7, "service-selector-no-match", "error")]
    [message] = messages(tmp_path, monkeypatch, rule="service-selector-no-match")
    assert "Deployment web (workloads/web.yaml:1) in namespace shop" in message


def test_the_same_service_gets_one_verdict_wherever_it_sits(tmp_path, monkeypatch):
    service = SERVICE.format(name="web", app="frontend", target=80)
    write(tmp_path, {"sub/deploy.yaml": DEPLOYMENT.format(name="web", app="web"), "svc.yaml": service,
                     "other/svc.yaml": service})
    verdicts = {file: (rule, severity) for file, _, rule, severity in findings(tmp_path, monkeypatch)}
    assert verdicts == {"svc.yaml": ("service-selector-no-match", "info"),
                        "other/svc.yaml": ("service-selector-no-match", "info")}


def test_nothing_in_scope_is_an_info_saying_why(tmp_path, monkeypatch):
    write(tmp_path, {"svc/web.yaml": SERVICE.format(name="web", app="web", target=80),
                     "jobs/batch.yaml": DEPLOYMENT.format(name="batch", app="batch")})
    assert findings(tmp_path, monkeypatch) == [("svc/web.yaml", 6, "service-selector-no-match", "info")]
    [message] = messages(tmp_path, monkeypatch, rule="service-selector-no-match")
    assert "none applied with it comes close" in message


@pytest.mark.parametrize(("prod", "staging", "rule", "line"), [
    (SERVICE.format(name="api", app="api", target=80) + "---\n" + DEPLOYMENT.format(name="web", app="web"),
     DEPLOYMENT.format(name="api", app="api"), "service-selector-no-match", 7),
    (STATEFULSET, HEADLESS, "statefulset-service-name", 6),
    (INGRESS, SERVICE.format(name="web", app="web", target=80), "ingress-backend-service", 8),
    (ROUTE, SERVICE.format(name="web", app="web", target=80), "route-backend-service", 8),
])
def test_every_rule_keeps_cluster_folders_apart(tmp_path, monkeypatch, prod, staging, rule, line):
    write(tmp_path, {"clusters/prod/app.yaml": prod, "clusters/staging/app.yaml": staging})
    found = [(file, at) for file, at, name, _ in findings(tmp_path, monkeypatch) if name == rule]
    assert found == [("clusters/prod/app.yaml", line)]
    write(tmp_path, {"clusters/prod/more.yaml": staging})  # applied with it: satisfied
    assert [f for f in findings(tmp_path, monkeypatch) if f[2] == rule] == []


FLUX = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  path: ./deploy/{name}
  sourceRef: {{kind: GitRepository, name: repo}}
"""
ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
spec:
  source:
    repoURL: https://example.com/repo.git
    path: deploy/{name}
  destination: {{server: 'https://kubernetes.default.svc'}}
"""
APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: all
spec:
  generators:
  - git:
      repoURL: https://example.com/repo.git
      directories:
      - path: deploy/*
  template:
    metadata: {name: '{{path.basename}}'}
    spec:
      source: {repoURL: 'https://example.com/repo.git', path: '{{path}}'}
      destination: {server: 'https://kubernetes.default.svc'}
"""


@pytest.mark.parametrize("declared", [
    {"gitops/a.yaml": FLUX.format(name="east"), "gitops/b.yaml": FLUX.format(name="west")},
    {"gitops/a.yaml": ARGO.format(name="east"), "gitops/b.yaml": ARGO.format(name="west")},
    {"gitops/all.yaml": APPSET},
    # no declaration: two folders that define the same object are two targets
    {"deploy/east/db.yaml": STATEFULSET.replace("serviceName: db", "serviceName: dbx"),
     "deploy/west/db.yaml": STATEFULSET.replace("serviceName: db", "serviceName: dbx")},
])
def test_targets_are_recognised_from_the_repository(tmp_path, monkeypatch, declared):
    write(tmp_path, {
        **declared,
        "deploy/east/web.yaml": SERVICE.format(name="web", app="web", target=80)
                                + "---\n" + DEPLOYMENT.format(name="api", app="api"),
        "deploy/west/web.yaml": DEPLOYMENT.format(name="web", app="web"),
    })
    found = [(file, line, severity) for file, line, rule, severity in findings(tmp_path, monkeypatch)
             if rule == "service-selector-no-match"]
    assert found == [("deploy/east/web.yaml", 7, "error")]
