"""Helm charts rendered offline by helm-python-sdk (the `helm` extra), in a child process, and
judged at the template lines that wrote each value. No helm binary is on PATH here, so the SDK
is the engine; tests of the no-extra path make its import fail."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from conftest import REPO, needs
from test_hostile_pr import run

from kubelint_svc.units import plan as plan_module
from kubelint_svc.units.rendered import Helpers, template_lines

needs_sdk = needs("the helm extra (helm-python-sdk)", plan_module.sdk_present())

HELPERS = """{{- define "web.labels" -}}
app: web
tier: frontend
{{- end }}
{{- define "web.selector" -}}
app: web
tier: {{ .Values.tier }}
{{- end }}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  type: {{ .Values.type }}
  selector:
    {{- include "web.selector" . | nindent 4 }}
  ports:
  - port: 80
    targetPort: {{ .Values.targetPort }}
    {{- if .Values.nodePort }}
    nodePort: {{ .Values.nodePort }}
    {{- end }}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      {{- include "web.labels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "web.labels" . | nindent 8 }}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - name: http
          containerPort: 8080
"""
VALUES = "tier: frontend\ntype: ClusterIP\ntargetPort: http\nnodePort: null\n"


def chart(values: str = VALUES, **more: str) -> dict[str, str]:
    return {
        "web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "web/values.yaml": values,
        "web/templates/_helpers.tpl": HELPERS,
        "web/templates/service.yaml": SERVICE,
        "web/templates/deployment.yaml": DEPLOYMENT,
        "web/templates/NOTES.txt": "Thanks for installing {{ .Release.Name }}.\n",
        **more,
    }


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def repository(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    write(repo, files)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def lint(repo: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """The findings' lines (notes and help included), with no helm on PATH and no cache."""
    environment = {"PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin", **(env or {})}
    result = run("lint", "--no-cache", *args, ".", cwd=repo, env=environment)
    assert result.returncode in (0, 1), result.stderr
    return [line for line in result.stdout.decode().splitlines() if line.strip()]


def finding(lines: list[str], rule: str) -> list[str]:
    """Each finding of rule with the note and help lines under it."""
    found, current = [], None
    for line in lines:
        if re.match(r"\S+:\d+:\d+: \w+\[", line) or line.startswith(("Found ", "No problems")):
            current = [line] if f"[{rule}]" in line else None
            if current is not None:
                found.append(current)
        elif current is not None:  # its source lines, help and notes
            current.append(line)
    return ["\n".join(block) for block in found]


# --- rendered and judged at the template line ------------------------------------------------


@needs_sdk
def test_a_chart_with_helpers_renders_with_no_finding(tmp_path):
    repo = repository(tmp_path, chart())
    assert lint(repo) == ["No problems found in 2 objects in 4 files."]  # the Service and Deployment rendered


@needs_sdk
def test_a_selector_a_helper_builds_is_reported_at_the_include_naming_the_helper(tmp_path):
    repo = repository(tmp_path, chart(VALUES.replace("tier: frontend", "tier: backend")))
    [found] = finding(lint(repo), "service-selector-no-match")
    assert found.startswith("web/templates/service.yaml:10:5: error[service-selector-no-match]")
    assert "web/templates/_helpers.tpl:7:1: written by helper 'web.selector'" in found
    assert "web/templates/deployment.yaml:11:7: Deployment release-name: its Pods' labels" in found


@pytest.mark.slow  # 0.2 s of CPU
@needs_sdk
def test_a_target_port_a_ci_values_file_breaks_is_reported_at_its_line_naming_the_file(tmp_path):
    repo = repository(tmp_path, chart(**{"web/ci/typo-values.yaml": "targetPort: htp\n"}))
    [found] = finding(lint(repo), "service-target-port-undefined")
    assert found.startswith("web/templates/service.yaml:13:")
    assert "(rendered with ci/typo-values.yaml)" in found


@needs_sdk
def test_a_node_port_from_values_outside_the_range_is_reported_at_its_line(tmp_path):
    repo = repository(tmp_path, chart(VALUES.replace("ClusterIP", "NodePort").replace("null", "8080")))
    [found] = finding(lint(repo), "service-node-port-range")
    assert found.startswith("web/templates/service.yaml:15:")


@needs_sdk
def test_the_configured_values_files_and_release_name_apply(tmp_path):
    repo = repository(tmp_path, chart(**{"web/prod.yaml": "tier: backend\n",
                                         ".kubelint-svc.yaml": "helm-values: [prod.yaml]\nhelm-release: shop\n"}))
    [found] = finding(lint(repo), "service-selector-no-match")
    assert "(Service shop)" in found


# --- subcharts, dependencies, failures -------------------------------------------------------

SUB_SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Chart.Name }}\nspec:\n  ports:\n  - port: 0\n"


def _archive(name: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in {"Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n",
                           "templates/service.yaml": SUB_SERVICE}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.slow  # 0.2 s of CPU
@needs_sdk
def test_subcharts_as_folders_and_archives_are_rendered_with_their_parent(tmp_path):
    repo = repository(tmp_path, chart(**{
        "web/charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
        "web/charts/cache/templates/service.yaml": SUB_SERVICE,
    }))
    (repo / "web/charts/queue-0.1.0.tgz").write_bytes(_archive("queue"))
    found = finding(lint(repo), "service-port-number")
    assert [block.split(":")[0] for block in found] == ["web/charts/cache/templates/service.yaml",
                                                       "web/charts/queue/templates/service.yaml"]
    assert found[0].startswith("web/charts/cache/templates/service.yaml:7:")


@needs_sdk
def test_a_missing_dependency_is_named_and_never_fetched(tmp_path):
    files = chart()
    files["web/Chart.yaml"] += "dependencies:\n- name: redis\n  version: 1.0.0\n  repository: https://127.0.0.1:9/charts\n"
    repo = repository(tmp_path, files)
    [found] = finding(lint(repo), "helm-chart-not-rendered")
    assert "dependency 'redis' (https://127.0.0.1:9/charts) is not in charts/" in found


@pytest.mark.slow  # 0.2 s of CPU
@needs_sdk
def test_a_failing_template_costs_one_finding_and_other_charts_render(tmp_path):
    files = chart(**{"bad/Chart.yaml": "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
                     "bad/templates/x.yaml": '{{ fail "set .Values.image" }}\n'})
    files["web/values.yaml"] = VALUES.replace("tier: frontend", "tier: backend")
    repo = repository(tmp_path, files)
    lines = lint(repo)
    [failed] = finding(lines, "helm-chart-not-rendered")
    assert failed.startswith("bad/Chart.yaml:1:1:")
    assert "set .Values.image" in failed
    assert finding(lines, "service-selector-no-match")


# --- hostile templates -----------------------------------------------------------------------


@pytest.mark.slow  # 0.9 s of CPU in 2 cases
@needs_sdk
@pytest.mark.parametrize("template", [
    '{{ range $i := until 100000000 }}{{ $i }}{{ end }}\n',  # a loop without end, in effect
    '{{ repeat 200000000 "x" }}\n',  # a huge string
])
def test_a_template_that_loops_or_blows_up_stops_with_one_finding(tmp_path, template):
    files = chart(**{"evil/Chart.yaml": "apiVersion: v2\nname: evil\nversion: 0.1.0\n",
                     "evil/templates/x.yaml": template})
    files["web/values.yaml"] = VALUES.replace("tier: frontend", "tier: backend")
    repo = repository(tmp_path, files)
    lines = lint(repo, env={"KUBELINT_SVC_BUILD_SECONDS": "20", "KUBELINT_SVC_MAX_FILE_BYTES": str(16 << 20)})
    [stopped] = finding(lines, "helm-chart-not-rendered")
    assert stopped.startswith("evil/Chart.yaml:1:1:")
    assert finding(lines, "service-selector-no-match")  # the run went on


@needs_sdk
def test_files_get_stays_inside_the_chart(tmp_path):
    (tmp_path / "secret.txt").write_text("TOKEN")
    template = ('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n'
                '  a: {{ .Files.Get "../../secret.txt" | quote }}\n  b: {{ .Files.Get "/etc/hostname" | quote }}\n')
    repo = repository(tmp_path, chart(**{"web/templates/leak.yaml": template}))
    rendered = plan_module._render(plan_module.SDK_ENGINE, repo / "web", (), 30, plan_module.HelmOptions())
    assert rendered[1] is None
    assert "TOKEN" not in rendered[0]
    assert 'a: ""' in rendered[0]


@needs_sdk
def test_a_chart_file_linked_out_of_the_repository_is_not_rendered(tmp_path):
    (tmp_path / "secret.txt").write_text("TOKEN")
    repo = repository(tmp_path, chart())
    (repo / "web/token").symlink_to(tmp_path / "secret.txt")
    [found] = finding(lint(repo), "helm-chart-not-rendered")
    assert "outside" in found
    assert "web/token" in found


# --- capabilities and hooks ------------------------------------------------------------------

CAPABLE = """apiVersion: {{ if .Capabilities.APIVersions.Has "apiregistration.k8s.io/v1" }}apiregistration.k8s.io/v1\
{{ else }}apiregistration.k8s.io/v1beta1{{ end }}
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
  annotations:
    kube: {{ .Capabilities.KubeVersion.Version | quote }}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service:
    name: web
    namespace: default
"""


@pytest.mark.slow  # 0.2 s of CPU
@needs_sdk
def test_capabilities_list_the_versions_kubernetes_serves(tmp_path):
    repo = repository(tmp_path, chart(**{"web/templates/apiservice.yaml": CAPABLE}))
    assert finding(lint(repo, "--kubernetes-version", "1.33"), "removed-api") == []
    rendered = plan_module._render(plan_module.SDK_ENGINE, repo / "web", (), 30, plan_module.HelmOptions(
        kubernetes_version="1.33", api_versions=tuple(plan_module._api_versions("1.33"))))
    assert "apiVersion: apiregistration.k8s.io/v1\n" in rendered[0]
    assert 'kube: "v1.33.0"' in rendered[0]


@needs_sdk
def test_a_crd_read_in_the_run_is_among_the_capabilities(tmp_path):
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
           "  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n"
           "  scope: Namespaced\n  versions:\n  - name: v2\n    served: true\n    storage: true\n")
    (tmp_path / "crd.yaml").write_text(crd)
    assert plan_module._crd_versions([tmp_path / "crd.yaml"]) == ["example.com/v2", "example.com/v2/Widget"]


TEST_HOOK = """apiVersion: v1
kind: Pod
metadata:
  name: web-test
  labels:
    app: web
    tier: backend
  annotations:
    helm.sh/hook: test
spec:
  containers:
  - name: test
    image: busybox:1.36
"""


@needs_sdk
def test_a_hook_pod_is_not_a_pod_the_service_serves(tmp_path):
    repo = repository(tmp_path, chart(VALUES.replace("tier: frontend", "tier: backend"),
                                      **{"web/templates/tests/test.yaml": TEST_HOOK}))
    [found] = finding(lint(repo), "service-selector-no-match")
    assert "only Helm hooks match it: Pod web-test" in found


# --- cache, settings and the path without the extra -----------------------------------------


@pytest.mark.slow  # 0.4 s of CPU
@needs_sdk
def test_a_render_is_kept_while_the_chart_is_unchanged(tmp_path, monkeypatch):
    repo = repository(tmp_path, chart())
    calls = []
    real = plan_module._render
    monkeypatch.setattr(plan_module, "_render", lambda *args: calls.append(args) or real(*args))
    environment = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in range(2):
        assert run("lint", ".", cwd=repo, env=environment).returncode == 0
    assert len(calls) == 1
    (repo / "web/values.yaml").write_text(VALUES.replace("tier: frontend", "tier: backend"))
    assert run("lint", ".", cwd=repo, env=environment).returncode == 1
    assert len(calls) == 2


@needs_sdk
def test_show_settings_names_the_engine(tmp_path):
    repo = repository(tmp_path, chart())
    shown = run("lint", "--show-settings", ".", cwd=repo, env={"PATH": "/usr/bin:/bin"}).stdout.decode()
    assert "helm engine: helm-python-sdk" in shown
    assert "helm-release: release-name" in shown


def test_without_the_extra_a_chart_gets_todays_note_naming_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "helm_python", None)  # its import fails, as without the extra
    repo = repository(tmp_path, chart())
    [found] = finding(lint(repo), "helm-chart-not-rendered")
    assert "install kubelint-svc with its helm extra" in found
    shown = run("lint", "--show-settings", ".", cwd=repo, env={"PATH": "/usr/bin:/bin"}).stdout.decode()
    assert "helm engine: none" in shown


@pytest.mark.slow  # 0.2 s of CPU
@needs_sdk
def test_a_crash_of_the_native_library_costs_one_finding(tmp_path, monkeypatch):
    """The render's child dies by a signal (as a segfault in the Go library would kill it): one
    finding, and the run goes on to the next chart."""
    crashing = tmp_path / "python"
    crashing.write_text(f"#!{sys.executable}\nimport os, signal, sys\n"
                        "if 'evil' in open(sys.argv[-1]).read():\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
                        f"os.execv({sys.executable!r}, [{sys.executable!r}, *sys.argv[1:]])\n")
    crashing.chmod(0o755)
    monkeypatch.setattr(plan_module.sys, "executable", str(crashing))
    files = chart(**{"evil/Chart.yaml": "apiVersion: v2\nname: evil\nversion: 0.1.0\n",
                     "evil/templates/x.yaml": "a: b\n"})
    files["web/values.yaml"] = VALUES.replace("tier: frontend", "tier: backend")
    lines = lint(repository(tmp_path, files))
    [crashed] = finding(lines, "helm-chart-not-rendered")
    assert "killed by signal 11" in crashed
    assert finding(lines, "service-selector-no-match")


@needs_sdk
def test_the_readme_helm_run_is_what_the_command_prints():
    readme = (REPO / "README.md").read_text()
    command, shown = re.search(r"```console\n\$ (kubelint-svc lint examples/helm/)\n(.*?)```", readme, re.S).groups()
    result = run(*command.split()[1:], cwd=REPO, env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"})
    assert (result.returncode, result.stdout.decode()) == (1, shown)


# --- matching rendered lines back to a pull request's templates ------------------------------


def test_a_line_of_many_actions_is_matched_in_linear_time():
    """Each action matches any text: with Python's re, `x: .*a.*a...` against a long line that
    does not end in `a` backtracks for ever; RE2 answers in linear time."""
    template = "x: " + "{{ .Values.a }}a" * 40 + "\n"
    started = time.monotonic()
    assert template_lines(template, "x: " + "a" * 20_000 + "b\n", Helpers()) == [None]
    assert time.monotonic() - started < 5


def test_helpers_that_include_each_other_are_named_without_recursing_for_ever():
    helpers = Helpers()
    helpers.add("web/templates/_helpers.tpl", '{{- define "a" -}}\n{{ include "b" . }}\n{{- end }}\n'
                '{{- define "b" -}}\n{{ include "a" . }}\n{{- end }}\n')
    assert helpers.line_of("a", "app: web") == ("a", "web/templates/_helpers.tpl", 2)  # its include of b
