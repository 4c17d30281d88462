"""Kustomize: patches are partial objects; plain commonLabels/labels/namespace are applied first."""

import subprocess
from pathlib import Path

import pytest
from conftest import KUBECTL, REPO, brief, needs

from kubelint_svc.loader import parse_stream
from kubelint_svc.model import resources_of
from kubelint_svc.units.kustomize.light_view import KustomizeIndex, apply_transform

DEPLOYMENT_WITHOUT_SELECTOR = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    tier: front
  ports:
  - port: 80
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def resource_after_kustomize(path: Path):
    [document] = parse_stream(path.read_text()).documents
    [resource] = resources_of(document, str(path))
    apply_transform(resource, KustomizeIndex().transform_for(path))
    return resource


def test_common_labels_supply_the_selector_a_deployment_lacks(tmp_path, lint_paths):
    write(tmp_path, {"deployment.yaml": DEPLOYMENT_WITHOUT_SELECTOR})
    assert brief(lint_paths(tmp_path)) == [("schema", 5, 1, "spec.selector")]
    write(tmp_path, {"kustomization.yaml": "commonLabels:\n  app: web\nresources:\n- deployment.yaml\n"})
    assert brief(lint_paths(tmp_path)) == []
    body = resource_after_kustomize(tmp_path / "deployment.yaml").body
    assert body["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert body["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    assert body["metadata"]["labels"] == {"app": "web"}


def test_labels_and_namespace_reach_selectors_through_a_chain_of_kustomizations(tmp_path):
    write(
        tmp_path,
        {
            "kustomization.yaml": "namespace: prod\nresources:\n- app\n",
            "app/kustomization.yaml": (
                "namespace: dev\nlabels:\n- pairs: {team: shop}\n  includeSelectors: true\n"
                "- pairs: {owner: me}\nresources:\n- service.yaml\n"
            ),
            "app/service.yaml": SERVICE,
        },
    )
    resource = resource_after_kustomize(tmp_path / "app" / "service.yaml")
    assert resource.namespace == "prod"  # the outer kustomization is applied last
    assert resource.body["spec"]["selector"] == {"tier": "front", "team": "shop"}
    assert resource.body["metadata"]["labels"] == {"team": "shop", "owner": "me"}
    # positions still point at what the user wrote
    assert resource.position(("spec", "selector", "tier")) == (7, 5)


def test_a_file_not_listed_as_a_resource_is_left_alone(tmp_path):
    write(tmp_path, {"kustomization.yaml": "commonLabels: {app: x}\nresources: []\n", "service.yaml": SERVICE})
    assert resource_after_kustomize(tmp_path / "service.yaml").body["spec"]["selector"] == {"tier": "front"}


def test_a_patch_is_not_linted_as_a_whole_manifest(tmp_path, lint_paths):
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"
    write(tmp_path, {"overlay/replicas.yaml": patch})
    assert [f.field for f in lint_paths(tmp_path).findings] == ["spec.selector", "spec.template"]
    write(tmp_path, {"overlay/kustomization.yaml": "resources:\n- ../base\npatches:\n- path: replicas.yaml\n"})
    # no ../base: the build fails (one error, kustomize's words); the patch is still no manifest
    assert [(f.rule, f.file.rsplit("/", 2)[-2:]) for f in lint_paths(tmp_path).findings] == [
        ("kustomize-build-failed", ["overlay", "kustomization.yaml"])]


def test_patches_strategic_merge_lists_patches_too(tmp_path, lint_paths):
    write(tmp_path, {
        "kustomization.yaml": "patchesStrategicMerge:\n- sub/patch.yaml\n",
        "sub/patch.yaml": (
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  bogus: 1\n"
        ),
    })
    # the patch names a Service no resource defines: kustomize refuses; the patch is no manifest
    assert [f.rule for f in lint_paths(tmp_path).findings] == ["kustomize-build-failed"]


@pytest.mark.slow  # 0.4 s of CPU
@needs("kubectl", KUBECTL is not None)
def test_the_example_lints_the_same_as_kustomize_renders_it(lint_text, lint_paths):
    base = REPO / "examples" / "kustomize" / "base"
    rendered = subprocess.run(["kubectl", "kustomize", str(base)], check=True, capture_output=True).stdout
    from_stdin = lint_text(rendered)
    from_files = lint_paths(base)
    assert from_stdin.findings == []
    assert from_files.findings == []
    assert from_stdin.objects == 2
    assert from_files.objects == 2  # the patch is merged by the build, as kubectl does
