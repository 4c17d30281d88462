"""Kustomize units: each fixture tree under tests/units/kustomize/ built by kubectl and by the
built-in fallback, with the objects kustomize emits and the file (and patch field) behind each."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import KUBECTL, needs

from kubelint_svc.units.kustomize.engines import Build, build
from kubelint_svc.units.kustomize.scan import Origin, find_roots
from kubelint_svc.units.kustomize.tracing import BuiltObject

TREES = Path(__file__).resolve().parent / "units" / "kustomize"
needs_kubectl = needs("kubectl", KUBECTL is not None)
ENGINES = [pytest.param("kubectl", marks=needs_kubectl), "fallback"]
BUILDABLE = [
    "smp-port/overlay",
    "two-overlays/staging",
    "two-overlays/production",
    "sibling-bases/config/default",
    "namespace-prefix",
    "images",
    "json6902/overlay",
    "components/overlay",
]
CONTAINERS = ("spec", "template", "spec", "containers")


def summary(item: BuiltObject) -> tuple:
    metadata = item.body["metadata"]
    return item.body["kind"], metadata["name"], metadata.get("namespace")


def named(result: Build, kind: str) -> BuiltObject:
    assert result.error is None, result.error
    assert result.skipped is None, result.skipped
    return next(item for item in result.objects if item.body["kind"] == kind)


def origin(relative: str, document: int = 0, path: tuple = ()) -> Origin:
    return Origin(TREES / relative, document, path)


@pytest.mark.parametrize("engine", ENGINES)
def test_strategic_merge_patch_adds_a_named_container_port(engine):
    result = build(TREES / "smp-port/overlay", engine)
    assert result.engine == engine
    assert [summary(item) for item in result.objects] == [("Service", "web", None), ("Deployment", "web", None)]
    deployment = named(result, "Deployment")
    assert deployment.body["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"name": "metrics", "containerPort": 9090},
        {"name": "http", "containerPort": 8080},
    ]
    assert deployment.origin == origin("smp-port/base/app.yaml", 1)
    assert named(result, "Service").origin == origin("smp-port/base/app.yaml", 0)
    port = (*CONTAINERS, 0, "ports", 0)
    assert deployment.patched == {
        path: origin("smp-port/overlay/metrics-port.yaml", 0, path)
        for path in (port, (*port, "name"), (*port, "containerPort"))
    }
    assert named(result, "Service").patched == {}
    assert result.files >= {
        TREES / "smp-port/overlay/kustomization.yaml",
        TREES / "smp-port/overlay/metrics-port.yaml",
        TREES / "smp-port/base",
        TREES / "smp-port/base/kustomization.yaml",
        TREES / "smp-port/base/app.yaml",
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_two_overlays_of_one_base(engine):
    staging = build(TREES / "two-overlays/staging", engine)
    production = build(TREES / "two-overlays/production", engine)
    assert [summary(item) for item in staging.objects] == [
        ("Service", "staging-web", "staging"),
        ("Deployment", "staging-web", "staging"),
    ]
    assert [summary(item) for item in production.objects] == [
        ("Service", "web", "production"),
        ("Deployment", "web", "production"),
    ]
    deployment = named(production, "Deployment")
    assert deployment.body["spec"]["replicas"] == 3
    assert deployment.body["spec"]["selector"]["matchLabels"] == {"app": "web", "env": "production"}
    assert named(production, "Service").body["spec"]["selector"] == {"app": "web", "env": "production"}
    assert named(staging, "Service").body["spec"]["selector"] == {"app": "web"}  # a prefix leaves selectors be
    for result in (staging, production):
        assert [item.origin for item in result.objects] == [
            origin("two-overlays/base/app.yaml", 0),
            origin("two-overlays/base/app.yaml", 1),
        ]


@pytest.mark.parametrize("engine", ENGINES)
def test_sibling_bases_with_common_labels_on_selectors(engine):
    result = build(TREES / "sibling-bases/config/default", engine)
    assert [summary(item) for item in result.objects] == [
        ("ClusterRole", "op-manager-role", None),
        ("Service", "op-webhook", "system"),
        ("Deployment", "op-controller", "system"),
    ]
    label = {"control-plane": "controller-manager"}
    deployment, service = named(result, "Deployment"), named(result, "Service")
    assert deployment.body["metadata"]["labels"] == label
    assert deployment.body["spec"]["selector"]["matchLabels"] == {"app": "controller", **label}
    assert deployment.body["spec"]["template"]["metadata"]["labels"] == {"app": "controller", **label}
    assert service.body["spec"]["selector"] == {"app": "controller", **label}
    assert service.body["spec"]["ports"] == [{"port": 443, "targetPort": "webhook"}]
    assert deployment.origin == origin("sibling-bases/config/manager/manager.yaml")
    assert service.origin == origin("sibling-bases/config/manager/service.yaml")
    assert named(result, "ClusterRole").origin == origin("sibling-bases/config/rbac/role.yaml")


@pytest.mark.parametrize("engine", ENGINES)
def test_namespace_name_prefix_and_suffix(engine):
    result = build(TREES / "namespace-prefix", engine)
    assert [summary(item) for item in result.objects] == [
        ("Namespace", "shop", None),
        ("Service", "shop-web-v2", "shop"),
        ("Deployment", "shop-web-v2", "shop"),
    ]
    deployment, service = named(result, "Deployment"), named(result, "Service")
    assert service.body["spec"]["selector"] == {"app": "web"}  # `labels` without includeSelectors
    assert deployment.body["metadata"]["labels"] == {"app": "web", "team": "payments"}
    assert deployment.body["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"owner": "payments@example.com"},
    }
    assert [item.origin for item in result.objects] == [
        origin("namespace-prefix/namespace.yaml"),
        origin("namespace-prefix/app.yaml", 0),
        origin("namespace-prefix/app.yaml", 1),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_images_set_tags_names_and_digests(engine):
    spec = named(build(TREES / "images", engine), "Deployment").body["spec"]["template"]["spec"]
    assert [c["image"] for c in spec["initContainers"]] == [
        "ghcr.io/example/init:0.3",
        "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ]
    assert [c["image"] for c in spec["containers"]] == ["nginx:1.27.1"]


@pytest.mark.parametrize("engine", ENGINES)
def test_json6902_patches_from_a_file_and_inline(engine):
    result = build(TREES / "json6902/overlay", engine)
    deployment, service = named(result, "Deployment"), named(result, "Service")
    container = deployment.body["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.28"
    assert container["ports"] == [{"name": "http", "containerPort": 8080}, {"name": "admin", "containerPort": 9901}]
    assert service.body["spec"]["ports"][0]["port"] == 8000
    port, patch = (*CONTAINERS, 0, "ports", 1), "json6902/overlay/add-port.yaml"
    assert deployment.patched == {
        port: origin(patch, 0, (0, "value")),
        (*port, "name"): origin(patch, 0, (0, "value", "name")),
        (*port, "containerPort"): origin(patch, 0, (0, "value", "containerPort")),
        (*CONTAINERS, 0, "image"): origin(patch, 0, (1, "value")),
    }
    # an inline patch is a string in the kustomization: the patch entry is as close as it gets
    assert service.patched == {
        ("spec", "ports", 0, "port"): origin("json6902/overlay/kustomization.yaml", 0, ("patches", 0, "patch"))
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_a_component_patch_adds_a_sidecar(engine):
    deployment = named(build(TREES / "components/overlay", engine), "Deployment")
    containers = deployment.body["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["proxy", "web"]
    sidecar = (*CONTAINERS, 0)
    assert deployment.patched[sidecar] == origin("components/sidecar/sidecar.yaml", 0, sidecar)
    assert deployment.patched[(*sidecar, "ports", 0, "containerPort")] == origin(
        "components/sidecar/sidecar.yaml", 0, (*sidecar, "ports", 0, "containerPort")
    )
    assert not any(path[:5] == (*CONTAINERS, 1) for path in deployment.patched)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_resource_file_is_an_error_naming_it(engine):
    result = build(TREES / "missing-resource", engine)
    assert result.objects == []
    assert result.skipped is None
    assert "service.yaml" in result.error
    if engine == "fallback":
        assert result.error.startswith(f"{TREES / 'missing-resource/kustomization.yaml'}: resources entry")


@pytest.mark.parametrize("engine", [*ENGINES, "auto"])
def test_a_remote_resource_is_skipped_not_fetched(engine):
    result = build(TREES / "remote", engine)
    assert result.objects == []
    assert result.error is None
    assert result.skipped == (
        "remote resources: github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v3.3.1 (nothing is fetched)"
    )


def test_find_roots_leaves_out_what_another_kustomization_includes():
    folders = [TREES / "two-overlays" / name for name in ("base", "staging", "production")]
    folders += [TREES / "sibling-bases/config" / name for name in ("manager", "rbac", "default")]
    folders += [TREES / "components" / name for name in ("base", "overlay", "sidecar")]
    assert find_roots(folders) == [
        TREES / "two-overlays/staging",
        TREES / "two-overlays/production",
        TREES / "sibling-bases/config/default",
        TREES / "components/overlay",
    ]


@pytest.mark.slow  # 0.8 s of CPU in 8 cases
@needs_kubectl
@pytest.mark.parametrize("root", BUILDABLE)
def test_the_fallback_builds_what_kubectl_builds(root):
    real, fallback = build(TREES / root, "kubectl"), build(TREES / root, "fallback")
    assert real.error is None
    assert fallback.error is None
    assert [json.dumps(item.body, sort_keys=True) for item in fallback.objects] == [
        json.dumps(item.body, sort_keys=True) for item in real.objects
    ]
    assert [(item.origin, item.patched) for item in fallback.objects] == [
        (item.origin, item.patched) for item in real.objects
    ]
    assert fallback.files == real.files


@needs_kubectl
def test_kubectl_writes_nothing_into_the_tree(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREES / "smp-port", tree)
    before = {path: path.stat().st_mtime_ns for path in tree.rglob("*")}
    result = build(tree / "overlay", "kubectl")
    assert result.error is None
    assert len(result.objects) == 2
    assert {path: path.stat().st_mtime_ns for path in tree.rglob("*")} == before


@needs_kubectl
def test_an_origin_a_patch_removed_is_found_by_kind_and_name(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [app.yaml]\nnamePrefix: x-\npatches:\n- target: {kind: Service}\n  patch: |-\n"
        "    - {op: remove, path: /metadata/annotations}\n"
    )
    shutil.copy(TREES / "smp-port/base/app.yaml", tmp_path / "app.yaml")
    result = build(tmp_path, "kubectl")
    assert [item.origin for item in result.objects] == [
        Origin(tmp_path / "app.yaml", 0),
        Origin(tmp_path / "app.yaml", 1),
    ]
    assert "annotations" not in result.objects[0].body["metadata"]


MALFORMED = {
    "resources: deployment.yaml\n": "resources must be a list of paths",
    "resources: [deployment.yaml]\nnamePrefix: [a]\n": "namePrefix must be a string",
    "resources: [deployment.yaml]\npatches:\n- path: nowhere.yaml\n": "patches entry 'nowhere.yaml' not found",
    "resources: [deployment.yaml]\npatches:\n- {}\n": "patches[0] needs a path or a patch string",
    "resources: [deployment.yaml]\npatches:\n- patch: 'kind: Deployment\n\n    metadata: {name: other}'\n": (
        "matches no Deployment named 'other'"
    ),
    "resources: [deployment.yaml]\ncommonLabels: [a]\n": "commonLabels must map names to values",
    "resources: [deployment.yaml, deployment.yaml]\n": "is included twice",
    "resources: [deployment.yaml]\nimages: [{newTag: x}]\n": "images entries need a name",
    (
        "resources: [deployment.yaml]\npatchesJson6902:\n- target: {kind: Deployment}\n"
        "  patch: '[{op: remove, path: /spec/nope}]'\n"
    ): "does not apply",
    "resources: [.]\n": "includes itself",
    "resources: [deployment.yaml\n": "YAML syntax error",
}


@pytest.mark.parametrize("kustomization", MALFORMED)
def test_malformed_kustomizations_are_errors_naming_the_file(tmp_path, kustomization):
    (tmp_path / "kustomization.yaml").write_text(kustomization)
    shutil.copy(TREES / "images/deployment.yaml", tmp_path / "deployment.yaml")
    result = build(tmp_path, "fallback")
    assert result.objects == []
    assert result.error is not None
    assert str(tmp_path) in result.error, result.error
    assert MALFORMED[kustomization] in result.error, result.error


def test_a_folder_without_kustomization_and_an_include_cycle(tmp_path):
    assert "no kustomization.yaml" in build(tmp_path, "fallback").error
    for name, other in (("a", "b"), ("b", "a")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "kustomization.yaml").write_text(f"resources: [../{other}]\n")
    result = build(tmp_path / "a", "fallback")
    assert "includes itself" in result.error
    assert f"{tmp_path / 'a'} -> {tmp_path / 'b'}" in result.error
    assert find_roots([tmp_path / "a", tmp_path / "b"]) == []


def test_what_the_fallback_does_not_apply_is_a_warning(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("configMapGenerator:\n- name: settings\n  literals: [a=b]\n")
    result = build(tmp_path, "fallback")
    assert result.error is None
    assert result.objects == []
    assert result.warnings == [
        f"{tmp_path / 'kustomization.yaml'}: configMapGenerator is not applied by the built-in engine"
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_outside_the_kustomization_is_refused_as_kustomize_refuses_it(tmp_path, engine):
    (tmp_path / "shared").mkdir()
    (tmp_path / "app").mkdir()
    shutil.copy(TREES / "images/deployment.yaml", tmp_path / "shared/deployment.yaml")
    (tmp_path / "app/kustomization.yaml").write_text("resources: [../shared/deployment.yaml]\n")
    result = build(tmp_path / "app", engine)
    assert result.objects == []
    assert "shared/deployment.yaml" in result.error
    assert "is a file outside" in result.error  # found by the scan: no engine runs


@needs_kubectl
def test_a_build_past_its_time_limit_is_an_error():
    result = build(TREES / "smp-port/overlay", "kubectl", timeout=0.001)
    assert result.objects == []
    assert result.error.endswith("kustomize did not finish within 0.001 s; not built")


def test_odd_selectors_and_operations_are_errors_not_exceptions(tmp_path):
    shutil.copy(TREES / "images/deployment.yaml", tmp_path / "deployment.yaml")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [deployment.yaml]\npatches:\n- target: {labelSelector: '=x'}\n  patch: '[{op: remove, path: /a}]'\n"
        "- target: {kind: Deployment}\n  patch: '[{op: add, path: /kind/x, value: 1}]'\n"
    )
    result = build(tmp_path, "fallback")
    assert result.objects == []
    assert "JSON6902 operation 0 (add /kind/x) does not apply to web" in result.error
