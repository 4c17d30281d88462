"""A pull request's kustomizations, built: one test per way through the scan the review found.
Each asserts the safe outcome (nothing read from a git directory or outside the repository,
nothing cloned or fetched, findings reported where someone sees them, a kept build never
stale, every build finished in seconds)."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import KUBECTL, needs
from manifests import SERVICE_TEMPLATE as SERVICE
from test_hostile_pr import _Recorder, run

from kubelint_svc.units.kustomize.engines import build
from kubelint_svc.units.kustomize.scan import find_roots

NEEDS_KUBECTL = needs("kubectl", KUBECTL is not None)
TOKEN = "c2VjcmV0LXRva2VuLWZyb20tY2hlY2tvdXQ"  # what actions/checkout keeps in .git/config


def repository(root: Path, files: dict[str, str]) -> Path:
    """A git work tree holding files, its .git/config carrying a checkout's token header."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    with (root / ".git" / "config").open("a") as config:
        config.write(f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {TOKEN}\n')
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def report(root: Path, *args: str, env: dict | None = None) -> tuple[int, list[dict], bytes]:
    """(exit code, findings, everything printed) of a JSON lint run in root."""
    result = run("lint", "--format", "json", *(args or (".",)), cwd=root, env=env)
    output = result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)["findings"], output


def rules_at(findings: list[dict]) -> list[tuple[str, str]]:
    return sorted((finding["file"], finding["rule"]) for finding in findings)


# --- 1. a git directory is never read ------------------------------------------------------------

LEAK = """\
resources: [svc.yaml]
configMapGenerator:
- name: leak
  {field}: [{name}]
replacements:
- source: {{kind: ConfigMap, name: leak, fieldPath: data.config}}
  targets:
  - select: {{kind: Service}}
    fieldPaths: [metadata.name]
"""


@NEEDS_KUBECTL
@pytest.mark.parametrize(("field", "name"), [("files", ".git/config"), ("files", "config=cfg")])
def test_a_generator_cannot_copy_the_git_config_into_a_report(tmp_path, field, name):
    repo = repository(tmp_path / "repo", {
        "kustomization.yaml": LEAK.format(field=field, name=name),
        "svc.yaml": SERVICE.format(name="web", port=0),
    })
    (repo / "cfg").symlink_to(".git/config")
    code, findings, output = report(repo)
    assert TOKEN.encode() not in output
    assert ("kustomization.yaml", "kustomize-build-failed") in rules_at(findings)
    assert ("svc.yaml", "service-port-number") in rules_at(findings)  # linted as written
    [failed] = [finding for finding in findings if finding["rule"] == "kustomize-build-failed"]
    assert "inside a git directory" in failed["message"]
    assert code == 1


# --- 2. nothing is cloned -------------------------------------------------------------------------

@NEEDS_KUBECTL
@pytest.mark.parametrize("form", ["git::file://{other}", "GIT::file://{other}", "file://{other}",
                                  "FILE://{other}", "ssh://localhost{other}", "git@localhost:{other}",
                                  "Git+File://{other}"])
def test_a_resource_in_another_checkout_is_not_cloned(tmp_path, form):
    other = repository(tmp_path / "other", {
        "kustomization.yaml": "resources: [svc.yaml]\n", "svc.yaml": SERVICE.format(name="from-other", port=0)})
    subprocess.run(["git", "-C", str(other), "add", "."], check=True)
    subprocess.run(["git", "-C", str(other), "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x"],
                   check=True)
    entry = form.format(other=other)
    repo = repository(tmp_path / "repo", {"kustomization.yaml": f"resources: [{json.dumps(entry)}]\n"})
    result = build(repo, "kubectl", confine=repo)
    assert result.objects == []
    assert result.error is None
    assert result.skipped == f"remote resources: {entry} (nothing is fetched)"


def test_git_gets_no_protocol_at_all():
    import inspect

    from kubelint_svc.units.kustomize import engines

    assert '"GIT_ALLOW_PROTOCOL": ""' in inspect.getsource(engines._run)


# --- 3. every field kustomize reads as a file or folder is scanned ---------------------------------

PATCHER = """\
apiVersion: builtin
kind: PatchTransformer
metadata: {{name: patcher}}
path: {path}
target: {{kind: Service}}
"""


@NEEDS_KUBECTL
@pytest.mark.parametrize("field", ["transformers", "generators", "validators"])
def test_a_folder_of_plugin_configs_cannot_reach_out_of_the_repository(tmp_path, field):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [t.yaml]\n")
    (outside / "t.yaml").write_text(
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: x}\nlabels: {leaked: outside}\n"
        "fieldSpecs: [{path: metadata/labels, create: true}]\n")
    repo = repository(tmp_path / "repo", {
        "app/kustomization.yaml": f"resources: [svc.yaml]\n{field}: [../plugins]\n",
        "app/svc.yaml": SERVICE.format(name="web", port=80),
        "plugins/kustomization.yaml": "resources: [../../outside]\n",
    })
    result = build(repo / "app", "kubectl", confine=repo)
    assert result.objects == []
    assert result.error is not None
    assert f"{outside}: outside the repository ({repo}); not read" in result.error


@NEEDS_KUBECTL
@pytest.mark.parametrize("kustomization", [
    "resources: [svc.yaml]\ntransformers: [patcher.yaml]\n",
    "resources: [svc.yaml]\ntransformers:\n- |\n  " + PATCHER.replace("\n", "\n  "),  # a config written inline
    "resources: [svc.yaml]\ncrds: [{path}]\n",
    "resources: [svc.yaml]\nconfigurations: [{path}]\n",
    "resources: [svc.yaml]\nopenapi: {{path: {path}}}\n",
    "resources: [svc.yaml]\nreplacements: [{{path: {path}}}]\n",
    "resources: [svc.yaml]\nsecretGenerator: [{{name: s, env: {path}}}]\n",
    "resources: [svc.yaml]\npatchesStrategicMerge: [{path}]\n",
    "resources: [svc.yaml]\npatchesJson6902: [{{path: {path}, target: {{kind: Service}}}}]\n",
])
@pytest.mark.parametrize("path", [".git/config", "sub/../.git/HEAD", "linked"])
def test_every_path_field_is_confined(tmp_path, kustomization, path):
    repo = repository(tmp_path / "repo", {
        "kustomization.yaml": kustomization.format(path=path),
        "patcher.yaml": PATCHER.format(path=path),
        "svc.yaml": SERVICE.format(name="web", port=80),
    })
    (repo / "sub").mkdir()
    (repo / "linked").symlink_to(repo / ".git" / "config")
    result = build(repo, "kubectl", confine=repo)
    assert result.objects == []
    assert result.error is not None
    assert "inside a git directory, which holds credentials; not read" in result.error
    assert TOKEN not in result.error


# --- 4. nothing is fetched, loopback included ---------------------------------------------------

@NEEDS_KUBECTL
@pytest.mark.parametrize("kustomization", [
    "resources: [svc.yaml]\npatches:\n- path: {url}\n",
    "resources: [svc.yaml]\npatches:\n- path: {url}\n  target: {{kind: Service}}\n",
    "resources: [svc.yaml]\npatchesStrategicMerge: [{url}]\n",
    "resources: [svc.yaml]\nreplacements: [{{path: {url}}}]\n",
    "resources: [svc.yaml]\nopenapi: {{path: {url}}}\n",
    "resources: [svc.yaml]\nconfigMapGenerator: [{{name: c, files: [{url}]}}]\n",
    "resources: [svc.yaml]\ntransformers: [patcher.yaml]\n",
    "resources: [svc.yaml, {url}]\n",
])
def test_a_url_in_any_path_field_is_never_fetched(tmp_path, kustomization):
    _Recorder.requests.clear()
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/patch.yaml"
        repo = repository(tmp_path / "repo", {
            "kustomization.yaml": kustomization.format(url=json.dumps(url)),
            "patcher.yaml": PATCHER.format(path=url),
            "svc.yaml": SERVICE.format(name="web", port=80),
        })
        _, findings, _ = report(repo)
    finally:
        server.shutdown()
    assert _Recorder.requests == []
    assert ("kustomization.yaml", "kustomize-not-built") in rules_at(findings)
    assert "kustomize-build-failed" not in {finding["rule"] for finding in findings}


# --- 5. an origin annotation is believed only for a file the scan read ------------------------

@NEEDS_KUBECTL
@pytest.mark.parametrize("origin", [
    "configuredIn: nowhere.yaml\nconfiguredBy: {kind: ConfigMapGenerator, name: x}\n",
    "configuredIn: ../elsewhere/svc.yaml\nconfiguredBy: {kind: SecretGenerator, name: x}\n",
    "path: ../elsewhere/svc.yaml\n",
])
def test_a_forged_origin_cannot_send_a_finding_where_no_one_looks(tmp_path, origin):
    repo = repository(tmp_path / "repo", {
        "app/kustomization.yaml": (
            f"resources: [svc.yaml]\ncommonAnnotations:\n  config.kubernetes.io/origin: {json.dumps(origin)}\n"),
        "app/svc.yaml": SERVICE.format(name="web", port=0),
        "elsewhere/svc.yaml": SERVICE.format(name="web", port=80),
    })
    code, findings, _ = report(repo, "app")
    assert code == 1
    assert ("app/svc.yaml", "service-port-number") in rules_at(findings)


# --- 6. a kept build records what its plugin configs name ------------------------------------

@pytest.mark.slow  # 0.5 s of CPU
@NEEDS_KUBECTL
def test_a_kept_build_is_built_again_when_a_file_a_transformer_names_changes(tmp_path):
    repo = repository(tmp_path / "repo", {
        "kustomization.yaml": "resources: [svc.yaml]\ntransformers: [patcher.yaml]\n",
        "patcher.yaml": PATCHER.format(path="patch.yaml"),
        "patch.yaml": "- {op: replace, path: /spec/ports/0/port, value: 80}\n",
        "svc.yaml": SERVICE.format(name="web", port=80),
    })
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    time.sleep(0.05)  # a file saved within a clock tick of a build is not kept
    assert report(repo, env=env)[0] == 0
    assert report(repo, env=env)[0] == 0
    (repo / "patch.yaml").write_text("- {op: replace, path: /spec/ports/0/port, value: 0}\n")
    kept = report(repo, env=env)
    fresh = report(repo, "--no-cache", ".", env=env)
    assert "service-port-number" in {finding["rule"] for finding in fresh[1]}
    assert (kept[0], rules_at(kept[1])) == (fresh[0], rules_at(fresh[1]))
    assert kept[0] == 1


# --- 7. an unbuilt component's patches outside its folder are not set aside silently ----------

def test_a_component_patch_outside_its_folder_is_a_finding(tmp_path):
    repo = repository(tmp_path / "repo", {
        "comp/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: ../other/x.yaml\n"
            "- path: inside.yaml\n"),
        "comp/inside.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n",
        "other/x.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 0}]\n",
    })
    _, findings, _ = report(repo, "--kustomize", "fallback")
    failed = [finding for finding in findings if finding["rule"] == "kustomize-build-failed"]
    assert [finding["file"] for finding in failed] == ["comp/kustomization.yaml"]
    assert "../other/x.yaml" in failed[0]["message"]
    assert all(finding["file"] != "comp/inside.yaml" for finding in findings)  # a patch inside: set aside
    assert ("other/x.yaml", "service-port-number") in rules_at(findings)  # not set aside: linted as written


# --- 8. patch targets are matched by RE2 ------------------------------------------------------

TARGETED = """\
resources: [svc.yaml]
patches:
- target: {{kind: Service, name: {pattern}}}
  patch: '[{{op: replace, path: /spec/ports/0/port, value: 81}}]'
"""


@pytest.mark.slow  # 0.7 s of CPU in 2 cases
@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
def test_a_patch_target_cannot_make_matching_backtrack(tmp_path, engine):
    repo = repository(tmp_path / "repo", {
        "kustomization.yaml": TARGETED.format(pattern=json.dumps("(a|aa)*b")),
        "svc.yaml": SERVICE.format(name="a" * 60, port=0),
    })
    started = time.monotonic()
    result = run("lint", "--format", "json", "--kustomize", engine, ".", cwd=repo, fresh=True, timeout=30)
    assert time.monotonic() - started < 20
    assert ("svc.yaml", "service-port-number") in rules_at(json.loads(result.stdout)["findings"])


@pytest.mark.slow  # 0.8 s of CPU in 2 cases
@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
def test_a_label_selector_cannot_make_matching_quadratic(tmp_path, engine):
    selector = "a" * 200_000 + "\\nb"  # a line break inside one term: Python's re tried every split of it
    repo = repository(tmp_path / "repo", {
        "kustomization.yaml": TARGETED.format(pattern="web").replace("name: web", f'labelSelector: "{selector}"'),
        "svc.yaml": SERVICE.format(name="web", port=0),
    })
    started = time.monotonic()
    result = run("lint", "--format", "json", "--kustomize", engine, ".", cwd=repo, fresh=True, timeout=30)
    assert time.monotonic() - started < 20
    assert ("svc.yaml", "service-port-number") in rules_at(json.loads(result.stdout)["findings"])


@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
@pytest.mark.parametrize("pattern", ["(a)\\\\1", "(?=a)a", "a{1001}"])
def test_a_patch_target_re2_refuses_is_a_build_error_naming_it(tmp_path, engine, pattern):
    repo = repository(tmp_path / "repo", {
        "kustomization.yaml": TARGETED.format(pattern=f'"{pattern}"'),
        "svc.yaml": SERVICE.format(name="aa", port=80),
    })
    result = build(repo, engine, confine=repo)
    assert result.objects == []
    assert result.error is not None
    assert "target name" in result.error
    assert "RE2" in result.error


# --- 9. a diamond of kustomizations ------------------------------------------------------------

def diamond(root: Path, levels: int) -> list[Path]:
    """Two folders a level, each including both of the level below: 2^levels paths to the bottom."""
    folders = [root]
    (root / "kustomization.yaml").write_text("resources: [l1a, l1b]\n")
    for level in range(1, levels + 1):
        for side in "ab":
            folder = root / f"l{level}{side}"
            folder.mkdir()
            below = f"[../l{level + 1}a, ../l{level + 1}b]" if level < levels else "[]"
            (folder / "kustomization.yaml").write_text(f"resources: {below}\n")
            folders.append(folder)
    return folders


@pytest.mark.slow  # 0.7 s of CPU in 2 cases
@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
def test_a_diamond_of_kustomizations_is_refused_in_linear_time(tmp_path, engine):
    repo = repository(tmp_path / "repo", {})
    folders = diamond(repo, 20)
    started = time.monotonic()
    assert find_roots(folders, repo) == [repo]
    result = run("lint", "--format", "json", "--kustomize", engine, ".", cwd=repo, fresh=True, timeout=60)
    assert time.monotonic() - started < 20
    findings = json.loads(result.stdout)["findings"]
    assert rules_at(findings) == [("kustomization.yaml", "kustomize-build-failed")]
    assert "kustomizations" in findings[0]["message"]


def test_a_shallow_diamond_still_builds(tmp_path):
    repo = repository(tmp_path / "repo", {})
    diamond(repo, 3)
    result = build(repo, "fallback", confine=repo)
    assert result.error is None
    assert result.objects == []
