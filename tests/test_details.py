"""Details users hit (issue 22): Ingress controller actions, `expose`'s targetPort, JSON
statistics, shell completion, the suppression "did you mean", wording. One test per point,
each failing before its fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
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


HELLO = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: helloworld-deployment
spec:
  selector:
    matchLabels:
      app: helloworld
  template:
    metadata:
      labels:
        app: helloworld
    spec:
      containers:
      - name: k8s-demo
        image: wardviaene/k8s-demo
        ports:
        - name: nodejs-port
          containerPort: 3000
"""

DNS = """\
apiVersion: v1
kind: Pod
metadata:
  name: dns
  labels: {app: dns}
spec:
  containers:
  - name: dns
    image: coredns
    ports:
    - {containerPort: 53, protocol: UDP}
    - {name: dns-tcp, containerPort: 53, protocol: TCP}
    - {name: metrics, containerPort: 9153}
"""


def expose(monkeypatch, capsys, tmp_path: Path, manifest: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "app.yaml").write_text(manifest)
    return cli_in_process(monkeypatch, capsys, "expose", *args, cwd=tmp_path)


def test_the_tutorial_expose_targets_the_pods_named_port_and_says_how_kubectl_differs(monkeypatch, capsys, tmp_path):
    code, out, err = expose(monkeypatch, capsys, tmp_path, HELLO, "deployment/helloworld-deployment",
                            "--type", "NodePort", "--port", "80", "--node-port", "31001")
    assert code == 0, err
    assert "    targetPort: nodejs-port\n" in out
    assert "    port: 80\n" in out
    assert err == ("kubelint-svc: warning: targetPort: nodejs-port (the Pods' container port 3000/TCP), since no "
                   "container declares port 80; kubectl expose would write targetPort: 80, which reaches no container "
                   "(--kubectl-compatible writes what kubectl writes)\n")


def test_kubectl_compatible_keeps_kubectls_target_port(monkeypatch, capsys, tmp_path):
    code, out, err = expose(monkeypatch, capsys, tmp_path, HELLO, "deployment/helloworld-deployment",
                            "--port", "80", "--kubectl-compatible", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["spec"]["ports"] == [{"protocol": "TCP", "port": 80, "targetPort": 80}]
    assert "service-target-port-not-exposed" in err


def test_a_port_the_pods_declare_stays_the_target_port(monkeypatch, capsys, tmp_path):
    code, out, err = expose(monkeypatch, capsys, tmp_path, HELLO, "deployment/helloworld-deployment",
                            "--port", "3000", "-o", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["spec"]["ports"] == [{"protocol": "TCP", "port": 3000, "targetPort": 3000}]


def test_with_several_declared_ports_the_one_of_the_protocol_is_used(monkeypatch, capsys, tmp_path):
    code, out, err = expose(monkeypatch, capsys, tmp_path, DNS, "pod/dns", "--port", "5353", "--protocol", "UDP",
                            "-o", "json")
    assert code == 0, err
    assert json.loads(out)["spec"]["ports"] == [{"protocol": "UDP", "port": 5353, "targetPort": 53}]
    assert "targetPort: 53 (the Pods' container port 53/UDP)" in err


def test_with_several_declared_ports_of_the_protocol_expose_refuses_and_lists_them(monkeypatch, capsys, tmp_path):
    code, out, err = expose(monkeypatch, capsys, tmp_path, DNS, "pod/dns", "--port", "80")
    assert (code, out) == (2, "")
    assert err == ("kubelint-svc: error: --port 80: no container declares it, and the Pods declare dns-tcp 53/TCP, "
                   "metrics 9153/TCP: choose the container port with --target-port (or --kubectl-compatible for "
                   "kubectl's targetPort, the port itself)\n")


def test_exposing_a_name_already_defined_says_kubectl_fails_with_already_exists(monkeypatch, capsys, tmp_path):
    taken = HELLO + """\
---
apiVersion: v1
kind: Service
metadata:
  name: helloworld-deployment
spec:
  selector: {app: helloworld}
  ports:
  - {port: 3000}
"""
    code, _out, err = expose(monkeypatch, capsys, tmp_path, taken, "deployment/helloworld-deployment")
    assert code == 0
    assert err == ("kubelint-svc: warning: Service helloworld-deployment is already defined in namespace default "
                   "(app.yaml:21): kubectl expose would fail with AlreadyExists (services \"helloworld-deployment\" "
                   "already exists); give this one another --name, or change that Service\n")
    assert "silently replaces" not in err


TWO_WARNINGS = ALB_INGRESS.replace("name: blue", "name: green").replace("name: ssl-redirect", "name: red")


def test_statistics_in_json_are_counts_per_rule(monkeypatch, capsys, tmp_path):
    code, out, err = lint(monkeypatch, capsys, tmp_path, {"ingress.yaml": TWO_WARNINGS}, "--statistics",
                          "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert "findings" not in document
    assert document["statistics"] == [{"rule": "ingress-backend-service", "severity": "warning", "count": 2}]
    assert document["summary"] == {"files": 1, "objects": 1, "errors": 0, "warnings": 2, "infos": 0}


def test_statistics_in_json_go_to_the_output_file_too(monkeypatch, capsys, tmp_path):
    code, out, _err = lint(monkeypatch, capsys, tmp_path, {"ingress.yaml": TWO_WARNINGS}, "--statistics",
                           "--format", "json", "-o", "report.json")
    assert code == 0
    assert json.loads((tmp_path / "report.json").read_text())["statistics"][0]["count"] == 2
    assert out.startswith("    2  warning  ingress-backend-service\n")


def test_statistics_in_a_format_without_them_is_a_usage_error(monkeypatch, capsys, tmp_path):
    code, out, err = lint(monkeypatch, capsys, tmp_path, {"ingress.yaml": TWO_WARNINGS}, "--statistics",
                          "--format", "sarif")
    assert (code, out) == (2, "")
    assert err == ("kubelint-svc: error: --statistics is written as text or JSON, not --format sarif (use --format "
                   "text, concise or json)\n")


NODE_PORT_ON_CLUSTER_IP = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    nodePort: 30080 # kubelint-svc: ignore[RULE]
"""


@pytest.mark.parametrize(("written", "why"), [
    ("service-node-prot", "no such rule; did you mean 'service-node-port-forbidden', reported on this line?"),
    ("service-node-port-range", ("nothing to suppress; did you mean 'service-node-port-forbidden', reported on this "
                                "line?")),
])
def test_did_you_mean_prefers_the_rule_reported_on_the_line(monkeypatch, capsys, tmp_path, written, why):
    manifest = NODE_PORT_ON_CLUSTER_IP.replace("RULE", written)
    _code, out, _err = lint(monkeypatch, capsys, tmp_path, {"service.yaml": manifest}, "-f", "concise")
    assert (f"service.yaml:9:21: info[unused-suppression] suppression of {written} on this line is unused ({why}): "
            "remove it\n") in out


def test_did_you_mean_falls_back_to_every_rule(monkeypatch, capsys, tmp_path):
    manifest = NODE_PORT_ON_CLUSTER_IP.replace("RULE", "service-selector-no-mach").replace("nodePort: 30080 ", "")
    _code, out, _err = lint(monkeypatch, capsys, tmp_path, {"service.yaml": manifest}, "-f", "concise")
    assert "(no such rule; did you mean 'service-selector-no-match'?)" in out


SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - containerPort: 80
"""


def test_one_edge_is_one_edge(monkeypatch, capsys, tmp_path):
    (tmp_path / "app.yaml").write_text(SERVICE + "---\n" + POD)
    code, out, _err = cli_in_process(monkeypatch, capsys, "graph", "app.yaml", cwd=tmp_path)
    assert code == 0
    assert out.endswith("\n2 nodes, 1 edge, 0 broken.\n")


def _git_repository(tmp_path: Path, files: dict[str, str]) -> None:
    import subprocess

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)


def test_the_summary_counts_what_git_context_read_apart(monkeypatch, capsys, tmp_path):
    others = POD.replace("web", "other") + "---\n" + POD.replace("web", "third")
    _git_repository(tmp_path, {"service.yaml": SERVICE, "pod.yaml": POD, "more.yaml": others})
    code, out, _err = cli_in_process(monkeypatch, capsys, "lint", "--no-cache", "service.yaml", "--git-context",
                                     cwd=tmp_path)
    assert code == 0
    assert out == "No problems found in 1 object in 1 file, with 3 objects in 2 files read as context.\n"


def test_the_summary_with_findings_counts_context_apart(monkeypatch, capsys, tmp_path):
    (tmp_path / "service.yaml").write_text(SERVICE.replace("port: 80", "port: 80\n    targetPort: 9000"))
    (tmp_path / "pod.yaml").write_text(POD)
    code, out, _err = cli_in_process(monkeypatch, capsys, "lint", "--no-cache", "service.yaml", "--context",
                                     "pod.yaml", "-f", "concise", cwd=tmp_path)
    assert code == 0
    assert out.endswith("Found 1 warning in 1 file (1 object in 1 file read; 1 object in 1 file read as "
                        "context).\n")


@pytest.mark.parametrize(("args", "expected"), [
    (("--show-completion", "zsh"), "#compdef kubelint-svc"),
    (("--show-completion=zsh",), "#compdef kubelint-svc"),
    (("--show-completion", "fish"), "complete --command kubelint-svc"),
    (("--show-completion=bash",), "complete -o default -F _kubelint_svc_completion kubelint-svc"),
])
def test_show_completion_prints_the_script_of_the_shell_named(monkeypatch, capsys, tmp_path, args, expected):
    code, out, err = cli_in_process(monkeypatch, capsys, *args, cwd=tmp_path)
    assert (code, err) == (0, "")
    assert expected in out
    assert f"_KUBELINT_SVC_COMPLETE=complete_{args[-1].rpartition('=')[2]}" in out


def test_show_completion_alone_is_for_the_shell_it_runs_in(monkeypatch, capsys, tmp_path):
    import shellingham  # how typer, and so the CLI, detects the shell

    monkeypatch.setattr(shellingham, "detect_shell", lambda: ("fish", "/usr/bin/fish"))
    code, out, _err = cli_in_process(monkeypatch, capsys, "--show-completion", cwd=tmp_path)
    assert code == 0
    assert out.startswith("complete --command kubelint-svc")


def test_an_unknown_shell_is_one_line(monkeypatch, capsys, tmp_path):
    code, out, err = cli_in_process(monkeypatch, capsys, "--show-completion", "tcsh", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err == ("kubelint-svc: error: Invalid value for '--show-completion': 'tcsh' is not one of 'bash', 'zsh', "
                   "'fish', 'powershell', 'pwsh'.\n")


def complete(monkeypatch, capsys, shell: str, line: str) -> str:
    """What the script of shell gets back when the user presses tab after line."""
    monkeypatch.setenv("_KUBELINT_SVC_COMPLETE", f"complete_{shell}")
    monkeypatch.setenv("_TYPER_COMPLETE_ARGS", line)
    monkeypatch.setenv("_TYPER_COMPLETE_FISH_ACTION", "get-args")
    code, out, _err = cli_in_process(monkeypatch, capsys, *line.split()[1:])
    assert code == 0
    return out


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_explain_completes_rule_ids(monkeypatch, capsys, shell):
    out = complete(monkeypatch, capsys, shell, "kubelint-svc explain service-node-port-f")
    assert "service-node-port-forbidden" in out
    assert "service-node-port-range" not in out
    assert "A ClusterIP Service may not set nodePort." in out  # its summary, shown beside it


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_kubernetes_version_completes_the_bundled_versions(monkeypatch, capsys, shell):
    from kubelint_svc.schemas import bundled_versions

    out = complete(monkeypatch, capsys, shell, "kubelint-svc lint -k 1.")
    assert all(version in out for version in bundled_versions())


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_expose_completes_the_kinds(monkeypatch, capsys, shell):
    out = complete(monkeypatch, capsys, shell, "kubelint-svc expose st")
    assert "statefulset/" in out
    assert "sts/" in out
    assert "deployment/" not in out


REPOSITORY = "https://github.com/kubelint-svc/kubelint-svc"
# what every install line may say: the repository pinned to a commit, a checkout, the Action's own
INSTALLS = re.compile(r'pip install (?:--quiet --disable-pip-version-check "\$GITHUB_ACTION_PATH"|\.(?= |$)|'
                      r"-e '\.\[test(?:,[a-z]+)*\]'|"
                      r"\"kubelint-svc(?:\[(?:kustomize|helm|lsp)\])? @ git\+(?P<url>[^@\"]+)@<commit-sha>\")")


def _documents() -> dict[str, str]:
    from conftest import REPO

    paths = [REPO / "README.md", REPO / "action.yml", *sorted((REPO / "docs").glob("*.md")),
             *sorted((REPO / "rules").glob("*.yaml"))]
    return {path.name: path.read_text() for path in paths}


def test_every_install_line_installs_from_the_repository_pinned_to_a_commit():
    lines = [(name, line) for name, text in _documents().items() for line in text.splitlines() if "pip install" in line]
    assert len(lines) >= 5
    for name, line in lines:
        found = INSTALLS.search(line)
        assert found, (name, line)  # not `pip install kubelint-svc`: no such package is published
        assert found.group("url") in (None, REPOSITORY), (name, line)
    readme = _documents()["README.md"]
    assert "pip install kubelint-svc" not in readme
    assert f"- repo: {REPOSITORY}\n" in readme  # pre-commit's, and the Action's, are the same repository
    assert f"uses: {REPOSITORY.removeprefix('https://github.com/')}@" in readme


@pytest.mark.slow  # pip clones the repository and builds a wheel: a few seconds
def test_the_readme_install_line_builds_from_a_commit(tmp_path):
    import subprocess
    import sys
    import zipfile

    from conftest import REPO

    line = next(line for line in _documents()["README.md"].splitlines() if line.startswith("pip install \"kubelint"))
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    requirement = line.split('"')[1].replace(REPOSITORY, f"file://localhost{REPO}").replace("<commit-sha>", commit)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), requirement],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("kubelint_svc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "kubelint_svc/rules/cross-object.yaml" in names
    assert any(name.startswith("kubelint_svc/schemas/v1.") for name in names)


def test_the_readme_expose_example_is_what_the_command_prints(monkeypatch, capsys, tmp_path):
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    command, shown = re.search(r"```\n\$ (kubelint-svc expose [^\n]*)\n(.*?)```", readme, re.S).groups()
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deployment.yaml").write_text(HELLO)
    code, out, err = cli_in_process(monkeypatch, capsys, *command.split()[1:], cwd=tmp_path)
    assert code == 0
    assert out + err == shown


def test_the_readme_json_statistics_example_has_the_keys_of_a_real_report(monkeypatch, capsys, tmp_path):
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    example = json.loads(re.search(r"With `--statistics`.*?```json\n(.*?)```", readme, re.S).group(1))
    _code, out, _err = lint(monkeypatch, capsys, tmp_path, {"ingress.yaml": TWO_WARNINGS}, "--statistics",
                            "--format", "json")
    real = json.loads(out)
    assert set(example) == set(real)
    assert set(example["statistics"][0]) == set(real["statistics"][0])
    assert set(example["summary"]) == set(real["summary"])


def test_a_rule_packs_summary_completes_quoted(monkeypatch, capsys, tmp_path):
    # a pull request's pack summary is shown beside its id: zsh evals the answer, so nothing in it
    # may end the quoting or start a line of its own
    (tmp_path / "policies").mkdir()
    (tmp_path / ".kubelint-svc.yaml").write_text("rule-packs: [policies]\n")
    (tmp_path / "policies" / "p.yaml").write_text(
        "rules:\n  - id: team-evil\n    severity: error\n"
        '    summary: "it\'s $(touch pwned) `id`\\nline two"\n'
        "    rationale: r\n    kinds: [Service]\n    check:\n      message: m\n      json-schema: {}\n")
    monkeypatch.chdir(tmp_path)
    out = complete(monkeypatch, capsys, "zsh", "kubelint-svc explain team")
    assert out == "_arguments '*: :((\"team-evil\":\"it''s \\$(touch pwned) \\`id\\`\\nline two\"))'\n"
