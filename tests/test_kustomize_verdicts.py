"""Kustomize gives one verdict however it is reached (issue #26): with kubectl or without it (the
built-in fallback), naming a folder or its kustomization, a base or a patch, and with values
that only look like paths. Each test failed before its fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, KUBECTL, REPO, needs, require_shared
from test_hostile_builds import TOKEN, repository
from test_hostile_pr import run

from kubelint_svc.units.kustomize.engines import build
from kubelint_svc.units.kustomize.scan import KUSTOMIZATION_NAMES, find_roots

NEEDS_KUBECTL = needs("kubectl", KUBECTL is not None)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{name: http, containerPort: 8080}]
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
"""
BROKEN_PATCH = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80, targetPort: htp}]
"""
# a patch naming the container port `web`: the base's `targetPort: http` then points at nothing
RENAMED_PORT = DEPLOYMENT.replace("{name: http, containerPort: 8080}", "{name: web, containerPort: 8080}").replace(
    "        image: nginx:1.27\n", "")
OVERLAY = "resources: [../../base]\npatches:\n- path: service-patch.yaml\n"
LAYOUT = {
    "base/app.yaml": DEPLOYMENT + "---\n" + SERVICE,
    "base/kustomization.yaml": "resources: [app.yaml]\n",
    "overlays/prod/kustomization.yaml": OVERLAY,
    "overlays/prod/service-patch.yaml": BROKEN_PATCH,
}


def hidden_kubectl(tmp_path: Path, monkeypatch) -> dict[str, str]:
    """The environment of a machine without kubectl or kustomize: a PATH holding git alone, and
    no tool beside the interpreter either (find_tool looks there too)."""
    bin_folder = tmp_path / "no-kubectl-bin"
    bin_folder.mkdir(exist_ok=True)
    git = shutil.which("git")
    if git is not None and not (bin_folder / "git").exists():
        (bin_folder / "git").symlink_to(git)
    if not (bin_folder / "python").exists():  # the interpreter itself stays: Helm renders run through it
        (bin_folder / "python").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(bin_folder / "python"))
    return {"PATH": str(bin_folder)}


def lint_json(root: Path, *args: str, env: dict | None = None) -> tuple[list[tuple], str]:
    """((file, line, column, rule, message) of each finding, stderr) of a JSON lint run in root."""
    result = run("lint", "--no-cache", "--format", "json", *args, cwd=root, env=env)
    findings = json.loads(result.stdout)["findings"]
    shown = [(f["file"], f["line"], f["column"], f["rule"], f["message"]) for f in findings]
    return shown, result.stderr.decode()


def layout(root: Path, files: dict[str, str], git: bool = True) -> Path:
    if git:
        repository(root, files)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    else:
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    return root


# --- 4. without kubectl: the fallback, and the same verdicts -----------------------------------------


def test_no_engine_on_path_builds_with_the_fallback(tmp_path, monkeypatch):
    """A fresh machine (the README's GitLab job): auto finds no engine and uses the fallback,
    saying so, instead of failing every kustomization with `auto is not on PATH`."""
    root = layout(tmp_path / "repo", LAYOUT)
    found, _ = lint_json(root, "overlays/prod", env=hidden_kubectl(tmp_path, monkeypatch))
    rules = sorted((file, rule) for file, _, _, rule, _ in found)
    assert rules == [
        ("overlays/prod/kustomization.yaml", "kustomize-fallback"),
        ("overlays/prod/service-patch.yaml", "service-target-port-undefined"),
    ]
    assert not [message for *_, message in found if "not on PATH" in message]


@pytest.mark.slow  # 0.8 s of CPU
@NEEDS_KUBECTL
def test_examples_give_the_same_findings_without_kubectl(tmp_path, monkeypatch):
    """`lint examples/` on a machine without kubectl: what it gives with kubectl, and the note."""
    with_kubectl, _ = lint_json(REPO, "examples")
    without, _ = lint_json(REPO, "examples", env=hidden_kubectl(tmp_path, monkeypatch))
    notes = [finding for finding in without if finding[3] == "kustomize-fallback"]
    assert len(notes) == 1
    assert [finding for finding in without if finding[3] != "kustomize-fallback"] == with_kubectl


def kustomization_roots() -> list[Path]:
    """Every kustomize root among the fixtures, the examples and the shared corpus."""
    folders = [REPO / "tests", REPO / "examples"]
    if CORPUS.exists():
        folders.append(CORPUS)
    found = [path.parent for folder in folders for path in sorted(folder.rglob("*"))
             if path.name in KUSTOMIZATION_NAMES]
    return find_roots(found)


# What the fallback cannot do as kustomize does, each with its reason; kept short. Empty: every root
# of the fixtures, the examples and the corpus builds alike.
KNOWN_GAPS: dict[str, str] = {}


def comparable(objects: list) -> list[str]:
    """The objects of a build in a form both engines must agree on. Order is left out: kustomize
    sorts by kind and keeps the input order among equals, the fallback sorts by kind and identity,
    and no rule depends on the order of a stream."""
    return sorted(json.dumps(item.body, sort_keys=True) for item in objects)


def verdict(done) -> tuple[str, list[str]]:
    if done.skipped:
        return "skipped", []
    if done.error:
        return "failed", []  # the words differ (kustomize's or ours); that both fail is the verdict
    return "built", comparable(done.objects)


@NEEDS_KUBECTL
@pytest.mark.parametrize("restrictor", ["rootOnly", "none"])
# the corpus's roots: 7 s of CPU in 70 cases, for the full suite (the fixtures' and examples' stay fast)
@pytest.mark.parametrize("root", [pytest.param(root, marks=pytest.mark.slow) if root.is_relative_to(CORPUS) else root
                                  for root in kustomization_roots()],
                         ids=lambda root: os.path.relpath(root, REPO.parent))
def test_the_fallback_builds_every_known_layout_as_kubectl_does(root, restrictor):
    top = CORPUS / root.relative_to(CORPUS).parts[0] if root.is_relative_to(CORPUS) else REPO  # its repository
    real = build(root, "kubectl", confine=top.resolve(), load_restrictor=restrictor)
    fallback = build(root, "fallback", confine=top.resolve(), load_restrictor=restrictor)
    assert "outside the repository" not in str(real.error)  # compared as built, not as refused
    gap = KNOWN_GAPS.get(os.path.relpath(root, REPO.parent))
    if gap is not None:
        pytest.xfail(gap)
    assert verdict(fallback) == verdict(real), (real.error, fallback.error)


def test_the_corpus_roots_are_compared():
    """The differential reaches the corpus (a skip there would hide its roots)."""
    require_shared(CORPUS)
    assert sum(root.is_relative_to(CORPUS) for root in kustomization_roots()) >= 20


NAMESPACED_BASE = {
    "base/all.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n---\n"
                     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
    "base/kustomization.yaml": "resources: [all.yaml]\n",
    "one/kustomization.yaml": "resources: [../base]\nnamespace: one\n",
    "two/kustomization.yaml": "resources: [../base]\nnamespace: two\n",
    "both/kustomization.yaml": "resources: [../one, ../two]\n",
}


@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
def test_namespace_renames_the_namespace_objects(tmp_path, engine):
    """Two overlays that each move one base's Namespace: kustomize renames it, so no object is
    included twice."""
    root = layout(tmp_path, NAMESPACED_BASE, git=False)
    done = build(root / "both", engine, confine=root)
    assert done.error is None
    assert sorted((item.body["kind"], item.body["metadata"]["name"], item.body["metadata"].get("namespace"))
                  for item in done.objects) == [
        ("ConfigMap", "settings", "one"), ("ConfigMap", "settings", "two"),
        ("Namespace", "one", None), ("Namespace", "two", None),
    ]


def test_a_fallback_failure_is_the_fallbacks_and_names_the_feature(tmp_path):
    files = {
        "app.yaml": SERVICE,
        "kustomization.yaml": "resources: [app.yaml]\npatches:\n- target: {kind: Service}\n  patch: |-\n"
                              "    - op: move\n      from: /spec/selector\n      path: /metadata/labels\n",
    }
    root = layout(tmp_path, files, git=False)
    found, _ = lint_json(root, ".", "--kustomize", "fallback")
    failed = [message for _, _, _, rule, message in found if rule == "kustomize-build-failed"]
    assert len(failed) == 1
    assert failed[0].startswith("the built-in kustomize fallback cannot build this: ")
    assert "'move' is not applied by the built-in engine" in failed[0]


REPLACEMENTS = {
    "all.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: source}\ndata: {host: web.shop.svc, port: '80'}\n"
                "---\n" + SERVICE.replace("metadata: {name: web}", "metadata: {name: web, annotations: {x: a/b/c}}"),
    "kustomization.yaml": """\
resources: [all.yaml]
namePrefix: pre-
replacements:
- source: {kind: ConfigMap, name: source, fieldPath: data.host, options: {delimiter: ., index: 1}}
  targets:
  - select: {kind: Service}
    fieldPaths: [metadata.annotations.x]
    options: {delimiter: /, index: 1}
- source: {kind: ConfigMap, name: source, fieldPath: data.port}
  targets:
  - select: {kind: Service, name: web}
    fieldPaths:
    - spec.ports.[port=80].port
    - metadata.labels.port
    options: {create: true}
- source: {kind: Service}
  targets:
  - select: {kind: ConfigMap}
    reject: [{name: other}]
    fieldPaths: [data.host]
""",
}


@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
def test_replacements_are_applied(tmp_path, engine):
    """Cluster API and Kubeflow lay their overlays out with replacements: the fallback applies
    them as kustomize does (a delimited part, a scalar keeping its type, create, reject)."""
    root = layout(tmp_path, REPLACEMENTS, git=False)
    done = build(root, engine, confine=root)
    assert done.error is None
    bodies = {item.body["kind"]: item.body for item in done.objects}
    assert bodies["Service"]["metadata"]["annotations"] == {"x": "a/shop/c"}
    assert bodies["Service"]["metadata"]["labels"] == {"port": 80}
    assert bodies["Service"]["spec"]["ports"] == [{"port": 80, "targetPort": "http"}]
    assert bodies["ConfigMap"]["data"]["host"] == "pre-web"


# --- 3. naming a kustomization, a base or a patch ---------------------------------------------------


@pytest.mark.slow  # 0.5 s of CPU
def test_naming_the_kustomization_gives_what_naming_its_folder_gives(tmp_path):
    root = layout(tmp_path / "repo", LAYOUT)
    folder, _ = lint_json(root, "overlays/prod")
    named, _ = lint_json(root, "overlays/prod/kustomization.yaml")
    assert [finding[3] for finding in folder] == ["service-target-port-undefined"]
    assert named == folder


@pytest.mark.slow  # 0.5 s of CPU in 2 cases
@pytest.mark.parametrize("git", [True, False], ids=["git", "no-git"])
def test_naming_a_patch_reports_what_its_builds_put_on_it(tmp_path, git):
    """Inside a git repository the builds that include the patch are found without --git-context
    (outside one, by a bounded walk of the working directory); the run says what it also read."""
    root = layout(tmp_path / "repo", LAYOUT, git=git)
    found, stderr = lint_json(root, "overlays/prod/service-patch.yaml")
    assert [(file, rule) for file, _, _, rule, _ in found] == [
        ("overlays/prod/service-patch.yaml", "service-target-port-undefined")]
    assert "also read, to build what includes the files named: overlays/prod/kustomization.yaml" in stderr


@pytest.mark.slow  # 0.5 s of CPU
def test_naming_a_base_reports_what_the_including_builds_put_on_it(tmp_path):
    """The overlay renames the container port: the base's Service, fine alone, is broken as built."""
    files = {**LAYOUT, "overlays/prod/service-patch.yaml": RENAMED_PORT}
    root = layout(tmp_path / "repo", files)
    alone, _ = lint_json(root, "base")  # the base's own build: clean
    found, _ = lint_json(root, "base/app.yaml")
    assert [(file, rule) for file, _, _, rule, _ in found] == [("base/app.yaml", "service-target-port-undefined")]
    assert "overlays/prod" in found[0][4]  # the build that puts it there is named
    assert [finding for finding in alone if finding[3] != "kustomize-fallback"] == found


@pytest.mark.slow  # 0.3 s of CPU
def test_a_clean_precommit_run_stays_quiet(tmp_path):
    """The hook lints with --git-context: everything is read already, nothing more is said."""
    files = {**LAYOUT, "overlays/prod/service-patch.yaml": BROKEN_PATCH.replace("htp", "http")}
    root = layout(tmp_path / "repo", files)
    result = run("lint", "--no-cache", "--git-context", "--", "overlays/prod/service-patch.yaml", cwd=root)
    assert result.returncode == 0
    assert result.stderr == b""


# --- 5. only paths are paths ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
def test_a_delimiter_is_no_path(tmp_path, engine):
    """`delimiter: /` was resolved as a path: the repository's root, refused as outside it."""
    files = {**REPLACEMENTS}
    root = layout(tmp_path, files, git=False)
    done = build(root, engine, confine=root)
    assert done.error is None


@pytest.mark.parametrize("entry", [
    "https://example.com/raw/settings.txt",
    "settings.txt=https://example.com/raw/settings.txt",
    "github.com/example/repo/settings.txt?ref=main",
])
def test_a_generator_file_given_as_a_url_is_not_built(tmp_path, entry):
    files = {"app.yaml": SERVICE,
             "kustomization.yaml": f"resources: [app.yaml]\nconfigMapGenerator:\n- name: settings\n  files:\n"
                                   f"  - {entry}\n"}
    root = layout(tmp_path, files, git=False)
    found, _ = lint_json(root, ".")
    assert [(file, rule) for file, _, _, rule, _ in found if rule.startswith("kustomize")] == [
        ("kustomization.yaml", "kustomize-not-built")]


PATCH_OUTSIDE = {
    "base/app.yaml": DEPLOYMENT + "---\n" + SERVICE,
    "base/kustomization.yaml": "resources: [app.yaml]\n",
    "patches/service-patch.yaml": BROKEN_PATCH,
    "clusters/prod/kustomization.yaml": "resources: [../../base]\npatches:\n- path: ../../patches/service-patch.yaml\n",
}


@pytest.mark.slow  # 0.7 s of CPU in 2 cases
@pytest.mark.parametrize("engine", [pytest.param("auto", marks=NEEDS_KUBECTL), "fallback"])
def test_load_restrictor_none_builds_what_flux_builds(tmp_path, engine):
    """A patch outside the kustomization's folder: refused by default, as kustomize refuses it;
    built with the flag or the setting, as Flux and Config Sync build it."""
    root = layout(tmp_path / "repo", PATCH_OUTSIDE)
    default, _ = lint_json(root, "--kustomize", engine, ".")
    assert "kustomize-build-failed" in [rule for *_, rule, _ in default]
    flagged, _ = lint_json(root, "--kustomize", engine, "--kustomize-load-restrictor", "none", ".")
    (root / ".kubelint-svc.yaml").write_text("kustomize-load-restrictor: none\n")
    configured, _ = lint_json(root, "--kustomize", engine, ".")
    for found in (flagged, configured):
        assert [(file, rule) for file, _, _, rule, _ in found if rule != "kustomize-fallback"] == [
            ("patches/service-patch.yaml", "service-target-port-undefined")]


@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
@pytest.mark.parametrize("patch", ["../../../outside.yaml", "../../.git/config"])
def test_load_restrictor_none_keeps_the_repository_confined(tmp_path, engine, patch):
    """none relaxes kustomize's rule, never the repository's: a file outside it, or in its git
    directory, is still refused unread."""
    (tmp_path / "outside.yaml").write_text(BROKEN_PATCH)
    kustomization = f"resources: [../../base]\npatches:\n- path: {patch}\n"
    files = {**PATCH_OUTSIDE, "clusters/prod/kustomization.yaml": kustomization}
    root = layout(tmp_path / "repo", files)
    done = build(root / "clusters" / "prod", engine, confine=root.resolve(), load_restrictor="none")
    assert done.error is not None
    assert "outside the repository" in done.error or "git directory" in done.error
    assert not done.objects
    assert TOKEN not in done.error


def test_kustomizes_words_are_one_line_relative_to_the_working_directory(tmp_path, monkeypatch):
    """kustomize quotes an inline patch with `\\n` and klog quotes that again: the message shows
    neither the escapes nor the absolute path of the folder the user is in."""
    root = layout(tmp_path / "repo", {"app.yaml": SERVICE, "kustomization.yaml": "resources: [app.yaml]\n"})
    tools = tmp_path / "tools"
    tools.mkdir()
    words = (f'err="accumulating resources from \\"{root.resolve()}/app.yaml\\": patch: \\"- op: add\\\\n'
             f'  path: /x\\\\n  value: 1\\""')
    (tools / "kubectl").write_text(
        "#!/bin/sh\n[ \"$2\" = --help ] && exit 0\n"
        f"echo 'E1207 06:20:45.121828    2249 run.go:72] \"command failed\" {words}' >&2\nexit 1\n")
    (tools / "kubectl").chmod(0o755)
    env = hidden_kubectl(tmp_path, monkeypatch)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    found, _ = lint_json(root.resolve(), "--kustomize", "kubectl", ".", env=env)
    failed = [message for *_, rule, message in found if rule == "kustomize-build-failed"]
    assert failed == [('kustomize cannot build this: accumulating resources from "app.yaml": '
                       'patch: "- op: add; path: /x; value: 1"')]


@pytest.mark.slow  # 0.3 s of CPU
def test_an_excluded_folders_kustomizations_are_not_read_for_a_named_file(tmp_path):
    """A fixture overlay in an excluded folder breaks the base: naming the base does not build it."""
    files = {**LAYOUT, "overlays/prod/service-patch.yaml": BROKEN_PATCH.replace("htp", "http"),
             "fixtures/broken/kustomization.yaml": "resources: [../../base]\npatches:\n- path: patch.yaml\n",
             "fixtures/broken/patch.yaml": RENAMED_PORT,
             ".kubelint-svc.yaml": "exclude: [fixtures/*]\n"}
    root = layout(tmp_path / "repo", files)
    found, stderr = lint_json(root, "base/app.yaml")
    assert found == []
    assert "fixtures" not in stderr


def test_a_component_no_root_includes_may_name_a_patch_outside_with_load_restrictor_none(tmp_path):
    files = {"patches/service-patch.yaml": BROKEN_PATCH,
             "components/tls/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                                  "patches:\n- path: ../../patches/service-patch.yaml\n"}
    root = layout(tmp_path / "repo", files)
    default, _ = lint_json(root, ".")
    assert ("components/tls/kustomization.yaml", "kustomize-build-failed") in [
        (file, rule) for file, _, _, rule, _ in default]  # and the patch is linted as written
    relaxed, _ = lint_json(root, "--kustomize-load-restrictor", "none", ".")
    assert relaxed == []  # a partial object, set aside as every patch of a kustomization


@pytest.mark.parametrize("engine", [pytest.param("kubectl", marks=NEEDS_KUBECTL), "fallback"])
def test_what_kustomize_refuses_too_is_worded_as_kustomizes(tmp_path, engine):
    """A missing resource fails every engine: not the fallback's gap, so not worded as one."""
    root = layout(tmp_path, {"kustomization.yaml": "resources: [missing.yaml]\n"}, git=False)
    found, _ = lint_json(root, ".", "--kustomize", engine)
    assert [message.split(":")[0] for *_, rule, message in found if rule == "kustomize-build-failed"] == [
        "kustomize cannot build this"]


# --- 5. the roots auto builds in-process: proven alike (issue 20) ------------------------------------
# Every feature units/proven.py admits is used by one layout below, each built by both engines:
# the fallback's build must be proven and equal kubectl's. The counter-layouts use one feature
# it does not admit each, and must not be proven (where the engines differ, that is shown too).

PROVEN_BASE = {
    "base/app.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: team}
spec:
  ports: [{port: 443}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: team}
data: {mode: fast, replicas: '3'}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team, annotations: {owner: shop}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
      - {name: setup, image: 'localhost:5000/tools/setup:1.2'}
      containers:
      - name: web
        image: registry.example.com/web:1.0
        ports: [{name: http, containerPort: 8080}]
      - name: sidecar
        image: 'proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
""",
    "base/kustomization.yaml": "resources:\n- app.yaml\n",
}
PATCH_TEAM = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team\n"
PROVEN_LAYOUTS: dict[str, dict[str, str]] = {
    "namespace": {"top/kustomization.yaml": "resources: [../base]\nnamespace: shop-prod\n"},
    "commonLabels": {"top/kustomization.yaml": "resources: [../base]\ncommonLabels: {env: prod, tier: web}\n"},
    "labels": {"top/kustomization.yaml": """\
resources: [../base]
labels:
- pairs: {team: shop}
- pairs: {env: prod}
  includeSelectors: true
- pairs: {release: blue}
  includeTemplates: true
- pairs: {both: 'yes-and'}
  includeSelectors: false
  includeTemplates: false
"""},
    "commonAnnotations": {"top/kustomization.yaml": "resources: [../base]\ncommonAnnotations: {team: shop}\n"},
    "images": {"top/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../base]
images:
- name: registry.example.com/web
  newTag: '2.0'
- name: localhost:5000/tools/setup
  newName: registry.example.com/tools/setup
- name: proxy
  newName: registry.example.com/proxy
  newTag: v3
"""},
    "images-digest": {"top/kustomization.yaml": """\
resources: [../base]
images:
- name: registry.example.com/web
  digest: sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
- name: proxy
  newTag: v4
"""},
    "patches": {
        "top/kustomization.yaml": "resources: [../base]\npatches:\n- path: deployment.yaml\n- path: service.yaml\n",
        "top/deployment.yaml": PATCH_TEAM + "  labels: {patched: one}\nspec:\n  replicas: 3\n  template:\n"
                               "    metadata: {annotations: {rollout: two}}\n"
                               "    spec: {terminationGracePeriodSeconds: 5}\n",
        "top/service.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: team}\n"
                            "spec: {type: NodePort, selector: {app: web, version: v2}}\n",
    },
    "patch-without-namespace": {
        "solo/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: solo}\ndata: {a: b}\n",
        "solo/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: solo}\ndata: {c: d}\n",
        "solo/kustomization.yaml": "resources: [app.yaml]\nnamespace: alone\npatches:\n- path: patch.yaml\n",
    },
    "layers": {  # labels and images in the middle, a namespace and a patch on top
        "middle/kustomization.yaml": "resources:\n- ../base\ncommonLabels:\n  env: staging\nimages:\n"
                                     "- name: registry.example.com/web\n  newTag: staging-1\n",
        "top/kustomization.yaml": "resources:\n- ../middle\nnamespace: shop\npatches:\n- path: replicas.yaml\n",
        "top/replicas.yaml": PATCH_TEAM + "spec:\n  replicas: 2\n",
    },
    "layers-moved-twice": {  # a namespace and a patch in the middle, another namespace on top
        "middle/kustomization.yaml": "resources:\n- ../base\nnamespace: shop\npatches:\n- path: replicas.yaml\n",
        "middle/replicas.yaml": PATCH_TEAM + "spec:\n  replicas: 2\n",
        "top/kustomization.yaml": "resources:\n- ../middle\nnamespace: shop-prod\ncommonLabels: {env: prod}\n",
    },
    "patch-under-a-moved-namespace": {  # the patch names the namespace written; the middle's stands
        "middle/kustomization.yaml": "resources:\n- ../base\nnamespace: shop\n",
        "top/kustomization.yaml": "resources:\n- ../middle\npatches:\n- path: replicas.yaml\n",
        "top/replicas.yaml": PATCH_TEAM + "spec:\n  replicas: 2\n",
    },
    "two-bases": {
        "other/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: team}\n",
        "other/kustomization.yaml": "resources: [app.yaml]\n",
        "top/kustomization.yaml": "resources:\n- ../base\n- ../other\nnamespace: shop\ncommonLabels: {env: qa}\n",
    },
}
# each: a layout, and whether the engines are known to differ on it (so the rule is needed)
UNPROVEN_LAYOUTS: dict[str, tuple[dict[str, str], bool]] = {
    "patch-in-another-namespace": ({  # no object web in `default`: both fail (the fallback patched it)
        "top/kustomization.yaml": "resources: [../base]\npatches:\n- path: patch.yaml\n",
        "top/patch.yaml": PATCH_TEAM.replace("  namespace: team\n", "") + "spec: {replicas: 2}\n",
    }, False),
    "yaml-1.1-boolean": ({  # kubectl kustomize reads `on` as text, the fallback (YAML 1.1) as true
        "top/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags}\ndata: {switch: on}\n",
        "top/kustomization.yaml": "resources: [../base, extra.yaml]\n",
    }, False),  # both fail here (a boolean in data): the difference shows in what they read, not the verdict
    "affinity": ({
        "base/app.yaml": PROVEN_BASE["base/app.yaml"].replace(
            "    spec:\n      initContainers:",
            "    spec:\n      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
            "[{topologyKey: zone, labelSelector: {matchLabels: {app: web}}}]}}\n      initContainers:"),
        "top/kustomization.yaml": "resources: [../base]\ncommonLabels: {env: prod}\n",
    }, True),
    "namePrefix": ({"top/kustomization.yaml": "resources: [../base]\nnamePrefix: prod-\n"}, False),
    "list-in-patch": ({
        "top/kustomization.yaml": "resources: [../base]\npatches:\n- path: patch.yaml\n",
        "top/patch.yaml": PATCH_TEAM + "spec:\n  template:\n    spec:\n      containers: [{name: web, image: x:1}]\n",
    }, False),
    "statefulset": ({
        "top/set.yaml": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n"
                        "  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n"
                        "    spec: {containers: [{name: db, image: postgres:16}]}\n",
        "top/kustomization.yaml": "resources: [../base, set.yaml]\n",
    }, False),
    "inline-patch": ({
        "top/kustomization.yaml": "resources: [../base]\npatches:\n- patch: |-\n    " + PATCH_TEAM.replace(
            "\n", "\n    ").rstrip() + "\n    spec: {replicas: 2}\n",
    }, False),
}


def read_data(path: Path) -> list:
    from kubelint_svc.loader import read_documents

    return [document.data for document in read_documents(path)]


def the_root(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    top = layout(tmp_path, {**PROVEN_BASE, **files}, git=False)
    roots = [root for root in find_roots(sorted(path.parent for path in top.rglob("kustomization.yaml")))
             if root.name != "base"]  # the base alone, when the layout does not include it
    assert len(roots) == 1
    return top.resolve(), roots[0]


@NEEDS_KUBECTL
@pytest.mark.parametrize("name", sorted(PROVEN_LAYOUTS))
def test_every_feature_the_proven_set_admits_builds_as_kubectl_does(tmp_path, name):
    from kubelint_svc.units.proven import unproven

    top, root = the_root(tmp_path, PROVEN_LAYOUTS[name])
    fallback = build(root, "fallback", confine=top)
    assert unproven(fallback, read_data) is None
    real = build(root, "kubectl", confine=top)
    assert real.error is None
    assert verdict(fallback) == verdict(real)


@pytest.mark.parametrize("name", sorted(UNPROVEN_LAYOUTS))
def test_a_feature_outside_the_proven_set_is_left_to_kubectl(tmp_path, name):
    from kubelint_svc.units.proven import unproven

    files, differ = UNPROVEN_LAYOUTS[name]
    top, root = the_root(tmp_path, files)
    assert unproven(build(root, "fallback", confine=top), read_data) is not None
    if differ and shutil.which("kubectl") is not None:  # the rule is needed: the engines differ here
        assert verdict(build(root, "fallback", confine=top)) != verdict(build(root, "kubectl", confine=top))


@NEEDS_KUBECTL
@pytest.mark.parametrize("root", kustomization_roots(), ids=lambda root: os.path.relpath(root, REPO.parent))
def test_every_known_root_proven_alike_builds_alike(root):
    """The fixtures', examples' and corpus's roots the rule admits (where verdicts are compared
    above too): kept apart so that a proven root that differs names the rule, not the fallback."""
    from kubelint_svc.units.proven import unproven

    top = CORPUS / root.relative_to(CORPUS).parts[0] if root.is_relative_to(CORPUS) else REPO
    fallback = build(root, "fallback", confine=top.resolve())
    if unproven(fallback, read_data) is None:  # an unproven root is built by kubectl: nothing to compare
        assert verdict(fallback) == verdict(build(root, "kubectl", confine=top.resolve()))
