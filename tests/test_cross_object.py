"""Cross-object semantics: namespaces, context paths, partial views, where Pods may come from."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GIT, REPO, needs
from manifests import WEB_DEPLOYMENT as DEPLOYMENT
from manifests import WEB_SERVICE as SERVICE

from kubelint_svc.inputs import InputFile, discover
from kubelint_svc.runner import Settings, lint_files

OTHER = DEPLOYMENT.replace("web", "db").replace("http", "pg")


def verdicts(report) -> list[tuple[str, str, str]]:
    return sorted((f.rule, f.severity, f.file.rsplit("/", 1)[-1]) for f in report.findings)


def run(registry, inputs, context=None, namespace="default", stdin=b""):
    settings = Settings("1.37", namespace=namespace)
    return lint_files(inputs, settings, registry, stdin=lambda: stdin, context=context)


def test_a_multi_file_directory_is_one_index(tmp_path, lint_paths):
    (tmp_path / "service.yaml").write_text(SERVICE)
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT + "---\n" + OTHER)
    assert verdicts(lint_paths(tmp_path)) == []
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT.replace("name: http", "name: web") + "---\n" + OTHER)
    assert verdicts(lint_paths(tmp_path)) == [("service-target-port-undefined", "error", "service.yaml")]


def test_stdin_with_context_sees_the_workloads_but_reports_only_stdin(tmp_path, registry):
    other_service = SERVICE.replace("name: web", "name: x")
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT + "---\n" + OTHER + "---\n" + other_service)
    stdin = [InputFile("-", None)]
    alone = run(registry, stdin, stdin=SERVICE.encode())
    assert [(f.rule, f.severity) for f in alone.findings] == [("service-selector-no-match", "info")]
    assert "no workloads in the files read" in alone.findings[0].message
    with_context = run(registry, stdin, context=discover([str(tmp_path)]), stdin=SERVICE.encode())
    assert with_context.findings == []
    assert with_context.files == 1
    assert with_context.objects == 1
    broken = SERVICE.replace("app: web", "app: wbe")
    report = run(registry, stdin, context=discover([str(tmp_path)]), stdin=broken.encode())
    assert [(f.rule, f.severity, f.file, f.line) for f in report.findings] == [
        ("service-selector-no-match", "error", "-", 7)
    ]
    assert "closest: Deployment web (app: 'web' instead of 'wbe')" in report.findings[0].help
    note = report.findings[0].notes[0]  # the context workload's Pod labels, where they are written
    assert (note.message, Path(note.file).name, note.line) == ("Deployment web: its Pods' labels", "deployment.yaml",
                                                               10)


def test_namespace_flag_places_objects_that_name_none(tmp_path, registry):
    in_shop = DEPLOYMENT.replace("  name: web\n", "  name: web\n  namespace: shop\n", 1)
    (tmp_path / "all.yaml").write_text(SERVICE + "---\n" + in_shop)
    inputs = discover([str(tmp_path)])
    # the Service is in `default`, where no workload runs; the one it matches is in `shop`, in the same file
    [finding] = run(registry, inputs).findings
    assert (finding.rule, finding.severity) == ("service-selector-no-match", "warning")
    assert "all.yaml:12) in namespace shop, applied with it" in finding.message
    assert run(registry, inputs, namespace="shop").findings == []


def test_a_namespace_without_workloads_is_mentioned_once(lint_text):
    text = SERVICE + "---\n" + SERVICE.replace("name: web", "name: web2")
    report = lint_text(text)
    assert [(f.rule, f.severity, f.line) for f in report.findings] == [("service-selector-no-match", "info", 6)]


def test_an_unreadable_document_in_the_folder_is_named(tmp_path, lint_paths):
    (tmp_path / "service.yaml").write_text(SERVICE)
    (tmp_path / "workloads.yaml").write_text(OTHER + "---\n" + "apiVersion: apps/v1\nkind: Deployment\nspec: [\n")
    report = lint_paths(tmp_path)
    [finding] = [f for f in report.findings if f.rule == "service-selector-no-match"]
    assert finding.severity == "warning"
    assert "could not be read" in finding.message
    assert "workloads.yaml:" in finding.text  # in its help: could not be read: workloads.yaml:10


def test_an_operators_custom_resource_in_the_folder_lowers_the_verdict(tmp_path, lint_paths):
    custom = "apiVersion: example.com/v1\nkind: WebCluster\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"
    (tmp_path / "all.yaml").write_text(SERVICE + "---\n" + OTHER)
    assert [f.severity for f in lint_paths(tmp_path).findings] == ["error"]
    (tmp_path / "cluster.yaml").write_text(custom)
    [finding] = lint_paths(tmp_path).findings
    assert finding.severity == "info"
    assert "WebCluster web" in finding.message


def test_static_control_plane_pods_are_not_errors(lint_text):
    text = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: kube-scheduler\n  namespace: kube-system\nspec:\n"
        "  selector:\n    component: kube-scheduler\n  ports:\n  - port: 10259\n---\n"
        + OTHER.replace("  name: db\n", "  name: db\n  namespace: kube-system\n", 1)
    )
    [finding] = lint_text(text).findings
    assert finding.severity == "info"
    assert "control plane" in finding.message


@pytest.mark.slow  # 0.6 s of CPU
@needs("git", GIT is not None)
def test_one_file_of_a_two_file_repository_gets_the_verdicts_of_the_whole(tmp_path):
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    typo = SERVICE.replace("name: web", "name: typo").replace("app: web", "app: wbe")
    (repo / "apps" / "service.yaml").write_text(SERVICE + "---\n" + typo)
    (repo / "apps" / "deployment.yaml").write_text(DEPLOYMENT)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)

    def cli(*args):
        result = subprocess.run([sys.executable, "-m", "kubelint_svc", "lint", "--format", "json", *args],
                                capture_output=True, text=True, cwd=repo,
                                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, check=False)
        import json

        findings = json.loads(result.stdout)["findings"]
        return sorted((f["rule"], f["severity"], f["file"].rsplit("/", 1)[-1], f["line"]) for f in findings)

    whole = cli("apps")
    assert whole == [("service-selector-no-match", "error", "service.yaml", 18)]
    assert cli("--git-context", "apps/service.yaml") == whole
    # without context, the lone file cannot vouch for anything
    assert [severity for _, severity, _, _ in cli("apps/service.yaml")] == ["info"]


def test_a_context_file_named_twice_is_indexed_once(tmp_path, registry):
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    context = discover([str(tmp_path)]) + discover([str(tmp_path / "deployment.yaml")])
    report = run(registry, [InputFile("-", None)], context=context, stdin=SERVICE.encode())
    assert report.findings == []  # not "matches Pods of 2 workloads"
