"""Which configuration governs a file (issue 12, item 11): the nearest from the file's folder
upward, up to the repository's top; --show-settings shows what was found and resolved."""

import json

from conftest import REPO
from test_cli import in_process

BAD_PORT = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 0\n"


def write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def findings(monkeypatch, capsys, root, *args: str) -> tuple[list[tuple[str, str, str]], str]:
    monkeypatch.chdir(root)
    _, out, err = in_process(monkeypatch, capsys, "lint", "-f", "json", *args)
    return sorted((f["file"], f["rule"], f["severity"]) for f in json.loads(out)["findings"]), err


def test_a_folder_named_from_the_repository_top_obeys_its_own_configuration(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    code, out, _ = in_process(monkeypatch, capsys, "lint", "examples/policies/manifests", "-f", "concise")
    assert code == 1
    assert "error[team-node-port-window]" in out  # a rule of examples/policies/.kubelint-svc.yaml's pack


def test_each_file_obeys_its_nearest_configuration(tmp_path, monkeypatch, capsys):
    write(tmp_path, {
        ".git/HEAD": "", ".kubelint-svc.yaml": "rules: {service-port-number: warning}\n",
        "a/svc.yaml": BAD_PORT, "b/svc.yaml": BAD_PORT, "b/gen/x.yaml": BAD_PORT,
        "b/.kubelint-svc.yaml": "rules: {service-port-number: off}\nexclude: [gen]\n",
    })
    found, err = findings(monkeypatch, capsys, tmp_path, ".")
    assert [f for f in found if f[1] == "service-port-number"] == [("a/svc.yaml", "service-port-number", "warning")]
    assert err == ""
    assert in_process(monkeypatch, capsys, "lint", ".", "--show-files")[1].split() == ["a/svc.yaml", "b/svc.yaml"]
    found, _ = findings(monkeypatch, capsys, tmp_path, ".", "--config", ".kubelint-svc.yaml")  # one for all
    assert [f for f in found if f[1] == "service-port-number"] == [
        ("a/svc.yaml", "service-port-number", "warning"), ("b/gen/x.yaml", "service-port-number", "warning"),
        ("b/svc.yaml", "service-port-number", "warning")]


def test_a_run_wide_setting_a_nested_configuration_changes_is_named_on_stderr(tmp_path, monkeypatch, capsys):
    write(tmp_path, {".git/HEAD": "", "a/svc.yaml": BAD_PORT, "b/svc.yaml": BAD_PORT,
                     "b/.kubelint-svc.yaml": 'rules: {service-port-number: info}\nkubernetes-version: "1.31"\n'})
    found, err = findings(monkeypatch, capsys, tmp_path, ".")
    assert ("b/svc.yaml", "service-port-number", "info") in found
    assert err.splitlines() == [
        ("kubelint-svc: warning: b/.kubelint-svc.yaml:2: kubernetes-version '1.31' is not applied: "
         "kubernetes-version is one setting for the whole run, taken from the defaults; lint b on its own to apply it")
    ]
    _, err = findings(monkeypatch, capsys, tmp_path, "b")  # b's own run: its configuration is the run's
    assert err == ""


def test_the_search_stops_at_the_repository_top(tmp_path, monkeypatch, capsys):
    write(tmp_path, {".kubelint-svc.yaml": "rules: {service-port-number: off}\n", "repo/.git/HEAD": "",
                     "repo/svc.yaml": BAD_PORT})
    found, _ = findings(monkeypatch, capsys, tmp_path / "repo", ".")
    assert ("svc.yaml", "service-port-number", "error") in found


def test_show_settings_names_the_configuration_and_every_resolved_setting(tmp_path, monkeypatch, capsys):
    write(tmp_path, {".git/HEAD": "", "k8s/.kubelint-svc.yaml": "fail-on: warning\nexclude: [gen]\n",
                     "k8s/svc.yaml": BAD_PORT, "other/.kubelint-svc.yaml": "namespace: x\n", "other/a.yaml": BAD_PORT})
    monkeypatch.chdir(tmp_path)
    code, out, err = in_process(monkeypatch, capsys, "lint", "k8s", "--show-settings", "-k", "1.31")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == ["configuration file: k8s/.kubelint-svc.yaml", "kubernetes-version: 1.31",
                         "fail-on: warning", "node-port-range: 30000-32767"]
    assert "gen (k8s/.kubelint-svc.yaml:2)" in out
    code, out, _ = in_process(monkeypatch, capsys, "lint", ".", "--show-settings")
    assert out.splitlines()[0] == "configuration file: none (the defaults)"
    assert out.splitlines()[-2:] == ["  k8s/svc.yaml: k8s/.kubelint-svc.yaml",
                                     "  other/a.yaml: other/.kubelint-svc.yaml"]


def test_a_nested_configuration_is_confined_to_the_repository_too(tmp_path, monkeypatch, capsys):
    (tmp_path / "outside").mkdir()
    write(tmp_path / "repo", {".git/HEAD": "", "a/svc.yaml": BAD_PORT})
    (tmp_path / "repo" / "a" / "pack").symlink_to(tmp_path / "outside")
    (tmp_path / "repo" / "a" / ".kubelint-svc.yaml").write_text("rule-packs: [pack]\n")
    monkeypatch.chdir(tmp_path / "repo")
    code, out, err = in_process(monkeypatch, capsys, "lint", ".")
    assert (code, out) == (2, "")
    assert err.startswith("kubelint-svc: error: ")
    assert "leads outside the repository" in err


def test_a_pyproject_that_links_out_of_the_repository_is_not_read(tmp_path, monkeypatch, capsys):
    """`sub/pyproject.toml -> /outside/pyproject.toml`: searching for a configuration opened the
    file outside the repository (and then stopped the run with exit 2); it is now passed over."""
    outside, repo = tmp_path / "outside", tmp_path / "repo"
    write(outside, {"pyproject.toml": "[tool.kubelint-svc]\nfail-on = \"info\"\n"})
    write(repo, {"sub/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    (repo / ".git").mkdir()
    (repo / "sub" / "pyproject.toml").symlink_to(outside / "pyproject.toml")
    monkeypatch.chdir(repo)
    code, out, err = in_process(monkeypatch, capsys, "lint", "sub/a.yaml")
    assert (code, err) == (0, "")
    assert out == "No problems found in 1 object in 1 file.\n"


def test_a_helm_release_name_helm_refuses_is_a_configuration_error(tmp_path, monkeypatch, capsys):
    """helm-release went to the renderer unchecked (a pull request's configuration names it)."""
    write(tmp_path, {"svc.yaml": BAD_PORT, ".kubelint-svc.yaml": "helm-release: 'Shop\\n::error::forged'\n"})
    monkeypatch.chdir(tmp_path)
    code, out, err = in_process(monkeypatch, capsys, "lint", ".")
    assert (code, out) == (2, "")
    assert err.startswith("kubelint-svc: error: ")
    assert ".kubelint-svc.yaml:1: helm-release " in err
    assert "is no release name Helm accepts" in err
    assert "\n::error" not in err
    (tmp_path / ".kubelint-svc.yaml").write_text("helm-release: shop-prod\n")
    code, _out, err = in_process(monkeypatch, capsys, "lint", ".")
    assert code == 1
    assert "helm-release" not in err
