"""Details users hit (issue 22): Ingress controller actions, `expose`'s targetPort, JSON
statistics, shell completion, the suppression "did you mean", wording. One test per point,
each failing before its fix."""

from __future__ import annotations

from pathlib import Path

from conftest import cli_in_process

ALB_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    alb.ingress.kubernetes.io/actions.ssl-redirect: >-
      {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    alb.ingress.kubernetes.io/conditions.blue: '[{"field": "http-header", "httpHeaderConfig": {}}]'
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: ssl-redirect
            port:
              name: use-annotation
      - path: /blue
        pathType: Prefix
        backend:
          service:
            name: blue
            port:
              name: use-annotation
"""


def lint(monkeypatch, capsys, tmp_path: Path, files: dict[str, str], *args: str) -> tuple[int, str, str]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return cli_in_process(monkeypatch, capsys, "lint", "--no-cache", *args, cwd=tmp_path)


def test_an_alb_action_backend_with_its_annotation_names_no_missing_service(monkeypatch, capsys, tmp_path):
    code, out, _err = lint(monkeypatch, capsys, tmp_path, {"ingress.yaml": ALB_INGRESS}, "-f", "concise")
    assert "ingress-backend-service" not in out, out
    assert code == 0


def test_an_alb_action_backend_without_its_annotation_is_a_warning_saying_so(monkeypatch, capsys, tmp_path):
    manifest = ALB_INGRESS.replace("name: blue", "name: green")
    _code, out, _err = lint(monkeypatch, capsys, tmp_path, {"ingress.yaml": manifest}, "-f", "concise")
    assert out.splitlines()[0] == (
        "ingress.yaml:26:21: warning[ingress-backend-service] backend 'green' on port name 'use-annotation' names an "
        "action of the AWS Load Balancer Controller, but no annotation alb.ingress.kubernetes.io/actions.green or "
        "alb.ingress.kubernetes.io/conditions.green of this Ingress defines it; add the annotation "
        "alb.ingress.kubernetes.io/actions.green, or name a Service here (Ingress web)")
    assert out.count("ingress-backend-service") == 1


def test_an_ordinary_backend_naming_no_service_is_still_reported(monkeypatch, capsys, tmp_path):
    manifest = ALB_INGRESS.replace("name: use-annotation", "name: http")
    _code, out, _err = lint(monkeypatch, capsys, tmp_path, {"ingress.yaml": manifest}, "-f", "concise")
    assert out.count("warning[ingress-backend-service] backend Service") == 2, out


def test_the_controller_conventions_are_rule_data(registry):
    rule = registry["ingress-backend-service"]
    conventions = rule.params.annotation_backends
    assert {"controller": "AWS Load Balancer Controller", "port_name": "use-annotation",
            "annotations": ["alb.ingress.kubernetes.io/actions.", "alb.ingress.kubernetes.io/conditions."]} \
        in conventions
